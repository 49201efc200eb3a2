"""Joining the clinic's diary, end to end: staff invite -> patient link -> consent -> time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from tests.e2e.conftest import CLINIC_CHAT, NOT_STAFF, STAFF, TOKEN
from tests.e2e.helpers import answer_to, invite, join, last_id, press, say

PATIENT = 5001


async def test_invite_start_consent_time_registers_the_patient(api, bot, db):
    first_question = await join(api, PATIENT, "Sam Taylor", time_button="08:00")
    assert "leg" in first_question["text"]
    rows = await db.rows(
        "SELECT name, checkin_time, timezone, status, telegram_user_id FROM patients"
    )
    assert [dict(r) for r in rows] == [
        {
            "name": "Sam Taylor",
            "checkin_time": "08:00",
            "timezone": "Europe/London",
            "status": "active",
            "telegram_user_id": PATIENT,
        }
    ]
    texts = [m["text"] for m in api.messages(PATIENT)]
    assert any("You're all set, Sam Taylor" in t and "08:00" in t for t in texts)
    assert await db.scalar("SELECT count(*) FROM invites WHERE used_at IS NOT NULL") == 1


async def test_typed_time_and_timezone_are_accepted(api, bot, db):
    code = await invite(api, "Robin Hart")
    api.add_user(PATIENT, "Robin")
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    await press(api, PATIENT, consent, "I agree", contains="what time")
    await say(api, PATIENT, "quarter past seven", contains="did not understand")
    await say(api, PATIENT, "7:15", contains="time zone")
    await say(api, PATIENT, "Mars/Olympus", contains="don't know that place")
    await say(api, PATIENT, "europe/dublin", contains="all set")
    row = (await db.rows("SELECT checkin_time, timezone FROM patients"))[0]
    assert (row["checkin_time"], row["timezone"]) == ("07:15", "Europe/Dublin")


async def test_start_without_code_explains_and_creates_nothing(api, bot, db):
    api.add_user(PATIENT, "Alex")
    msg = await say(api, PATIENT, "/start")
    assert "invite link" in msg["text"]
    assert await db.scalar("SELECT count(*) FROM patients") == 0
    assert await db.scalar("SELECT count(*) FROM conversations") == 0


async def test_unknown_code_is_refused(api, bot, db):
    api.add_user(PATIENT, "Alex")
    msg = await say(api, PATIENT, "/start AAAAAAAAAAAAAAAAAAAAAA")
    assert "don't recognise" in msg["text"]
    assert await db.scalar("SELECT count(*) FROM patients") == 0


async def test_reused_code_is_refused_for_a_second_person(api, bot, db):
    code = await invite(api, "Sam Taylor")
    api.add_user(PATIENT, "Sam")
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    asked = await press(api, PATIENT, consent, "I agree", contains="what time")
    tz = await press(api, PATIENT, asked, "09:00", contains="time zone")
    await press(api, PATIENT, tz, "Use Europe/London", contains="all set")
    api.add_user(5002, "Eve")
    msg = await say(api, 5002, f"/start {code}")
    assert "already been used" in msg["text"]
    assert await db.scalar("SELECT count(*) FROM patients") == 1


async def test_expired_code_is_refused(api, bot, db):
    code = await invite(api, "Late Comer")
    bot.set_clock(datetime.now(UTC) + timedelta(days=15))
    api.add_user(PATIENT, "Late")
    msg = await say(api, PATIENT, f"/start {code}")
    assert "expired" in msg["text"]
    assert await db.scalar("SELECT count(*) FROM patients") == 0


async def test_declined_consent_stores_nothing_and_keeps_the_invite(api, bot, db):
    code = await invite(api, "Sam Taylor")
    api.add_user(PATIENT, "Sam")
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    declined = await press(api, PATIENT, consent, "No thanks", contains="nothing has been stored")
    assert not (declined.get("reply_markup") or {}).get("inline_keyboard")
    assert await db.scalar("SELECT count(*) FROM patients") == 0
    assert await db.scalar("SELECT count(*) FROM conversations") == 0
    # The stale consent button is refused politely; the invite still works later.
    stale = await api.press_button(PATIENT, consent, consent_data(consent, "I agree"))
    assert "expired" in (await answer_to(api, stale))["text"]
    assert await db.scalar("SELECT count(*) FROM patients") == 0
    assert await db.scalar("SELECT count(*) FROM conversations") == 0
    again = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    assert again["reply_markup"]


def consent_data(message: dict, button_text: str) -> str:
    for row in message["reply_markup"]["inline_keyboard"]:
        for b in row:
            if b["text"] == button_text:
                return b["callback_data"]
    raise AssertionError(button_text)


async def test_invite_from_a_non_staff_user_is_refused(api, bot, db):
    api.add_user(PATIENT, "Mallory")
    msg = await say(api, PATIENT, "/invite Mallory Friend")
    assert "only for the clinic's staff" in msg["text"]
    # In the clinic group a refusal is not posted (the group's budget is for alerts): the
    # group's updates are handled in order, so once a clinician's later command is answered,
    # the refused one has been handled.
    await api.send_text(NOT_STAFF, "/invite Someone", chat_id=CLINIC_CHAT)
    await say(api, STAFF, "/alerts", chat_id=CLINIC_CHAT, contains="alerts")
    assert not [m for m in api.messages(CLINIC_CHAT) if "only for the clinic" in m["text"]]
    assert (
        await db.scalar("SELECT count(*) FROM audit_events WHERE action = 'staff_command_refused'")
        == 2
    )
    assert await db.scalar("SELECT count(*) FROM invites") == 0


async def test_staff_can_invite_in_private(api, bot, db):
    code = await invite(api, "Private Invite", chat_id=STAFF)
    assert len(code) >= 20
    assert await db.scalar("SELECT name FROM invites") == "Private Invite"


async def test_media_in_the_middle_of_onboarding_gets_a_kind_answer_and_loses_nothing(api, bot, db):
    code = await invite(api, "Sam Taylor")
    api.add_user(PATIENT, "Sam")
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    asked = await press(api, PATIENT, consent, "I agree", contains="what time")
    for send in (api.send_sticker, api.send_photo, api.send_voice):
        after = last_id(api, PATIENT)
        await send(PATIENT)
        reply = await api.wait_for_message(PATIENT, after=after)
        assert "only read text" in reply["text"]
    msg = await say(api, PATIENT, "/nonsense")
    assert "don't know that command" in msg["text"]
    # Still at the time step: the old buttons work.
    tz = await press(api, PATIENT, asked, "18:00", contains="time zone")
    await press(api, PATIENT, tz, "Use Europe/London", contains="all set")
    assert await db.scalar("SELECT checkin_time FROM patients") == "18:00"


async def test_help_and_cancel_work_during_onboarding(api, bot, db):
    code = await invite(api, "Sam Taylor")
    api.add_user(PATIENT, "Sam")
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    msg = await say(api, PATIENT, "/help")
    assert "setting up your diary" in msg["text"]
    msg = await say(api, PATIENT, "/cancel")
    assert "stopped" in msg["text"]
    pressed = await api.press(PATIENT, consent, "I agree")
    assert "expired" in (await answer_to(api, pressed)).get("text", "")
    assert await db.scalar("SELECT count(*) FROM patients") == 0


async def test_the_same_update_twice_makes_one_patient(api, bot, db):
    code = await invite(api, "Sam Taylor")
    api.add_user(PATIENT, "Sam")
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    asked = await press(api, PATIENT, consent, "I agree", contains="what time")
    tz = await press(api, PATIENT, asked, "09:00", contains="time zone")
    query_id = await api.press(PATIENT, tz, "Use Europe/London")
    await api.redeliver_last()  # usually in the same getUpdates batch as the press
    await api.wait_for_message(PATIENT, lambda m: "all set" in m["text"])
    # A chat's updates are handled in order: once a later message is answered, the
    # duplicate has been dealt with too.
    await say(api, PATIENT, "/help", contains="What I can do")
    assert await db.scalar("SELECT count(*) FROM patients") == 1
    assert sum("all set" in m["text"] for m in api.messages(PATIENT)) == 1
    # Handled once: the bot answered the press once (a second try is refused as too old).
    tries = [
        p for _, p in api.requests("answerCallbackQuery") if p["callback_query_id"] == query_id
    ]
    assert len(tries) == 1


async def test_command_menus_differ_for_patients_and_staff(api, bot):
    cmds = api.commands
    flat = {k: [c["command"] for c in v] for k, v in cmds.items()}
    patient_menu = next(v for k, v in flat.items() if "default" in k)
    staff_menu = next(v for k, v in flat.items() if str(CLINIC_CHAT) in k)
    assert "checkin" in patient_menu and "invite" not in patient_menu
    assert "invite" in staff_menu and "patients" in staff_menu


async def test_the_token_never_appears_in_the_bot_log(api, bot):
    await join(api, PATIENT, "Sam Taylor")
    await bot.stop()
    log = bot.log()
    assert "bot @RecoveryDiaryBot ready" in log  # the log is real and was written
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log


async def test_mydata_sends_the_patients_own_data_and_deleteme_really_erases(api, bot, db):
    import json

    first = await join(api, PATIENT, "Sam Taylor")
    await press(api, PATIENT, first, "5", contains="lower back")
    await api.send_text(PATIENT, "/mydata")
    for _ in range(100):
        if api.documents(PATIENT):
            break
        await asyncio.sleep(0.05)
    doc = api.documents(PATIENT)[-1]
    data = json.loads(doc["file_bytes"])
    assert data["patient"]["name"] == "Sam Taylor"
    assert data["checkin_in_progress"][0]["leg_pain"] == 5
    typed = [m["text"] for m in data["messages_as_you_typed_them"]]
    assert typed[0].startswith("/start ") and "/mydata" in typed
    # Someone else pressing the erase button (forged) changes nothing.
    confirm = await say(api, PATIENT, "/deleteme", contains="permanently erase")
    forged = await api.press_button(PATIENT, confirm, "dm:999:yes")
    assert "expired" in (await answer_to(api, forged))["text"]
    assert await db.scalar("SELECT count(*) FROM patients") == 1
    await press(api, PATIENT, confirm, "Yes, erase everything", contains="erased")
    for table in (
        "patients",
        "checkin_entries",
        "checkin_drafts",
        "invites",
        "alerts",
        "relayed_questions",
        "conversations",
    ):
        assert await db.scalar(f"SELECT count(*) FROM {table}") == 0, table
    assert await db.scalar(f"SELECT count(*) FROM inbox WHERE chat_id = {PATIENT}") == 0
    assert await db.scalar("SELECT count(*) FROM outbox WHERE patient_id IS NOT NULL") == 0
    assert await db.scalar("SELECT count(*) FROM audit_events WHERE patient_id IS NOT NULL") == 0
    assert await db.scalar(f"SELECT count(*) FROM audit_events WHERE actor_id = {PATIENT}") == 0
    assert await db.scalar("SELECT count(*) FROM audit_events WHERE action = 'patient_erased'") == 1


async def test_operator_invite_from_the_command_line(api, bot, db):
    import sys

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "invite",
        "Jo",
        "Bloggs",
        env=bot.env,
        cwd=bot.workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    link = out.decode().strip()
    assert link.startswith("https://t.me/RecoveryDiaryBot?start=")
    assert TOKEN not in out.decode() + err.decode()
    api.add_user(PATIENT, "Jo")
    msg = await say(api, PATIENT, f"/start {link.split('=')[1]}", contains="Do you agree")
    assert "Hello Jo Bloggs" in msg["text"]
