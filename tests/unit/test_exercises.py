"""The exercise library loads, is complete and safe, and renders to valid Telegram HTML."""

import re
from pathlib import Path

import pytest
import yaml

from bot.content.exercises import (
    DEFAULT_PATH,
    Dose,
    Exercise,
    Library,
    Plan,
    library,
)
from bot.content.render import render_exercise, render_plan
from fake_telegram.html import parse_html

LIB = library()
EXERCISES = sorted(LIB.exercises.values(), key=lambda e: e.id)
PLANS = sorted(LIB.plans.values(), key=lambda p: p.id)
SEED = Path(__file__).resolve().parents[3] / "shared" / "seeds" / "000_1d6085de53844451.txt"

_TAG = re.compile(r"<(/?)([a-zA-Z0-9-]*)[^>]*>")


def assert_balanced_b_i(text: str) -> None:
    """Only <b> and <i>, properly nested and closed; no stray '<' or '&'."""
    stack: list[str] = []
    for m in _TAG.finditer(text):
        closing, name = m.group(1), m.group(2)
        assert m.group(0) == f"<{closing}{name}>", f"tag with attributes: {m.group(0)}"
        assert name in ("b", "i"), f"unexpected tag {m.group(0)}"
        if closing:
            assert stack and stack[-1] == name, f"unbalanced {m.group(0)}"
            stack.pop()
        else:
            stack.append(name)
    assert not stack, f"unclosed tags {stack}"
    outside = _TAG.sub("", text)
    assert "<" not in outside and ">" not in outside
    assert not re.search(r"&(?!(amp|lt|gt|quot);)", outside), "unescaped &"


# --- the real library ------------------------------------------------------------------------


def test_default_library_loads_and_is_cached():
    assert Library.load().exercises.keys() == LIB.exercises.keys()
    assert library() is LIB
    assert Library.load(DEFAULT_PATH).plans.keys() == LIB.plans.keys()


def test_library_is_big_enough():
    assert len(LIB.exercises) >= 12
    assert len(LIB.plans) >= 4


@pytest.mark.parametrize(
    "ex_id",
    [
        "knee-to-chest",
        "sciatic-nerve-glide",
        "piriformis-stretch",
        "prone-press-up",
        "pelvic-tilt",
        "glute-bridge",
        "cat-camel",
        "bird-dog",
        "hamstring-stretch",
        "walking-programme",
        "side-lying-clam",
        "dead-bug",
        "childs-pose",
        "seated-nerve-floss",
    ],
)
def test_core_exercises_present(ex_id):
    assert ex_id in LIB.exercises


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_every_exercise_is_complete(ex: Exercise):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", ex.id) and len(ex.id) <= 24
    assert 0 < len(ex.name) <= 32
    assert 3 <= len(ex.steps) <= 6
    for step in ex.steps:
        # one plain sentence each
        assert step[0].isupper() and step.endswith("."), step
        assert not re.search(r"[.!?] [A-Z]", step), f"more than one sentence: {step}"
    assert 1 <= len(ex.cautions) <= 3
    assert all(c.strip() for c in ex.cautions)
    assert ex.stop_if.strip() and "clinic" in ex.stop_if
    assert 1 <= ex.dose.times_a_day <= 4


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.id)
def test_every_plan_is_complete(plan: Plan):
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", plan.id) and len(plan.id) <= 20
    assert plan.name and plan.description
    assert 3 <= len(plan.exercises) <= 6
    assert len({e.id for e in plan.exercises}) == len(plan.exercises)


def test_expected_plans_present():
    for plan_id in ("early-relief", "mobility", "strength", "return-to-activity"):
        assert plan_id in LIB.plans


def test_plan_lookup_is_case_insensitive():
    assert LIB.plan("early-relief") is LIB.plans["early-relief"]
    assert LIB.plan(" Early-Relief ") is LIB.plans["early-relief"]
    assert LIB.plan("no-such-plan") is None
    assert LIB.exercise("Bird-Dog") is LIB.exercises["bird-dog"]


@pytest.mark.parametrize("ex", EXERCISES, ids=lambda e: e.id)
def test_render_exercise_is_valid_telegram_html(ex: Exercise):
    text = render_exercise(ex)
    assert len(text) < 4096
    assert_balanced_b_i(text)
    plain, _ = parse_html(text)
    assert ex.name in plain and ex.stop_if in plain
    assert all(step in plain for step in ex.steps)
    assert ex.dose.describe() in plain
    assert "999" in plain and "A&E" in plain  # the emergency line is always there


@pytest.mark.parametrize("plan", PLANS, ids=lambda p: p.id)
def test_render_plan_is_valid_telegram_html(plan: Plan):
    text = render_plan(plan)
    assert len(text) < 4096
    assert_balanced_b_i(text)
    plain, _ = parse_html(text)
    assert plan.name in plain and plan.description in plain
    for ex in plan.exercises:
        assert ex.name in plain and ex.dose.describe() in plain
    assert "999" in plain


def test_rendering_escapes_content():
    ex = Exercise(
        id="x",
        name="Tom & <Jerry>",
        steps=("Do <b>this</b>.", "A & B.", "C."),
        dose=Dose(sets=2, reps=10, hold_seconds=None, times_a_day=2, minutes=None),
        cautions=("<i>careful</i>",),
        stop_if="Stop & call <us>.",
    )
    text = render_exercise(ex, advice="a & b", urgent="999 <now>")
    assert_balanced_b_i(text)
    assert "Tom &amp; &lt;Jerry&gt;" in text and "&lt;b&gt;this&lt;/b&gt;" in text
    plan = Plan(id="p", name="P <1>", description="for & you", exercises=(ex,))
    plan_text = render_plan(plan, advice="x", urgent="y")
    assert_balanced_b_i(plan_text)
    assert "P &lt;1&gt;" in plan_text


# --- Dose ------------------------------------------------------------------------------------


def test_dose_describe_reps():
    d = Dose(sets=2, reps=10, hold_seconds=None, times_a_day=2, minutes=None)
    assert d.describe() == "2 sets of 10, twice a day"
    d = Dose(sets=None, reps=8, hold_seconds=None, times_a_day=3, minutes=None, each_side=True)
    assert d.describe() == "8 repetitions on each side, 3 times a day"


def test_dose_describe_hold():
    d = Dose(sets=3, reps=None, hold_seconds=20, times_a_day=2, minutes=None)
    assert d.describe() == "hold 20 seconds, 3 times, twice a day"
    d = Dose(sets=1, reps=None, hold_seconds=30, times_a_day=1, minutes=None, each_side=True)
    assert d.describe() == "hold 30 seconds on each side, once a day"


def test_dose_describe_minutes():
    d = Dose(sets=None, reps=None, hold_seconds=None, times_a_day=1, minutes=15)
    assert d.describe() == "15 minutes, once a day"
    d = Dose(sets=None, reps=None, hold_seconds=None, times_a_day=4, minutes=1)
    assert d.describe() == "1 minute, 4 times a day"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"reps": 10, "hold_seconds": 20, "minutes": None},
        {"reps": None, "hold_seconds": None, "minutes": None},
        {"reps": 10, "hold_seconds": None, "minutes": 5},
        {"reps": 0, "hold_seconds": None, "minutes": None},
        {"reps": 10, "hold_seconds": None, "minutes": None, "times_a_day": 0},
        {"reps": 10, "hold_seconds": None, "minutes": None, "times_a_day": 5},
        {"reps": True, "hold_seconds": None, "minutes": None},
    ],
)
def test_dose_rejects_invalid(kwargs):
    kwargs = {"sets": 1, "times_a_day": 2, **kwargs}
    with pytest.raises(ValueError):
        Dose(**kwargs)


# --- broken libraries ------------------------------------------------------------------------


def _base() -> dict:
    return yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "exercises.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_copy_of_default_loads(tmp_path):
    lib = Library.load(_write(tmp_path, _base()))
    assert lib.exercises == LIB.exercises and lib.plans == LIB.plans


def test_unknown_exercise_in_plan_raises(tmp_path):
    data = _base()
    data["plans"][0]["exercises"].append("moon-walk")
    with pytest.raises(ValueError, match="unknown exercise id 'moon-walk'"):
        Library.load(_write(tmp_path, data))


def test_duplicate_exercise_id_raises(tmp_path):
    data = _base()
    data["exercises"].append(dict(data["exercises"][0]))
    with pytest.raises(ValueError, match="duplicate exercise id"):
        Library.load(_write(tmp_path, data))


def test_duplicate_plan_id_raises(tmp_path):
    data = _base()
    data["plans"].append(dict(data["plans"][0]))
    with pytest.raises(ValueError, match="duplicate plan id"):
        Library.load(_write(tmp_path, data))


@pytest.mark.parametrize(
    ("dose", "message"),
    [
        ({"sets": 2, "reps": 10, "hold_seconds": 20, "times_a_day": 2}, "exactly one of"),
        ({"sets": 2, "times_a_day": 2}, "exactly one of"),
        ({"sets": 2, "reps": 10, "times_a_day": 5}, "times_a_day"),
        ({"sets": 2, "reps": 10, "times_a_day": 0}, "times_a_day"),
    ],
)
def test_bad_dose_raises(tmp_path, dose, message):
    data = _base()
    data["exercises"][0]["dose"] = dose
    with pytest.raises(ValueError, match=message) as info:
        Library.load(_write(tmp_path, data))
    assert data["exercises"][0]["id"] in str(info.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "Knee To Chest", "kebab-case"),
        ("id", "a-very-long-exercise-identifier", "kebab-case"),
        ("name", "A name that is far too long for any button", "longer than"),
        ("steps", ["Only one step."], "steps"),
        ("steps", [f"Step {n}." for n in range(7)], "steps"),
        ("cautions", [], "cautions"),
        ("stop_if", "", "stop_if"),
        ("stop_if", "Stop if <b>bad</b>.", "plain text"),
    ],
)
def test_bad_exercise_field_raises(tmp_path, field, value, message):
    data = _base()
    data["exercises"][0][field] = value
    with pytest.raises(ValueError, match=message):
        Library.load(_write(tmp_path, data))


def test_bad_plan_id_and_unknown_key_raise(tmp_path):
    data = _base()
    data["plans"][0]["id"] = "early relief"
    with pytest.raises(ValueError, match="kebab-case"):
        Library.load(_write(tmp_path, data))
    data = _base()
    data["exercises"][0]["stop_iff"] = "typo"
    with pytest.raises(ValueError, match="unknown key"):
        Library.load(_write(tmp_path, data))


def test_invalid_yaml_raises_value_error(tmp_path):
    path = tmp_path / "exercises.yaml"
    path.write_text("exercises: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        Library.load(path)


# --- originality -----------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'").replace("'", ""))


@pytest.mark.skipif(not SEED.exists(), reason="seed article not available")
def test_no_nine_word_run_from_the_seed_article():
    seed = _words(SEED.read_text(encoding="utf-8"))
    grams = {tuple(seed[i : i + 9]) for i in range(len(seed) - 8)}
    ours = _words(DEFAULT_PATH.read_text(encoding="utf-8"))
    copied = [
        " ".join(ours[i : i + 9]) for i in range(len(ours) - 8) if tuple(ours[i : i + 9]) in grams
    ]
    assert not copied, copied
