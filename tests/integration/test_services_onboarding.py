"""Joining by invite (bot/services/invites.py, bot/services/onboarding.py): the link belongs to
the first account that opens it, is used once, and the patient exists only once they finish."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.services import invites, onboarding
from tests.integration.service_support import NOW

SAM, OTHER = 501, 502


async def new_invite(db, name="Sam Taylor", **details):
    async with db.uow() as uow:
        inv = await invites.create_invite(
            uow, name, created_by=11, now=NOW, valid_days=14, **details
        )
        await uow.commit()
    return inv


async def start(db, user_id, code, at=NOW):
    async with db.uow() as uow:
        return await onboarding.start(uow, user_id, code, at)


async def join(db, user_id, code, time="8:30", zone="London", at=NOW):
    """The whole flow; returns the last step."""
    step = await start(db, user_id, code, at)
    assert step.status == "consent", step.status
    nonce = step.conv.nonce
    async with db.uow() as uow:
        assert (await onboarding.consent(uow, user_id, nonce, True, at)).status == "time"
    async with db.uow() as uow:
        assert (await onboarding.choose_time(uow, user_id, nonce, time, at)).status == "timezone"
    async with db.uow() as uow:
        return await onboarding.choose_timezone(uow, user_id, user_id, nonce, zone, at)


async def test_joining_creates_the_patient_with_the_invites_details(db):
    inv = await new_invite(db, phone="+44 7700 900123", clinic_ref="RB-1042")
    at = datetime(2026, 3, 2, 23, 30, tzinfo=UTC)  # already 3 March in Auckland
    step = await join(db, SAM, inv.code, time="7pm", zone="Auckland", at=at)
    assert step.status == "registered"
    rows = await db.rows(
        "SELECT telegram_user_id, chat_id, name, status, checkin_time, timezone, enrolled_on, "
        "invite_id, phone, clinic_ref FROM patients"
    )
    assert len(rows) == 1
    p = dict(rows[0])
    assert str(p.pop("enrolled_on")) == "2026-03-03"
    assert p == {
        "telegram_user_id": SAM,
        "chat_id": SAM,
        "name": "Sam Taylor",
        "status": "active",
        "checkin_time": "19:00",
        "timezone": "Pacific/Auckland",
        "invite_id": inv.id,
        "phone": "+44 7700 900123",
        "clinic_ref": "RB-1042",
    }
    # Their check-in reminder is scheduled, the flow is gone, the invite used.
    kinds = await db.rows("SELECT kind, local_time FROM reminders ORDER BY kind")
    assert [tuple(r.values()) for r in kinds] == [("checkin", "19:00"), ("weekly", "19:00")]
    assert await db.scalar("SELECT count(*) FROM conversations") == 0
    assert await db.scalar("SELECT used_at IS NOT NULL FROM invites")
    actions = await db.rows("SELECT action FROM audit_events ORDER BY id")
    assert [r["action"] for r in actions] == ["invite_created", "registered"]


async def test_an_invite_opened_by_one_account_is_refused_to_another(db):
    inv = await new_invite(db)
    assert (await start(db, SAM, inv.code)).status == "consent"
    assert (await start(db, OTHER, inv.code)).status == "invite_taken"
    refused = await db.rows(
        "SELECT actor_id, details FROM audit_events WHERE action = :a", a="invite_rejected"
    )
    assert len(refused) == 1 and refused[0]["actor_id"] == OTHER
    # The owner opening it again carries on.
    assert (await start(db, SAM, inv.code)).status == "consent"
    assert await db.scalar("SELECT count(*) FROM conversations") == 1


async def test_an_invite_is_used_once(db):
    inv = await new_invite(db)
    assert (await join(db, SAM, inv.code)).status == "registered"
    assert (await start(db, SAM, inv.code)).status == "already_registered"
    assert (await start(db, OTHER, inv.code)).status == "invite_used"
    assert await db.scalar("SELECT count(*) FROM patients") == 1


async def test_declining_consent_leaves_no_patient_behind(db):
    inv = await new_invite(db)
    step = await start(db, SAM, inv.code)
    async with db.uow() as uow:
        declined = await onboarding.consent(uow, SAM, step.conv.nonce, False, NOW)
    assert declined.status == "declined"
    assert await db.scalar("SELECT count(*) FROM patients") == 0
    assert await db.scalar("SELECT count(*) FROM conversations") == 0
    assert await db.scalar("SELECT used_at FROM invites") is None
    # They may change their mind with the same link.
    assert (await join(db, SAM, inv.code)).status == "registered"


async def test_stale_buttons_and_unreadable_answers_do_not_move_the_flow(db):
    inv = await new_invite(db)
    step = await start(db, SAM, inv.code)
    nonce = step.conv.nonce
    async with db.uow() as uow:
        assert (await onboarding.consent(uow, SAM, "old", True, NOW)).status == "stale"
        assert (await onboarding.choose_time(uow, SAM, nonce, "9", NOW)).status == "stale"
    async with db.uow() as uow:
        await onboarding.consent(uow, SAM, nonce, True, NOW)
    async with db.uow() as uow:
        assert (await onboarding.choose_time(uow, SAM, nonce, "teatime?", NOW)).status == (
            "bad_time"
        )
    async with db.uow() as uow:
        assert (await onboarding.choose_time(uow, SAM, nonce, "0830", NOW)).status == "timezone"
    async with db.uow() as uow:
        bad = await onboarding.choose_timezone(uow, SAM, SAM, nonce, "Atlantis", NOW)
        several = await onboarding.choose_timezone(uow, SAM, SAM, nonce, "USA", NOW)
    assert bad.status == "bad_timezone"
    assert several.status == "timezone_several" and several.place is not None
    assert await db.scalar("SELECT count(*) FROM patients") == 0
    assert await db.scalar("SELECT step FROM conversations") == "timezone"


async def test_a_link_replaced_during_the_flow_cannot_be_used_to_finish_it(db):
    inv = await new_invite(db)
    step = await start(db, SAM, inv.code)
    nonce = step.conv.nonce
    async with db.uow() as uow:
        await onboarding.consent(uow, SAM, nonce, True, NOW)
    async with db.uow() as uow:
        await onboarding.choose_time(uow, SAM, nonce, "9:00", NOW)
    async with db.uow() as uow:
        result = await invites.reissue(uow, inv.id, created_by=11, now=NOW, valid_days=14)
        await uow.commit()
    assert result.status == "reissued"
    async with db.uow() as uow:
        last = await onboarding.choose_timezone(uow, SAM, SAM, nonce, "London", NOW)
    assert last.status == "invite_used"
    assert await db.scalar("SELECT count(*) FROM patients") == 0
    assert await db.scalar("SELECT count(*) FROM conversations") == 0
    # The new link works.
    assert (await join(db, SAM, result.invite.code)).status == "registered"


async def test_an_expired_or_unknown_link_is_refused(db):
    inv = await new_invite(db)
    later = NOW + timedelta(days=14)
    assert (await start(db, SAM, inv.code, at=later)).status == "invite_expired"
    assert (await start(db, SAM, "not-a-code")).status == "invite_unknown"
    assert (await start(db, SAM, "")).status == "no_code"
    assert await db.scalar("SELECT claimed_by FROM invites") is None
