"""Questions answered from approved content, or relayed to the clinic, end to end."""

from __future__ import annotations

import asyncio

from tests.e2e.conftest import CLINIC_CHAT, STAFF
from tests.e2e.helpers import answer_to, join, last_id, outbox_settled, press, say

PATIENT = 7001


async def registered(api):
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")


async def test_common_questions_get_the_right_answers(api, bot, db):
    await registered(api)
    worse = await say(api, PATIENT, "can physio make my sciatica worse?")
    assert "Can physio make it worse?" in worse["text"].splitlines()[0]
    wear = await say(api, PATIENT, "what do I wear to my first session")
    assert "wear" in wear["text"].splitlines()[0].lower()
    # Related entries come as buttons, and pressing one answers it.
    topics = [b["text"] for row in wear["reply_markup"]["inline_keyboard"] for b in row]
    assert topics
    shown = await press(api, PATIENT, wear, topics[0], new_message=True)
    assert shown["text"].splitlines()[0] == topics[0]


async def test_faq_command_lists_topics(api, bot, db):
    await registered(api)
    msg = await say(api, PATIENT, "/faq")
    topics = [b["text"] for row in msg["reply_markup"]["inline_keyboard"] for b in row]
    assert len(topics) >= 20


async def test_unanswerable_question_is_relayed_and_the_staff_reply_reaches_the_patient(
    api, bot, db
):
    await registered(api)
    unsure = await say(api, PATIENT, "is the car park behind the clinic free on saturdays")
    assert "not sure" in unsure["text"]
    relayed_after = last_id(api, CLINIC_CHAT)
    await press(api, PATIENT, unsure, "Ask the clinic", new_message=True, contains="passed")
    relayed = await api.wait_for_message(
        CLINIC_CHAT, lambda m: "Question from Sam Taylor" in m["text"], after=relayed_after
    )
    assert "car park" in relayed["text"]
    # The outbox records which staff message carries the question once Telegram has answered
    # (milliseconds; a clinician takes longer to reply than this test).
    for _ in range(100):
        if await db.scalar("SELECT staff_message_id FROM relayed_questions"):
            break
        await asyncio.sleep(0.05)
    # Pressing "Ask the clinic" again relays nothing more.
    again = await api.press(PATIENT, unsure, "Ask the clinic")
    await answer_to(api, again)
    await outbox_settled(db)
    after = last_id(api, PATIENT)
    await api.send_text(
        STAFF,
        "Yes, it is free at weekends.",
        chat_id=CLINIC_CHAT,
        reply_to_message_id=relayed["message_id"],
    )
    reply = await api.wait_for_message(PATIENT, lambda m: "Reply from" in m["text"], after=after)
    assert "free at weekends" in reply["text"]
    row = (await db.rows("SELECT question, answer, answered_by FROM relayed_questions"))[0]
    assert row["answer"] == "Yes, it is free at weekends." and row["answered_by"] == STAFF
    assert sum("Question from" in m["text"] for m in api.messages(CLINIC_CHAT)) == 1


async def test_a_red_flag_sentence_gets_urgent_advice_not_an_faq(api, bot, db):
    await registered(api)
    msg = await say(api, PATIENT, "what should I do, I've gone numb between my legs")
    assert "urgent medical help" in msg["text"]
    await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])


async def test_medication_dose_questions_are_deferred_safely(api, bot, db):
    await registered(api)
    msg = await say(api, PATIENT, "how many ibuprofen can i take a day")
    assert "pharmacist" in msg["text"].lower() or "gp" in msg["text"].lower()
    assert "mg" not in msg["text"]
