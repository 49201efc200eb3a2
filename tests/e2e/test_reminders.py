"""Check-in prompts and exercise reminders in the bot's real flow, with the injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from storage.models import Patient, Reminder
from tests.e2e.conftest import CLINIC_CHAT, STAFF, BotProcess
from tests.e2e.helpers import (
    advance_clock,
    caught_up,
    invite,
    last_id,
    move_clock,
    press,
    say,
)

LONDON, NEW_YORK = 8001, 8002
PROMPT = "time for your daily check-in"


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


async def register(api, user_id: int, name: str, hhmm: str, tz: str | None = None) -> None:
    code = await invite(api, name)
    api.add_user(user_id, name.split()[0])
    consent = await say(api, user_id, f"/start {code}", contains="Do you agree")
    await press(api, user_id, consent, "I agree", contains="what time")
    await say(api, user_id, hhmm, contains="time zone")
    await say(api, user_id, tz or "Europe/London", contains="all set")
    await say(api, user_id, "/cancel")  # leave the first check-in for later


def prompts(api, user_id: int) -> list[dict]:
    return [m for m in api.messages(user_id) if PROMPT in m["text"].lower()]


async def checkin_due_at(db, user_id: int) -> datetime:
    """When the patient's check-in prompt is next due, as the schedule in the database says."""
    async with db.engine.connect() as conn:
        return await conn.scalar(
            select(Reminder.next_at)
            .join(Patient, Patient.id == Reminder.patient_id)
            .where(Patient.telegram_user_id == user_id, Reminder.kind == "checkin")
        )


async def expect_prompt_at(api, bot, db, user_id: int, when: datetime) -> None:
    """Nothing a minute before `when`; the prompt at `when`."""
    before = len(prompts(api, user_id))
    # The bot has run its schedule a minute before and sent all that was due by then.
    await advance_clock(bot, db, when - timedelta(minutes=1))
    assert len(prompts(api, user_id)) == before, f"prompt before {when}"
    assert await checkin_due_at(db, user_id) == when
    bot.set_clock(when)
    after = last_id(api, user_id)
    await api.wait_for_message(user_id, lambda m: PROMPT in m["text"].lower(), after=after)
    assert len(prompts(api, user_id)) == before + 1


async def test_prompts_at_local_time_in_two_zones_across_both_dst_changes(api, bot, db):
    bot.set_clock(utc(2026, 3, 6, 12, 0))
    await register(api, LONDON, "Lon Don", "09:00")
    await register(api, NEW_YORK, "New York", "09:00", "America/New_York")
    # New York: EST (UTC-5) until 8 March, then EDT (UTC-4).
    await expect_prompt_at(api, bot, db, NEW_YORK, utc(2026, 3, 7, 14, 0))
    await expect_prompt_at(api, bot, db, NEW_YORK, utc(2026, 3, 8, 13, 0))
    # London: GMT until 29 March, then BST (UTC+1).
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 3, 28, 9, 0))
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 3, 29, 8, 0))
    # Autumn: London back to GMT on 25 October, New York to EST on 1 November.
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 10, 24, 8, 0))
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 10, 25, 9, 0))
    await expect_prompt_at(api, bot, db, NEW_YORK, utc(2026, 10, 31, 13, 0))
    await expect_prompt_at(api, bot, db, NEW_YORK, utc(2026, 11, 1, 14, 0))


async def test_a_time_missing_on_the_spring_forward_day_fires_once_at_the_next_valid_minute(
    api, bot, db
):
    bot.set_clock(utc(2026, 3, 27, 12, 0))
    await register(api, LONDON, "Lon Don", "01:30")
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 3, 28, 1, 30))
    # 01:30 does not exist on 29 March in London: 02:00 BST (01:00 UTC) instead, once.
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 3, 29, 1, 0))
    await advance_clock(bot, db, utc(2026, 3, 29, 3, 0))
    assert len(prompts(api, LONDON)) == 2


async def test_nudge_once_after_three_hours_but_never_at_night(api, bot, db):
    bot.set_clock(utc(2026, 6, 1, 6, 0))
    await register(api, LONDON, "Lon Don", "09:00")
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 6, 2, 8, 0))  # 09:00 BST
    after = last_id(api, LONDON)
    bot.set_clock(utc(2026, 6, 2, 11, 0))  # 12:00 BST
    nudge = await api.wait_for_message(
        LONDON, lambda m: "gentle reminder" in m["text"], after=after
    )
    # The nudge starts the check-in; done today, so no more nudges or prompts today.
    q = await press(api, LONDON, nudge, "Start check-in", new_message=True, contains="leg")
    assert "leg" in q["text"]
    # A 20:00 check-in would nudge at 23:00: that is night, so no nudge is sent.
    await say(api, LONDON, "/cancel")
    await say(api, LONDON, "/settings", contains="settings")
    menu = api.messages(LONDON)[-1]
    await press(api, LONDON, menu, "Check-in time", contains="Type the new time")
    await say(api, LONDON, "20:00", contains="Saved")
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 6, 2, 19, 0))
    await advance_clock(bot, db, utc(2026, 6, 2, 22, 30))
    assert sum("gentle reminder" in m["text"] for m in api.messages(LONDON)) == 1


async def test_exercise_reminders_done_snooze_and_skip_are_recorded(api, bot, db):
    bot.set_clock(utc(2026, 6, 1, 6, 0))
    await register(api, LONDON, "Lon Don", "09:00")
    pid = await db.scalar("SELECT id FROM patients")
    msg = await say(api, STAFF, f"/plan {pid} early-relief", chat_id=CLINIC_CHAT)
    assert "Early relief" in msg["text"] and "10:00, 18:00" in msg["text"]
    told = await api.wait_for_message(LONDON, lambda m: "exercise plan" in m["text"])
    assert "Early relief" in told["text"]
    plan = await say(api, LONDON, "/exercises", contains="Early relief")
    shown = await press(api, LONDON, plan, "Knee-to-chest stretch", new_message=True)
    assert "When to stop" in shown["text"] and "999" in shown["text"]

    async def reminder_at(when):
        after = last_id(api, LONDON)
        bot.set_clock(when)
        return await api.wait_for_message(
            LONDON, lambda m: "Time for your exercises" in m["text"], after=after
        )

    r = await reminder_at(utc(2026, 6, 1, 9, 0))  # 10:00 BST
    await press(api, LONDON, r, "Done", contains="Recorded as done")
    r = await reminder_at(utc(2026, 6, 1, 17, 0))  # 18:00 BST
    await press(api, LONDON, r, "Snooze 30 min", contains="30 minutes")
    r = await reminder_at(utc(2026, 6, 1, 17, 30))
    await press(api, LONDON, r, "Skip today", contains="skipped")
    # Next day: skipping the morning skips the evening too.
    r = await reminder_at(utc(2026, 6, 2, 9, 0))
    await press(api, LONDON, r, "Skip today", contains="skipped")
    count = sum("Time for your exercises" in m["text"] for m in api.messages(LONDON))
    await advance_clock(bot, db, utc(2026, 6, 2, 17, 1))
    assert sum("Time for your exercises" in m["text"] for m in api.messages(LONDON)) == count
    rows = await db.rows(
        "SELECT local_day, slot, status FROM exercise_log ORDER BY local_day, slot"
    )
    assert [(str(r["local_day"]), r["slot"], r["status"]) for r in rows] == [
        ("2026-06-01", "10:00", "done"),
        ("2026-06-01", "18:00", "skipped"),
        ("2026-06-02", "10:00", "skipped"),
        ("2026-06-02", "18:00", "skipped"),
    ]


async def test_pause_and_resume(api, bot, db):
    bot.set_clock(utc(2026, 6, 1, 6, 0))
    await register(api, LONDON, "Lon Don", "09:00")
    await say(api, LONDON, "/settings", contains="settings")
    await press(api, LONDON, api.messages(LONDON)[-1], "Pause (holiday)", contains="how long")
    await say(api, LONDON, "2", contains="Paused until 2026-06-02")
    for day in (1, 2):
        await advance_clock(bot, db, utc(2026, 6, day, 8, 1))
    assert [m["text"] for m in prompts(api, LONDON)] == []
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 6, 3, 8, 0))
    # Pause again, then resume early: prompts come back the next day.
    await say(api, LONDON, "/settings", contains="settings")
    await press(api, LONDON, api.messages(LONDON)[-1], "Pause (holiday)", contains="how long")
    await say(api, LONDON, "2026-06-20", contains="Paused until")
    await say(api, LONDON, "/settings", contains="Paused until")
    await press(api, LONDON, api.messages(LONDON)[-1], "Resume", contains="Welcome back")
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 6, 4, 8, 0))


async def test_catch_up_after_downtime_within_grace_but_not_beyond(api, bot, db):
    bot.set_clock(utc(2026, 6, 1, 6, 0))
    await register(api, LONDON, "Lon Don", "09:00")
    await bot.stop()
    bot.set_clock(utc(2026, 6, 1, 9, 30))  # 10:30 BST: missed by 90 minutes
    await bot.start()
    await api.wait_for_message(LONDON, lambda m: PROMPT in m["text"].lower())
    await bot.stop()
    await move_clock(bot, db, utc(2026, 6, 2, 10, 30))  # 11:30 BST: missed by 2.5 hours
    await bot.start()
    await caught_up(db, utc(2026, 6, 2, 10, 30))
    assert len(prompts(api, LONDON)) == 1
    # The schedule carries on the next day.
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 6, 3, 8, 0))


async def test_no_duplicate_after_a_restart(api, bot, db):
    bot.set_clock(utc(2026, 6, 1, 6, 0))
    await register(api, LONDON, "Lon Don", "09:00")
    await expect_prompt_at(api, bot, db, LONDON, utc(2026, 6, 1, 8, 0))
    await bot.stop()
    await move_clock(bot, db, utc(2026, 6, 1, 8, 5))
    await bot.start()
    await caught_up(db, utc(2026, 6, 1, 8, 5))
    assert len(prompts(api, LONDON)) == 1


async def test_a_patient_who_blocked_the_bot_is_marked_unreachable_and_skipped(api, bot, db):
    bot.set_clock(utc(2026, 6, 1, 6, 0))
    await register(api, LONDON, "Lon Don", "09:00")
    api.block_bot(LONDON)
    bot.set_clock(utc(2026, 6, 1, 8, 0))
    for _ in range(100):
        if await db.scalar("SELECT unreachable FROM patients"):
            break
        await asyncio.sleep(0.05)
    assert await db.scalar("SELECT unreachable FROM patients")
    # The 08:00 digest lands in the same chat and names her too, so wait for the list's
    # own flag: its row for her ends "| unreachable" (the digest has no such row).
    msg = await say(api, STAFF, "/patients", chat_id=CLINIC_CHAT, contains="| unreachable")
    assert "Lon Don" in msg["text"]
    sends = len(
        [
            1
            for m, p in api.requests()
            if m == "sendMessage" and str(p.get("chat_id")) == str(LONDON)
        ]
    )
    await advance_clock(bot, db, utc(2026, 6, 2, 8, 0))
    assert (
        len(
            [
                1
                for m, p in api.requests()
                if m == "sendMessage" and str(p.get("chat_id")) == str(LONDON)
            ]
        )
        == sends
    )


async def test_two_bot_processes_share_the_due_reminders_without_double_sends(
    api, db_url, db, tmp_path, backend
):
    if backend != "postgresql":
        pytest.skip("claiming with SKIP LOCKED is a PostgreSQL feature; SQLite has one writer")
    n = 60
    now = utc(2026, 6, 1, 8, 0)
    for i in range(n):
        uid = 9000 + i
        api.add_user(uid, f"P{i}", started=True)
        await db.execute(
            "INSERT INTO patients (telegram_user_id, chat_id, name, status, consented_at,"
            " checkin_time, timezone, enrolled_on, unreachable, exercise_times,"
            " exercise_times_chosen, created_at) VALUES (:u, :u, :n, 'active', :t, '09:00',"
            " 'Europe/London', '2026-05-01', false, '', false, :t)",
            u=uid,
            n=f"P{i}",
            t=now,
        )
    await db.execute(
        "INSERT INTO reminders (patient_id, kind, local_time, next_at)"
        " SELECT id, 'checkin', '09:00', :t FROM patients",
        t=now,
    )
    first = BotProcess(api, db_url, tmp_path / "one")
    second = BotProcess(api, db_url, tmp_path / "two")
    for proc in (first, second):
        proc.workdir.mkdir()
        proc.clock_file = tmp_path / "clock.txt"
        proc.env["CLOCK_FILE"] = str(proc.clock_file)
    first.set_clock(now - timedelta(minutes=1))
    try:
        await first.start()
        await second.start()
        first.set_clock(now)
        for _ in range(200):
            if await db.scalar("SELECT count(*) FROM outbox WHERE status = 'sent'") >= n:
                break
            await asyncio.sleep(0.1)
    finally:
        await first.stop()
        await second.stop()
    # Both processes have exited: nothing more can be sent, so the fake's record is final.
    for i in range(n):
        assert len(prompts(api, 9000 + i)) == 1, 9000 + i
    assert await db.scalar("SELECT count(*) FROM outbox WHERE kind = 'checkin'") == n
