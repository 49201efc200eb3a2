"""The red-flag reader on the blind evaluation set (tests/data/red_flag_eval.yaml).

Targets on the held-out test half (issue 11): every urgent phrasing caught (urgent at once, or
the question "Is this happening now?", whose Yes is urgent), at most 3% of benign near-misses
alerting directly, and well under 20 ms a message. ``python bench/red_flag_eval.py`` prints the
same figures for both halves and lists every miss.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import red_flag_eval as bench  # noqa: E402

from bot.language.red_flag_model import load_model  # noqa: E402
from bot.language.red_flag_triage import assess  # noqa: E402

DATA = yaml.safe_load(bench.EVAL_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def test_half() -> dict:
    assess("warm up")
    return bench.figures("test", DATA)


def test_eval_set_shape() -> None:
    urgent, benign = DATA["urgent"], DATA["benign"]
    assert len(urgent) >= 300 and len(benign) >= 300
    for items in (urgent, benign):
        assert {x["split"] for x in items} == {"tune", "test"}
        assert all(x["text"].strip() and x["kind"] for x in items)
    kinds = {x["kind"] for x in urgent}
    assert {"bladder_retention", "bladder_hesitancy", "saddle_numbness", "foot_drop"} <= kinds


def test_every_urgent_phrasing_of_the_test_half_is_caught(test_half: dict) -> None:
    missed = [x["text"] for x, _ in test_half["missed"]]
    assert bench.recall(test_half) >= bench.TARGET_RECALL, f"missed: {missed}"


def test_messages_typed_into_a_flow_are_never_asked_about() -> None:
    for typed in ("09:00", "9am", "Yes", "No", "London", "Sam Taylor", "7", "/start abc123"):
        assert assess(typed).level == "none", typed


def test_few_benign_messages_of_the_test_half_alert(test_half: dict) -> None:
    alerted = [x["text"] for x, _ in test_half["benign_alerted"]]
    assert bench.false_alarms(test_half) <= bench.TARGET_FALSE_ALARMS, f"alerted: {alerted}"


def test_model_file_loads_with_a_sane_threshold() -> None:
    model = load_model()
    assert 0.0 < model.ask_threshold < 0.5
    assert model.probability("") == 0.0


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("I can't pee at all since this morning", "urgent"),
        ("I've wet myself and didn't feel it", "urgent"),
        ("no problems with my bladder", "none"),
        ("I haven't lost control of my bowels", "none"),
        # A rule hit about someone else, the past or a meaning is asked about, not alerted.
        ("my nan is incontinent", "ask"),
        ("what does saddle numbness mean?", "ask"),
        ("I had numbness in both legs last year but it went", "ask"),
        # No rule, but it sounds like a bladder problem: ask.
        ("i try to pee and nothing happens, like someone turned the tap off", "ask"),
        ("my back is sore after the exercises today", "none"),
        ("what should I wear to my appointment?", "none"),
    ],
)
def test_triage_levels(text: str, level: str) -> None:
    assert assess(text).level == level


def test_a_red_flag_wins_whatever_else_the_message_is() -> None:
    t = assess("What should I wear tomorrow? Also I can't feel the toilet paper when I wipe")
    assert t.level == "urgent" and t.hit is not None and t.hit.kind == "saddle_numbness"
