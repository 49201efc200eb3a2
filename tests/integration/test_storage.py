"""Storage on SQLite and PostgreSQL: the guarantees the rest of the bot relies on."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.rules.escalation import Decision
from bot.services import invites
from bot.services.alerts import queue_alert_message, raise_alert
from storage.models import Alert
from tests.integration.service_support import NOW, add_patient


async def test_times_come_back_as_aware_utc(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        again = await uow.patients.get(p.id)
    assert again.created_at == NOW and again.created_at.tzinfo is not None


async def test_an_invite_is_consumed_once_even_when_two_try_at_once(db):
    async with db.uow() as uow:
        inv = await invites.create_invite(uow, "Sam", created_by=1, now=NOW, valid_days=14)
        await uow.commit()
        invite, problem = await invites.open_link(uow, inv.code, 501, NOW)
        await uow.commit()
    assert problem == ""

    async def consume():
        async with db.uow() as uow:
            ok = await uow.invites.consume(invite.id, 501, NOW)
            await uow.commit()
            return ok

    results = await asyncio.gather(consume(), consume())
    assert sorted(results) == [False, True]
    async with db.uow() as uow:
        assert (await invites.open_link(uow, inv.code, 501, NOW))[1] == "used"


async def test_an_invite_belongs_to_the_first_account_that_opens_it(db):
    async with db.uow() as uow:
        inv = await invites.create_invite(uow, "Sam", created_by=1, now=NOW, valid_days=14)
        await uow.commit()

    async def open_as(user_id: int) -> str:
        async with db.uow() as uow:
            _, problem = await invites.open_link(uow, inv.code, user_id, NOW)
            await uow.commit()
            return problem

    # Two accounts at once: one claims it.
    assert sorted(await asyncio.gather(open_as(501), open_as(502))) == ["", "taken"]
    owner = await db.scalar("SELECT claimed_by FROM invites")
    other = 502 if owner == 501 else 501
    assert await open_as(owner) == ""  # the owner may open it again
    assert await open_as(other) == "taken"
    async with db.uow() as uow:
        assert not await uow.invites.consume(inv.id, other, NOW)
        assert await uow.invites.consume(inv.id, owner, NOW)


async def test_a_reissued_invite_revokes_the_old_link_and_keeps_the_details(db):
    async with db.uow() as uow:
        old = await invites.create_invite(
            uow,
            "Sam Taylor",
            created_by=1,
            now=NOW,
            valid_days=14,
            phone="+44 7700 900123",
            clinic_ref="RB-1042",
        )
        result = await invites.reissue(uow, old.id, created_by=1, now=NOW, valid_days=14)
        await uow.commit()
        assert (await invites.open_link(uow, old.code, 501, NOW))[1] == "revoked"
        forgotten = await uow.invites.get(old.id)
        assert (forgotten.name, forgotten.phone, forgotten.clinic_ref) == ("(replaced)", None, None)
        invite, problem = await invites.open_link(uow, result.invite.code, 501, NOW)
    assert problem == ""
    assert (invite.name, invite.phone, invite.clinic_ref) == (
        "Sam Taylor",
        "+44 7700 900123",
        "RB-1042",
    )
    async with db.uow() as uow:
        assert (await invites.reissue(uow, 999, created_by=1, now=NOW, valid_days=14)).status == (
            "unknown"
        )


async def test_only_the_hash_of_an_invite_code_is_stored(db):
    async with db.uow() as uow:
        inv = await invites.create_invite(uow, "Sam", created_by=1, now=NOW, valid_days=14)
        await uow.commit()
    stored = await db.scalar("SELECT code_hash FROM invites")
    assert inv.code not in stored and stored == invites.hash_code(inv.code)


async def test_expired_invite_is_refused(db):
    async with db.uow() as uow:
        inv = await invites.create_invite(uow, "Sam", created_by=1, now=NOW, valid_days=14)
        await uow.commit()
        later = NOW + timedelta(days=14, seconds=1)
        _, problem = await invites.open_link(uow, inv.code, 501, later)
    assert problem == "expired"


async def test_one_open_alert_per_patient_and_rule_is_enforced_by_the_database(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        for _ in range(2):
            uow.session.add(
                Alert(
                    patient_id=p.id,
                    level="worsening",
                    rule="pain_rise:leg",
                    reason="x",
                    figures={},
                    status="open",
                    created_at=NOW,
                    updated_at=NOW,
                    sends=0,
                )
            )
        with pytest.raises(IntegrityError):
            await uow.commit()


async def test_a_new_trigger_updates_the_open_alert(db):
    p = await add_patient(db)
    d1 = Decision("worsening", "pain_rise:leg", "Leg pain 6/10", {"pain": 6})
    d2 = Decision("worsening", "pain_rise:leg", "Leg pain 8/10", {"pain": 8})
    async with db.uow() as uow:
        _, created1 = await raise_alert(uow, p, d1, NOW)
        _, created2 = await raise_alert(uow, p, d2, NOW + timedelta(days=1))
        await uow.commit()
    assert (created1, created2) == (True, False)
    rows = await db.rows("SELECT reason, status FROM alerts")
    assert [tuple(r.values()) for r in rows] == [("Leg pain 8/10", "open")]


async def test_two_senders_never_claim_the_same_outbox_message(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        for i in range(20):
            await raise_alert(uow, p, Decision("worsening", f"r{i}", "x", {}), NOW)
        await uow.commit()

    async def claim_all():
        async with db.uow() as uow:
            rows, _ = await uow.outbox.claim(NOW, timedelta(seconds=60), 100, max_priority=4)
            await uow.commit()
            return [r.id for r in rows]

    a, b = await asyncio.gather(claim_all(), claim_all())
    assert len(a) + len(b) == 20 and not set(a) & set(b)


async def test_urgent_messages_are_claimed_before_routine_ones(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        await raise_alert(uow, p, Decision("worsening", "pain_rise:leg", "x", {}), NOW)
        await raise_alert(
            uow,
            p,
            Decision("urgent", "red_flag", "y", {}),
            NOW + timedelta(seconds=1),
            advice="you answered Yes",
        )
        await uow.commit()
    async with db.uow() as uow:
        rows, _ = await uow.outbox.claim(
            NOW + timedelta(seconds=2), timedelta(seconds=60), 2, max_priority=4
        )
        await uow.commit()
    assert sorted(r.kind for r in rows) == ["alert", "urgent_advice"]
    assert all(r.priority == 0 for r in rows)  # the routine alert waits


async def test_a_planned_re_notification_does_not_hold_up_the_clinic_chat(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        alert, _ = await raise_alert(uow, p, Decision("urgent", "red_flag", "y", {}), NOW)
        await queue_alert_message(uow, alert, 0, NOW + timedelta(minutes=15), "renotify:1")
        await uow.outbox.add(
            kind="relay", priority=1, chat_id=0, dedupe_key="relay:1", send_at=NOW, body="q?"
        )
        await uow.commit()
        await uow.session.execute(
            text("UPDATE outbox SET status = 'sent' WHERE dedupe_key = :k"),
            {"k": f"alert:{alert.id}:new"},
        )
        await uow.commit()
    async with db.uow() as uow:
        rows, _ = await uow.outbox.claim(NOW, timedelta(seconds=60), 10, max_priority=4)
        await uow.commit()
    assert [r.kind for r in rows] == ["relay"]


async def test_a_message_is_queued_once_whatever_the_writes(db):
    p = await add_patient(db)
    async with db.uow() as uow:
        for _ in range(3):
            await uow.outbox.add(
                kind="digest",
                priority=4,
                chat_id=0,
                dedupe_key="digest:2026-06-10:0",
                send_at=NOW,
                body="hello",
                patient_id=p.id,
            )
        await uow.commit()
    assert await db.rows("SELECT count(*) AS n FROM outbox") == [{"n": 1}]


def _update(update_id: int, chat: int) -> dict:
    return {
        "update_id": update_id,
        "chat_id": chat,
        "payload": {"update_id": update_id},
        "received_at": NOW,
    }


async def test_the_same_update_is_stored_once(db):
    async with db.uow() as uow:
        await uow.inbox.store([_update(77, 1)])
        await uow.inbox.store([_update(77, 1)])
        await uow.commit()
    assert await db.rows("SELECT update_id, status FROM inbox") == [
        {"update_id": 77, "status": "pending"}
    ]


async def test_updates_are_claimed_in_order_within_a_chat_and_at_once_across_chats(db):
    lease = timedelta(seconds=60)
    async with db.uow() as uow:
        await uow.inbox.store([_update(1, 10), _update(2, 10), _update(3, 20)])
        await uow.commit()

    async def claim():
        async with db.uow() as uow:
            rows = await uow.inbox.claim(NOW, lease, 10)
            await uow.commit()
            return [r.update_id for r in rows]

    assert await claim() == [1, 3]  # one per chat, the oldest first
    assert await claim() == []  # chat 10's second update waits for its first
    async with db.uow() as uow:
        await uow.inbox.mark_done(1, NOW)
        await uow.commit()
    assert await claim() == [2]


async def test_an_update_whose_claim_ran_out_is_claimed_again(db):
    lease = timedelta(seconds=60)
    async with db.uow() as uow:
        await uow.inbox.store([_update(5, 10)])
        assert [r.update_id for r in await uow.inbox.claim(NOW, lease, 10)] == [5]
        await uow.commit()
    async with db.uow() as uow:
        assert await uow.inbox.claim(NOW + timedelta(seconds=30), lease, 10) == []
        again = await uow.inbox.claim(NOW + timedelta(seconds=61), lease, 10)
        await uow.commit()
    assert [(r.update_id, r.attempts) for r in again] == [(5, 2)]


async def test_a_failed_or_unfinished_unit_of_work_never_holds_up_the_next(db):
    """SQLite: this process's transactions queue on one lock (storage.db.SerialisedSession);
    a unit of work that fails, or ends without committing, must hand it on (a lock left
    held would stop the bot: the test fails on its timeout instead)."""

    async def scenario() -> None:
        await add_patient(db, user_id=6001)
        with pytest.raises(IntegrityError):
            await add_patient(db, user_id=6001)  # the same account twice: refused, rolled back
        async with db.uow() as uow:  # a read, closed without a commit
            assert await uow.patients.by_user(6001) is not None
        # Twenty at once from twenty tasks: each commits.
        await asyncio.gather(*(add_patient(db, user_id=7000 + i) for i in range(20)))

    await asyncio.wait_for(scenario(), timeout=30)
    assert await db.scalar("SELECT count(*) FROM patients") == 21
