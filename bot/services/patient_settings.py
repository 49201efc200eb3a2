"""/settings: check-in time, exercise times, time zone, the weekly summary, pause and resume;
and staff plans."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.content import render
from bot.content.exercises import Plan, library
from bot.language import when
from bot.language.places import Place, understand_zone
from bot.rules import schedule
from bot.services import reminders
from bot.services.onboarding import parse_hhmm
from bot.services.questions import queue_to_patient
from storage.models import Conversation, Patient
from storage.uow import UnitOfWork

FLOW = "settings"
MAX_EXERCISE_TIMES = 4
QUESTION_TTL = timedelta(hours=1)


def parse_times(raw: str) -> list[str] | None:
    """Up to four exercise reminder times ("10:00, 18:00", "9am and 6pm")."""
    return when.parse_times(raw, MAX_EXERCISE_TIMES)


@dataclass(frozen=True)
class Result:
    # menu | ask_<what> | bad_<what> | bad_pause_past | bad_pause_too_long | timezone_several
    # | saved_<what> | stale
    status: str
    patient: Patient | None = None
    conv: Conversation | None = None
    place: Place | None = None  # timezone_several: the country with several zones


async def open_menu(uow: UnitOfWork, patient: Patient, now: datetime) -> Result:
    conv = Conversation(
        telegram_user_id=patient.telegram_user_id,
        flow=FLOW,
        step="menu",
        nonce=secrets.token_hex(3),
        data={},
        updated_at=now,
    )
    await uow.conversations.save(conv)
    await uow.commit()
    return Result("menu", patient, conv)


async def open_menu_for(uow: UnitOfWork, user_id: int, now: datetime) -> Result | None:
    """/settings for the sender: the menu, or None when they are not an active patient."""
    patient = await uow.patients.by_user(user_id)
    if patient is None or patient.status != "active":
        return None
    return await open_menu(uow, patient, now)


async def choose_for(
    uow: UnitOfWork, user_id: int, nonce: str, what: str | None, now: datetime
) -> Result:
    """A button of the sender's settings menu (``what``: None for a button we do not know)."""
    patient = await uow.patients.by_user(user_id)
    if patient is None or what is None:
        return Result("stale")
    return await choose(uow, patient, nonce, what, now)


async def choose(uow: UnitOfWork, patient: Patient, nonce: str, what: str, now: datetime):
    conv = await uow.conversations.get(patient.telegram_user_id)
    if conv is None or conv.flow != FLOW or conv.nonce != nonce:
        return Result("stale")
    if what == "resume":
        patient.paused_until = None
        await reminders.sync(uow, patient, now)
        await uow.conversations.drop(patient.telegram_user_id)
        await uow.audit.record(now, "patient", "resumed", patient_id=patient.id)
        await uow.commit()
        return Result("saved_resume", patient)
    conv.step = what
    conv.updated_at = now
    await uow.commit()
    return Result(f"ask_{what}", patient, conv)


async def typed(uow: UnitOfWork, patient: Patient, raw: str, now: datetime) -> Result | None:
    """A typed value while a settings question is open; None when none is."""
    patient = await uow.patients.get(patient.id)  # this unit of work's own copy, to change
    conv = await uow.conversations.get(patient.telegram_user_id)
    if conv is None or conv.flow != FLOW or conv.step == "menu":
        return None
    if conv.updated_at < now - QUESTION_TTL:  # asked long ago: this text is something else
        await uow.conversations.drop(patient.telegram_user_id)
        await uow.commit()
        return None
    step = conv.step
    today = schedule.local_date(now, patient.timezone)
    if step == "checkin_time":
        value = parse_hhmm(raw)
        if value is None:
            return Result("bad_checkin_time", patient, conv)
        patient.checkin_time = value
    elif step == "exercise_times":
        times = parse_times(raw)
        if times is None:
            return Result("bad_exercise_times", patient, conv)
        patient.exercise_times = ",".join(times)
        patient.exercise_times_chosen = True
    elif step == "timezone":
        place = understand_zone(raw)
        if place is None:
            return Result("bad_timezone", patient, conv)
        if place.zone is None:  # a country with several time zones: which city?
            return Result("timezone_several", patient, conv, place)
        patient.timezone = place.zone
        await reminders.retime(uow, patient, now)
    elif step == "weekly":
        weekly = when.parse_weekly(raw)
        if weekly is None:
            return Result("bad_weekly", patient, conv)
        patient.weekly_day = None if weekly.off else weekly.weekday
        patient.weekly_time = weekly.at
        step = "weekly_off" if weekly.off else "weekly"
    elif step == "pause":
        pause = when.parse_pause(raw, today)  # the patient's own today
        if pause.until is None:
            key = "bad_pause" if pause.problem == "unclear" else f"bad_pause_{pause.problem}"
            return Result(key, patient, conv)
        patient.paused_until = pause.until
        await reminders.drop_pending(uow, patient.id, now)
    else:
        return None
    await reminders.sync(uow, patient, now)
    await uow.conversations.drop(patient.telegram_user_id)
    await uow.audit.record(now, "patient", f"settings_{step}", patient_id=patient.id)
    await uow.commit()
    return Result(f"saved_{step}", patient)


async def assign_plan(
    uow: UnitOfWork,
    patient_id: int,
    plan_id: str,
    staff_id: int,
    now: datetime,
    commit: bool = True,
) -> tuple[Patient | None, str | None]:
    """Returns (patient, plan id) -- plan id None when the plan is unknown. ``commit``
    False: the caller commits more in the same transaction."""
    patient = await uow.patients.get(patient_id)
    plan = library().plan(plan_id)
    if patient is None or plan is None:
        return patient, None
    patient.plan_id = plan.id
    if not patient.exercise_times:
        patient.exercise_times = ",".join(reminders.DEFAULT_EXERCISE_TIMES)
    await reminders.sync(uow, patient, now)
    await uow.audit.record(
        now, "staff", "plan_assigned", actor_id=staff_id, patient_id=patient.id, plan=plan.id
    )
    if commit:
        await uow.commit()
    return patient, plan.id


async def assign_plan_and_tell(
    uow: UnitOfWork, patient_id: int, plan_id: str, staff_id: int, now: datetime
) -> tuple[Patient | None, Plan | None]:
    """/plan: assign the plan and queue the patient's message about it (the outbox sends
    it), in one transaction: the plan is never assigned without the patient being told.
    Returns (patient, plan): the plan None when it is unknown, both None when the patient
    is."""
    patient, assigned = await assign_plan(uow, patient_id, plan_id, staff_id, now, commit=False)
    if patient is None or assigned is None:
        return patient, None
    plan = library().plan(assigned)
    await queue_to_patient(uow, patient, render.plan_told_patient(patient, plan), now)
    return patient, plan
