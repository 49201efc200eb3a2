"""/settings: check-in time, exercise times, time zone, pause and resume; and staff plans."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.exercises import library
from bot.rules import schedule
from bot.services import reminders
from bot.services.onboarding import parse_hhmm, parse_timezone
from storage.models import Conversation, Patient
from storage.uow import UnitOfWork

FLOW = "settings"
MAX_EXERCISE_TIMES = 4
MAX_PAUSE_DAYS = 90
QUESTION_TTL = timedelta(hours=1)


def parse_times(raw: str) -> list[str] | None:
    parts = [p for p in re.split(r"[,\s;]+|\band\b", raw or "") if p.strip()]
    times = [parse_hhmm(p) for p in parts]
    if not times or None in times or len(set(times)) > MAX_EXERCISE_TIMES:
        return None
    return sorted(set(times))


def parse_pause(raw: str, today: date) -> date | None:
    """'7' (days), '2026-12-24', '24/12' or '24/12/2026' -> the last paused day."""
    raw = (raw or "").strip()
    until: date | None = None
    if raw.isdigit() and 1 <= int(raw) <= MAX_PAUSE_DAYS:
        until = today + timedelta(days=int(raw) - 1)
    elif m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", raw):
        until = _date(int(m[1]), int(m[2]), int(m[3]))
    elif m := re.fullmatch(r"(\d{1,2})[/.](\d{1,2})(?:[/.](\d{4}))?", raw):
        year = int(m[3]) if m[3] else today.year
        until = _date(year, int(m[2]), int(m[1]))
        if until is not None and not m[3] and until < today:
            until = _date(year + 1, int(m[2]), int(m[1]))
    if until is None or until < today or (until - today).days >= MAX_PAUSE_DAYS:
        return None
    return until


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


@dataclass(frozen=True)
class Result:
    status: str  # menu | ask_<what> | bad_<what> | saved_<what> | stale
    patient: Patient | None = None
    conv: Conversation | None = None


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
        tz = parse_timezone(raw)
        if tz is None:
            return Result("bad_timezone", patient, conv)
        patient.timezone = tz
        await reminders.retime(uow, patient, now)
    elif step == "pause":
        until = parse_pause(raw, today)
        if until is None:
            return Result("bad_pause", patient, conv)
        patient.paused_until = until
        await reminders.drop_pending(uow, patient.id, now)
    else:
        return None
    await reminders.sync(uow, patient, now)
    await uow.conversations.drop(patient.telegram_user_id)
    await uow.audit.record(now, "patient", f"settings_{step}", patient_id=patient.id)
    await uow.commit()
    return Result(f"saved_{step}", patient)


async def assign_plan(
    uow: UnitOfWork, patient_id: int, plan_id: str, staff_id: int, now: datetime
) -> tuple[Patient | None, str | None]:
    """Returns (patient, plan id) -- plan id None when the plan is unknown."""
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
    await uow.commit()
    return patient, plan.id
