"""Ask when unsure: a message that may describe a red flag gets "Is this happening now?"."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CLINIC_CHAT, BotProcess
from tests.e2e.helpers import answer_to, join, last_id, press, say

PATIENT = 7101
UNSURE = "my wee has been a bit funny today"


async def registered(api):
    await join(api, PATIENT, "Robin Lee")
    await say(api, PATIENT, "/cancel")


def clinic_alerts(api) -> list[dict]:
    return [m for m in api.messages(CLINIC_CHAT) if "URGENT" in m["text"]]


@pytest.fixture
async def quick_bot(api, db_url, tmp_path):
    """The bot with a 3-second wait for an answer instead of 10 minutes."""
    proc = BotProcess(api, db_url, tmp_path, RED_FLAG_CONFIRM_MINUTES="0.05")
    await proc.start()
    yield proc
    await proc.stop()
    print("---- bot log (tail) ----\n" + "\n".join(proc.log().splitlines()[-60:]))


async def test_ambiguous_bladder_message_asks_and_yes_brings_advice_and_alert(api, bot, db):
    await registered(api)
    question = await say(api, PATIENT, UNSURE, contains="happening to you now")
    assert [b["text"] for b in question["reply_markup"]["inline_keyboard"][0]] == ["Yes", "No"]
    assert not clinic_alerts(api)  # asking alerts nobody yet
    yes_data = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    after = last_id(api, PATIENT)
    await api.press(PATIENT, question, "Yes")
    advice = await api.wait_for_message(
        PATIENT, lambda m: "urgent medical help" in m["text"], after=after
    )
    assert "999" in advice["text"]
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT: Robin" in m["text"])
    assert "funny today" in alert["text"]
    rows = await db.rows("SELECT rule, status FROM alerts ORDER BY id")
    assert [(r["rule"], r["status"]) for r in rows] == [
        ("red_flag_unconfirmed", "answered"),
        ("red_flag", "open"),
    ]
    # The same button again (an old copy of the message) is refused politely.
    again = await api.press_button(PATIENT, question, yes_data)
    await answer_to(api, again)
    assert len(await db.rows("SELECT id FROM alerts")) == 2


async def test_no_says_thanks_and_alerts_nobody(api, bot, db):
    await registered(api)
    question = await say(api, PATIENT, UNSURE, contains="happening to you now")
    done = await press(api, PATIENT, question, "No", contains="good to hear")
    assert not done.get("reply_markup", {}).get("inline_keyboard")
    # Still a normal conversation afterwards.
    await say(api, PATIENT, "what should I wear to my physio session", contains="wear")
    assert not clinic_alerts(api)
    rows = await db.rows("SELECT status FROM outbox WHERE kind = 'alert'")
    assert [r["status"] for r in rows] == ["skipped"]


async def test_no_answer_in_time_alerts_the_clinic(api, quick_bot, db):
    await registered(api)
    await say(api, PATIENT, UNSURE, contains="happening to you now")
    alert = await api.wait_for_message(
        CLINIC_CHAT, lambda m: "NOT ANSWERED: Robin" in m["text"], timeout=20
    )
    assert "funny today" in alert["text"]
    assert "Acknowledge" in str(alert["reply_markup"])
