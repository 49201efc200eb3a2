"""When a patient's diary should reach the clinic, and how fast.

Three levels, from DESIGN.md ("Escalation to the clinic"):

* **urgent**: a possible cauda equina syndrome or a fast-progressing nerve problem. The patient
  is told to seek emergency care and the clinic is alerted at once.
* **worsening**: the patient is clearly worse than their own recent normal, or in severe pain
  for days, or has a new nerve symptom. The clinic gets a routine alert and gets in touch.
* **review**: nothing alarming, but the programme is not working (no improvement, missed
  check-ins, exercises not done). It goes in the daily clinic digest.

Everything here is pure: plain values in, a list of :class:`Decision` out, no clock, no database.
Each decision names a stable ``rule`` (the clinic keeps one open alert per patient and rule and
updates it), a one-sentence ``reason`` with the figures for the person reading the alert, and the
``figures`` themselves (JSON-serialisable, floats rounded to 1 decimal) for storage and display.

Comparisons are made with exact fractions, not floats, so a rise of exactly 30% is 30% and a
threshold edge behaves the same on every machine. Figures are rounded only for display.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

__all__ = [
    "EXERCISE_ANSWERS",
    "LEVELS",
    "DiaryEntry",
    "Decision",
    "Thresholds",
    "evaluate_entry",
    "evaluate_review",
]

URGENT = "urgent"
WORSENING = "worsening"
REVIEW = "review"
LEVELS = (URGENT, WORSENING, REVIEW)
EXERCISE_ANSWERS = ("yes", "partly", "no")
# "The first week" and "the last week" of the no-improvement review.
_WEEK = 7
_SITES = ("leg", "back")


@dataclass(frozen=True)
class DiaryEntry:
    """One day's check-in, as the patient answered it."""

    day: date  # patient's local date
    leg_pain: int  # 0-10
    back_pain: int  # 0-10
    numbness: bool  # numbness or tingling today
    weakness: bool  # leg weakness today
    weakness_worsening: bool  # asked only if weakness: is it getting worse quickly (hours/a day)?
    # "Yes" on the red-flag screen (bladder/bowel, saddle numbness, both legs); None: not asked
    # (the check-in closed on the urgent path first).
    red_flag: bool | None
    exercises: str | None  # "yes" | "partly" | "no"; None: not asked (closed on the urgent path)
    at: str = ""  # local time of the check-in, "HH:MM", when a day has more than one

    def __post_init__(self) -> None:
        # A bad value here is a bug upstream; failing loudly beats a silently wrong alert.
        for name in ("leg_pain", "back_pain"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
                raise ValueError(f"{name} must be a whole number from 0 to 10, got {value!r}")
        if self.exercises is not None and self.exercises not in EXERCISE_ANSWERS:
            raise ValueError(f"exercises must be one of {EXERCISE_ANSWERS}, got {self.exercises!r}")

    @property
    def worst_pain(self) -> int:
        """The higher of leg and back pain: how bad the day was, wherever it hurt."""
        return max(self.leg_pain, self.back_pain)

    def pain(self, site: str) -> int:
        return self.leg_pain if site == "leg" else self.back_pain


@dataclass(frozen=True)
class Thresholds:
    """The clinic's settings for escalation; the defaults are those in DESIGN.md."""

    worsening_min_points: int = 2
    worsening_min_percent: float = 30.0
    baseline_days: int = 7
    baseline_min_entries: int = 3
    severe_pain: int = 8
    severe_pain_days: int = 2
    review_no_improvement_weeks: int = 8
    review_missed_checkins: int = 3
    review_skipped_days: int = 5
    review_skipped_window: int = 7

    def __post_init__(self) -> None:
        positive = (
            "baseline_days",
            "baseline_min_entries",
            "severe_pain_days",
            "review_no_improvement_weeks",
            "review_missed_checkins",
            "review_skipped_days",
            "review_skipped_window",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"threshold {name} must be at least 1")
        if self.worsening_min_points < 1:
            raise ValueError("threshold worsening_min_points must be at least 1")
        if self.worsening_min_percent < 0:
            raise ValueError("threshold worsening_min_percent must not be negative")
        if not 0 <= self.severe_pain <= 10:
            raise ValueError("threshold severe_pain must be from 0 to 10")
        # Settings that make a rule impossible are a configuration mistake, not a choice.
        if self.baseline_min_entries > self.baseline_days:
            raise ValueError("threshold baseline_min_entries cannot exceed baseline_days")
        if self.review_skipped_days > self.review_skipped_window:
            raise ValueError("threshold review_skipped_days cannot exceed review_skipped_window")


@dataclass(frozen=True)
class Decision:
    """Something the clinic should hear about, with why."""

    level: str  # "urgent" | "worsening" | "review"
    rule: str  # stable identifier, for de-duplicating open alerts
    reason: str  # one sentence in plain words, with the figures
    figures: dict[str, Any] = field(default_factory=dict)  # JSON-serialisable


# --- helpers ---------------------------------------------------------------------------------


def _by_day(history: Iterable[DiaryEntry], before: date) -> dict[date, DiaryEntry]:
    """Earlier entries keyed by day.

    A day may have several check-ins: the later one in the sequence (oldest first) counts for
    that day, as it does in the diary.
    """
    days: dict[date, DiaryEntry] = {}
    for e in history:
        if e.day < before:
            days[e.day] = e
    return days


def _round(value: Fraction | float | int, places: int) -> float:
    """Round half up, as people do (6.25 -> 6.3), not half to even as ``round`` does."""
    scale = 10**places
    return float(Fraction(math.floor(Fraction(value) * scale + Fraction(1, 2)), scale))


def _r1(value: Fraction | float | int) -> float:
    return _round(value, 1)


def _num(value: Fraction | float | int) -> str:
    """3 -> "3", 2.333 -> "2.3": whole numbers read better without ".0"."""
    rounded = _r1(value)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:.1f}"


def _count(n: int, singular: str, plural: str) -> str:
    return f"{n} {singular if n == 1 else plural}"


def _mean(values: Sequence[int]) -> Fraction:
    return Fraction(sum(values), len(values))


# --- rules run when a check-in is completed ---------------------------------------------------


def evaluate_entry(
    history: Sequence[DiaryEntry],
    entry: DiaryEntry,
    t: Thresholds = Thresholds(),
    earlier_today: Sequence[DiaryEntry] = (),
) -> list[Decision]:
    """Decisions for today's completed check-in, urgent first, then worsening.

    ``history`` holds the patient's earlier entries, oldest first; entries on or after
    ``entry.day`` are ignored (today's own entry is ``entry``; anything later is not "earlier").
    ``earlier_today`` holds the check-ins made earlier the same day, oldest first: a rise since
    the last of them is judged like a rise from the patient's own baseline ("6 this morning,
    9 now"), and a nerve symptom it did not have is new.
    """
    earlier = _by_day(history, entry.day)
    decisions = _urgent(entry)
    rises = _pain_rise(earlier, entry, t)
    if earlier_today:
        risen = {d.rule for d in rises}
        rises += [d for d in _rise_within_day(earlier_today[-1], entry, t) if d.rule not in risen]
    decisions += rises
    decisions += _severe_pain_run(earlier, entry, t)
    decisions += _new_neuro(earlier, entry, earlier_today[-1] if earlier_today else None)
    return decisions


def _urgent(entry: DiaryEntry) -> list[Decision]:
    """Red flags and fast-worsening weakness: urgent whatever the pain score.

    Cauda equina syndrome can come with little pain, so a low score never softens a red flag.
    """
    figures = {
        "day": entry.day.isoformat(),
        "leg_pain": entry.leg_pain,
        "back_pain": entry.back_pain,
    }
    decisions = []
    if entry.red_flag:
        decisions.append(
            Decision(
                URGENT,
                "red_flag",
                "Answered Yes on the red-flag screen (bladder or bowel control, numbness around "
                "the genitals or back passage, or symptoms in both legs); leg pain "
                f"{entry.leg_pain}/10, back pain {entry.back_pain}/10.",
                dict(figures),
            )
        )
    if entry.weakness and entry.weakness_worsening:
        decisions.append(
            Decision(
                URGENT,
                "weakness_worsening",
                "Leg weakness that is getting worse quickly (over hours or a day); leg pain "
                f"{entry.leg_pain}/10, back pain {entry.back_pain}/10.",
                dict(figures),
            )
        )
    return decisions


SAFETY_STEPS = ("red_flag", "weakness_worsening")


def late_safety_yes(step: str) -> Decision | None:
    """A Yes on a safety question of an older check-in message (out of date, already answered,
    or shown while an edit failed) is still a red flag: it is never dismissed as stale."""
    if step == "red_flag":
        return Decision(
            URGENT,
            "red_flag",
            "Answered Yes on the red-flag screen of an earlier check-in message (bladder or "
            "bowel control, numbness around the genitals or back passage, or symptoms in both "
            "legs).",
            {"source": "earlier check-in message"},
        )
    if step == "weakness_worsening":
        return Decision(
            URGENT,
            "weakness_worsening",
            "Answered Yes, on an earlier check-in message, to leg weakness getting worse quickly.",
            {"source": "earlier check-in message"},
        )
    return None


def _pain_rise(earlier: dict[date, DiaryEntry], entry: DiaryEntry, t: Thresholds) -> list[Decision]:
    """Pain clearly above the patient's own recent normal, leg and back judged separately.

    The baseline is the mean over the previous ``baseline_days`` days (not counting today), and
    needs ``baseline_min_entries`` entries to mean anything. Both an absolute rise (points) and
    a relative one (percent) are required: +2 from 7 is within a bad patient's day-to-day
    wobble (29%), +2 from 3 is not (67%). From a baseline of 0 any rise of enough points counts
    (the percentage is infinite and reported as ``None``).

    One decision per site, with rule ids ``pain_rise:leg`` and ``pain_rise:back``, so a clinic
    that already has the leg alert open is still told when the back worsens too.
    """
    first_day = entry.day - timedelta(days=t.baseline_days)
    window = [e for d, e in earlier.items() if first_day <= d]
    if len(window) < t.baseline_min_entries:
        return []
    decisions = []
    for site in _SITES:
        pain = entry.pain(site)
        baseline = _mean([e.pain(site) for e in window])
        points = pain - baseline
        if points < t.worsening_min_points:
            continue
        percent = None if baseline == 0 else points / baseline * 100
        if percent is not None and percent < Fraction(t.worsening_min_percent):
            continue
        rise = f"{_num(points)} points" + (
            f" ({_round(percent, 0):.0f}%)" if percent is not None else ""
        )
        decisions.append(
            Decision(
                WORSENING,
                f"pain_rise:{site}",
                f"{site.capitalize()} pain {pain}/10 is {rise} above the {t.baseline_days}-day "
                f"baseline of {_r1(baseline):.1f} ({_count(len(window), 'entry', 'entries')}).",
                {
                    "site": site,
                    "pain": pain,
                    "baseline": _r1(baseline),
                    "entries": len(window),
                    "points": _r1(points),
                    "percent": None if percent is None else _r1(percent),
                },
            )
        )
    return decisions


def _rise_within_day(before: DiaryEntry, entry: DiaryEntry, t: Thresholds) -> list[Decision]:
    """A rise since the check-in earlier the same day, by the same points-and-percent test
    as a rise from the baseline, and under the same rule ids (one open alert per site)."""
    decisions = []
    for site in _SITES:
        was, now = before.pain(site), entry.pain(site)
        points = now - was
        if points < t.worsening_min_points:
            continue
        percent = None if was == 0 else Fraction(points, was) * 100
        if percent is not None and percent < Fraction(t.worsening_min_percent):
            continue
        rise = f"{points} points" + (f" ({_round(percent, 0):.0f}%)" if percent is not None else "")
        when = f" at {before.at}" if before.at else ""
        decisions.append(
            Decision(
                WORSENING,
                f"pain_rise:{site}",
                f"{site.capitalize()} pain {now}/10 is {rise} above the {was}/10 reported "
                f"earlier the same day{when}.",
                {
                    "site": site,
                    "pain": now,
                    "earlier_today": was,
                    "earlier_at": before.at or None,
                    "points": points,
                    "percent": None if percent is None else _r1(percent),
                },
            )
        )
    return decisions


def _severe_pain_run(
    earlier: dict[date, DiaryEntry], entry: DiaryEntry, t: Thresholds
) -> list[Decision]:
    """Severe pain (leg or back, whichever is higher) on consecutive calendar days to today.

    A day without a check-in breaks the run: we cannot assume how that day was, and a run of
    severe days is what makes this worth a call, not two bad days a week apart.
    The run is followed back as far as it goes, so the alert can say "4 days running".
    """
    if entry.worst_pain < t.severe_pain:
        return []
    run = [entry]
    day = entry.day - timedelta(days=1)
    while day in earlier and earlier[day].worst_pain >= t.severe_pain:
        run.append(earlier[day])
        day -= timedelta(days=1)
    if len(run) < t.severe_pain_days:
        return []
    run.reverse()
    scores = ", ".join(f"{e.worst_pain}/10 on {e.day.isoformat()}" for e in run)
    return [
        Decision(
            WORSENING,
            "severe_pain_run",
            f"Pain {t.severe_pain}/10 or more on {len(run)} days running ({scores}).",
            {
                "threshold": t.severe_pain,
                "days": len(run),
                "run": [
                    {"day": e.day.isoformat(), "leg_pain": e.leg_pain, "back_pain": e.back_pain}
                    for e in run
                ],
            },
        )
    ]


def _new_neuro(
    earlier: dict[date, DiaryEntry], entry: DiaryEntry, earlier_today: DiaryEntry | None = None
) -> list[Decision]:
    """Numbness or weakness now that the most recent earlier check-in did not report (the one
    earlier the same day, if there was one).

    A new nerve symptom means the nerve root is more irritated or compressed than before; a
    symptom that was already there is known to the clinic. With no earlier entry there is
    nothing to compare with: the first check-in is the baseline, and what it shows was seen at
    assessment, so it is not "new". (Red flags on the first check-in are still urgent.)
    """
    if earlier_today is not None:
        previous = earlier_today
    elif earlier:
        previous = earlier[max(earlier)]
    else:
        return []
    new_numbness = entry.numbness and not previous.numbness
    new_weakness = entry.weakness and not previous.weakness
    if not (new_numbness or new_weakness):
        return []
    what = " and ".join(
        name
        for name, new in (("leg weakness", new_weakness), ("numbness or tingling", new_numbness))
        if new
    )
    return [
        Decision(
            WORSENING,
            "new_neuro",
            f"New {what}, not reported at the previous check-in on {previous.day.isoformat()}"
            + (f" at {previous.at}." if previous is earlier_today and previous.at else "."),
            {
                "numbness": new_numbness,
                "weakness": new_weakness,
                "previous_day": previous.day.isoformat(),
                "days_since_previous": (entry.day - previous.day).days,
            },
        )
    ]


# --- periodic review, for the daily clinic digest ------------------------------------------------


def evaluate_review(
    history: Sequence[DiaryEntry], today: date, enrolled_on: date, t: Thresholds = Thresholds()
) -> list[Decision]:
    """Review notes for the clinic digest on ``today``.

    Only completed days count: entries on or after ``today`` are ignored (the patient may not
    have checked in yet today), as are entries before ``enrolled_on``. The caller skips patients
    who have paused the diary (on holiday); a pause is not a missed check-in.
    """
    earlier = {d: e for d, e in _by_day(history, today).items() if d >= enrolled_on}
    return [
        *_no_improvement(earlier, today, enrolled_on, t),
        *_missed_checkins(earlier, today, enrolled_on, t),
        *_exercises_skipped(earlier, today, t),
    ]


def _no_improvement(
    earlier: dict[date, DiaryEntry], today: date, enrolled_on: date, t: Thresholds
) -> list[Decision]:
    """After N weeks in the programme, the last week is no better than the first.

    Judged on the worst pain of each day (the higher of leg and back), so an improvement in
    one site masking a worsening in the other does not count as progress. Both weeks need at
    least one entry. A patient whose last week averaged 0 has nothing left to improve.
    """
    days_enrolled = (today - enrolled_on).days
    if days_enrolled < t.review_no_improvement_weeks * _WEEK:
        return []
    first_end = enrolled_on + timedelta(days=_WEEK - 1)
    last_start = today - timedelta(days=_WEEK)
    first = [e.worst_pain for d, e in earlier.items() if d <= first_end]
    last = [e.worst_pain for d, e in earlier.items() if d >= last_start]
    if not first or not last:
        return []
    first_mean, last_mean = _mean(first), _mean(last)
    if last_mean < first_mean or last_mean == 0:
        return []
    last_n = _count(len(last), "entry", "entries")
    first_n = _count(len(first), "entry", "entries")
    return [
        Decision(
            REVIEW,
            "no_improvement",
            f"No improvement after {days_enrolled // _WEEK} weeks: worst pain averaged "
            f"{_r1(last_mean):.1f}/10 over the last 7 days ({last_n}), "
            f"against {_r1(first_mean):.1f}/10 in the first week ({first_n}).",
            {
                "days_enrolled": days_enrolled,
                "weeks_enrolled": days_enrolled // _WEEK,
                "first_mean": _r1(first_mean),
                "first_entries": len(first),
                "last_mean": _r1(last_mean),
                "last_entries": len(last),
            },
        )
    ]


def _missed_checkins(
    earlier: dict[date, DiaryEntry], today: date, enrolled_on: date, t: Thresholds
) -> list[Decision]:
    """No check-in on each of the last N days before today, counting only enrolled days.

    The enrolment day counts (the first check-in is part of joining). A patient enrolled two
    days ago cannot have missed three. The streak is followed back to the last entry (or to
    enrolment), so the digest can say how long it has been.
    """
    missed = 0
    day = today - timedelta(days=1)
    while day >= enrolled_on and day not in earlier:
        missed += 1
        day -= timedelta(days=1)
    if missed < t.review_missed_checkins:
        return []
    last_entry = max(earlier) if earlier else None
    since = (
        f"last entry {last_entry.isoformat()}"
        if last_entry
        else f"no entry since enrolment on {enrolled_on.isoformat()}"
    )
    return [
        Decision(
            REVIEW,
            "missed_checkins",
            f"No check-in for the last {_count(missed, 'day', 'days')} ({since}).",
            {
                "days_missed": missed,
                "last_entry": last_entry.isoformat() if last_entry else None,
            },
        )
    ]


def _exercises_skipped(
    earlier: dict[date, DiaryEntry], today: date, t: Thresholds
) -> list[Decision]:
    """Exercises answered "no" on at least N of the last W days.

    Only an explicit "no" counts: "partly" is effort, and a day without a check-in says
    nothing about the exercises (missed check-ins have their own rule).
    """
    start = today - timedelta(days=t.review_skipped_window)
    window = [e for d, e in earlier.items() if d >= start]
    skipped = sum(1 for e in window if e.exercises == "no")
    if skipped < t.review_skipped_days:
        return []
    return [
        Decision(
            REVIEW,
            "exercises_skipped",
            f"Exercises skipped on {skipped} of the last {t.review_skipped_window} days "
            f"({_count(len(window), 'check-in', 'check-ins')} in that time).",
            {
                "skipped_days": skipped,
                "window_days": t.review_skipped_window,
                "entries": len(window),
            },
        )
    ]
