"""What a clinic checks before go-live, against the real bot: invites that belong to one
person, reaching the patient, escalation beyond the group, and a diary that keeps everything."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import CLINIC_CHAT, OTHER_STAFF, STAFF, BotProcess
from tests.e2e.helpers import LINK_RE, join, press, say

PATIENT, STRANGER = 6001, 6002


async def test_a_second_account_opening_a_link_sees_no_name_and_cannot_join(api, bot, db):
    msg = await say(api, STAFF, "/invite Sam Taylor", chat_id=CLINIC_CHAT, contains="t.me/")
    code = LINK_RE.search(msg["text"]).group(2)
    api.add_user(PATIENT, "Sam")
    api.add_user(STRANGER, "Eve")
    # The invited patient opens it first; then someone the link was forwarded to.
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    refused = await say(api, STRANGER, f"/start {code}", contains="belongs to someone else")
    assert "Sam" not in refused["text"] and not refused.get("reply_markup")
    # The patient still joins, as themself.
    asked = await press(api, PATIENT, consent, "I agree", contains="what time")
    tz = await press(api, PATIENT, asked, "09:00", contains="time zone")
    await press(api, PATIENT, tz, "Use Europe/London", contains="all set")
    rows = await db.rows("SELECT name, telegram_user_id FROM patients")
    assert [tuple(r.values()) for r in rows] == [("Sam Taylor", PATIENT)]
    assert await db.scalar("SELECT claimed_by FROM invites") == PATIENT


async def test_a_link_opened_first_by_the_wrong_person_is_reissued_and_the_old_one_revoked(
    api, bot, db
):
    msg = await say(api, STAFF, "/invite Sam Taylor", chat_id=CLINIC_CHAT, contains="t.me/")
    old = LINK_RE.search(msg["text"]).group(2)
    api.add_user(STRANGER, "Eve")
    api.add_user(PATIENT, "Sam")
    await say(api, STRANGER, f"/start {old}", contains="Do you agree")  # got there first
    taken = await say(api, PATIENT, f"/start {old}", contains="belongs to someone else")
    assert "Sam" not in taken["text"]
    invite_id = await db.scalar("SELECT id FROM invites")
    again = await say(
        api, STAFF, f"/reinvite {invite_id}", chat_id=CLINIC_CHAT, contains="replacing invite"
    )
    new = LINK_RE.search(again["text"]).group(2)
    # The stranger's half-finished flow on the old link cannot finish.
    revoked = await say(api, STRANGER, f"/start {old}", contains="replaced by a newer one")
    assert "Sam" not in revoked["text"]
    consent = await say(api, PATIENT, f"/start {new}", contains="Do you agree")
    assert "Sam Taylor" in consent["text"]
    asked = await press(api, PATIENT, consent, "I agree", contains="what time")
    tz = await press(api, PATIENT, asked, "09:00", contains="time zone")
    await press(api, PATIENT, tz, "Use Europe/London", contains="all set")
    assert await db.scalar("SELECT telegram_user_id FROM patients") == PATIENT
    # The old invite was replaced, the new one used: neither can be re-issued.
    again = await say(api, STAFF, f"/reinvite {invite_id}", chat_id=CLINIC_CHAT)
    assert "already replaced by a newer link" in again["text"]
    used = await say(api, STAFF, f"/reinvite {invite_id + 1}", chat_id=CLINIC_CHAT)
    assert "cannot be re-issued" in used["text"]
    assert (
        await db.scalar("SELECT count(*) FROM invites WHERE used_at IS NULL AND revoked_at IS NULL")
        == 0
    )


async def test_phone_and_reference_tell_two_patients_of_the_same_name_apart(api, bot, db):
    for user_id, details, ref in (
        (PATIENT, "Sam Taylor | +44 7700 900123 | RB-1042", "RB-1042"),
        (STRANGER, "Sam Taylor | | RB-2077", "RB-2077"),
    ):
        msg = await say(api, STAFF, f"/invite {details}", chat_id=CLINIC_CHAT, contains="t.me/")
        assert ref in msg["text"]
        code = LINK_RE.search(msg["text"]).group(2)
        api.add_user(user_id, "Sam")
        consent = await say(api, user_id, f"/start {code}", contains="Do you agree")
        asked = await press(api, user_id, consent, "I agree", contains="what time")
        tz = await press(api, user_id, asked, "09:00", contains="time zone")
        await press(api, user_id, tz, "Use Europe/London", contains="all set")
        await say(api, user_id, "/cancel")
    listing = await say(api, STAFF, "/patients", chat_id=CLINIC_CHAT, contains="Sam Taylor")
    assert "Sam Taylor, phone +44 7700 900123, ref RB-1042" in listing["text"]
    assert "Sam Taylor, ref RB-2077" in listing["text"]
    first = await db.scalar("SELECT id FROM patients WHERE clinic_ref = 'RB-1042'")
    diary = await say(api, STAFF, f"/patient {first}", chat_id=CLINIC_CHAT, contains="Sam")
    assert "phone +44 7700 900123, ref RB-1042" in diary["text"]
    # An urgent alert says how to reach the patient.
    await api.send_text(PATIENT, "I can't feel when I need to pee and I wet myself")
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
    assert "phone +44 7700 900123" in alert["text"] and "RB-1042" in alert["text"]


async def test_a_bad_phone_number_is_explained_and_no_invite_is_made(api, bot, db):
    msg = await say(api, STAFF, "/invite Sam Taylor | call me | RB-1", chat_id=CLINIC_CHAT)
    assert "phone number does not look right" in msg["text"]
    assert await db.scalar("SELECT count(*) FROM invites") == 0


async def test_the_diary_shows_every_check_in_alert_and_question_paginated_and_audited(
    api, bot, db
):
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    pid = await db.scalar("SELECT id FROM patients")
    now = datetime.now(UTC)
    for i in range(20):  # 20 days of check-ins, two on the newest day
        day = now - timedelta(days=i)
        await db.execute(
            "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain, numbness,"
            " weakness, weakness_worsening, red_flag, exercises, note, created_at, updated_at)"
            " VALUES (:p, :d, :leg, 2, false, false, false, false, 'yes', :note, :t, :t)",
            p=pid,
            d=day.date(),
            leg=i % 10,
            note=f"note of day {i}",
            t=day - timedelta(hours=1),
        )
    await db.execute(
        "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain, numbness,"
        " weakness, weakness_worsening, red_flag, exercises, note, created_at, updated_at)"
        " VALUES (:p, :d, 9, 3, false, true, true, null, null, null, :t, :t)",
        p=pid,
        d=now.date(),
        t=now - timedelta(minutes=5),
    )
    await db.execute(
        "INSERT INTO alerts (patient_id, level, rule, reason, figures, status, created_at,"
        " updated_at, sends, acknowledged_by, acknowledged_by_name, acknowledged_at) VALUES"
        " (:p, 'urgent', 'weakness_worsening', 'Leg weakness getting worse quickly.', '{}',"
        " 'acknowledged', :t, :t, 1, :s, 'Dana Physio', :t)",
        p=pid,
        t=now - timedelta(minutes=4),
        s=STAFF,
    )
    await db.execute(
        "INSERT INTO relayed_questions (patient_id, question, created_at, answer, answered_by,"
        " answered_by_name, answered_at) VALUES (:p, 'Can I swim?', :t, 'Yes, gently.', :s,"
        " 'Dana Physio', :t)",
        p=pid,
        t=now - timedelta(days=2, hours=3),
        s=STAFF,
    )
    first = await say(api, STAFF, f"/patient {pid}", chat_id=CLINIC_CHAT, contains="Page 1 of 2")
    text = first["text"]
    assert "leg 9 back 3" in text and "red flag not asked | exercises not asked" in text
    assert "urgent alert: Leg weakness getting worse quickly. (acknowledged by Dana Physio" in text
    assert "“Can I swim?” Answered by Dana Physio" in text and "“Yes, gently.”" in text
    assert "note of day 0" in text and "Older entries: /patient" in text
    second = await say(api, STAFF, f"/patient {pid} 2", chat_id=CLINIC_CHAT, contains="Page 2 of 2")
    assert "note of day 19" in second["text"] and "note of day 0" not in second["text"]
    shown = first["text"] + second["text"]
    assert all(f"note of day {i}" in shown for i in range(20))
    views = await db.rows(
        "SELECT actor_id, details FROM audit_events WHERE action = 'diary_viewed' ORDER BY id"
    )
    assert [(v["actor_id"], _page(v["details"])) for v in views] == [(STAFF, 1), (STAFF, 2)]


def _page(details) -> int:
    return (json.loads(details) if isinstance(details, str) else details)["page"]


async def test_erasure_waits_for_an_open_urgent_alert_then_the_clinic_is_told(api, bot, db):
    msg = await say(
        api, STAFF, "/invite Sam Taylor | | RB-1042", chat_id=CLINIC_CHAT, contains="t.me/"
    )
    code = LINK_RE.search(msg["text"]).group(2)
    api.add_user(PATIENT, "Sam")
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    assert "The clinic keeps what it has already put in your health record" in consent["text"]
    asked = await press(api, PATIENT, consent, "I agree", contains="what time")
    tz = await press(api, PATIENT, asked, "09:00", contains="time zone")
    await press(api, PATIENT, tz, "Use Europe/London", contains="all set")
    await say(api, PATIENT, "/cancel")
    await api.send_text(PATIENT, "I can't feel when I need to pee")
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
    # While the urgent alert is open, nothing is erased and no erase button is offered.
    wait = await say(api, PATIENT, "/deleteme", contains="can't erase your data just yet")
    assert not wait.get("reply_markup")
    assert await db.scalar("SELECT count(*) FROM checkin_drafts") == 0
    assert await db.scalar("SELECT count(*) FROM patients") == 1
    await press(api, STAFF, alert, "Acknowledge", chat_id=CLINIC_CHAT, contains="Acknowledged by")
    confirm = await say(api, PATIENT, "/deleteme", contains="permanently erase")
    assert "What Riverside Physio keeps" in confirm["text"]
    after = api.messages(CLINIC_CHAT)[-1]["message_id"]
    await press(api, PATIENT, confirm, "Yes, erase everything", contains="clinic has been told")
    told = await api.wait_for_message(
        CLINIC_CHAT, lambda m: "erased their data" in m["text"], after=after
    )
    assert "Sam Taylor" in told["text"] and "RB-1042" in told["text"]
    assert await db.scalar("SELECT count(*) FROM patients") == 0
    assert await db.scalar("SELECT count(*) FROM invites") == 0
    # What remains: one audit entry without personal data, and the notice without its text.
    for _ in range(100):
        if await db.scalar("SELECT count(*) FROM outbox WHERE body IS NOT NULL") == 0:
            break
        await asyncio.sleep(0.05)
    assert await db.scalar("SELECT count(*) FROM outbox WHERE body IS NOT NULL") == 0
    events = await db.rows("SELECT actor_id, patient_id, action, details FROM audit_events")
    erased = [dict(e) for e in events if e["action"] == "patient_erased"]
    assert len(erased) == 1 and erased[0]["actor_id"] is None and erased[0]["patient_id"] is None
    dump = json.dumps([dict(e) for e in events], default=str)
    # The id as a whole number: a timestamp's digits may hold the same four ("…16001…").
    assert "Sam" not in dump and "RB-1042" not in dump and not re.search(rf"\b{PATIENT}\b", dump)


async def test_an_unacknowledged_urgent_alert_reaches_each_on_call_clinician_privately(
    api, db_url, tmp_path, db
):
    # 3 seconds (the red-flag question must time out before that)
    bot = BotProcess(
        api, db_url, tmp_path, ALERT_ESCALATE_MINUTES="0.05", RED_FLAG_CONFIRM_MINUTES="0.02"
    )
    await bot.start()
    try:
        await say(api, STAFF, "/help")  # Dana has a private chat with the bot; Lee has none
        await join(api, PATIENT, "Sam Taylor")
        await say(api, PATIENT, "/cancel")
        await api.send_text(PATIENT, "I can't feel when I need to pee")
        group = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
        first = await api.wait_for_message(STAFF, lambda m: "on-call" in m["text"])
        assert "Sam Taylor" in first["text"] and "URGENT" in first["text"]
        assert _buttons(first) == ["Acknowledge", "Open diary"]
        # Lee cannot be reached privately: the log says what to do; Sam's chat is not blamed.
        await _log_says(bot, f"on-call clinician {OTHER_STAFF}")
        assert not await db.scalar("SELECT unreachable FROM patients")
        # Still unacknowledged at the next re-notification: sent again.
        bot.set_clock(datetime.now(UTC) + timedelta(minutes=16))
        again = await api.wait_for_message(
            STAFF, lambda m: "on-call" in m["text"], after=first["message_id"]
        )
        # Acknowledged in private: every copy, in the group and in private, says who and when.
        await press(api, STAFF, again, "Acknowledge", contains="Acknowledged by Dana")
        for chat, message in ((CLINIC_CHAT, group), (STAFF, first)):
            edited = await api.wait_for_message(
                chat,
                lambda m, mid=message["message_id"]: (
                    m["message_id"] == mid and "Acknowledged by Dana" in m["text"]
                ),
            )
            assert not _buttons(edited)
        assert await db.scalar("SELECT acknowledged_by FROM alerts") == STAFF
    finally:
        await bot.stop()


def _buttons(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["text"] for row in rows for b in row]


async def _log_says(bot: BotProcess, needle: str) -> None:
    for _ in range(200):
        if needle in bot.log():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"log never said {needle!r}:\n{bot.log()[-3000:]}")
