"""The daily check-in: a draft saved after every answer, then a diary entry.

A day keeps every check-in; the latest counts for that day's rules, and a rise since an earlier
one the same day is judged like any other. Red flags are acted on the moment they are
answered, and the check-in closes there: the routine questions can wait.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import mean
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.content import text
from bot.rules import escalation
from bot.rules.escalation import Decision, DiaryEntry, Thresholds, evaluate_entry
from bot.services.alerts import raise_alert
from storage.models import CheckinDraft, CheckinEntry, Patient
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.context import Services

# Sends a check-in question (Telegram) and returns the id of the message it sent.
SendQuestion = Callable[[CheckinDraft], Awaitable[int]]

PAIN_STEPS = ("leg_pain", "back_pain")
YES_NO_STEPS = ("numbness", "weakness", "weakness_worsening", "red_flag")
EXERCISE_VALUES = ("yes", "partly", "no")
NOTE_LIMIT = 16_000  # characters: a paste of up to four Telegram messages is kept whole
# Telegram splits a long paste into messages of 4,096 characters that arrive within about a
# second: a message that follows a note part of (nearly) that length, this soon, continues it.
NOTE_PART = 4000
NOTE_JOIN_WITHIN = timedelta(seconds=5)
ORDER = (
    "leg_pain",
    "back_pain",
    "numbness",
    "weakness",
    "weakness_worsening",
    "red_flag",
    "exercises",
    "note",
)


def local_today(patient: Patient, now: datetime) -> date:
    return now.astimezone(ZoneInfo(patient.timezone)).date()


def next_step(draft: CheckinDraft) -> str:
    i = ORDER.index(draft.step) + 1
    step = ORDER[i]
    if step == "weakness_worsening" and not draft.weakness:
        step = ORDER[i + 1]
    return step


def parse_value(step: str, raw: str) -> object | None:
    """The stored value of a button's payload for a step, or None when it does not fit."""
    if step in PAIN_STEPS:
        return int(raw) if raw.isdigit() and 0 <= int(raw) <= 10 and len(raw) <= 2 else None
    if step in YES_NO_STEPS:
        return {"y": True, "n": False}.get(raw)
    if step == "exercises":
        return raw if raw in EXERCISE_VALUES else None
    if step == "note":
        # "skip": no note; "keep": keep a note that was over the limit, as typed.
        return raw if raw in ("skip", "keep") else None
    return None


def to_diary(e: CheckinEntry | CheckinDraft, tz: str | None = None) -> DiaryEntry:
    """The rules' view of an entry; ``tz`` (the patient's) gives its local time of day."""
    at = ""
    if tz is not None and isinstance(e, CheckinEntry):
        at = local_time(e, tz)
    return DiaryEntry(
        day=e.local_day,
        leg_pain=e.leg_pain or 0,
        back_pain=e.back_pain or 0,
        numbness=bool(e.numbness),
        weakness=bool(e.weakness),
        weakness_worsening=bool(e.weakness_worsening),
        red_flag=e.red_flag,
        exercises=e.exercises,
        at=at,
    )


def local_time(entry: CheckinEntry, tz: str) -> str:
    return entry.created_at.astimezone(ZoneInfo(tz)).strftime("%H:%M")


@dataclass(frozen=True)
class Comparison:
    """Today against the previous 7 days, for the closing message."""

    days: int
    leg_avg: float | None
    back_avg: float | None
    any_before: bool = False  # any check-in on an earlier day, however long ago


@dataclass
class Outcome:
    # question | stale | late_urgent | invalid | note_too_long | note_continued | done | none
    status: str
    draft: CheckinDraft | None = None
    entry: CheckinEntry | None = None
    urgent: list[Decision] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    comparison: Comparison | None = None
    # Check-ins made earlier the same day, oldest first (the closing message names the last).
    earlier_today: list[CheckinEntry] = field(default_factory=list)
    closed_early: bool = False  # closed on the urgent path before the routine questions

    @property
    def questionnaire_may_follow(self) -> bool:
        """A due questionnaire may be offered after this check-in: never after "get help
        now" (closed on the urgent path)."""
        return not self.closed_early


async def start(uow: UnitOfWork, patient: Patient, now: datetime) -> Outcome:
    """Resume today's draft, or begin a new one (a draft left from an earlier day is dropped)."""
    today = local_today(patient, now)
    draft = await uow.checkins.draft(patient.id)
    if draft is not None and draft.local_day == today:
        return Outcome("question", draft=draft)
    draft = CheckinDraft(
        patient_id=patient.id,
        nonce=secrets.token_hex(3),
        local_day=today,
        step=ORDER[0],
        started_at=now,
        updated_at=now,
    )
    await uow.checkins.drop_draft(patient.id)
    await uow.checkins.save_draft(draft)
    await uow.commit()
    return Outcome("question", draft=draft)


async def remember_message(uow: UnitOfWork, patient_id: int, message_id: int) -> None:
    draft = await uow.checkins.draft(patient_id)
    if draft is not None:
        draft.message_id = message_id
        await uow.commit()


async def begin(s: Services, patient: Patient, send: SendQuestion) -> Outcome:
    """Start (or resume) today's check-in and send its current question: the draft is saved,
    then ``send`` sends the question (no transaction open meanwhile), then the message's id
    is kept, so the next answer edits it."""
    async with s.uow() as uow:
        outcome = await start(uow, patient, s.now())
    await send_question(s, patient.id, outcome.draft, send)
    return outcome


async def send_question(
    s: Services, patient_id: int, draft: CheckinDraft, send: SendQuestion
) -> None:
    """Send the draft's current question as a new message (``send``, outside any
    transaction) and keep the message's id on the draft."""
    message_id = await send(draft)
    async with s.uow() as uow:
        await remember_message(uow, patient_id, message_id)


async def answer(
    uow: UnitOfWork,
    patient: Patient,
    nonce: str,
    step: str,
    raw: str,
    now: datetime,
    thresholds: Thresholds,
) -> Outcome:
    draft = await uow.checkins.draft(patient.id)
    if draft is None or draft.nonce != nonce or draft.step != step:
        # A red-flag Yes is never stale: on any check-in message, however old, it is urgent.
        late = await _late_safety_yes(uow, patient, step, now) if raw == "y" else None
        return Outcome(
            "late_urgent" if late else "stale", draft=draft, urgent=[late] if late else []
        )
    value = parse_value(step, raw)
    if value is None:
        return Outcome("invalid", draft=draft)
    urgent: list[Decision] = []
    if step == "note":
        if value == "skip":
            draft.note = None
    else:
        setattr(draft, step, value)
    if step in ("red_flag", "weakness_worsening") and value is True:
        urgent = await _raise_urgent(uow, patient, draft, now, thresholds)
    draft.updated_at = now
    # After an urgent answer the patient has been told to seek emergency care: the check-in
    # closes with what was answered (the questions not asked stay empty) once the safety
    # screen itself has been answered: fast-worsening weakness still gets the red-flag
    # question, which comes next.
    told = step == "red_flag" and (value is True or bool(draft.weakness_worsening))
    if step == "note" or told:
        return await _finish(uow, patient, draft, now, thresholds, urgent, closed_early=told)
    draft.step = next_step(draft)
    await uow.checkins.save_draft(draft)
    await uow.commit()
    return Outcome("question", draft=draft, urgent=urgent)


async def _late_safety_yes(
    uow: UnitOfWork, patient: Patient, step: str, now: datetime
) -> Decision | None:
    """A Yes pressed on the safety question of an older check-in message: the urgent path
    (alert and advice, queued together). None if the button was not a safety question."""
    decision = escalation.late_safety_yes(step)
    if decision is not None:
        advice = text(f"urgent_reason_{decision.rule}")
        await raise_alert(uow, patient, decision, now, advice=advice)
        await uow.commit()
    return decision


async def note(
    uow: UnitOfWork,
    patient: Patient,
    text: str,
    now: datetime,
    thresholds: Thresholds,
    urgent: bool = False,
) -> Outcome:
    """A typed note while the check-in waits for one. Too long: kept, and the patient is asked
    to shorten it (nothing is lost). ``urgent``: the note reported a red flag (already acted
    on): it is kept, the entry records the red flag and the check-in closes on the urgent
    path."""
    draft = await uow.checkins.draft(patient.id)
    if draft is None or draft.step != "note" or draft.local_day != local_today(patient, now):
        # The next part of a long paste whose first part already closed today's check-in.
        entry = await uow.checkins.latest_on(patient.id, local_today(patient, now))
        if entry is not None and _continues(entry.note, entry.updated_at, now):
            entry.note += text
            entry.updated_at = now
            await uow.commit()
            return Outcome("note_continued", entry=entry)
        return Outcome("none")  # an unfinished check-in of an earlier day does not take it
    draft.note = draft.note + text if _continues(draft.note, draft.updated_at, now) else text
    draft.updated_at = now
    text = draft.note
    if urgent:
        draft.red_flag = True
        return await _finish(uow, patient, draft, now, thresholds, [], closed_early=True)
    if len(text) > NOTE_LIMIT:
        await uow.checkins.save_draft(draft)
        await uow.commit()
        return Outcome("note_too_long", draft=draft)
    return await _finish(uow, patient, draft, now, thresholds, [])


def _continues(note: str | None, updated_at: datetime, now: datetime) -> bool:
    return bool(note) and len(note) >= NOTE_PART and now - updated_at <= NOTE_JOIN_WITHIN


async def _history(
    uow: UnitOfWork, patient: Patient, day: date
) -> tuple[list[CheckinEntry], list[CheckinEntry]]:
    """(entries of earlier days, entries earlier on ``day``), both oldest first."""
    entries = await uow.checkins.entries(patient.id, since=day - timedelta(days=62))
    entries.reverse()
    return [e for e in entries if e.local_day < day], [e for e in entries if e.local_day == day]


async def _raise_urgent(
    uow: UnitOfWork, patient: Patient, draft: CheckinDraft, now: datetime, t: Thresholds
) -> list[Decision]:
    # The same pure rules as at the end of the flow, on the answers so far.
    history, _ = await _history(uow, patient, draft.local_day)
    decisions = [
        d
        for d in evaluate_entry([to_diary(e) for e in history], to_diary(draft), t)
        if d.level == "urgent"
    ]
    for i, d in enumerate(decisions):
        # One piece of advice for the patient, however many rules fired.
        advice = text(f"urgent_reason_{d.rule}") if i == 0 else None
        await raise_alert(uow, patient, d, now, advice=advice)
    return decisions


async def _finish(
    uow: UnitOfWork,
    patient: Patient,
    draft: CheckinDraft,
    now: datetime,
    t: Thresholds,
    urgent: list[Decision],
    closed_early: bool = False,
) -> Outcome:
    history, earlier_today = await _history(uow, patient, draft.local_day)
    entry = CheckinEntry(
        patient_id=patient.id,
        local_day=draft.local_day,
        leg_pain=draft.leg_pain,
        back_pain=draft.back_pain,
        numbness=draft.numbness,
        weakness=draft.weakness,
        weakness_worsening=bool(draft.weakness_worsening),
        red_flag=draft.red_flag,
        exercises=draft.exercises,
        note=draft.note,
        created_at=now,
        updated_at=now,
    )
    await uow.checkins.add_entry(entry)
    await uow.audit.record(
        now,
        "patient",
        "checkin_saved",
        actor_id=patient.telegram_user_id,
        patient_id=patient.id,
        day=draft.local_day.isoformat(),
        of_the_day=len(earlier_today) + 1,
    )
    # Urgent rules were acted on when answered; the rest are judged on the finished entry.
    tz = patient.timezone
    decisions = [
        d
        for d in evaluate_entry(
            [to_diary(e) for e in history],
            to_diary(entry),
            t,
            earlier_today=[to_diary(e, tz) for e in earlier_today],
        )
        if d.level != "urgent"
    ]
    for d in decisions:
        await raise_alert(uow, patient, d, now)
    await uow.checkins.drop_draft(patient.id)
    await uow.commit()
    week = [e for e in _latest_per_day(history) if e.local_day >= draft.local_day - timedelta(7)]
    comparison = Comparison(
        days=len(week),
        leg_avg=round(mean(e.leg_pain for e in week), 1) if week else None,
        back_avg=round(mean(e.back_pain for e in week), 1) if week else None,
        any_before=bool(history),
    )
    return Outcome(
        "done",
        draft=draft,
        entry=entry,
        urgent=urgent,
        decisions=decisions,
        comparison=comparison,
        earlier_today=earlier_today,
        closed_early=closed_early,
    )


def _latest_per_day(entries: list[CheckinEntry]) -> list[CheckinEntry]:
    """Oldest-first entries, one per day: the day's latest."""
    return list({e.local_day: e for e in entries}.values())
