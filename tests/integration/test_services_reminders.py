"""Reminders scheduled in the database (bot/services/reminders.py): due rows are claimed,
turned into outbox messages and moved on to their next occurrence, once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.services import reminders
from storage.models import Patient, Priority
from tests.integration.service_support import NOW, add_patient

GRACE = timedelta(hours=2)
NUDGE = timedelta(hours=3)
SUNDAY_BEFORE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def enrol(db, user_id=5001, at=SUNDAY_BEFORE, **extra) -> Patient:
    p = await add_patient(db, user_id=user_id, **extra)
    async with db.uow() as uow:
        p = await uow.patients.get(p.id)
        await reminders.sync(uow, p, at)
        await uow.commit()
    return p


async def materialise(db, now) -> int:
    async with db.uow() as uow:
        return await reminders.materialise_due(uow, now, grace=GRACE, nudge_after=NUDGE)


async def slots(db, patient_id) -> dict[tuple[str, str], datetime]:
    async with db.uow() as uow:
        rows = await uow.reminders.for_patient(patient_id)
    return {(r.kind, r.local_time): r.next_at for r in rows}


async def queued(db) -> list[tuple]:
    rows = await db.rows(
        "SELECT kind, patient_id, priority, slot, dedupe_key FROM outbox ORDER BY send_at, kind"
    )
    return [tuple(r.values()) for r in rows]


async def test_syncing_a_patient_schedules_their_slots_at_the_next_local_time(db):
    p = await enrol(db, plan_id="early-relief", exercise_times="10:00,18:00")
    assert await slots(db, p.id) == {
        ("checkin", "09:00"): datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        ("weekly", "09:00"): datetime(2026, 3, 2, 9, 0, tzinfo=UTC),  # daily; sent on Sundays
        ("exercise", "10:00"): datetime(2026, 3, 2, 10, 0, tzinfo=UTC),
        ("exercise", "18:00"): datetime(2026, 3, 1, 18, 0, tzinfo=UTC),
    }


async def test_a_due_check_in_queues_its_prompt_and_nudge_and_moves_on(db):
    p = await enrol(db)
    assert await materialise(db, NOW - timedelta(minutes=1)) == 0
    assert await queued(db) == []
    assert await materialise(db, NOW) == 2  # the check-in slot and the (daily) weekly slot
    nudge_at = NOW + NUDGE
    assert await queued(db) == [
        ("checkin", p.id, Priority.REMINDER, "09:00", f"checkin:{p.id}:{NOW.isoformat()}"),
        ("nudge", p.id, Priority.REMINDER, "09:00", f"nudge:{p.id}:{nudge_at.isoformat()}"),
    ]  # Monday: no weekly summary
    tomorrow = NOW + timedelta(days=1)
    assert await slots(db, p.id) == {("checkin", "09:00"): tomorrow, ("weekly", "09:00"): tomorrow}


async def test_running_twice_at_the_same_instant_queues_nothing_twice(db):
    for user_id in (5001, 5002, 5003):
        await enrol(db, user_id=user_id)
    assert await materialise(db, NOW) == 6
    first = await queued(db)
    assert len(first) == 6 and {k for k, *_ in first} == {"checkin", "nudge"}
    assert await materialise(db, NOW) == 0
    assert await queued(db) == first


async def test_two_ticks_at_once_share_the_due_reminders_without_doubling_them(db):
    for user_id in range(5001, 5011):
        await enrol(db, user_id=user_id)
    handled = await asyncio.gather(materialise(db, NOW), materialise(db, NOW))
    assert sum(handled) == 20  # 10 patients, two slots each, each handled by one tick
    assert await db.scalar("SELECT count(*) FROM outbox WHERE kind = 'checkin'") == 10
    assert await db.scalar("SELECT count(*) FROM outbox WHERE kind = 'nudge'") == 10


async def test_a_reminder_missed_by_more_than_the_grace_period_is_skipped_not_sent_late(db):
    p = await enrol(db)
    late = NOW + GRACE + timedelta(minutes=1)
    assert await materialise(db, late) == 2
    assert await queued(db) == []
    assert await slots(db, p.id) == {
        ("checkin", "09:00"): NOW + timedelta(days=1),
        ("weekly", "09:00"): NOW + timedelta(days=1),
    }


async def test_after_days_of_downtime_only_the_latest_occurrence_is_considered(db):
    p = await enrol(db)
    back = NOW + timedelta(days=3, minutes=30)  # Thursday 09:30: within today's grace
    await materialise(db, back)
    assert [(k, s) for k, _, _, s, _ in await queued(db)] == [
        ("checkin", "09:00"),
        ("nudge", "09:00"),
    ]
    key = (await queued(db))[0][4]
    assert key == f"checkin:{p.id}:{(NOW + timedelta(days=3)).isoformat()}"


async def test_paused_patients_get_no_prompts_but_their_schedule_moves_on(db):
    p = await enrol(db, paused_until=date(2026, 3, 5))
    await materialise(db, NOW)
    assert await queued(db) == []
    assert (await slots(db, p.id))[("checkin", "09:00")] == NOW + timedelta(days=1)


async def test_the_weekly_summary_is_queued_on_the_chosen_weekday(db):
    p = await enrol(db)
    sunday = NOW + timedelta(days=6)
    async with db.uow() as uow:
        await uow.session.execute(Patient.__table__.update().values(weekly_day=sunday.weekday()))
        for r in await uow.reminders.for_patient(p.id):
            r.next_at = sunday
        await uow.commit()
    await materialise(db, sunday)
    kinds = [k for k, *_ in await queued(db)]
    assert sorted(kinds) == ["checkin", "nudge", "weekly"]


async def test_the_local_time_is_kept_across_the_clock_change(db):
    p = await enrol(db, at=datetime(2026, 3, 28, 10, 0, tzinfo=UTC))
    # London goes to BST on 29 March: 09:00 local is 08:00 UTC.
    bst = datetime(2026, 3, 29, 8, 0, tzinfo=UTC)
    assert (await slots(db, p.id))[("checkin", "09:00")] == bst
    await materialise(db, bst)
    assert (await slots(db, p.id))[("checkin", "09:00")] == bst + timedelta(days=1)
    rows = await db.rows("SELECT local_day FROM outbox WHERE kind = 'checkin'")
    assert [str(r["local_day"]) for r in rows] == ["2026-03-29"]


async def test_a_discharged_patients_slots_are_removed(db):
    p = await enrol(db, plan_id="early-relief", exercise_times="10:00")
    async with db.uow() as uow:
        patient = await uow.patients.get(p.id)
        patient.status = "discharged"
        await reminders.sync(uow, patient, NOW)
        await uow.commit()
    assert await slots(db, p.id) == {}
    assert await materialise(db, NOW + timedelta(days=1)) == 0
