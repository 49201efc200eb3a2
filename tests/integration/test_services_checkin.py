"""The check-in service (bot/services/checkin.py) driven directly, one press per unit of work
as the handler does, on SQLite and PostgreSQL, with the instant passed as ``now``."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event

from bot.content import text
from bot.services import checkin, patients
from storage.models import Priority
from storage.uow import HandledUpdate, current_update
from tests.integration.service_support import NOW, add_patient, settings

T = settings().thresholds  # the clinic defaults: +2 points and 30% over a 7-day baseline of 3+


def steps_for(leg, back, numb="n", weak="n", worsening=None, red="n", ex="yes"):
    steps = [("leg_pain", str(leg)), ("back_pain", str(back)), ("numbness", numb)]
    steps.append(("weakness", weak))
    if worsening is not None:
        steps.append(("weakness_worsening", worsening))
    steps += [("red_flag", red), ("exercises", ex)]
    return steps


async def press(db, patient, nonce, step, raw, now):
    async with db.uow() as uow:
        return await checkin.answer(uow, patient, nonce, step, raw, now, T)


async def begin(db, patient, now):
    async with db.uow() as uow:
        return await checkin.start(uow, patient, now)


async def check_in(db, patient, now, leg, back, note="skip", **answers):
    """A whole check-in; returns the last outcome."""
    nonce = (await begin(db, patient, now)).draft.nonce
    for step, raw in steps_for(leg, back, **answers):
        out = await press(db, patient, nonce, step, raw, now)
        if out.status == "done":  # closed on the urgent path
            return out
        assert out.status == "question", (step, out.status)
    if note == "skip":
        return await press(db, patient, nonce, "note", "skip", now)
    async with db.uow() as uow:
        return await checkin.note(uow, patient, note, now, T)


async def test_each_answer_is_saved_in_the_draft_as_it_is_given(db):
    p = await add_patient(db)
    out = await begin(db, p, NOW)
    assert (out.status, out.draft.step, out.draft.local_day) == ("question", "leg_pain", NOW.date())
    nonce = out.draft.nonce
    await press(db, p, nonce, "leg_pain", "6", NOW)
    out = await press(db, p, nonce, "back_pain", "3", NOW)
    assert out.draft.step == "numbness"
    rows = await db.rows("SELECT step, leg_pain, back_pain, numbness FROM checkin_drafts")
    assert [dict(r) for r in rows] == [
        {"step": "numbness", "leg_pain": 6, "back_pain": 3, "numbness": None}
    ]
    # Opening the check-in again resumes the same draft where it was.
    again = await begin(db, p, NOW + timedelta(minutes=5))
    assert (again.draft.nonce, again.draft.step) == (nonce, "numbness")


async def test_a_finished_check_in_stores_every_answer_and_the_note(db):
    p = await add_patient(db)
    out = await check_in(
        db, p, NOW, 4, 2, numb="y", weak="y", worsening="n", ex="partly", note="Stiff after sitting"
    )
    assert out.status == "done" and not out.closed_early
    rows = await db.rows(
        "SELECT local_day, leg_pain, back_pain, numbness, weakness, weakness_worsening, "
        "red_flag, exercises, note FROM checkin_entries"
    )
    assert len(rows) == 1
    e = rows[0]
    assert (e["leg_pain"], e["back_pain"], e["exercises"], e["note"]) == (
        4,
        2,
        "partly",
        "Stiff after sitting",
    )
    assert [bool(e[k]) for k in ("numbness", "weakness", "weakness_worsening", "red_flag")] == [
        True,
        True,
        False,
        False,
    ]
    assert str(e["local_day"]) == "2026-03-02"
    assert await db.scalar("SELECT count(*) FROM checkin_drafts") == 0
    audit = await db.rows("SELECT action, patient_id FROM audit_events")
    assert [tuple(r.values()) for r in audit] == [("checkin_saved", p.id)]
    # A first check-in is the baseline: nothing for the clinic.
    assert await db.scalar("SELECT count(*) FROM alerts") == 0
    assert await db.scalar("SELECT count(*) FROM outbox") == 0


async def test_no_weakness_skips_the_question_about_it_getting_worse(db):
    p = await add_patient(db)
    nonce = (await begin(db, p, NOW)).draft.nonce
    for step, raw in [("leg_pain", "2"), ("back_pain", "2"), ("numbness", "n")]:
        await press(db, p, nonce, step, raw, NOW)
    assert (await press(db, p, nonce, "weakness", "n", NOW)).draft.step == "red_flag"


async def test_a_press_on_an_old_message_or_a_wrong_value_changes_nothing(db):
    p = await add_patient(db)
    nonce = (await begin(db, p, NOW)).draft.nonce
    stale = await press(db, p, "0ld0ne", "leg_pain", "9", NOW)
    wrong_step = await press(db, p, nonce, "back_pain", "9", NOW)
    invalid = await press(db, p, nonce, "leg_pain", "11", NOW)
    assert (stale.status, wrong_step.status, invalid.status) == ("stale", "stale", "invalid")
    rows = await db.rows("SELECT step, leg_pain, back_pain FROM checkin_drafts")
    assert [dict(r) for r in rows] == [{"step": "leg_pain", "leg_pain": None, "back_pain": None}]
    # The real press still works afterwards.
    assert (await press(db, p, nonce, "leg_pain", "5", NOW)).draft.step == "back_pain"


async def test_a_draft_left_from_yesterday_is_replaced_by_a_new_one(db):
    p = await add_patient(db)
    old = (await begin(db, p, NOW)).draft.nonce
    await press(db, p, old, "leg_pain", "5", NOW)
    tomorrow = NOW + timedelta(days=1)
    new = (await begin(db, p, tomorrow)).draft
    assert new.nonce != old and new.step == "leg_pain" and new.local_day == date(2026, 3, 3)
    assert (await press(db, p, old, "back_pain", "1", tomorrow)).status == "stale"
    rows = await db.rows("SELECT leg_pain FROM checkin_drafts")
    assert [r["leg_pain"] for r in rows] == [None]


async def test_a_red_flag_yes_raises_an_urgent_alert_and_queues_the_advice_with_it(db):
    p = await add_patient(db)
    out = await check_in(db, p, NOW, 3, 2, red="y")
    assert out.status == "done" and out.closed_early
    assert [d.rule for d in out.urgent] == ["red_flag"]
    alerts = await db.rows("SELECT id, level, rule, status FROM alerts")
    assert [(a["level"], a["rule"], a["status"]) for a in alerts] == [
        ("urgent", "red_flag", "open")
    ]
    alert_id = alerts[0]["id"]
    queued = await db.rows(
        "SELECT kind, priority, chat_id, ref_id, body, status FROM outbox ORDER BY kind"
    )
    assert [dict(r) for r in queued] == [
        {
            "kind": "alert",
            "priority": Priority.URGENT,
            "chat_id": 0,  # the clinic chat in force when sent
            "ref_id": alert_id,
            "body": None,  # rendered from the alert when sent
            "status": "pending",
        },
        {
            "kind": "urgent_advice",
            "priority": Priority.URGENT,
            "chat_id": p.chat_id,
            "ref_id": alert_id,
            "body": text("urgent_reason_red_flag"),
            "status": "pending",
        },
    ]
    # The check-in closed there: the exercises question was never asked.
    entry = (await db.rows("SELECT red_flag, exercises FROM checkin_entries"))[0]
    assert bool(entry["red_flag"]) and entry["exercises"] is None


async def test_a_red_flag_yes_on_an_old_message_is_still_urgent(db):
    p = await add_patient(db)
    await check_in(db, p, NOW, 3, 2)
    later = NOW + timedelta(hours=3)
    out = await press(db, p, "gone", "red_flag", "y", later)
    assert out.status == "late_urgent" and [d.rule for d in out.urgent] == ["red_flag"]
    assert await db.scalar("SELECT count(*) FROM alerts WHERE level = 'urgent'") == 1
    kinds = await db.rows("SELECT kind FROM outbox WHERE priority = 0 ORDER BY kind")
    assert [r["kind"] for r in kinds] == ["alert", "urgent_advice"]
    # A No on an old message is just stale.
    assert (await press(db, p, "gone", "red_flag", "n", later)).status == "stale"


async def test_weakness_getting_worse_is_urgent_and_still_asks_the_red_flag_question(db):
    p = await add_patient(db)
    nonce = (await begin(db, p, NOW)).draft.nonce
    for step, raw in [("leg_pain", "4"), ("back_pain", "2"), ("numbness", "n"), ("weakness", "y")]:
        await press(db, p, nonce, step, raw, NOW)
    out = await press(db, p, nonce, "weakness_worsening", "y", NOW)
    assert out.status == "question" and out.draft.step == "red_flag"
    assert [d.rule for d in out.urgent] == ["weakness_worsening"]
    assert await db.scalar("SELECT count(*) FROM outbox WHERE kind = 'urgent_advice'") == 1
    out = await press(db, p, nonce, "red_flag", "n", NOW)
    assert out.status == "done" and out.closed_early


async def test_pain_rising_over_days_raises_exactly_one_routine_alert(db):
    p = await add_patient(db)
    for day in range(3):  # a baseline of 3/10 leg pain
        out = await check_in(db, p, NOW + timedelta(days=day), 3, 2)
        assert out.decisions == []
    # +1 point is within the day-to-day wobble.
    out = await check_in(db, p, NOW + timedelta(days=3), 4, 2)
    assert out.decisions == []
    assert await db.scalar("SELECT count(*) FROM alerts") == 0
    # +3 points (92%) above the baseline: the clinic hears about it.
    out = await check_in(db, p, NOW + timedelta(days=4), 6, 2)
    assert [(d.level, d.rule) for d in out.decisions] == [("worsening", "pain_rise:leg")]
    # Still worse the next day: the open alert is updated, not doubled.
    out = await check_in(db, p, NOW + timedelta(days=5), 7, 2)
    assert [d.rule for d in out.decisions] == ["pain_rise:leg"]
    alerts = await db.rows("SELECT level, rule, status, reason FROM alerts")
    assert len(alerts) == 1
    assert (alerts[0]["level"], alerts[0]["rule"], alerts[0]["status"]) == (
        "worsening",
        "pain_rise:leg",
        "open",
    )
    assert alerts[0]["reason"].startswith("Leg pain 7/10")
    queued = await db.rows("SELECT kind, priority FROM outbox")
    assert [tuple(r.values()) for r in queued] == [("alert", Priority.ALERT)]


async def test_the_closing_comparison_covers_the_previous_week(db):
    p = await add_patient(db)
    await check_in(db, p, NOW, 2, 4)
    await check_in(db, p, NOW + timedelta(days=1), 4, 2)
    out = await check_in(db, p, NOW + timedelta(days=2), 3, 3)
    c = out.comparison
    assert (c.days, c.leg_avg, c.back_avg, c.any_before) == (2, 3.0, 3.0, True)


async def test_a_note_too_long_is_kept_and_the_patient_asked_to_shorten_it(db):
    p = await add_patient(db)
    nonce = (await begin(db, p, NOW)).draft.nonce
    for step, raw in steps_for(3, 2):
        await press(db, p, nonce, step, raw, NOW)
    long = "x" * (checkin.NOTE_LIMIT + 1)
    async with db.uow() as uow:
        out = await checkin.note(uow, p, long, NOW, T)
    assert out.status == "note_too_long"
    assert await db.scalar("SELECT length(note) FROM checkin_drafts") == len(long)
    assert await db.scalar("SELECT count(*) FROM checkin_entries") == 0
    out = await press(db, p, nonce, "note", "keep", NOW)
    assert out.status == "done"
    assert await db.scalar("SELECT length(note) FROM checkin_entries") == len(long)


async def test_a_press_reads_the_patient_and_the_draft_in_one_query(db):
    """The hot path of a check-in: one SELECT for the patient with the draft, then the
    draft's UPDATE (and nothing read twice)."""
    p = await add_patient(db)
    nonce = (await begin(db, p, NOW)).draft.nonce
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement.split()[0].upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        async with db.uow() as uow:
            patient = await patients.active_patient(uow, p.telegram_user_id, True)
            out = await checkin.answer(uow, patient, nonce, "leg_pain", "6", NOW, T)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    assert out.status == "question"
    assert [s for s in seen if s in ("SELECT", "UPDATE", "INSERT")] == ["SELECT", "UPDATE"]
    assert await db.scalar("SELECT leg_pain FROM checkin_drafts") == 6


async def test_a_press_by_a_patient_marked_unreachable_reads_the_draft_again(db):
    """Pressing clears "unreachable" and commits at once; a draft deleted by another chat
    meanwhile (a discharge) makes the press stale, as it would have been without the flag."""
    p = await add_patient(db)
    nonce = (await begin(db, p, NOW)).draft.nonce
    await db.execute("UPDATE patients SET unreachable = true")
    async with db.uow() as uow:
        patient = await patients.active_patient(uow, p.telegram_user_id, True)
        await db.execute("DELETE FROM checkin_drafts")
        out = await checkin.answer(uow, patient, nonce, "leg_pain", "6", NOW, T)
    assert out.status == "stale"
    assert await db.scalar("SELECT unreachable FROM patients") in (False, 0)


async def test_an_update_is_marked_done_with_the_press_not_with_the_patient_reachable_again(db):
    """The update being handled is marked done in the transaction of its own effects: the
    commit that clears "unreachable" on the way does not mark it (a crash between the two
    would otherwise lose the press)."""
    p = await add_patient(db)
    nonce = (await begin(db, p, NOW)).draft.nonce
    await db.execute("UPDATE patients SET unreachable = true")
    async with db.uow() as uow:
        await uow.inbox.store([{"update_id": 500, "chat_id": 1, "payload": {}, "received_at": NOW}])
        await uow.commit()
    handled = HandledUpdate(500)
    token = current_update.set(handled)
    try:
        async with db.uow() as uow:
            patient = await patients.active_patient(uow, p.telegram_user_id, True)
            assert await db.scalar("SELECT unreachable FROM patients") in (False, 0)
            assert await db.scalar("SELECT status FROM inbox") == "pending"
            out = await checkin.answer(uow, patient, nonce, "leg_pain", "6", NOW, T)
    finally:
        current_update.reset(token)
    assert out.status == "question" and handled.marked
    assert await db.scalar("SELECT status FROM inbox") == "done"
    assert await db.scalar("SELECT leg_pain FROM checkin_drafts") == 6
