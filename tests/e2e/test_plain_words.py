"""Plain words for plain requests, through the real bot: "9am", "Madrid", "help", "thanks"."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.conftest import CLINIC_CHAT
from tests.e2e.helpers import invite, join, last_id, press, say

PATIENT = 9001
ADVICE = "Please get urgent medical help now"
FAQ_EMERGENCY_TOPICS = ("When to get urgent help", "This is an emergency")


async def start_joining(api, name: str = "Ana Ruiz") -> None:
    code = await invite(api, name)
    api.add_user(PATIENT, name.split()[0])
    consent = await say(api, PATIENT, f"/start {code}", contains="Do you agree")
    await press(api, PATIENT, consent, "I agree", contains="what time")


async def registered(api) -> None:
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")


async def test_joining_with_9am_and_madrid(api, bot, db):
    await start_joining(api)
    asked = await say(api, PATIENT, "9am", contains="time zone")
    assert "Check-in at 09:00" in asked["text"]
    done = await say(api, PATIENT, "Madrid", contains="all set")
    assert "09:00" in done["text"] and "Europe/Madrid" in done["text"]
    row = (await db.rows("SELECT checkin_time, timezone FROM patients"))[0]
    assert (row["checkin_time"], row["timezone"]) == ("09:00", "Europe/Madrid")


async def test_a_country_with_several_time_zones_is_asked_for_the_city(api, bot, db):
    await start_joining(api)
    await say(api, PATIENT, "9.30pm", contains="Check-in at 21:30")
    asked = await say(api, PATIENT, "USA", contains="several time zones")
    assert "United States" in asked["text"] and "Chicago" in asked["text"]
    assert await db.scalar("SELECT count(*) FROM patients") == 0
    await say(api, PATIENT, "Chicago", contains="all set")
    row = (await db.rows("SELECT checkin_time, timezone FROM patients"))[0]
    assert (row["checkin_time"], row["timezone"]) == ("21:30", "America/Chicago")


async def test_help_in_plain_words_shows_the_help_not_the_faq(api, bot, db):
    await registered(api)
    for typed in ("help", "Help", "help me?", "menu"):
        reply = await say(api, PATIENT, typed)
        assert reply["text"].startswith("What I can do"), (typed, reply["text"])
        assert not reply["text"].startswith(FAQ_EMERGENCY_TOPICS)
    assert await db.scalar("SELECT count(*) FROM relayed_questions") == 0


async def test_help_typed_while_joining_explains_the_step(api, bot, db):
    await start_joining(api)
    reply = await say(api, PATIENT, "help")
    assert "We are setting up your diary" in reply["text"]
    # The question is still open: a time typed next is taken.
    await say(api, PATIENT, "noon", contains="Check-in at 12:00")


async def test_greetings_thanks_and_emoji_get_a_short_pointer(api, bot, db):
    await registered(api)
    replies = {}
    for typed in ("hi", "Good morning!", "thanks", "Thank you so much", "cheers", "👍", "🙂"):
        replies[typed] = await say(api, PATIENT, typed)
    assert "Good to hear from you" in replies["hi"]["text"]
    assert "Good to hear from you" in replies["Good morning!"]["text"]
    for typed in ("thanks", "Thank you so much", "cheers"):
        assert replies[typed]["text"].startswith("You're welcome")
    for reply in replies.values():
        assert "/checkin" in reply["text"] and "/help" in reply["text"]
        assert "reply_markup" not in reply  # no "Ask the clinic": not a question
        assert "not sure" not in reply["text"]
    assert await db.scalar("SELECT count(*) FROM relayed_questions") == 0
    assert await db.scalar("SELECT count(*) FROM alerts") == 0


async def test_a_red_flag_after_a_greeting_still_takes_the_urgent_path(api, bot, db):
    await registered(api)
    after = last_id(api, CLINIC_CHAT)
    reply = await say(api, PATIENT, "hi, I can't feel when I need to pee", contains=ADVICE)
    assert "Good to hear from you" not in reply["text"]
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"], after=after)
    assert "Sam Taylor" in alert["text"]
    assert not any("Good to hear from you" in m["text"] for m in api.messages(PATIENT))


async def test_settings_understand_times_and_pauses_in_words(api, bot, db):
    # 05:00 on 20 December in UTC and London is still 19 December in Vancouver.
    bot.set_clock(datetime(2026, 12, 20, 5, 0, tzinfo=UTC))
    await registered(api)

    async def setting(button: str, typed: str, contains: str) -> dict:
        await say(api, PATIENT, "/settings", contains="Your settings")
        await press(api, PATIENT, api.messages(PATIENT)[-1], button)
        return await say(api, PATIENT, typed, contains=contains)

    await setting("Check-in time", "7.30pm", "now at 19:30")
    await setting("Exercise times", "9 am and 6 pm", "at 09:00, 18:00")
    await setting("Time zone", "Canada", "several time zones in Canada")
    await say(api, PATIENT, "Vancouver", contains="America/Vancouver")
    # Dates are the patient's own: two weeks from Vancouver's 19 December.
    await setting("Pause (holiday)", "2 weeks", "Paused until 2027-01-01")
    await setting("Pause (holiday)", "until 14 March", "Paused until 2027-03-14")
    await setting("Pause (holiday)", "until 1 April", "up to 90 days")
    await say(api, PATIENT, "till the 5th", contains="Paused until 2027-01-05")
    row = (
        await db.rows("SELECT checkin_time, exercise_times, timezone, paused_until FROM patients")
    )[0]
    assert (row["checkin_time"], row["exercise_times"], row["timezone"]) == (
        "19:30",
        "09:00,18:00",
        "America/Vancouver",
    )
    assert str(row["paused_until"]) == "2027-01-05"
