"""What a flood, a careless paste and a hostile user found, reproduced against the real bot."""

from __future__ import annotations

import json
import re
import time

from tests.e2e.conftest import CLINIC_CHAT, NOT_STAFF, OTHER_STAFF, STAFF, BotProcess
from tests.e2e.helpers import join, last_id, press, say
from tests.e2e.test_delivery import ADVICE, RED_FLAG, eventually

PATIENT, OTHER = 5151, 5252


def urgent_alerts_for(api, name: str) -> list[dict]:
    return [m for m in api.messages(CLINIC_CHAT) if "URGENT" in m["text"] and name in m["text"]]


async def test_a_flood_from_one_patient_and_one_group_member_does_not_delay_another_alert(
    api, db_url, tmp_path
):
    api.set_rate_limit(per_second=30, per_group_per_minute=20)
    bot = BotProcess(api, db_url, tmp_path)
    await bot.start()
    try:
        await join(api, PATIENT, "Sam Taylor")
        await say(api, PATIENT, "/cancel")
        await join(api, OTHER, "Robin Lee")
        await say(api, OTHER, "/cancel")
        for i in range(30):
            await api.send_text(PATIENT, f"{RED_FLAG} ({i})")
        for _ in range(25):
            await api.send_text(NOT_STAFF, "/alerts", chat_id=CLINIC_CHAT)
        await api.wait_for_message(
            CLINIC_CHAT, lambda m: "URGENT" in m["text"] and "Sam Taylor" in m["text"], timeout=10
        )
        started = time.monotonic()
        await api.send_text(OTHER, RED_FLAG)
        await api.wait_for_message(
            CLINIC_CHAT, lambda m: "URGENT" in m["text"] and "Robin Lee" in m["text"], timeout=5
        )
        assert time.monotonic() - started < 5
        # Sam's thirty messages are one alert in the group, and the refusals went nowhere.
        assert len(urgent_alerts_for(api, "Sam Taylor")) == 1, [
            m["text"][:80] for m in api.messages(CLINIC_CHAT)
        ]
        assert not [m for m in api.messages(CLINIC_CHAT) if "only for the clinic" in m["text"]]
    finally:
        await bot.stop()
    assert " ERROR " not in bot.log()  # a clean stop logs no traceback


async def test_a_429_on_the_check_in_edit_then_yes_on_the_red_flag_question_is_urgent(api, bot, db):
    question = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, question, "4", contains="lower back")
    m = await press(api, PATIENT, m, "3", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    api.fail_next("editMessageText", 1, error_code=429, retry_after=1, chat_id=PATIENT)
    m = await press(api, PATIENT, m, "No", contains="safety")  # shown once Telegram allows
    after = last_id(api, PATIENT)
    await api.press(PATIENT, m, "Yes")
    await api.wait_for_message(PATIENT, lambda x: ADVICE in x["text"], after=after)
    await api.wait_for_message(CLINIC_CHAT, lambda x: "URGENT" in x["text"])


async def test_yes_on_the_red_flag_question_of_an_old_message_is_never_stale(api, bot, db):
    question = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, question, "4", contains="lower back")
    m = await press(api, PATIENT, m, "3", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    safety = await press(api, PATIENT, m, "No", contains="safety")
    yes = next(
        b["callback_data"]
        for row in safety["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "Yes"
    )
    await press(api, PATIENT, safety, "No", contains="exercises")
    # The patient taps Yes on the safety question as their phone still shows it.
    after = last_id(api, PATIENT)
    await api.press_button(PATIENT, safety["message_id"], yes)
    await api.wait_for_message(PATIENT, lambda x: ADVICE in x["text"], after=after)
    await api.wait_for_message(CLINIC_CHAT, lambda x: "URGENT" in x["text"])
    assert await db.scalar("SELECT count(*) FROM alerts WHERE level = 'urgent'") == 1


async def test_a_long_note_pasted_in_two_parts_is_stored_whole(api, bot, db):
    question = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, question, "4", contains="lower back")
    m = await press(api, PATIENT, m, "3", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    m = await press(api, PATIENT, m, "No", contains="safety")
    m = await press(api, PATIENT, m, "No", contains="exercises")
    await press(api, PATIENT, m, "Yes", contains="anything else")
    words = " ".join(f"day{i} walked a little, sat less" for i in range(200))
    note = (words * 2)[:5000]
    # Telegram splits it: 4,096 characters, then the rest, a moment later.
    await api.send_text(PATIENT, note[:4096])
    await api.send_text(PATIENT, note[4096:])
    await api.wait_for_message(PATIENT, lambda x: "added that" in x["text"])
    assert await db.scalar("SELECT note FROM checkin_entries") == note
    # Staff see a preview with a mark where it is cut, and the whole note on request.
    diary = await say(api, STAFF, "/patient 1", chat_id=CLINIC_CHAT, contains="note")
    assert "more characters: /note 1" in diary["text"]
    day = await db.scalar("SELECT local_day FROM checkin_entries")
    after = last_id(api, CLINIC_CHAT)
    await api.send_text(STAFF, f"/note 1 {day}", chat_id=CLINIC_CHAT)
    await api.wait_for_message(CLINIC_CHAT, lambda m: "Note from" in m["text"], after=after)

    def shown() -> str:
        replies = [m for m in api.messages(CLINIC_CHAT) if m["message_id"] > after]
        pieces = [m["text"] for m in replies if m["from"]["is_bot"]]
        return " ".join(p for p in pieces if "Note from" not in p)

    # (A note is split between words: Telegram trims the space at either end of a message.)
    await eventually(
        lambda: shown().split() == note.split(), what="the whole note in the staff chat"
    )


async def test_an_invisible_character_inside_a_key_word_does_not_hide_a_red_flag(api, bot, db):
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    msg = await say(api, PATIENT, "I can't feel when I need to p\u200bee", contains="urgent")
    assert ADVICE in msg["text"]
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
    assert "\u200b" not in alert["text"]


async def test_names_and_questions_reach_staff_without_direction_overrides(api, bot, db):
    await join(api, PATIENT, "Sam\u202e Taylor")
    await say(api, PATIENT, "/cancel")
    listing = await say(api, STAFF, "/patients", chat_id=CLINIC_CHAT, contains="Sam")
    assert "\u202e" not in listing["text"] and "Sam Taylor" in listing["text"]


async def test_mydata_holds_no_other_persons_id_and_staff_by_role(api, bot, db):
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    await say(api, PATIENT, RED_FLAG, contains="urgent")
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
    await api.press(NOT_STAFF, alert, "Acknowledge", chat_id=CLINIC_CHAT)
    await eventually(
        lambda: db.scalar("SELECT count(*) FROM audit_events WHERE action = 'ack_refused'"),
        what="the refusal audited",
    )
    await api.press(STAFF, alert, "Acknowledge", chat_id=CLINIC_CHAT)
    await eventually(
        lambda: db.scalar("SELECT count(*) FROM alerts WHERE status = 'acknowledged'"),
        what="acknowledged",
    )
    after = last_id(api, PATIENT)
    await api.send_text(PATIENT, "/mydata")
    doc = await api.wait_for_message(PATIENT, lambda m: "document" in m, after=after)
    raw = doc["file_bytes"].decode()
    data = json.loads(raw)
    # Whole numbers only: a timestamp's microseconds may hold the same digits ("28.100172").
    assert not re.search(rf"\b({NOT_STAFF}|{STAFF})\b", raw) and "Dana" not in raw
    assert data["alerts_to_the_clinic"][0]["acknowledged_by"] == "a clinician"
    assert str(PATIENT) in raw  # their own id is theirs to see


async def test_a_clinician_removed_from_the_staff_list_loses_the_staff_menu(api, db_url, tmp_path):
    scope = {"type": "chat", "chat_id": OTHER_STAFF}
    bot = BotProcess(api, db_url, tmp_path)
    await bot.start()
    await say(api, OTHER_STAFF, "/help", contains="staff")  # now the bot can write to Lee
    await bot.stop()
    await bot.start()  # the staff menu is set at start
    await bot.stop()
    assert any(c["command"] == "patients" for c in api.get_commands(scope) or [])
    bot.env["CLINIC_STAFF_IDS"] = str(STAFF)
    await bot.start()
    try:
        await eventually(lambda: not api.get_commands(scope), what="the staff menu removed")
    finally:
        await bot.stop()
