"""Patient-facing text reads easily: a reading grade for every text, and no unexplained jargon.

The grade is textstat's Flesch-Kincaid grade (US school grade; reading age is about grade + 5),
computed by bot/content/readability.py; `python bench/readability.py` prints the figures.
The NHS aims for a reading age of 9 to 11.
"""

from __future__ import annotations

import re

import pytest

from bot.content.readability import graded, median, patient_texts, plain

MAX_FAQ_GRADE = 9.0
MAX_MEDIAN_GRADE = 6.5
# Words patients told us they do not know, or that only clinicians use.
JARGON = re.compile(
    r"\b(?:lamina|flexion|mobili[sz]ation|irritable|piriformis|mckenzie|prone|radicul\w*|"
    r"lumbar|herniat\w*|contraindicat\w*|bilateral|perine\w*)\b",
    re.I,
)

TEXTS = patient_texts()
GRADED = graded(TEXTS)
FAQ = [(t, g) for t, g in GRADED if t.kind == "faq"]


def test_every_kind_of_text_is_graded():
    kinds = {t.kind for t, _ in GRADED}
    assert {"faq", "message", "exercise", "plan"} <= kinds
    assert len(FAQ) == len([t for t in TEXTS if t.kind == "faq"]) >= 40


@pytest.mark.parametrize(("text", "grade"), FAQ, ids=[t.where for t, _ in FAQ])
def test_faq_answer_reads_at_grade_9_or_below(text, grade):
    assert grade <= MAX_FAQ_GRADE, f"{text.where} reads at grade {grade:.1f}:\n{text.text}"


def test_median_grade_of_all_patient_texts_is_at_most_6_5():
    assert median(GRADED) <= MAX_MEDIAN_GRADE


def test_median_grade_of_faq_answers_is_at_most_6_5():
    # Stricter than the issue asks: the short messages alone would keep the overall median low.
    assert median(FAQ) <= MAX_MEDIAN_GRADE


@pytest.mark.parametrize("text", TEXTS, ids=[t.where for t in TEXTS])
def test_no_jargon_in_patient_texts_or_button_labels(text):
    assert not JARGON.search(text.text), f"{text.where}: {JARGON.search(text.text).group(0)!r}"


def test_list_items_count_as_sentences():
    listed = plain("<b>Call 999 if:</b>\n• one thing\n• another thing &amp; more")
    assert listed == "Call 999 if:\none thing.\nanother thing & more."
