"""Escalation rules, pinned with clinical vignettes at the edges of every threshold.

Each row of the tables is a short story about one patient's diary: what they reported on the
days before and what they report now, and which rules the clinic should hear about, in order.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta

import pytest

from bot.rules.escalation import (
    LEVELS,
    Decision,
    DiaryEntry,
    Thresholds,
    evaluate_entry,
    evaluate_review,
)

TODAY = date(2025, 3, 10)  # a Monday; the day of the check-in in the entry vignettes


def entry(
    offset: int = 0,
    leg: int = 3,
    back: int = 2,
    *,
    numb: bool = False,
    weak: bool = False,
    worse: bool = False,
    flag: bool = False,
    ex: str = "yes",
    base: date = TODAY,
) -> DiaryEntry:
    """A diary entry ``offset`` days from ``base`` (negative: before)."""
    return DiaryEntry(
        day=base + timedelta(days=offset),
        leg_pain=leg,
        back_pain=back,
        numbness=numb,
        weakness=weak,
        weakness_worsening=worse,
        red_flag=flag,
        exercises=ex,
    )


def days(offsets, leg: int = 3, back: int = 2, **kw) -> list[DiaryEntry]:
    return [entry(o, leg, back, **kw) for o in offsets]


def rules(decisions: list[Decision]) -> list[str]:
    return [d.rule for d in decisions]


# --- check-in rules: vignettes ------------------------------------------------------------------

ENTRY_CASES = [
    # urgent ------------------------------------------------------------------------------------
    pytest.param(
        days([-3, -2, -1], leg=1, back=1),
        entry(leg=1, back=1, flag=True),
        None,
        ["red_flag"],
        id="calm week, pain 1/10, but Yes on the red-flag screen: urgent all the same",
    ),
    pytest.param(
        [],
        entry(leg=0, back=0, flag=True),
        None,
        ["red_flag"],
        id="red flag on the very first check-in, no pain at all: urgent",
    ),
    pytest.param(
        days([-2, -1], weak=True),
        entry(weak=True, worse=True),
        None,
        ["weakness_worsening"],
        id="known leg weakness now getting worse by the hour: urgent",
    ),
    pytest.param(
        [],
        entry(worse=True),
        None,
        [],
        id="'getting worse quickly' without weakness (not asked) is ignored",
    ),
    pytest.param(
        days([-1]),
        entry(weak=True, worse=True),
        None,
        ["weakness_worsening", "new_neuro"],
        id="new leg weakness already worsening fast: urgent first, then new symptom",
    ),
    pytest.param(
        days([-1], weak=True),
        entry(flag=True, weak=True, worse=True),
        None,
        ["red_flag", "weakness_worsening"],
        id="red flag and fast-worsening weakness together: both urgent, red flag first",
    ),
    pytest.param(
        days([-3, -2, -1], leg=3),
        entry(leg=6, flag=True),
        None,
        ["red_flag", "pain_rise:leg"],
        id="red flag on a day leg pain doubled: urgent before worsening",
    ),
    # pain rise -------------------------------------------------------------------------------
    pytest.param(
        days([-3, -2, -1], leg=7),
        entry(leg=9),
        None,
        [],
        id="leg pain 7 all week then 9: +2 points is only 29%, no alert",
    ),
    pytest.param(
        days([-3, -2, -1], leg=5),
        entry(leg=7),
        None,
        ["pain_rise:leg"],
        id="leg pain 5 all week then 7: +2 points and 40%, worsening",
    ),
    pytest.param(
        days([-3, -2, -1], leg=6),
        entry(leg=8),
        None,
        ["pain_rise:leg"],
        id="leg pain 6 all week then 8: exactly +2 points (33%) is enough",
    ),
    pytest.param(
        [entry(-3, leg=4), entry(-2, leg=4), entry(-1, leg=5)],
        entry(leg=6),
        None,
        [],
        id="leg pain 4, 4, 5 then 6: +1.7 points is under 2, no alert",
    ),
    pytest.param(
        days([-2, -1], leg=2),
        entry(leg=8),
        None,
        [],
        id="only 2 diary days this week: no baseline yet, so no pain-rise alert",
    ),
    pytest.param(
        days([-3, -2, -1], leg=2),
        entry(leg=8),
        None,
        ["pain_rise:leg"],
        id="3 diary days this week are enough for a baseline: 2 to 8 is worsening",
    ),
    pytest.param(
        days([-10, -9, -8, -2, -1], leg=2),
        entry(leg=8),
        None,
        [],
        id="entries 8 to 10 days ago are outside the 7-day baseline: only 2 count",
    ),
    pytest.param(
        days([-7, -6, -5], leg=2),
        entry(leg=8),
        None,
        ["pain_rise:leg"],
        id="an entry exactly 7 days ago is inside the baseline",
    ),
    pytest.param(
        days([-3, -2, -1], back=3),
        entry(back=6),
        None,
        ["pain_rise:back"],
        id="back pain 3 all week then 6, leg unchanged: back pain rise only",
    ),
    pytest.param(
        days([-3, -2, -1], leg=3, back=2),
        entry(leg=6, back=5),
        None,
        ["pain_rise:leg", "pain_rise:back"],
        id="leg and back both up by 3: one alert per site, leg first",
    ),
    pytest.param(
        days([-3, -2, -1], leg=0, back=0),
        entry(leg=2, back=0),
        None,
        ["pain_rise:leg"],
        id="pain-free week then leg pain 2: any 2-point rise from 0 counts",
    ),
    pytest.param(
        days([-3, -2, -1], leg=0, back=0),
        entry(leg=1, back=0),
        None,
        [],
        id="pain-free week then leg pain 1: under 2 points, no alert",
    ),
    pytest.param(
        days([-5, -4, -3, -2, -1], leg=7),
        entry(leg=2),
        None,
        [],
        id="pain falling from 7 to 2: good news, nothing to escalate",
    ),
    pytest.param(
        days([-2, -1, 1, 2], leg=2),
        entry(leg=8),
        None,
        [],
        id="entries dated after today are ignored: still only 2 earlier days",
    ),
    pytest.param(
        days([-2, -1, 0], leg=2),
        entry(leg=8),
        None,
        [],
        id="an entry for today in the history is not part of its own baseline",
    ),
    # severe pain run -------------------------------------------------------------------------
    pytest.param(
        days([-1], leg=8),
        entry(leg=8),
        None,
        ["severe_pain_run"],
        id="leg pain 8 yesterday and 8 today: severe two days running",
    ),
    pytest.param(
        days([-1], leg=8),
        entry(leg=7),
        None,
        [],
        id="leg pain 8 yesterday then 7 today: not two severe days",
    ),
    pytest.param(
        days([-1], leg=7),
        entry(leg=8),
        None,
        [],
        id="leg pain 7 yesterday then 8 today: first severe day only",
    ),
    pytest.param(
        days([-2], leg=8),
        entry(leg=8),
        None,
        [],
        id="8 on Saturday, no check-in Sunday, 8 on Monday: the gap breaks the run",
    ),
    pytest.param(
        days([-1], leg=3, back=8),
        entry(leg=9, back=2),
        None,
        ["severe_pain_run"],
        id="back 8 yesterday, leg 9 today: severe pain either site counts",
    ),
    pytest.param(
        [entry(-2, leg=9), entry(-1, leg=8)],
        entry(leg=10),
        None,
        ["severe_pain_run"],
        id="9, 8 then 10: three severe days running, one alert",
    ),
    # new nerve symptoms ------------------------------------------------------------------------
    pytest.param(
        days([-1]),
        entry(numb=True),
        None,
        ["new_neuro"],
        id="new numbness today after none yesterday: worsening",
    ),
    pytest.param(
        days([-1], numb=True),
        entry(numb=True),
        None,
        [],
        id="numbness yesterday and today: known, not new",
    ),
    pytest.param(
        days([-1]),
        entry(weak=True),
        None,
        ["new_neuro"],
        id="new leg weakness today (not worsening fast): worsening, not urgent",
    ),
    pytest.param(
        [],
        entry(numb=True, weak=True),
        None,
        [],
        id="numbness and weakness on the first check-in are the baseline, not new",
    ),
    pytest.param(
        [entry(-2, numb=True), entry(-1)],
        entry(numb=True),
        None,
        ["new_neuro"],
        id="numbness gone yesterday and back today: new against the last entry",
    ),
    pytest.param(
        days([-5]),
        entry(numb=True),
        None,
        ["new_neuro"],
        id="last check-in 5 days ago had no numbness: today's numbness is new",
    ),
    pytest.param(
        days([-4], numb=True),
        entry(numb=True),
        None,
        [],
        id="numbness on the last check-in 4 days ago too: not new",
    ),
    pytest.param(
        days([-1], numb=True),
        entry(numb=True, weak=True),
        None,
        ["new_neuro"],
        id="numbness continues and weakness is new: worsening for the weakness",
    ),
    pytest.param(
        days([-1], numb=True, weak=True),
        entry(numb=True),
        None,
        [],
        id="weakness gone, numbness continues: nothing new",
    ),
    # ordinary days and everything at once --------------------------------------------------------
    pytest.param(
        days(range(-7, 0), leg=3, back=2),
        entry(leg=4, back=2),
        None,
        [],
        id="a calm week and a slightly worse day: no alert",
    ),
    pytest.param(
        [*days([-3, -2], leg=3, back=2), entry(-1, leg=3, back=8)],
        entry(leg=9, back=8, numb=True, weak=True, worse=True, flag=True),
        None,
        [
            "red_flag",
            "weakness_worsening",
            "pain_rise:leg",
            "pain_rise:back",
            "severe_pain_run",
            "new_neuro",
        ],
        id="everything at once: urgent first, then each worsening rule in a fixed order",
    ),
    # custom thresholds -------------------------------------------------------------------------
    pytest.param(
        days([-3, -2, -1], leg=4),
        entry(leg=6),
        Thresholds(worsening_min_percent=50),
        ["pain_rise:leg"],
        id="clinic sets 50%: 4 to 6 is exactly 50%, which is enough",
    ),
    pytest.param(
        days([-3, -2, -1], leg=5),
        entry(leg=7),
        Thresholds(worsening_min_percent=50),
        [],
        id="clinic sets 50%: 5 to 7 is 40%, no alert (it would be with the default 30%)",
    ),
    pytest.param(
        days([-3, -2, -1], leg=3),
        entry(leg=5),
        Thresholds(worsening_min_points=3),
        [],
        id="clinic sets 3 points: 3 to 5 is only +2, no alert",
    ),
    pytest.param(
        days([-1], leg=7),
        entry(leg=7),
        Thresholds(severe_pain=7),
        ["severe_pain_run"],
        id="clinic sets severe at 7: 7 two days running is severe",
    ),
    pytest.param(
        days([-1], leg=8),
        entry(leg=8),
        Thresholds(severe_pain_days=3),
        [],
        id="clinic wants 3 severe days: two are not enough",
    ),
    pytest.param(
        [],
        entry(leg=8),
        Thresholds(severe_pain_days=1),
        ["severe_pain_run"],
        id="clinic wants to hear of any single day at 8 or more",
    ),
    pytest.param(
        days([-2, -1], leg=2),
        entry(leg=8),
        Thresholds(baseline_min_entries=2),
        ["pain_rise:leg"],
        id="clinic accepts a 2-entry baseline: 2 to 8 is worsening",
    ),
    pytest.param(
        days([-10, -9, -8], leg=2),
        entry(leg=8),
        Thresholds(baseline_days=14),
        ["pain_rise:leg"],
        id="clinic uses a 14-day baseline: entries 8 to 10 days ago now count",
    ),
]


@pytest.mark.parametrize(("history", "today", "thresholds", "expected"), ENTRY_CASES)
def test_check_in_vignette(history, today, thresholds, expected):
    t = thresholds or Thresholds()
    decisions = evaluate_entry(history, today, t)
    assert rules(decisions) == expected
    _assert_well_formed(decisions)
    levels = [d.level for d in decisions]
    # Urgent always comes before worsening; a check-in never produces a review note.
    assert levels == sorted(levels, key=LEVELS.index)
    assert "review" not in levels


# --- periodic review: vignettes -----------------------------------------------------------------

REVIEW_DAY = date(2025, 6, 2)


def on(day: date, worst: int, *, ex: str = "yes", back: int = 0) -> DiaryEntry:
    return DiaryEntry(
        day=day,
        leg_pain=worst,
        back_pain=back,
        numbness=False,
        weakness=False,
        weakness_worsening=False,
        red_flag=False,
        exercises=ex,
    )


def ago(n: int) -> date:
    return REVIEW_DAY - timedelta(days=n)


def programme(
    enrolled_ago: int, first: int | None, last: int | None, *, first_back=0, last_back=0
) -> list[DiaryEntry]:
    """A diary with pain ``first`` on three days of the first week, ``last`` every day of the
    last week (``None``: no entries in that week)."""
    start = ago(enrolled_ago)
    entries = []
    if first is not None:
        entries += [on(start + timedelta(days=k), first, back=first_back) for k in (0, 2, 4)]
    if last is not None:
        entries += [on(ago(k), last, back=last_back) for k in range(1, 8)]
    return entries


def daily(from_ago: int, to_ago: int, worst: int = 3, skipped: tuple[int, ...] = (), **kw):
    """Entries every day from ``from_ago`` to ``to_ago`` days ago; "no" exercises on the days
    (counted in days ago) listed in ``skipped``."""
    return [
        on(ago(n), worst, ex="no" if n in skipped else kw.get("ex", "yes"))
        for n in range(from_ago, to_ago - 1, -1)
    ]


REVIEW_CASES = [
    # no improvement ----------------------------------------------------------------------------
    pytest.param(
        programme(56, first=6, last=6),
        56,
        None,
        ["no_improvement"],
        id="8 weeks in, pain 6 in the first week and 6 last week: no improvement",
    ),
    pytest.param(
        programme(55, first=6, last=6),
        55,
        None,
        [],
        id="same diary a day short of 8 weeks: too early to judge",
    ),
    pytest.param(
        programme(56, first=6, last=5),
        56,
        None,
        [],
        id="8 weeks in, one point better than the first week: improving",
    ),
    pytest.param(
        programme(70, first=5, last=7),
        70,
        None,
        ["no_improvement"],
        id="10 weeks in and worse than at the start: review",
    ),
    pytest.param(
        programme(56, first=None, last=6),
        56,
        None,
        [],
        id="no diary in the first week: nothing to compare with",
    ),
    pytest.param(
        programme(56, first=6, last=None),
        56,
        None,
        ["missed_checkins"],
        id="no diary last week: not a no-improvement note but missed check-ins",
    ),
    pytest.param(
        programme(56, first=0, last=0),
        56,
        None,
        [],
        id="pain-free from start to finish: nothing left to improve",
    ),
    pytest.param(
        programme(56, first=6, last=2, first_back=2, last_back=6),
        56,
        None,
        ["no_improvement"],
        id="leg better but back as bad as the leg was: worst pain unchanged, review",
    ),
    # missed check-ins --------------------------------------------------------------------------
    pytest.param(
        daily(20, 4),
        20,
        None,
        ["missed_checkins"],
        id="no check-in for the last 3 days: review",
    ),
    pytest.param(
        daily(20, 3),
        20,
        None,
        [],
        id="no check-in for the last 2 days only: not yet",
    ),
    pytest.param(
        [on(ago(10), 3), on(ago(1), 3)],
        20,
        None,
        [],
        id="back yesterday after a long gap: not missing now",
    ),
    pytest.param(
        [],
        2,
        None,
        [],
        id="enrolled 2 days ago, no diary yet: cannot have missed 3",
    ),
    pytest.param(
        [],
        3,
        None,
        ["missed_checkins"],
        id="enrolled 3 days ago and never checked in: the enrolment day counts",
    ),
    pytest.param(
        [*daily(20, 4), on(REVIEW_DAY, 3)],
        20,
        None,
        ["missed_checkins"],
        id="checked in this morning: the digest still reports the 3 missed days before",
    ),
    pytest.param(
        [on(ago(5), 3), on(ago(4), 3)],
        3,
        None,
        ["missed_checkins"],
        id="entries from before enrolment do not count as check-ins",
    ),
    # exercises skipped -------------------------------------------------------------------------
    pytest.param(
        daily(20, 1, skipped=(1, 2, 3, 5, 7)),
        20,
        None,
        ["exercises_skipped"],
        id="exercises not done on 5 of the last 7 days: review",
    ),
    pytest.param(
        daily(20, 1, skipped=(1, 2, 3, 5)),
        20,
        None,
        [],
        id="exercises not done on 4 of the last 7 days: not yet",
    ),
    pytest.param(
        [*daily(20, 8), *daily(7, 1, skipped=(1, 2, 3, 4), ex="partly")],
        20,
        None,
        [],
        id="4 days 'no' and 3 days 'partly': partly is effort, not skipping",
    ),
    pytest.param(
        daily(20, 1, skipped=(1, 2, 3, 4, 8)),
        20,
        None,
        [],
        id="the fifth skip was 8 days ago, outside the 7-day window",
    ),
    pytest.param(
        [e for e in daily(20, 1, skipped=(1, 2, 4, 5, 7)) if e.day not in (ago(3), ago(6))],
        20,
        None,
        ["exercises_skipped"],
        id="5 skips among 5 check-ins this week (2 days without a diary): review",
    ),
    # all together and custom thresholds ----------------------------------------------------------
    pytest.param(
        [*programme(56, first=5, last=None), *daily(7, 4, worst=6, skipped=(4, 5, 6, 7))],
        56,
        Thresholds(review_skipped_days=4),
        ["no_improvement", "missed_checkins", "exercises_skipped"],
        id="8 weeks, worse, silent 3 days and skipping: all three notes, in order",
    ),
    pytest.param(
        programme(28, first=6, last=6),
        28,
        Thresholds(review_no_improvement_weeks=4),
        ["no_improvement"],
        id="clinic reviews at 4 weeks: unchanged pain at 4 weeks is flagged",
    ),
    pytest.param(
        daily(20, 3),
        20,
        Thresholds(review_missed_checkins=2),
        ["missed_checkins"],
        id="clinic flags 2 missed days: 2 days of silence is enough",
    ),
    pytest.param(
        daily(20, 1, skipped=(3, 4, 5)),
        20,
        Thresholds(review_skipped_days=3, review_skipped_window=5),
        ["exercises_skipped"],
        id="clinic flags 3 skips in 5 days: 3 recent skips are enough",
    ),
    pytest.param(
        daily(20, 1, skipped=(3, 4, 5)),
        20,
        None,
        [],
        id="same 3 recent skips with the default 5 of 7: nothing",
    ),
]


@pytest.mark.parametrize(("history", "enrolled_ago", "thresholds", "expected"), REVIEW_CASES)
def test_review_vignette(history, enrolled_ago, thresholds, expected):
    t = thresholds or Thresholds()
    decisions = evaluate_review(history, REVIEW_DAY, ago(enrolled_ago), t)
    assert rules(decisions) == expected
    _assert_well_formed(decisions)
    assert all(d.level == "review" for d in decisions)


def _assert_well_formed(decisions: list[Decision]) -> None:
    for d in decisions:
        assert d.level in LEVELS
        assert d.reason.endswith(".") and "\n" not in d.reason
        json.dumps(d.figures)  # storable as JSON
        for value in _numbers(d.figures):
            assert round(value, 1) == value


def _numbers(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)


def test_enough_vignettes():
    assert len(ENTRY_CASES) + len(REVIEW_CASES) >= 40


# --- reasons and figures ------------------------------------------------------------------------


def test_pain_rise_says_the_figures_in_words():
    history = days([-5, -4, -3, -2, -1], leg=4)
    [decision] = evaluate_entry(history, entry(leg=7))
    assert decision == Decision(
        level="worsening",
        rule="pain_rise:leg",
        reason="Leg pain 7/10 is 3 points (75%) above the 7-day baseline of 4.0 (5 entries).",
        figures={
            "site": "leg",
            "pain": 7,
            "baseline": 4.0,
            "entries": 5,
            "points": 3.0,
            "percent": 75.0,
        },
    )


def test_pain_rise_from_an_uneven_baseline_is_rounded_for_display_only():
    history = [entry(-3, back=3), entry(-2, back=3), entry(-1, back=4)]
    [decision] = evaluate_entry(history, entry(back=6))
    assert decision.reason == (
        "Back pain 6/10 is 2.7 points (80%) above the 7-day baseline of 3.3 (3 entries)."
    )
    assert decision.figures == {
        "site": "back",
        "pain": 6,
        "baseline": 3.3,
        "entries": 3,
        "points": 2.7,
        "percent": 80.0,
    }


def test_pain_rise_from_zero_has_no_percentage():
    [decision] = evaluate_entry(days([-3, -2, -1], leg=0, back=0), entry(leg=3, back=0))
    assert (
        decision.reason == "Leg pain 3/10 is 3 points above the 7-day baseline of 0.0 (3 entries)."
    )
    assert decision.figures["percent"] is None


def test_severe_pain_run_lists_each_day():
    history = [entry(-2, leg=9, back=3), entry(-1, leg=4, back=8)]
    [decision] = evaluate_entry(history, entry(leg=10, back=1))
    assert decision.level == "worsening"
    assert decision.reason == (
        "Pain 8/10 or more on 3 days running "
        "(9/10 on 2025-03-08, 8/10 on 2025-03-09, 10/10 on 2025-03-10)."
    )
    assert decision.figures == {
        "threshold": 8,
        "days": 3,
        "run": [
            {"day": "2025-03-08", "leg_pain": 9, "back_pain": 3},
            {"day": "2025-03-09", "leg_pain": 4, "back_pain": 8},
            {"day": "2025-03-10", "leg_pain": 10, "back_pain": 1},
        ],
    }


def test_new_neuro_names_what_is_new_and_since_when():
    [decision] = evaluate_entry(days([-3]), entry(numb=True, weak=True))
    assert decision.reason == (
        "New leg weakness and numbness or tingling, "
        "not reported at the previous check-in on 2025-03-07."
    )
    assert decision.figures == {
        "numbness": True,
        "weakness": True,
        "previous_day": "2025-03-07",
        "days_since_previous": 3,
    }


def test_red_flag_reason_gives_the_pain_scores():
    [decision] = evaluate_entry([], entry(leg=2, back=1, flag=True))
    assert decision.level == "urgent"
    assert "red-flag screen" in decision.reason
    assert "leg pain 2/10, back pain 1/10" in decision.reason
    assert decision.figures == {"day": "2025-03-10", "leg_pain": 2, "back_pain": 1}


def test_missed_checkins_says_how_long_and_since_when():
    [decision] = evaluate_review(daily(20, 5), REVIEW_DAY, ago(20))
    assert decision.reason == "No check-in for the last 4 days (last entry 2025-05-28)."
    assert decision.figures == {"days_missed": 4, "last_entry": "2025-05-28"}
    [never] = evaluate_review([], REVIEW_DAY, ago(3))
    assert (
        never.reason == "No check-in for the last 3 days (no entry since enrolment on 2025-05-30)."
    )
    assert never.figures == {"days_missed": 3, "last_entry": None}


def test_exercises_skipped_gives_the_count_and_the_check_ins():
    history = [e for e in daily(20, 1, skipped=(1, 2, 3, 5, 7)) if e.day != ago(4)]
    [decision] = evaluate_review(history, REVIEW_DAY, ago(20))
    assert (
        decision.reason == "Exercises skipped on 5 of the last 7 days (6 check-ins in that time)."
    )
    assert decision.figures == {"skipped_days": 5, "window_days": 7, "entries": 6}


def test_no_improvement_compares_the_first_and_last_weeks():
    history = [*programme(58, first=5, last=None), *[on(ago(k), 6) for k in (1, 2, 4)]]
    history.append(on(ago(3), 7))
    [decision] = evaluate_review(history, REVIEW_DAY, ago(58))
    assert decision.reason == (
        "No improvement after 8 weeks: worst pain averaged 6.3/10 over the last 7 days "
        "(4 entries), against 5.0/10 in the first week (3 entries)."
    )
    assert decision.figures == {
        "days_enrolled": 58,
        "weeks_enrolled": 8,
        "first_mean": 5.0,
        "first_entries": 3,
        "last_mean": 6.3,
        "last_entries": 4,
    }


# --- purity and determinism --------------------------------------------------------------------


def test_history_order_does_not_change_the_outcome():
    history = [
        *days(range(-9, -1), leg=3, back=2, numb=False),
        entry(-1, leg=8, back=3),
    ]
    today = entry(leg=9, back=6, numb=True)
    expected = evaluate_entry(history, today)
    assert rules(expected) == ["pain_rise:leg", "pain_rise:back", "severe_pain_run", "new_neuro"]
    rng = random.Random(7)
    for _ in range(10):
        shuffled = history[:]
        rng.shuffle(shuffled)
        assert evaluate_entry(shuffled, today) == expected
        assert evaluate_review(shuffled, TODAY, TODAY - timedelta(days=9)) == evaluate_review(
            history, TODAY, TODAY - timedelta(days=9)
        )


def test_inputs_are_left_untouched():
    history = days([-3, -2, -1], leg=2)
    snapshot = list(history)
    evaluate_entry(history, entry(leg=8))
    evaluate_review(history, TODAY, TODAY - timedelta(days=60))
    assert history == snapshot


def test_two_entries_for_one_day_the_later_one_wins():
    # A second check-in replaces the first: 8 then 2 on the same day means the day was a 2.
    history = [entry(-1, leg=8), entry(-1, leg=2)]
    assert evaluate_entry(history, entry(leg=8)) == []
    assert rules(evaluate_entry(history[::-1], entry(leg=8))) == ["severe_pain_run"]


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"leg_pain": 11},
        {"leg_pain": -1},
        {"back_pain": 7.5},
        {"back_pain": True},
        {"exercises": "maybe"},
        {"exercises": "No"},
    ],
    ids=str,
)
def test_impossible_diary_entry_is_rejected(kwargs):
    values = {
        "day": TODAY,
        "leg_pain": 3,
        "back_pain": 2,
        "numbness": False,
        "weakness": False,
        "weakness_worsening": False,
        "red_flag": False,
        "exercises": "yes",
        **kwargs,
    }
    with pytest.raises(ValueError):
        DiaryEntry(**values)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"worsening_min_points": 0},
        {"worsening_min_percent": -5},
        {"baseline_days": 0},
        {"baseline_min_entries": 8},
        {"severe_pain": 11},
        {"severe_pain_days": 0},
        {"review_no_improvement_weeks": 0},
        {"review_missed_checkins": 0},
        {"review_skipped_days": 8},
        {"review_skipped_window": 0},
    ],
    ids=str,
)
def test_thresholds_that_could_never_fire_are_rejected(kwargs):
    with pytest.raises(ValueError):
        Thresholds(**kwargs)


def test_default_thresholds_are_the_design_defaults():
    assert Thresholds() == Thresholds(
        worsening_min_points=2,
        worsening_min_percent=30.0,
        baseline_days=7,
        baseline_min_entries=3,
        severe_pain=8,
        severe_pain_days=2,
        review_no_improvement_weeks=8,
        review_missed_checkins=3,
        review_skipped_days=5,
        review_skipped_window=7,
    )


# --- a day with more than one check-in ---------------------------------------------------------


def test_a_rise_since_this_mornings_check_in_is_a_worsening_like_any_other():
    # A rough week at 8 (9 is no rise on that baseline); 6 this morning, 9 now: 3 points and
    # 50% above the morning.
    history = days(range(-7, 0), leg=8)
    morning = DiaryEntry(**{**vars(entry(0, leg=6)), "at": "08:10"})
    now = entry(0, leg=9)
    decisions = evaluate_entry(history, now, earlier_today=[morning])
    rise = [d for d in decisions if d.rule == "pain_rise:leg"]
    assert len(rise) == 1
    assert "9/10 is 3 points (50%) above the 6/10 reported earlier the same day at 08:10" in (
        rise[0].reason
    )
    assert rise[0].figures["earlier_today"] == 6


def test_a_small_rise_within_the_day_is_not_a_worsening():
    history = days(range(-7, 0), leg=6)
    assert evaluate_entry(history, entry(0, leg=7), earlier_today=[entry(0, leg=6)]) == []


def test_a_rise_above_the_baseline_is_reported_once_even_with_a_morning_check_in():
    # 2 all week, 3 this morning, 6 now: above both; one decision for the leg, from the baseline.
    history = days(range(-7, 0), leg=2)
    decisions = evaluate_entry(history, entry(0, leg=6), earlier_today=[entry(0, leg=3)])
    assert rules(decisions) == ["pain_rise:leg"]
    assert "baseline" in decisions[0].reason


def test_numbness_that_started_since_this_morning_is_new():
    history = days(range(-3, 0))
    decisions = evaluate_entry(history, entry(0, numb=True), earlier_today=[entry(0)])
    assert rules(decisions) == ["new_neuro"]


def test_numbness_reported_this_morning_is_not_new_again_tonight():
    history = days(range(-3, 0))
    assert evaluate_entry(history, entry(0, numb=True), earlier_today=[entry(0, numb=True)]) == []


def test_the_later_check_in_of_a_day_is_the_one_that_counts_for_later_days():
    # Yesterday: 9 in the morning, 2 at night (later wins); today 9 is no "severe run".
    history = [entry(-1, leg=9), entry(-1, leg=2)]
    assert "severe_pain_run" not in rules(evaluate_entry(history, entry(0, leg=9)))
    history = [entry(-1, leg=2), entry(-1, leg=9)]
    assert "severe_pain_run" in rules(evaluate_entry(history, entry(0, leg=9)))


def test_questions_not_asked_after_a_red_flag_are_not_counted_as_answers():
    closed = DiaryEntry(**{**vars(entry(0, flag=True)), "exercises": None})
    assert rules(evaluate_entry([], closed)) == ["red_flag"]
    enrolled = TODAY - timedelta(days=30)
    unasked = [DiaryEntry(**{**vars(entry(o)), "exercises": None}) for o in range(-7, 0)]
    assert "exercises_skipped" not in rules(evaluate_review(unasked, TODAY, enrolled))
    said_no = days(range(-7, 0), ex="no")
    assert "exercises_skipped" in rules(evaluate_review(said_no, TODAY, enrolled))
