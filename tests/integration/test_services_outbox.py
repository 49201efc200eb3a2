"""The outbox (bot/delivery/outbox.py) one step at a time: what is claimed first, what is
recorded, and how Telegram's answers are told apart. The Telegram side is a recording double
(tests/integration/service_support.FakeSender); everything else is the product."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from bot.content import text
from bot.delivery.outbox import Outbox
from bot.rules.escalation import Decision
from bot.services import reminders
from bot.services.alerts import raise_alert
from storage.models import OutboxMessage, Priority
from tests.integration.service_support import (
    CLINIC_CHAT,
    NOW,
    Clock,
    FakeSender,
    add_patient,
    checkin_entry,
    settings,
)

S = settings()


def make_outbox(db, at=NOW):
    sender, clock = FakeSender(), Clock(at)
    return Outbox(db.sessionmaker, sender, S, clock), sender, clock


async def enrol(db, user_id=5001):
    """A patient whose 09:00 check-in prompt is due at NOW."""
    p = await add_patient(db, user_id=user_id)
    async with db.uow() as uow:
        await reminders.sync(uow, await uow.patients.get(p.id), NOW - timedelta(hours=1))
        await uow.commit()
    return p


async def outbox_rows(db, kind):
    return await db.rows(
        "SELECT id, status, attempts, send_at, sent_at, message_id, detail FROM outbox "
        "WHERE kind = :k ORDER BY id",
        k=kind,
    )


async def attempts(db):
    rows = await db.rows(
        "SELECT o.kind, a.outcome, a.detail FROM delivery_attempts a "
        "JOIN outbox o ON o.id = a.outbox_id ORDER BY a.id"
    )
    return [tuple(r.values()) for r in rows]


async def test_the_most_urgent_messages_are_claimed_and_sent_first(db):
    p = await add_patient(db)
    minute = timedelta(minutes=1)
    async with db.uow() as uow:  # the least urgent were queued first
        await uow.outbox.add(
            kind="digest",
            priority=Priority.DIGEST,
            chat_id=0,
            dedupe_key="d",
            send_at=NOW - 3 * minute,
            body="digest",
        )
        worse = Decision("worsening", "pain_rise:leg", "Leg 7/10", {})
        await raise_alert(uow, p, worse, NOW - 2 * minute)
        await uow.outbox.add(
            kind="notice",  # a note to the clinic chat, written when queued
            priority=Priority.ANSWER,
            chat_id=0,
            dedupe_key="n",
            send_at=NOW - minute,
            body="Sam's answer was delivered.",
            patient_id=p.id,
        )
        await raise_alert(
            uow, p, Decision("urgent", "red_flag", "Red flag", {}), NOW, advice="numbness"
        )
        await uow.commit()
    outbox, sender, _ = make_outbox(db)
    order = []
    for _ in range(3):
        sender.calls.clear()
        assert await outbox.dispatch_once(limit=2) >= 1
        order.append(sorted(c.priority for c in sender.calls))
    assert order == [[0, 0], [1, 2], [4]]
    assert await outbox.dispatch_once() == 0
    statuses = await db.rows("SELECT status, attempts FROM outbox WHERE sent_at IS NOT NULL")
    assert len(statuses) == 5 and all(tuple(r.values()) == ("sent", 1) for r in statuses)


async def test_urgent_advice_is_rendered_for_the_patient_and_every_attempt_recorded(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        await raise_alert(
            uow,
            p,
            Decision("urgent", "red_flag", "Red flag", {}),
            NOW,
            advice="you cannot feel the toilet paper",
        )
        await uow.commit()
    outbox, sender, _ = make_outbox(db)
    await outbox.dispatch_once()
    [advice] = sender.to(p.chat_id)
    assert advice.text == text(
        "urgent_advice", reason="you cannot feel the toilet paper", clinic="Riverside Physio"
    )
    [alert] = sender.to(CLINIC_CHAT)
    assert "Sam Taylor" in alert.text and "Red flag" in alert.text
    row = (await outbox_rows(db, "urgent_advice"))[0]
    assert (row["status"], row["attempts"], row["message_id"]) == ("sent", 1, advice.message_id)
    assert row["sent_at"] is not None
    assert sorted(await attempts(db)) == [("alert", "sent", None), ("urgent_advice", "sent", None)]
    # The posted alert remembers its message, and its re-notification is planned.
    assert await db.scalar("SELECT sends FROM alerts") == 1
    renotify = await db.rows(
        "SELECT status, send_at FROM outbox WHERE dedupe_key LIKE '%renotify%'"
    )
    assert len(renotify) == 1 and renotify[0]["status"] == "pending"


async def test_a_patient_who_blocked_the_bot_is_marked_unreachable_and_not_prompted_again(db):
    p = await enrol(db)
    outbox, sender, clock = make_outbox(db)
    sender.fail[p.chat_id] = [Forbidden("Forbidden: bot was blocked by the user")]
    await outbox.dispatch_once()
    [prompt] = await outbox_rows(db, "checkin")
    assert (prompt["status"], prompt["attempts"]) == ("failed", 1)
    assert await attempts(db) == [("checkin", "blocked", "Forbidden: bot was blocked by the user")]
    assert bool(await db.scalar("SELECT unreachable FROM patients"))
    assert (
        await db.scalar("SELECT count(*) FROM audit_events WHERE action = 'patient_unreachable'")
        == 1
    )
    # The nudge three hours later is not sent to a chat that is known to be closed.
    clock.at = NOW + timedelta(hours=3)
    await outbox.dispatch_once()
    assert sender.calls == []
    [nudge] = await outbox_rows(db, "nudge")
    assert (nudge["status"], nudge["detail"]) == ("skipped", "unreachable")


async def test_a_chat_not_found_fails_the_message_without_retrying_it(db):
    p = await enrol(db)
    outbox, sender, clock = make_outbox(db)
    sender.fail[p.chat_id] = [BadRequest("Chat not found")]
    await outbox.dispatch_once()
    [prompt] = await outbox_rows(db, "checkin")
    assert (prompt["status"], prompt["attempts"]) == ("failed", 1)
    assert prompt["detail"] == "BadRequest: Chat not found"
    clock.at = NOW + timedelta(minutes=5)
    await outbox.dispatch_once()
    assert sender.calls == [] and len(await attempts(db)) == 1


async def test_a_429_waits_exactly_as_long_as_telegram_asked(db):
    p = await enrol(db)
    outbox, sender, clock = make_outbox(db)
    sender.fail[p.chat_id] = [RetryAfter(timedelta(seconds=7))]
    await outbox.dispatch_once()
    [prompt] = await outbox_rows(db, "checkin")
    assert (prompt["status"], prompt["attempts"], prompt["detail"]) == ("pending", 1, "429")
    clock.at = NOW + timedelta(seconds=6)
    await outbox.dispatch_once()
    assert sender.calls == []
    clock.at = NOW + timedelta(seconds=7)
    await outbox.dispatch_once()
    assert [c.text for c in sender.calls] == [text("checkin_prompt", name="Sam Taylor")]
    [prompt] = await outbox_rows(db, "checkin")
    assert (prompt["status"], prompt["attempts"]) == ("sent", 2)
    assert [o for _, o, _ in await attempts(db)] == ["retry", "sent"]


async def test_a_network_error_backs_off_longer_each_time(db):
    p = await enrol(db)
    outbox, sender, clock = make_outbox(db)
    sender.fail[p.chat_id] = [NetworkError("Bad Gateway"), NetworkError("Bad Gateway")]
    await outbox.dispatch_once()
    async with db.uow() as uow:
        row = await uow.outbox.get((await outbox_rows(db, "checkin"))[0]["id"])
    assert row.status == "pending" and row.send_at == NOW + timedelta(seconds=2)
    clock.at = row.send_at
    await outbox.dispatch_once()
    async with db.uow() as uow:
        row = await uow.outbox.get(row.id)
    assert (row.attempts, row.send_at) == (2, clock.at + timedelta(seconds=4))
    clock.at = row.send_at
    await outbox.dispatch_once()
    assert len(sender.calls) == 1
    assert [o for _, o, _ in await attempts(db)] == ["retry", "retry", "sent"]


async def test_a_prompt_is_given_up_after_five_transient_failures(db):
    p = await enrol(db)
    outbox, sender, clock = make_outbox(db)
    sender.fail[p.chat_id] = [RetryAfter(timedelta(seconds=1)) for _ in range(6)]
    for i in range(6):
        clock.at = NOW + timedelta(seconds=i)
        await outbox.dispatch_once(max_priority=Priority.REMINDER)
    [prompt] = await outbox_rows(db, "checkin")
    assert (prompt["status"], prompt["attempts"]) == ("failed", 5)
    assert sender.calls == []


async def test_an_urgent_alert_the_clinic_chat_refuses_is_never_given_up(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        await raise_alert(uow, p, Decision("urgent", "red_flag", "Red flag", {}), NOW)
        await uow.commit()
    outbox, sender, clock = make_outbox(db)
    sender.fail[CLINIC_CHAT] = [BadRequest("Chat not found")]
    await outbox.dispatch_once()
    async with db.uow() as uow:
        [row] = [r for r in await uow.session.scalars(_alert_rows())]
    retry_at = NOW + timedelta(minutes=S.alert_renotify_minutes)
    assert (row.status, row.attempts, row.send_at) == ("pending", 1, retry_at)
    clock.at = retry_at
    await outbox.dispatch_once()
    assert [c.chat_id for c in sender.calls] == [CLINIC_CHAT]
    assert await db.scalar("SELECT status FROM outbox WHERE id = :i", i=row.id) == "sent"


def _alert_rows():
    return select(OutboxMessage).where(OutboxMessage.kind == "alert")


async def test_nothing_overtakes_urgent_advice_waiting_for_a_retry_in_the_same_chat(db):
    p = await enrol(db)
    async with db.uow() as uow:
        await raise_alert(
            uow, p, Decision("urgent", "red_flag", "Red flag", {}), NOW, advice="numbness"
        )
        await uow.commit()
    outbox, sender, clock = make_outbox(db)
    sender.fail[p.chat_id] = [RetryAfter(timedelta(seconds=30))]
    await outbox.dispatch_once()
    # The advice failed; the check-in prompt, due at the same time, waits behind it.
    assert sender.to(p.chat_id) == []
    assert [r["status"] for r in await outbox_rows(db, "checkin")] == ["pending"]
    clock.at = NOW + timedelta(seconds=30)
    await outbox.dispatch_once()  # the advice goes; the prompt is claimed only after it
    await outbox.dispatch_once()
    texts = [c.text for c in sender.to(p.chat_id)]
    assert len(texts) == 2 and "urgent medical help" in texts[0]
    assert texts[1] == text("checkin_prompt", name="Sam Taylor")


async def test_a_prompt_for_a_patient_who_already_checked_in_is_skipped(db):
    p = await enrol(db)
    async with db.uow() as uow:
        await reminders.materialise_due(
            uow, NOW, grace=timedelta(hours=2), nudge_after=timedelta(hours=3)
        )
        await uow.checkins.add_entry(checkin_entry(p.id, NOW.date(), leg_pain=2))
        await uow.commit()
    outbox, sender, _ = make_outbox(db, at=NOW + timedelta(minutes=1))
    await outbox.dispatch_once()
    assert sender.calls == []
    [prompt] = await outbox_rows(db, "checkin")
    assert (prompt["status"], prompt["detail"], prompt["attempts"]) == ("skipped", "checked_in", 0)
