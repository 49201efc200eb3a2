"""Plain words for plain requests, through the real bot: "9am", "Madrid", "2 weeks"."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.e2e.helpers import invite, join, press, say

PATIENT = 9001


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
