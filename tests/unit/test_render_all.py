"""Every text a person reads renders: each message of ``messages.yaml`` with sample values,
each ``text("key", ...)`` call in the code with the placeholders its message needs, and every
public function of :mod:`bot.content.render` with sample objects. Each result is non-empty,
fits a Telegram message (4096 characters) and is valid Telegram HTML (the strict parser of
the fake server: balanced tags, no stray ``<`` or ``&``)."""

from __future__ import annotations

import ast
import inspect
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.content import messages, placeholders, render, text
from bot.content.exercises import library
from bot.language.places import Place
from bot.outcomes.progress import Change, build
from bot.outcomes.proms import content as prom_content
from bot.outcomes.report import ReportData
from bot.services.checkin import Comparison, Outcome
from bot.services.digest import Digest
from bot.services.invites import NewInvite
from bot.services.onboarding import Step
from bot.services.patient_settings import Result
from bot.services.questions import faq_index
from bot.services.staff import DiaryPage, PatientRow
from bot.settings import Settings
from fake_telegram.html import parse_html
from storage.models import (
    Alert,
    CheckinDraft,
    CheckinEntry,
    Conversation,
    Patient,
    PromResponse,
    RelayedQuestion,
)

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 4096
NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
TODAY = date(2026, 3, 10)
# Values a person may type: each must come out escaped.
NAME = "Sam <O'Brien> & Co"
TYPED = "it hurts <a lot> & more"


def check(body: str, where: str) -> None:
    assert isinstance(body, str) and body.strip(), f"{where}: empty"
    assert len(body) <= LIMIT, f"{where}: {len(body)} characters, Telegram allows {LIMIT}"
    parse_html(body)  # raises on an unbalanced tag or an unescaped < or &


def check_markup(markup, where: str) -> None:
    if markup is None:
        return
    assert isinstance(markup, InlineKeyboardMarkup), where
    for row in markup.inline_keyboard:
        for b in row:
            assert b.text.strip(), f"{where}: a button without a label"
            assert len(b.callback_data.encode()) <= 64, f"{where}: callback data too long"


def check_any(value, where: str) -> None:
    """A rendered result: a text, (text, keyboard), a list of texts or a keyboard."""
    if isinstance(value, tuple):
        check(value[0], where)
        check_markup(value[1], where)
    elif isinstance(value, list):
        for i, body in enumerate(value):
            check(body, f"{where}[{i}]")
    elif isinstance(value, InlineKeyboardMarkup):
        check_markup(value, where)
    elif isinstance(value, InlineKeyboardButton):
        assert value.text.strip(), where
    elif isinstance(value, ReportData):
        # Plain text for the PDF: no tag of ours left, and what was typed kept as typed.
        for body in [value.title, *value.facts, *value.summary, value.footer]:
            assert body.strip() and not re.search(r"</?(b|i|code|a)>", body), where
            assert "&amp;" not in body and "&lt;" not in body, where
    else:
        check(value, where)


# --- every message -------------------------------------------------------------------------


def sample(field: str) -> str:
    return f"{TYPED} ({field})"


@pytest.mark.parametrize("key", sorted(messages()))
def test_every_message_renders_with_sample_values(key: str):
    values = {f: sample(f) for f in placeholders(key)}
    check(text(key, **values), key)


def _text_calls():
    """Each ``text("key", ...)`` call with a literal key in bot/: (where, key, named values,
    whether it passes ``**values`` on)."""
    for path in sorted((ROOT / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            first = node.args[0]
            if name != "text" or not isinstance(first, ast.Constant):
                continue
            if not isinstance(first.value, str):
                continue
            named = {k.arg for k in node.keywords if k.arg}
            passes_on = any(k.arg is None for k in node.keywords)
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            yield where, first.value, named, passes_on


TEXT_CALLS = list(_text_calls())


def test_the_code_calls_text_with_literal_keys():
    assert len(TEXT_CALLS) > 100


@pytest.mark.parametrize("where,key,named,passes_on", TEXT_CALLS, ids=[c[0] for c in TEXT_CALLS])
def test_each_text_call_names_a_message_and_fills_its_placeholders(where, key, named, passes_on):
    assert key in messages(), f"{where}: no message {key!r} in messages.yaml"
    if not passes_on:
        missing = placeholders(key) - named
        assert not missing, f"{where}: {key!r} needs {sorted(missing)}"


# --- every public render function -----------------------------------------------------------

SETTINGS = Settings(_env_file=None, clinic_name="Riverside Physio & <Co>")


def patient(**changes) -> Patient:
    values = dict(
        id=7,
        telegram_user_id=1001,
        chat_id=1001,
        name=NAME,
        status="active",
        consented_at=NOW - timedelta(days=30),
        checkin_time="09:00",
        timezone="Europe/London",
        enrolled_on=TODAY - timedelta(days=30),
        unreachable=True,
        plan_id="sciatica-early",
        exercise_times="08:00,18:00",
        paused_until=TODAY + timedelta(days=3),
        weekly_day=6,
        weekly_time=None,
        phone="+44 7700 900123",
        clinic_ref="R&1",
        created_at=NOW - timedelta(days=30),
        discharged_at=NOW,
    )
    values.update(changes)
    return Patient(**values)


def draft(step: str = "exercises", **changes) -> CheckinDraft:
    values = dict(
        patient_id=7,
        nonce="abc123",
        local_day=TODAY,
        step=step,
        leg_pain=6,
        back_pain=4,
        numbness=True,
        weakness=False,
        red_flag=False,
        exercises="partly",
        note=TYPED,
        started_at=NOW,
        updated_at=NOW,
    )
    values.update(changes)
    return CheckinDraft(**values)


def entry(days_ago: int = 0, leg: int = 6, back: int = 4, note: str | None = TYPED):
    return CheckinEntry(
        id=100 + days_ago,
        patient_id=7,
        local_day=TODAY - timedelta(days=days_ago),
        leg_pain=leg,
        back_pain=back,
        numbness=False,
        weakness=True,
        weakness_worsening=False,
        red_flag=None,
        exercises="yes" if days_ago % 2 else "partly",
        note=note,
        created_at=NOW - timedelta(days=days_ago),
        updated_at=NOW - timedelta(days=days_ago),
    )


def alert(status: str = "acknowledged", rule: str = "worsening", level: str = "worsening"):
    return Alert(
        id=55,
        patient_id=7,
        level=level,
        rule=rule,
        reason=TYPED,
        figures={},
        status=status,
        created_at=NOW - timedelta(hours=2),
        updated_at=NOW - timedelta(hours=1),
        sends=3,
        acknowledged_by=9,
        acknowledged_by_name="Dr <Who>" if status == "acknowledged" else None,
        acknowledged_at=NOW if status == "acknowledged" else None,
    )


def question(answered: bool = True) -> RelayedQuestion:
    return RelayedQuestion(
        id=3,
        patient_id=7,
        question=TYPED,
        created_at=NOW - timedelta(days=1),
        answer=TYPED if answered else None,
        answered_by=9 if answered else None,
        answered_by_name="Dr <Who>" if answered else None,
        answered_at=NOW if answered else None,
    )


def prom(instrument: str, answers: dict, score: dict | None = None, occasion: str = "review"):
    return PromResponse(
        id=1,
        patient_id=7,
        instrument=instrument,
        occasion=occasion,
        status="done" if score else "open",
        nonce="n1",
        step=len(answers.get("items", [])),
        answers=answers,
        score=score,
        started_at=NOW - timedelta(days=14),
        completed_at=NOW - timedelta(days=1) if score else None,
    )


ENTRIES = [entry(d, leg=2 + d // 3, back=1 + d // 4) for d in range(20, -1, -1)]
PROGRESS = build(ENTRIES, [(TODAY - timedelta(days=5), "worsening")])
FEW = build(ENTRIES[-2:])
PSFS = [
    prom("psfs", {"activities": []}, {"mean": 3.0, "activities": 3}),
    prom("psfs", {"activities": []}, {"mean": 6.33, "activities": 3}),
]
DONE = {
    "startback": [
        prom("startback", {"items": []}, {"risk": "medium", "total": 5, "psychosocial": 2})
    ],
    "psfs": PSFS,
    "groc": [prom("groc", {}, {"score": prom_content().groc.answers[0][1]})],
}
OPEN_PROMS = [
    prom("startback", {"items": []}),
    prom("startback", {"items": [1, 0, 1, 1, 0, 1, 0, 1]}),
    prom("groc", {}),
    prom("psfs", {"activities": [], "phase": "name", "review": False}),
    prom("psfs", {"activities": [{"name": "walk", "rating": None}], "phase": "more"}),
    prom(
        "psfs",
        {"activities": [{"name": TYPED, "rating": None}], "phase": "rate", "review": True},
        occasion="discharge",
    ),
]
CONV = Conversation(
    telegram_user_id=1001,
    flow="onboarding",
    step="consent",
    nonce="n0nce",
    data={"name": NAME, "checkin_time": "09:00"},
    updated_at=NOW,
)
PLACE = Place(None, "Spain & <Islands>", ("Madrid", "Las Palmas"))
LIB = library()
PLAN = next(iter(LIB.plans.values()))
EXERCISE = next(iter(LIB.exercises.values()))
FAQ = [e for e in faq_index().entries if e.kind == "answer"][:4]
DIARY = DiaryPage(
    patient(),
    [entry(0), entry(1, note="x" * 400), alert(), alert("open"), question(), question(False)],
    1,
    3,
    DONE,
)
OUTCOME = Outcome(
    "done",
    entry=entry(0),
    comparison=Comparison(5, 4.2, 3.0, True),
    earlier_today=[entry(0, leg=8, back=7)],
)
CHANGE = Change("leg", 6.3, 3.1)
DIGEST = Digest(
    day=TODAY,
    active=12,
    checked_in=9,
    reviews=[(patient(), alert("open"))],
    open_urgent=1,
    open_worsening=2,
    unreachable=[patient(), patient(id=8)],
    changes=[(patient(), CHANGE), (patient(), Change("back", 2.0, 5.5))],
)
ONBOARDING_STATUSES = (
    "no_code invite_unknown invite_used invite_expired invite_revoked invite_taken "
    "already_registered consent declined time bad_time timezone bad_timezone "
    "timezone_several registered stale"
).split()
SETTINGS_STATUSES = (
    "saved_checkin_time saved_exercise_times saved_timezone saved_weekly saved_weekly_off "
    "saved_pause saved_resume ask_checkin_time ask_exercise_times ask_timezone ask_weekly "
    "ask_pause bad_checkin_time bad_exercise_times bad_timezone bad_weekly bad_pause "
    "timezone_several"
).split()

# Each public function of render.py, with the sample arguments of each case to render.
CASES: dict[str, list[tuple]] = {
    "red_flag_question_keyboard": [(55, "n0nce")],
    "several_zones": [(PLACE,)],
    "chunk_lines": [([text("diary_note", note=TYPED)] * 500,)],
    "split_text": [("word " * 2000,)],
    "button": [("Yes", "x:1")],
    "consent_keyboard": [("n0nce",)],
    "time_keyboard": [("n0nce",)],
    "timezone_keyboard": [("n0nce", "Europe/London")],
    "checkin_keyboard": [
        (draft(s, note=n),)
        for s in ("leg_pain", "back_pain", "numbness", "weakness", "weakness_worsening")
        + ("red_flag", "exercises", "note")
        for n in (None, TYPED)
    ],
    "answers_so_far": [(draft(),)],
    "checkin_question": [(draft(s),) for s in ("leg_pain", "red_flag", "note")]
    + [(draft("leg_pain", leg_pain=None, back_pain=None),)],
    "checkin_closing": [
        (patient(), entry(0), OUTCOME),
        (patient(), entry(0), Outcome("done", entry=entry(0), closed_early=True)),
        (
            patient(),
            entry(0),
            Outcome("done", entry=entry(0), comparison=Comparison(0, None, None, True)),
        ),
        (
            patient(),
            entry(0),
            Outcome("done", entry=entry(0), comparison=Comparison(0, None, None)),
        ),
    ],
    "local_time": [(NOW, "America/New_York")],
    "clinic_time": [(NOW, SETTINGS)],
    "contact": [("+44 1", "R&1"), (None, None)],
    "oncall_alert": [(alert("open", "red_flag", "urgent"), patient(), SETTINGS, 34)],
    "alert_keyboard": [(alert("open", "red_flag", "urgent"),)],
    "urgent_advice": [
        ("Loss of bladder control <new>", "Demo & Physio"),
        ("Saddle numbness", None),
    ],
    "reminder": [("exercise", 9, patient()), ("checkin", 9, patient()), ("nudge", 9, patient())],
    "alert_text": [
        (alert(status, rule, level), patient(), SETTINGS, repeat)
        for status in ("open", "acknowledged")
        for rule, level in (("worsening", "worsening"), ("red_flag", "urgent"))
        + (("red_flag_unconfirmed", "urgent"),)
        for repeat in (False, True)
    ],
    "checkin_question_done": [(draft(),)],
    "diary_lines": [(DIARY, SETTINGS), (DiaryPage(patient(), [], 1, 1, {}), SETTINGS)],
    "change_line": [(CHANGE,), (Change("back", 0, 4),), (Change("leg", 3, 3.5),)],
    "progress_caption": [(PROGRESS, PSFS), (PROGRESS, None)],
    "prom_question": [(r, first) for r in OPEN_PROMS for first in (False, True)],
    "prom_done": [(prom(i, {}),) for i in ("startback", "psfs", "groc")],
    "prom_too_long": [()],
    "prom_lines": [(DONE, SETTINGS), ({"psfs": PSFS[:1]}, SETTINGS)],
    "change_week_line": [(CHANGE,), (Change("back", 2.0, 5.5),)],
    "digest_lines": [(DIGEST,)],
    "staff_progress_caption": [(patient(), PROGRESS)],
    "report_data": [
        (patient(), PROGRESS, DONE, [alert(), alert("open")], 21, b"png", SETTINGS, NOW),
        (patient(discharged_at=None), FEW, {}, [], 2, None, SETTINGS, NOW),
    ],
    "plain": [("<b>a &amp; b</b>",)],
    "weekly_caption": [(patient(), PROGRESS, TODAY), (patient(), FEW, TODAY)],
    "weekly_setting": [(patient(),), (patient(weekly_day=None),)],
    "onboarding_screen": [
        (Step(status, conv=CONV, patient=patient(), place=PLACE), SETTINGS)
        for status in ONBOARDING_STATUSES
    ],
    "checkin_opening": [(draft("numbness"), False)],
    "render_exercise": [(ex,) for ex in LIB.exercises.values()],
    "render_plan": [(plan,) for plan in LIB.plans.values()],
    "plan_keyboard": [(PLAN,)],
    "plans_lines": [(LIB.plans.values(),)],
    "exercise_times": [("08:00,18:00",), ("",)],
    "plan_assigned": [(patient(), PLAN), (patient(exercise_times=""), PLAN)],
    "plan_told_patient": [(patient(), PLAN)],
    "exercise_logged": [("<b>Time for your exercises</b>", s) for s in ("done", "snoozed")]
    + [("Reminder", "skipped")],
    "settings_menu": [
        (Result("menu", patient(), CONV),),
        (Result("menu", patient(paused_until=None), CONV),),
    ],
    "settings_saved": [(Result(s, patient()),) for s in SETTINGS_STATUSES if "saved_" in s],
    "settings_reply": [(Result(s, patient(), CONV, PLACE),) for s in SETTINGS_STATUSES],
    "erase_keyboard": [(1001,)],
    "faq_keyboard": [(FAQ, [render.button("Ask", "faq:1:ask")])],
    "faq_answer": [(e,) for e in faq_index().entries],
    "faq_reply": [(FAQ[0], FAQ[1:]), (FAQ[0], [])],
    "faq_deferral": [(e, 3) for e in faq_index().entries if e.kind != "answer"][:3] + [(FAQ[0], 3)],
    "faq_unsure": [(FAQ, 3, SETTINGS.clinic_name), ([], 3, SETTINGS.clinic_name)],
    "relay_to_staff": [
        (patient(), question(False)),
        (patient(), RelayedQuestion(question="q" * 5000)),
    ],
    "relay_reply": [(SETTINGS.clinic_name, TYPED), (SETTINGS.clinic_name, "a" * 5000)],
    "invite_text": [
        (
            "invite_created",
            NewInvite(4, "c0de", NAME, NOW, "+44 1", "R&1"),
            "https://t.me/b?start=c0de",
            SETTINGS,
        ),
        (
            "invite_reissued",
            NewInvite(5, "c0de", NAME, NOW),
            "https://t.me/b?start=c0de",
            SETTINGS,
            {"old": 4},
        ),
    ],
    "patients_lines": [
        ([PatientRow(patient(), entry(0), "better", 2), PatientRow(patient(), None, "", 0)],)
    ],
    "alerts_lines": [
        ([(alert("open"), patient()), (alert("open", "red_flag", "urgent"), patient())], SETTINGS)
    ],
    "note_messages": [(patient(), [entry(0), entry(0, note="word " * 2000)], TODAY)],
}


def _public_functions() -> list[str]:
    return sorted(
        name
        for name, fn in vars(render).items()
        if inspect.isfunction(fn) and fn.__module__ == render.__name__ and not name.startswith("_")
    )


def test_every_public_render_function_has_sample_cases():
    missing = sorted(set(_public_functions()) - set(CASES))
    assert not missing, f"add sample cases for {missing}"


CASE_IDS = [(name, i) for name in sorted(CASES) for i in range(len(CASES[name]))]


@pytest.mark.parametrize("name,i", CASE_IDS, ids=[f"{n}-{i}" for n, i in CASE_IDS])
def test_each_render_function_gives_valid_telegram_text(name: str, i: int):
    args = CASES[name][i]
    kwargs = args[-1] if args and isinstance(args[-1], dict) and name == "invite_text" else {}
    if kwargs:
        args = args[:-1]
    result = getattr(render, name)(*args, **kwargs)
    if name in ("plain", "local_time", "clinic_time", "contact") and isinstance(result, str):
        assert result.strip() or args == (None, None)
        return
    if name == "chunk_lines":
        for piece in result:
            check(piece, name)
        return
    if name == "split_text":  # plain text, escaped by the caller (note_messages)
        assert all(0 < len(piece) <= 3500 for piece in result)
        return
    if name == "checkin_opening":
        assert result == [text("checkin_resume")]
        return
    check_any(result, f"{name}{args!r:.80}")


def test_a_closed_alert_has_no_buttons():
    assert render.alert_keyboard(alert("acknowledged")) is None
    assert render.alert_keyboard(alert("open", "red_flag", "urgent")) is not None


def test_escaping_keeps_what_a_person_typed():
    body = render.relay_to_staff(patient(), question(False))
    plain, _ = parse_html(body)
    assert NAME in plain and TYPED in plain
