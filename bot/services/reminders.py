"""Exercise reminders and check-in prompts, scheduled in the database.

Two steps, each a short transaction that a repeating tick runs:

1. :func:`materialise_due` claims reminders whose ``next_at`` has come (``SKIP LOCKED`` on
   PostgreSQL; SQLite serialises writers), decides whether the occurrence is still worth
   sending (grace period, pause, night), queues an outbox message for it, and moves ``next_at``
   to the next local occurrence. Claiming and advancing happen in the same transaction.
2. The outbox (``bot/delivery/outbox.py``) claims and sends them; :func:`unwanted` tells it
   which are no longer needed (checked in already, paused, done).

All times are computed with :mod:`bot.rules.schedule` (zoneinfo, correct across DST).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.rules import schedule
from bot.services.patients import active_patient
from storage.models import Patient, Priority, Reminder
from storage.uow import UnitOfWork

DEFAULT_EXERCISE_TIMES = ("10:00", "18:00")


def parse_times(raw: str) -> list[str]:
    return sorted({t for t in (raw or "").split(",") if t})


def _t(hhmm: str) -> time:
    return time.fromisoformat(hhmm)


async def sync(uow: UnitOfWork, patient: Patient, now: datetime) -> None:
    """Make the patient's reminder rows match their settings (times, zone, plan, status).

    A slot that already exists keeps its ``next_at`` unless the zone changed, so re-saving
    settings never causes a second send of the same occurrence.
    """
    wanted: set[tuple[str, str]] = set()
    if patient.status == "active":
        wanted.add(("checkin", patient.checkin_time))
        if patient.weekly_day is not None:  # fires daily; queued only on the chosen weekday
            wanted.add(("weekly", patient.weekly_time or patient.checkin_time))
        if patient.plan_id:
            wanted |= {("exercise", t) for t in parse_times(patient.exercise_times)}
    existing = {(r.kind, r.local_time): r for r in await uow.reminders.for_patient(patient.id)}
    for key, row in existing.items():
        if key not in wanted:
            await uow.reminders.remove(row)
    for kind, hhmm in wanted - existing.keys():
        await uow.reminders.add(
            Reminder(
                patient_id=patient.id,
                kind=kind,
                local_time=hhmm,
                next_at=schedule.next_occurrence(_t(hhmm), patient.timezone, now),
            )
        )
    await uow.reminders.flush()


async def retime(uow: UnitOfWork, patient: Patient, now: datetime) -> None:
    """After a time-zone change: recompute every slot's next time from now."""
    for r in await uow.reminders.for_patient(patient.id):
        r.next_at = schedule.next_occurrence(_t(r.local_time), patient.timezone, now)


def _latest_due(r: Any, tz: str, now: datetime) -> datetime:
    """The most recent occurrence at or before now (older missed ones are passed over)."""
    occ = r.next_at
    for _ in range(400):  # bounded: at most about a year of downtime is walked
        nxt = schedule.next_occurrence(_t(r.local_time), tz, occ)
        if nxt > now:
            break
        occ = nxt
    return occ


def _skip_reason(patient: Any, kind: str, slot: str, day: date) -> str | None:
    if patient.status != "active":
        return "discharged"
    if patient.unreachable:
        return "unreachable"
    if patient.paused_until is not None and day <= patient.paused_until:
        return "paused"
    chosen = kind in ("checkin", "weekly") or patient.exercise_times_chosen
    if not schedule.is_allowed_time(_t(slot), chosen):
        return "night"
    return None


def _push_row(patient_id: int, chat_id: int, kind: str, at: datetime, day: date, slot: str) -> dict:
    """An outbox row for one occurrence; its dedupe key means it is never queued twice."""
    return {
        "patient_id": patient_id,
        "chat_id": chat_id,
        "kind": kind,
        "priority": Priority.REMINDER,
        "dedupe_key": f"{kind}:{patient_id}:{at.isoformat()}",
        "due_at": at,
        "local_day": day,
        "slot": slot,
        "send_at": at,
    }


async def materialise_due(
    uow: UnitOfWork,
    now: datetime,
    *,
    grace: timedelta,
    nudge_after: timedelta,
    limit: int = 1000,
) -> int:
    """Turn due reminders into pushes; returns how many reminders were handled.

    Plain rows and bulk statements rather than ORM objects: with 100,000 patients due in the
    same minute this runs 200 times in a row, and ORM bookkeeping would dominate it.
    """
    rows = await uow.reminders.claim_due(now, limit)
    moved: list[dict] = []
    pushes: list[dict] = []
    for r in rows:
        occ = _latest_due(r, r.timezone, now)
        moved.append(
            {"id": r.id, "next_at": schedule.next_occurrence(_t(r.local_time), r.timezone, occ)}
        )
        if schedule.decide(occ, now, grace).action != schedule.SEND:
            continue
        day = schedule.local_date(occ, r.timezone)
        if _skip_reason(r, r.kind, r.local_time, day):
            continue
        if r.kind == "weekly" and day.weekday() != r.weekly_day:
            continue
        pushes.append(_push_row(r.patient_id, r.chat_id, r.kind, occ, day, r.local_time))
        if r.kind == "checkin":
            nudge_at = schedule.nudge_time(occ, nudge_after)
            local_nudge = nudge_at.astimezone(ZoneInfo(r.timezone)).time()
            if not schedule.in_quiet_hours(local_nudge):
                pushes.append(
                    _push_row(r.patient_id, r.chat_id, "nudge", nudge_at, day, r.local_time)
                )
    await uow.reminders.move_on(moved)
    if pushes:
        await uow.outbox.add_many(pushes)
    await uow.commit()
    return len(rows)


@dataclass(frozen=True)
class Job:
    """A claimed push and its patient, as plain rows (attribute access by column name)."""

    push: Any
    patient: Any


async def unwanted(
    uow: UnitOfWork, jobs: list[Job], now: datetime, grace: timedelta
) -> dict[int, str]:
    """Why some claimed pushes should not go out after all: {push id: reason}."""
    reasons: dict[int, str] = {}
    pids = {j.patient.id for j in jobs}
    days = {j.push.local_day for j in jobs}
    checked_in = (
        await uow.reminders.checked_in_on(pids, days)
        if any(j.push.kind != "exercise" for j in jobs)
        else set()
    )
    logged = (
        await uow.reminders.exercise_answers(pids, days)
        if any(j.push.kind == "exercise" for j in jobs)
        else {}
    )
    for job in jobs:
        push, patient = job.push, job.patient
        kind = "checkin" if push.kind == "nudge" else push.kind
        if schedule.decide(push.due_at, now, grace).action == schedule.SKIP:
            reasons[push.id] = "stale"
        elif reason := _skip_reason(patient, kind, push.slot, push.local_day):
            reasons[push.id] = reason
        elif kind == "checkin" and (patient.id, push.local_day) in checked_in:
            reasons[push.id] = "checked_in"
        elif logged.get((patient.id, push.local_day, push.slot)) in ("done", "skipped"):
            reasons[push.id] = "already_" + logged[(patient.id, push.local_day, push.slot)]
    return reasons


async def log_exercise(
    uow: UnitOfWork,
    patient: Patient,
    push_id: int,
    answer: str,
    now: datetime,
    snooze_minutes: int = 30,
) -> str:
    """Done / Snooze / Skip today from a reminder's buttons; returns the status recorded,
    or '' when the button is not the patient's or is no longer current."""
    push = await uow.outbox.get(push_id)
    if push is None or push.patient_id != patient.id or push.kind != "exercise":
        return ""
    today = schedule.local_date(now, patient.timezone)
    if push.local_day != today:
        return ""
    slots = [push.slot]
    if answer == "skip":  # the rest of today's reminders are skipped too
        slots = [t for t in parse_times(patient.exercise_times) if t >= push.slot] or slots
    status = {"done": "done", "snz": "snoozed", "skip": "skipped"}[answer]
    for slot in slots:
        await uow.reminders.log_exercise(patient.id, today, slot, status, now)
    if answer == "snz":
        again = schedule.snooze_until(now, snooze_minutes)
        row = _push_row(patient.id, patient.chat_id, "exercise", again, today, push.slot)
        await uow.outbox.add_many([row])
    await uow.audit.record(
        now,
        "patient",
        f"exercise_{status}",
        actor_id=patient.telegram_user_id,
        patient_id=patient.id,
        slot=push.slot,
    )
    await uow.commit()
    return status


async def log_exercise_for(
    uow: UnitOfWork, user_id: int, push_id: int, answer: str, now: datetime
) -> str | None:
    """:func:`log_exercise` for the sender of a reminder's button: None when they are not an
    active patient (the button is stale), else the status recorded ('' when no longer
    current)."""
    patient = await active_patient(uow, user_id)
    if patient is None:
        return None
    return await log_exercise(uow, patient, push_id, answer, now)


async def drop_pending(uow: UnitOfWork, patient_id: int, now: datetime) -> None:
    """Forget queued reminders, but not one a sender holds right now (it checks first)."""
    await uow.outbox.drop_pending_for(patient_id, ("checkin", "nudge", "exercise", "weekly"), now)
