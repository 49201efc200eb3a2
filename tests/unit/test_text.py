"""Text normalised at the edge, and long texts split for Telegram."""

from __future__ import annotations

import pytest

from bot.content.render import split_text
from bot.language.red_flags import detect_red_flag
from bot.language.text import normalise
from bot.rules.escalation import late_safety_yes


@pytest.mark.parametrize(
    "hidden",
    ["\u200b", "\u200c", "\u200d", "\u00ad", "\u2060", "\ufeff", "\u202e", "\u2066", "\u200f"],
)
def test_an_invisible_character_inside_a_word_is_removed_and_the_red_flag_found(hidden):
    typed = f"I can't feel when I need to p{hidden}ee"
    assert normalise(typed) == "I can't feel when I need to pee"
    assert detect_red_flag(normalise(typed)) is not None


def test_look_alike_forms_fold_to_plain_letters():
    assert normalise("ｎｕｍｂ down there, ﬁne otherwise") == "numb down there, fine otherwise"


def test_emoji_sequences_keep_their_joiner_and_plain_text_is_untouched():
    family = "👨\u200d👩\u200d👧"
    assert normalise(f"my {family} helps") == f"my {family} helps"
    assert normalise("Leg 4/10, back 3/10 — better") == "Leg 4/10, back 3/10 — better"
    assert normalise("") == ""


def test_a_reversed_display_cannot_be_smuggled_into_a_staff_message():
    assert normalise("question \u202e)1 DI tneitap(") == "question )1 DI tneitap("


def test_long_text_is_split_between_words_within_the_limit():
    body = " ".join(f"word{i}" for i in range(2000))
    pieces = split_text(body, 500)
    assert all(len(p) <= 500 for p in pieces)
    assert " ".join(pieces).split() == body.split()
    assert split_text("x" * 1200, 500) == ["x" * 500, "x" * 500, "x" * 200]  # no space: cut
    assert split_text("", 500) == []


@pytest.mark.parametrize(
    ("step", "rule"),
    [("red_flag", "red_flag"), ("weakness_worsening", "weakness_worsening"), ("numbness", None)],
)
def test_a_late_yes_on_a_safety_question_is_still_urgent(step, rule):
    decision = late_safety_yes(step)
    assert (decision.rule if decision else None) == rule
    assert decision is None or decision.level == "urgent"
