"""The daily clinic digest (bot/delivery/digest.py, bot/services/digest.py): queued once when
due, in the outbox at the lowest priority, with the figures a clinic reads in the morning."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bot.delivery import digest as digest_job
from bot.delivery.outbox import Outbox
from bot.rules.escalation import Decision
from bot.services import digest
from bot.services.alerts import raise_alert
from storage.models import Priority
from tests.integration.service_support import (
    CLINIC_CHAT,
    Clock,
    FakeSender,
    add_patient,
    checkin_entry,
    settings,
)

S = settings()  # DIGEST_TIME 08:00, clinic time Europe/London (GMT in early March)
EIGHT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


async def run(db, at) -> bool:
    return await digest_job.run_if_due(db.sessionmaker, S, Clock(at))


async def digests(db) -> list[dict]:
    rows = await db.rows(
        "SELECT dedupe_key, priority, chat_id, body, status FROM outbox WHERE kind = 'digest' "
        "ORDER BY id"
    )
    return [dict(r) for r in rows]


async def add_entry(db, patient, day: date, leg=3, back=2, exercises="yes"):
    at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
    async with db.uow() as uow:
        await uow.checkins.add_entry(
            checkin_entry(patient.id, day, at, leg_pain=leg, back_pain=back, exercises=exercises)
        )
        await uow.commit()


async def test_the_digest_is_queued_once_when_due_and_again_the_next_day(db):
    await add_patient(db)
    # The first tick ever only schedules it.
    assert not await run(db, EIGHT - timedelta(hours=1))
    assert not await run(db, EIGHT - timedelta(seconds=1))
    assert await digests(db) == []
    assert await run(db, EIGHT)
    assert not await run(db, EIGHT)
    assert not await run(db, EIGHT + timedelta(hours=6))
    [first] = await digests(db)
    assert (first["dedupe_key"], first["priority"], first["chat_id"], first["status"]) == (
        "digest:2026-03-02:0",
        Priority.DIGEST,
        0,
        "pending",
    )
    assert await run(db, EIGHT + timedelta(days=1, minutes=3))
    assert [d["dedupe_key"] for d in await digests(db)] == [
        "digest:2026-03-02:0",
        "digest:2026-03-03:0",
    ]


async def test_the_digest_counts_what_the_clinic_needs_to_know(db):
    today = date(2026, 3, 2)
    ana = await add_patient(db, 5001, "Ana Diaz")
    ben = await add_patient(db, 5002, "Ben Okafor")  # no check-in since joining a month ago
    cat = await add_patient(db, 5003, "Cat Moss", enrolled_on=date(2026, 3, 1), unreachable=True)
    await add_patient(db, 5004, "Dan Roe", status="discharged")
    await add_entry(db, ana, today - timedelta(days=1))
    async with db.uow() as uow:
        await raise_alert(uow, ana, Decision("urgent", "red_flag", "Red flag", {}), EIGHT)
        await raise_alert(uow, cat, Decision("worsening", "pain_rise:leg", "Leg", {}), EIGHT)
        await uow.commit()
    await run(db, EIGHT - timedelta(hours=1))
    assert await run(db, EIGHT)
    [d] = await digests(db)
    body = d["body"]
    assert "Daily digest, Monday 02 March" in body
    assert "Active patients: 3. Checked in yesterday: 1." in body
    assert "Open alerts: 1 urgent, 1 worsening" in body
    assert f"• Ben Okafor (ID {ben.id}): No check-in for the last 29 days" in body
    assert "Ana Diaz (ID" not in body.split("Review notes")[1]  # checked in: no review note
    assert f"(blocked the bot): Cat Moss (ID {cat.id})" in body
    assert "Dan Roe" not in body
    # The review note is kept as an alert (not pushed on its own).
    rows = await db.rows("SELECT patient_id, level, rule FROM alerts WHERE level = 'review'")
    assert [tuple(r.values()) for r in rows] == [(ben.id, "review", "missed_checkins")]
    assert (
        await db.scalar(
            "SELECT count(*) FROM outbox WHERE ref_id IS NOT NULL AND patient_id = :p", p=ben.id
        )
        == 0
    )


async def test_a_review_note_that_no_longer_applies_is_resolved(db):
    ben = await add_patient(db, 5002, "Ben Okafor")
    async with db.uow() as uow:
        first = await digest.build(uow, EIGHT, S.thresholds, S.clinic_timezone)
    assert [a.rule for _, a in first.reviews] == ["missed_checkins"]
    await add_entry(db, ben, date(2026, 3, 2))
    async with db.uow() as uow:
        second = await digest.build(uow, EIGHT + timedelta(days=1), S.thresholds, S.clinic_timezone)
    assert second.reviews == [] and second.checked_in == 1
    assert await db.scalar("SELECT status FROM alerts") == "resolved"


async def test_a_paused_patient_gets_no_review_note(db):
    await add_patient(db, 5002, "Ben Okafor", paused_until=date(2026, 3, 10))
    async with db.uow() as uow:
        d = await digest.build(uow, EIGHT, S.thresholds, S.clinic_timezone)
    assert (d.active, d.reviews) == (1, [])


async def test_the_digest_is_sent_to_the_clinic_chat_and_its_text_then_forgotten(db):
    await add_patient(db, 5002, "Ben Okafor")
    await run(db, EIGHT - timedelta(hours=1))
    await run(db, EIGHT)
    sender = FakeSender()
    await Outbox(db.sessionmaker, sender, S, Clock(EIGHT)).dispatch_once()
    [sent] = sender.calls
    assert sent.chat_id == CLINIC_CHAT and "Ben Okafor" in sent.text
    [d] = await digests(db)
    assert (d["status"], d["body"]) == ("sent", None)
