"""Urgent alerts nobody acknowledges go to the on-call clinicians; acknowledging one records
who and when and edits every copy (bot/services/alerts.py, with the outbox sending)."""

from __future__ import annotations

from datetime import timedelta

from bot.delivery.outbox import Outbox
from bot.rules.escalation import Decision
from bot.services import alerts
from storage.models import Priority
from tests.integration.service_support import (
    CLINIC_CHAT,
    NOW,
    Clock,
    FakeSender,
    add_patient,
    settings,
)

S = settings()  # ALERT_ESCALATE_MINUTES 30, ALERT_RENOTIFY_MINUTES 15, on call: all staff
AFTER = timedelta(minutes=S.alert_escalate_minutes)
EVERY = timedelta(minutes=S.alert_renotify_minutes)
RED_FLAG = Decision("urgent", "red_flag", "Answered Yes on the red-flag screen.", {})


async def raise_urgent(db, patient, at=NOW):
    async with db.uow() as uow:
        alert, _ = await alerts.raise_alert(uow, patient, RED_FLAG, at, advice="you said so")
        await uow.commit()
    return alert


async def escalate(db, at) -> int:
    async with db.uow() as uow:
        due = await alerts.queue_escalations(uow, at, AFTER, EVERY, S.oncall_ids)
        await uow.commit()
    return due


async def oncall_keys(db) -> list[str]:
    rows = await db.rows("SELECT dedupe_key FROM outbox WHERE kind = 'oncall' ORDER BY dedupe_key")
    return [r["dedupe_key"] for r in rows]


async def test_an_unacknowledged_urgent_alert_goes_to_each_on_call_clinician_once_per_round(db):
    p = await add_patient(db)
    alert = await raise_urgent(db, p)
    assert await escalate(db, NOW + AFTER - timedelta(seconds=1)) == 0
    assert await oncall_keys(db) == []
    assert await escalate(db, NOW + AFTER) == 1
    round1 = [f"oncall:{alert.id}:11:1", f"oncall:{alert.id}:12:1"]
    assert await oncall_keys(db) == round1
    # Every tick runs it: the same round is not queued again.
    await escalate(db, NOW + AFTER + timedelta(minutes=1))
    assert await oncall_keys(db) == round1
    # One re-notification interval later, the next round.
    await escalate(db, NOW + AFTER + EVERY)
    assert await oncall_keys(db) == sorted(round1 + [k[:-1] + "2" for k in round1])
    rows = await db.rows(
        "SELECT DISTINCT chat_id, priority, ref_id FROM outbox WHERE kind = 'oncall'"
    )
    assert sorted(tuple(r.values()) for r in rows) == [
        (11, Priority.URGENT, alert.id),
        (12, Priority.URGENT, alert.id),
    ]


async def test_routine_and_acknowledged_alerts_are_not_escalated(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        await alerts.raise_alert(uow, p, Decision("worsening", "pain_rise:leg", "x", {}), NOW)
        await uow.commit()
    alert = await raise_urgent(db, p)
    async with db.uow() as uow:
        res = await alerts.acknowledge(uow, alert.id, 11, "Dr Lee", True, NOW + timedelta(hours=1))
    assert res.status == "acknowledged"
    assert await escalate(db, NOW + AFTER * 3) == 0
    assert await oncall_keys(db) == []


async def test_only_staff_may_acknowledge_and_a_refusal_is_audited(db):
    p = await add_patient(db)
    alert = await raise_urgent(db, p)
    async with db.uow() as uow:
        res = await alerts.acknowledge(uow, alert.id, 999, "Visitor", False, NOW)
        unknown = await alerts.acknowledge(uow, alert.id + 100, 11, "Dr Lee", True, NOW)
    assert (res.status, unknown.status) == ("refused", "unknown")
    assert await db.scalar("SELECT status FROM alerts") == "open"
    audit = await db.rows("SELECT actor, actor_id, action FROM audit_events WHERE actor_id = 999")
    assert [tuple(r.values()) for r in audit] == [("visitor", 999, "ack_refused")]


async def test_acknowledging_records_who_and_when_and_edits_every_other_copy(db):
    p = await add_patient(db)
    sender, clock = FakeSender(), Clock(NOW)
    outbox = Outbox(db.sessionmaker, sender, S, clock)
    alert = await raise_urgent(db, p)
    await outbox.dispatch_once()  # the advice to the patient and the alert to the clinic chat
    [posted] = [c for c in sender.to(CLINIC_CHAT) if c.method == "push"]
    assert p.name in posted.text and posted.markup is not None  # with its Acknowledge button
    clock.at = NOW + AFTER
    await outbox.dispatch_once()  # the on-call copies, and the planned re-notification
    oncall = {c.chat_id: c for c in sender.calls if c.chat_id in (11, 12)}
    assert set(oncall) == {11, 12}
    assert "30 minutes" in oncall[11].text
    copies_in_clinic_chat = [c for c in sender.to(CLINIC_CHAT) if c.method == "push"]
    assert len(copies_in_clinic_chat) == 2  # the post and its re-notification
    pressed_id = await db.scalar(
        "SELECT message_id FROM outbox WHERE kind = 'oncall' AND chat_id = 11"
    )

    acked_at = NOW + AFTER + timedelta(minutes=1)
    async with db.uow() as uow:
        res = await alerts.acknowledge(
            uow, alert.id, 11, "Dr Lee", True, acked_at, pressed=(11, pressed_id)
        )
    assert res.status == "acknowledged" and res.patient.id == p.id
    row = (
        await db.rows(
            "SELECT status, acknowledged_by, acknowledged_by_name, acknowledged_at FROM alerts"
        )
    )[0]
    assert (row["status"], row["acknowledged_by"], row["acknowledged_by_name"]) == (
        "acknowledged",
        11,
        "Dr Lee",
    )
    assert res.alert.acknowledged_at == acked_at
    # The next re-notification is no longer needed.
    skipped = await db.rows(
        "SELECT dedupe_key FROM outbox WHERE status = 'skipped' AND kind = 'alert'"
    )
    assert [r["dedupe_key"] for r in skipped] == [f"alert:{alert.id}:renotify:2"]
    # Every copy but the one pressed is edited: two in the clinic chat, one to clinician 12.
    edits = await db.rows(
        "SELECT chat_id, edit_message_id FROM outbox WHERE kind = 'alert_edit' ORDER BY id"
    )
    expected = {(0, c_id) for c_id in await clinic_message_ids(db)} | {
        (12, await db.scalar("SELECT message_id FROM outbox WHERE kind='oncall' AND chat_id=12"))
    }
    assert {tuple(r.values()) for r in edits} == expected
    assert (11, pressed_id) not in {tuple(r.values()) for r in edits}

    clock.at = acked_at
    sender.calls.clear()
    await outbox.dispatch_once()
    edited = [c for c in sender.calls if c.method == "edit"]
    assert len(edited) == 3
    assert all("Acknowledged by Dr Lee" in c.text and c.markup is None for c in edited)
    async with db.uow() as uow:
        again = await alerts.acknowledge(uow, alert.id, 12, "Dr Kay", True, acked_at)
    assert again.status == "already"
    assert await db.scalar("SELECT acknowledged_by_name FROM alerts") == "Dr Lee"


async def clinic_message_ids(db) -> list[int]:
    rows = await db.rows(
        "SELECT message_id FROM outbox WHERE kind = 'alert' AND status = 'sent' ORDER BY id"
    )
    return [r["message_id"] for r in rows]


async def test_an_update_of_a_posted_urgent_alert_is_an_edit_at_most_every_30_seconds(db):
    p = await add_patient(db)
    sender, clock = FakeSender(), Clock(NOW)
    outbox = Outbox(db.sessionmaker, sender, S, clock)
    alert = await raise_urgent(db, p)
    await outbox.dispatch_once()
    later = NOW + timedelta(seconds=5)
    async with db.uow() as uow:
        _, created = await alerts.raise_alert(uow, p, RED_FLAG, later)
        await uow.commit()
    assert not created
    send_at = await db.scalar(
        "SELECT send_at FROM outbox WHERE dedupe_key LIKE :k", k=f"alert:{alert.id}:update:%"
    )
    assert str(send_at).startswith("2026-03-02 09:00:30")  # the last post + EDIT_GAP
    clock.at = NOW + alerts.EDIT_GAP
    sender.calls.clear()
    await outbox.dispatch_once(max_priority=Priority.ALERT)
    [edit] = sender.calls
    first_id = await db.scalar("SELECT telegram_message_id FROM alerts")
    assert (edit.method, edit.chat_id, edit.message_id) == ("edit", CLINIC_CHAT, first_id)
