"""The daily check-in and the clinic's alerts, end to end against the real bot process."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, date, datetime, timedelta

from storage.models import ClinicJob
from tests.e2e.conftest import CLINIC_CHAT, NOT_STAFF, STAFF
from tests.e2e.helpers import (
    advance_clock,
    answer_to,
    checkin,
    join,
    last_id,
    outbox_settled,
    press,
    say,
    staff_alerts,
    start_checkin,
)

PATIENT = 6001
ADVICE = "urgent medical help"


async def entries(db):
    return [
        dict(r)
        for r in await db.rows(
            "SELECT local_day, leg_pain, back_pain, numbness, weakness, weakness_worsening, "
            "red_flag, exercises, note FROM checkin_entries ORDER BY local_day"
        )
    ]


async def test_a_full_checkin_is_stored_as_one_entry_with_every_answer(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    closing = await checkin(
        api,
        PATIENT,
        first,
        leg=6,
        back=4,
        numb="Yes",
        weak="Yes",
        worsening="No",
        exercises="Partly",
        note="Sat <b>all</b> day & sore",
    )
    assert "Leg pain 6/10, back pain 4/10" in closing["text"]
    assert "first entry" in closing["text"]
    rows = await entries(db)
    assert len(rows) == 1
    row = rows[0]
    assert (
        row["leg_pain"],
        row["back_pain"],
        bool(row["numbness"]),
        bool(row["weakness"]),
        bool(row["weakness_worsening"]),
        bool(row["red_flag"]),
        row["exercises"],
        row["note"],
    ) == (6, 4, True, True, False, False, "partly", "Sat <b>all</b> day & sore")
    assert await db.scalar("SELECT count(*) FROM checkin_drafts") == 0
    # The flow edited one message in place instead of flooding the chat.
    question_msgs = [m for m in api.messages(PATIENT) if "Daily check-in" in m["text"]]
    assert len(question_msgs) == 1


async def test_a_second_checkin_the_same_day_keeps_both_and_compares_them(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    closing = await checkin(api, PATIENT, first, leg=2, back=1, note="morning: stiff")
    assert "first entry" in closing["text"]
    q = await start_checkin(api, PATIENT)
    closing = await checkin(api, PATIENT, q, leg=6, back=2, note="evening: worse after driving")
    assert "first entry" not in closing["text"]
    assert "you gave leg pain 2/10 and back pain 1/10; now it is leg 6/10" in closing["text"]
    rows = await entries(db)
    assert [(r["leg_pain"], r["back_pain"], r["note"]) for r in rows] == [
        (2, 1, "morning: stiff"),
        (6, 2, "evening: worse after driving"),
    ]
    # 2 this morning, 6 now: a worsening like any other, said in the alert.
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "Worsening" in m["text"])
    assert "6/10 is 4 points (200%) above the 2/10 reported earlier the same day" in alert["text"]
    assert "let the clinic know" in closing["text"]
    # Both appear in the diary, with their notes.
    pid = await db.scalar("SELECT id FROM patients")
    diary = await say(api, STAFF, f"/patient {pid}", chat_id=CLINIC_CHAT, contains="Sam")
    assert "morning: stiff" in diary["text"] and "evening: worse after driving" in diary["text"]


async def test_worsening_over_days_raises_exactly_one_routine_alert(api, bot, db):
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    pid = await db.scalar("SELECT id FROM patients")
    today = datetime.now(UTC).date()
    for back in range(1, 5):  # leg 3 on four earlier days: baseline 3.0
        await db.execute(
            "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain, numbness,"
            " weakness, weakness_worsening, red_flag, exercises, created_at, updated_at) VALUES"
            " (:p, :d, 3, 2, false, false, false, false, 'yes', :t, :t)",
            p=pid,
            d=today - timedelta(days=back),
            t=datetime.now(UTC),
        )
    q = await start_checkin(api, PATIENT)
    closing = await checkin(api, PATIENT, q, leg=6, back=2)
    assert "let the clinic know" in closing["text"]
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "Worsening" in m["text"])
    assert "Sam Taylor" in alert["text"] and "Leg pain 6/10" in alert["text"]
    buttons = [b["text"] for row in alert["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["Acknowledge", "Open diary"]
    # The same rule firing again (a replaced check-in) updates the alert, not a second one.
    q = await start_checkin(api, PATIENT)
    await checkin(api, PATIENT, q, leg=7, back=2)
    # The alert's update was queued with the saved check-in; the outbox has handled it.
    await outbox_settled(db)
    assert len(staff_alerts(api)) == 1
    assert "7/10" in staff_alerts(api)[0]["text"]
    assert await db.scalar("SELECT count(*) FROM alerts") == 1


async def test_red_flag_mid_checkin_advice_first_and_urgent_alert(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, first, "4", contains="lower back")
    m = await press(api, PATIENT, m, "3", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    m = await press(api, PATIENT, m, "No", contains="safety")
    after = last_id(api, PATIENT)
    await api.press(PATIENT, m, "Yes")
    advice = await api.wait_for_message(PATIENT, after=after)
    assert "urgent medical help" in advice["text"] and "999" in advice["text"]
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
    assert "Sam Taylor" in alert["text"]
    # The check-in closes below the advice: no routine questions after "go to A&E now".
    closing = await api.wait_for_message(
        PATIENT, lambda m: "stopped the check-in" in m["text"], after=advice["message_id"]
    )
    assert "clinic has been alerted" in closing["text"] and not closing.get("reply_markup")
    assert not [m for m in api.messages(PATIENT) if "exercises" in m["text"].lower()]
    row = (await entries(db))[0]
    assert bool(row["red_flag"]) is True and row["exercises"] is None and row["note"] is None
    assert (row["leg_pain"], row["back_pain"]) == (4, 3)
    assert await db.scalar("SELECT count(*) FROM checkin_drafts") == 0


async def test_red_flag_in_free_text_during_a_flow_wins(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    await press(api, PATIENT, first, "4", contains="lower back")
    advice = await say(
        api, PATIENT, "sorry, also since this morning I can't feel when I need to pee"
    )
    assert "urgent medical help" in advice["text"]
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
    assert "pee" in alert["text"]
    reply = await say(api, PATIENT, "no problems with my bladder, all good there")
    assert "urgent" not in reply["text"].lower()


async def test_alert_survives_502_and_429_and_arrives_exactly_once(api, bot, db):
    await join(api, PATIENT, "Sam Taylor")
    # Only the clinic chat's sends fail: first two 502s, then two 429s with retry_after.
    api.fail_next("sendMessage", 2, error_code=502, description="Bad Gateway", chat_id=CLINIC_CHAT)
    api.fail_next(
        "sendMessage",
        2,
        error_code=429,
        description="Too Many Requests: retry after 1",
        retry_after=1,
        chat_id=CLINIC_CHAT,
    )
    advice = await say(api, PATIENT, "I wet myself this morning and didn't feel it")
    assert "urgent medical help" in advice["text"]
    await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"], timeout=30)
    # The send is recorded: the outbox will not try that message again.
    await outbox_settled(db)
    assert len([m for m in api.messages(CLINIC_CHAT) if "URGENT" in m["text"]]) == 1
    outcomes = [
        r["outcome"]
        for r in await db.rows(
            "SELECT a.outcome FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox_id"
            " WHERE o.kind = 'alert' ORDER BY a.id"
        )
    ]
    assert outcomes == ["retry", "retry", "retry", "retry", "sent"]


async def test_unacknowledged_urgent_alert_is_resent_then_quiet_after_acknowledge(api, bot, db):
    # Midday: the hour moved through holds no daily digest (08:00) to post in the group.
    now = datetime(2026, 6, 10, 11, 0, tzinfo=UTC)
    bot.set_clock(now)
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "both legs going weak since lunch", contains="urgent")
    first = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
    await wait_until(
        db,
        "SELECT count(*) FROM outbox WHERE kind = 'alert' AND status = 'pending'"
        " AND dedupe_key LIKE '%renotify%'",
    )
    bot.set_clock(now + timedelta(minutes=16))
    again = await api.wait_for_message(
        CLINIC_CHAT, lambda m: "Not yet acknowledged" in m["text"], after=first["message_id"]
    )
    # A non-staff member of the group cannot acknowledge.
    refused = await api.press(NOT_STAFF, again, "Acknowledge", chat_id=CLINIC_CHAT)
    await answer_to(api, refused)
    assert await db.scalar("SELECT status FROM alerts") == "open"
    assert await db.scalar("SELECT count(*) FROM audit_events WHERE action = 'ack_refused'") == 1
    await api.press(STAFF, again, "Acknowledge", chat_id=CLINIC_CHAT)
    acked = await api.wait_for_message(
        CLINIC_CHAT,
        lambda m: m["message_id"] == again["message_id"] and "Acknowledged by" in m["text"],
    )
    assert "Dana" in acked["text"]
    count = len(api.messages(CLINIC_CHAT))
    await advance_clock(bot, db, now + timedelta(minutes=60))
    assert len(api.messages(CLINIC_CHAT)) == count
    row = (await db.rows("SELECT status, acknowledged_by FROM alerts"))[0]
    assert (row["status"], row["acknowledged_by"]) == ("acknowledged", STAFF)


async def wait_until(db, sql: str, timeout: float = 10.0) -> None:
    """Wait for the bot to have recorded something (its process runs on its own)."""
    for _ in range(int(timeout / 0.05)):
        if await db.scalar(sql):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never true: {sql}")


async def test_kill_9_mid_checkin_and_carry_on_after_restart(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, first, "5", contains="lower back")
    m = await press(api, PATIENT, m, "4", contains="numbness")
    await bot.stop(signal.SIGKILL)
    await bot.start()
    m = await press(api, PATIENT, m, "No", contains="weak")
    m = await press(api, PATIENT, m, "No", contains="safety")
    m = await press(api, PATIENT, m, "No", contains="exercises")
    m = await press(api, PATIENT, m, "Yes", contains="anything else")
    await press(api, PATIENT, m, "No note", contains="saved")
    rows = await entries(db)
    assert [(r["leg_pain"], r["back_pain"]) for r in rows] == [(5, 4)]


async def test_old_and_forged_buttons_change_nothing(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, first, "5", contains="lower back")
    # The leg-pain buttons are from an answered step now: pressing again is stale.
    presses = [
        await api.press_button(PATIENT, m, data)
        for data in ("ci:zzzzzz:lp:9", "ci:" + "x" * 6 + ":bp:99", "al:1:ack", "garbage")
    ]
    answers = [await answer_to(api, query_id) for query_id in presses]
    assert all(a.get("text") for a in answers)
    m = await press(api, PATIENT, m, "4", contains="numbness")
    draft = (await db.rows("SELECT leg_pain, back_pain FROM checkin_drafts"))[0]
    assert (draft["leg_pain"], draft["back_pain"]) == (5, 4)


async def test_a_long_note_is_kept_whole(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, first, "2", contains="lower back")
    m = await press(api, PATIENT, m, "2", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    m = await press(api, PATIENT, m, "No", contains="safety")
    m = await press(api, PATIENT, m, "No", contains="exercises")
    m = await press(api, PATIENT, m, "Yes", contains="anything else")
    long_note = ("My back was stiff this morning. " * 130)[:4000]
    await say(api, PATIENT, long_note, contains="saved")
    assert (await entries(db))[0]["note"] == long_note


async def test_staff_commands_show_patients_diary_alerts_and_discharge(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    await checkin(api, PATIENT, first, leg=4, back=3)
    pid = await db.scalar("SELECT id FROM patients")
    msg = await say(api, STAFF, "/patients", chat_id=CLINIC_CHAT)
    assert "Sam Taylor" in msg["text"] and "leg 4 back 3" in msg["text"]
    msg = await say(api, STAFF, f"/patient {pid}", chat_id=CLINIC_CHAT)
    assert "leg 4 back 3" in msg["text"]
    msg = await say(api, STAFF, "/alerts", chat_id=CLINIC_CHAT)
    assert "No open alerts" in msg["text"]
    msg = await say(api, PATIENT, f"/patient {pid}")
    assert "only for the clinic's staff" in msg["text"]
    msg = await say(api, STAFF, f"/discharge {pid}", chat_id=CLINIC_CHAT)
    assert "discharged" in msg["text"]
    assert await db.scalar("SELECT status FROM patients") == "discharged"
    assert await db.scalar("SELECT count(*) FROM checkin_entries") == 1
    assert await db.scalar("SELECT count(*) FROM audit_events WHERE action = 'diary_viewed'") == 1


async def test_daily_digest_lists_review_notes_once_a_day(api, bot, db):
    now = datetime(2026, 6, 10, 6, 0, tzinfo=UTC)
    bot.set_clock(now)
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    pid = await db.scalar("SELECT id FROM patients")
    await db.execute("UPDATE patients SET enrolled_on = '2026-06-01'")
    for day in range(2, 8):  # exercises skipped on each of 2-7 June (5 of the last 7 days)
        await db.execute(
            "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain, numbness,"
            " weakness, weakness_worsening, red_flag, exercises, created_at, updated_at) VALUES"
            " (:p, :d, 3, 2, false, false, false, false, 'no', :t, :t)",
            p=pid,
            d=date(2026, 6, day),
            t=now,
        )
    for day in range(27, 32):  # the week before: leg pain 7
        await db.execute(
            "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain, numbness,"
            " weakness, weakness_worsening, red_flag, exercises, created_at, updated_at) VALUES"
            " (:p, :d, 7, 2, false, false, false, false, 'yes', :t, :t)",
            p=pid,
            d=date(2026, 5, day),
            t=now,
        )
    # The bot has seen the morning: today's digest is scheduled for 08:00 BST.
    due = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)
    for _ in range(200):
        async with db.uow() as uow:
            job = await uow.session.get(ClinicJob, "digest")
            if job is not None and job.next_at == due:
                break
        await asyncio.sleep(0.05)
    bot.set_clock(due)
    digest = await api.wait_for_message(CLINIC_CHAT, lambda m: "Daily digest" in m["text"])
    assert "Sam Taylor" in digest["text"]
    assert "exercises" in digest["text"].lower()
    # 7 a day on 27-31 May and 3 on 2 June (mean 6.3) the week before; 3 this week.
    assert (
        "Sam Taylor (ID 1): leg pain better, 6.3 → 3 on average (down 3.3, 53%)" in (digest["text"])
    )
    assert "back pain" not in digest["text"]
    rules = {r["rule"] for r in await db.rows("SELECT rule FROM alerts WHERE level = 'review'")}
    assert rules == {"exercises_skipped"}
    # The digest does not repeat the same day: the job has moved on to tomorrow, and all it
    # queued is sent. Review notes are not pushed one by one: no alert message was queued.
    tomorrow = due + timedelta(days=1)
    for _ in range(200):
        async with db.uow() as uow:
            job = await uow.session.get(ClinicJob, "digest")
        unsent = await db.scalar(
            "SELECT count(*) FROM outbox WHERE kind = 'digest' AND status <> 'sent'"
        )
        if job.next_at == tomorrow and unsent == 0:
            break
        await asyncio.sleep(0.05)
    assert job.next_at == tomorrow
    assert [m for m in api.messages(CLINIC_CHAT) if "Daily digest" in m["text"]] == [digest]
    assert await db.scalar("SELECT count(*) FROM outbox WHERE kind = 'alert'") == 0
    assert not staff_alerts(api)


async def test_red_flags_in_an_edited_message_or_a_photo_caption_are_acted_on(api, bot, db):
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    before = last_id(api, PATIENT)
    sent = await api.send_text(PATIENT, "my back hurts a bit today")
    # Wait for the bot's answer to it (building the FAQ index on a first question can take
    # longer than a fixed sleep), so the next message is the one the edit causes.
    await api.wait_for_message(PATIENT, after=before)
    after = last_id(api, PATIENT)
    await api.edit_text(PATIENT, sent, "my back hurts and I wet myself without noticing")
    advice = await api.wait_for_message(PATIENT, after=after)
    assert "urgent medical help" in advice["text"]
    after = last_id(api, PATIENT)
    await api.send_photo(PATIENT, caption="look, I can feel nothing down there")
    advice = await api.wait_for_message(PATIENT, after=after)
    assert "urgent medical help" in advice["text"]
    assert "genitals" in advice["text"]


async def test_closing_message_after_a_red_flag_repeats_the_urgent_advice(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, first, "2", contains="lower back")
    m = await press(api, PATIENT, m, "2", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    m = await press(api, PATIENT, m, "No", contains="safety")
    after = last_id(api, PATIENT)
    await api.press(PATIENT, m, "Yes")
    advice = await api.wait_for_message(PATIENT, after=after)
    assert "You told me: you answered Yes to one of the safety questions." in advice["text"]
    closing = await api.wait_for_message(
        PATIENT, lambda x: "stopped the check-in" in x["text"], after=advice["message_id"]
    )
    assert "follow the advice I sent above and get help now" in closing["text"]
    assert "next check-in is tomorrow" not in closing["text"]
    # The question message now shows the answers given, without buttons.
    question = next(x for x in api.messages(PATIENT) if x["message_id"] == m["message_id"])
    assert "red flags yes" in question["text"] and not question.get("reply_markup")


async def test_a_red_flag_typed_as_the_note_closes_the_check_in_on_the_urgent_path(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, first, "3", contains="lower back")
    m = await press(api, PATIENT, m, "2", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    m = await press(api, PATIENT, m, "No", contains="safety")
    m = await press(api, PATIENT, m, "No", contains="exercises")
    await press(api, PATIENT, m, "Yes", contains="anything else")
    after = last_id(api, PATIENT)
    await api.send_text(PATIENT, "I wet myself this morning and didn't feel it")
    advice = await api.wait_for_message(PATIENT, lambda x: ADVICE in x["text"], after=after)
    closing = await api.wait_for_message(
        PATIENT, lambda x: "stopped the check-in" in x["text"], after=advice["message_id"]
    )
    # The chat's next message is handled after the note: nothing routine was said by then.
    await say(api, PATIENT, "/help", contains="What I can do")
    later = [x["text"] for x in api.messages(PATIENT) if x["message_id"] > closing["message_id"]]
    assert not [t for t in later if "next check-in is tomorrow" in t or "Question 1 of 9" in t]
    row = (await entries(db))[0]
    assert bool(row["red_flag"]) is True and row["note"].startswith("I wet myself")


async def test_fast_worsening_weakness_still_gets_the_red_flag_question_then_closes(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, first, "3", contains="lower back")
    m = await press(api, PATIENT, m, "2", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    m = await press(api, PATIENT, m, "Yes", contains="getting worse quickly")
    after = last_id(api, PATIENT)
    await api.press(PATIENT, m, "Yes")
    await api.wait_for_message(PATIENT, lambda x: ADVICE in x["text"], after=after)
    screen = await api.wait_for_message(
        PATIENT, lambda x: "Safety question" in x["text"] and x.get("reply_markup"), after=after
    )
    await press(api, PATIENT, screen, "No", contains="stopped the check-in")
    row = (await entries(db))[0]
    assert bool(row["weakness_worsening"]) is True and bool(row["red_flag"]) is False
    assert row["exercises"] is None
