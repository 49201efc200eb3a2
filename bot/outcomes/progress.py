"""A patient's progress, as plain values: pain per day with a 7-day mean, exercise adherence,
alert events, and whether the change since the start is clinically important.

Pure: entries in, values out; no database, no clock. A change is clinically important when it
is at least 2 points **and** at least 30% on the 0-10 scale (the minimal clinically important
change for pain in low back pain and sciatica: Ostelo et al., Spine 2008).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

MIN_DAYS = 3  # fewer days with a check-in: nothing to chart yet
IMPORTANT_POINTS = 2
IMPORTANT_PERCENT = 30
WINDOW = 3  # days averaged at the start and at the end, so one odd day does not decide
ADHERENCE = {"yes": 1.0, "partly": 0.5, "no": 0.0}


@dataclass(frozen=True)
class Day:
    day: date
    leg: int
    back: int
    exercises: float | None  # 1 done, 0.5 partly, 0 not done, None not asked


@dataclass(frozen=True)
class Event:
    day: date
    level: str  # urgent | worsening


@dataclass(frozen=True)
class Change:
    site: str  # leg | back
    start: float
    now: float

    @property
    def points(self) -> float:
        return self.now - self.start

    @property
    def percent(self) -> float | None:
        return None if self.start == 0 else abs(self.points) / self.start * 100

    @property
    def important(self) -> bool:
        """At least 2 points and 30% (from 0, any rise of 2 points counts)."""
        if abs(self.points) < IMPORTANT_POINTS:
            return False
        return self.percent is None or self.percent >= IMPORTANT_PERCENT

    @property
    def direction(self) -> str:
        """better | worse | same (not a clinically important change)."""
        if not self.important:
            return "same"
        return "better" if self.points < 0 else "worse"


@dataclass(frozen=True)
class Progress:
    days: list[Day]
    events: list[Event]

    @property
    def enough(self) -> bool:
        return len(self.days) >= MIN_DAYS

    def mean7(self, site: str) -> list[float]:
        """For each day, the mean over the 7 days up to it (days without a check-in skipped)."""
        out = []
        for d in self.days:
            window = [x for x in self.days if d.day - timedelta(days=6) <= x.day <= d.day]
            out.append(sum(getattr(x, site) for x in window) / len(window))
        return out

    def change(self, site: str) -> Change:
        return Change(site, mean(self.days[:WINDOW], site), mean(self.days[-WINDOW:], site))

    def adherence(self, since: date | None = None) -> float | None:
        """Share of check-ins (since a day) where the exercises were done (partly counts half)."""
        answers = [
            d.exercises
            for d in self.days
            if d.exercises is not None and (since is None or d.day >= since)
        ]
        return sum(answers) / len(answers) if answers else None


def build(entries: Iterable, alerts: Iterable[tuple[date, str]] = ()) -> Progress:
    """Progress from diary entries (anything with local_day, leg_pain, back_pain, exercises,
    oldest first: of a day's check-ins the latest counts) and (day, level) of alerts."""
    by_day: dict[date, Day] = {}
    for e in entries:
        by_day[e.local_day] = Day(
            e.local_day, e.leg_pain, e.back_pain, ADHERENCE.get(e.exercises or "")
        )
    events = [Event(day, level) for day, level in alerts if level in ("urgent", "worsening")]
    return Progress(sorted(by_day.values(), key=lambda d: d.day), sorted(events, key=_event_key))


def _event_key(e: Event) -> tuple[date, str]:
    return e.day, e.level


def weeks(progress: Progress, today: date) -> tuple[list[Day], list[Day]]:
    """The days with a check-in in the last 7 days before ``today``, and in the 7 before."""
    week_ago, fortnight_ago = today - timedelta(days=7), today - timedelta(days=14)
    this = [d for d in progress.days if week_ago <= d.day < today]
    last = [d for d in progress.days if fortnight_ago <= d.day < week_ago]
    return this, last


def mean(days: Sequence[Day], site: str) -> float:
    return sum(getattr(d, site) for d in days) / len(days)


def weekly_change(progress: Progress, today: date, site: str) -> Change | None:
    """The last 7 days (before ``today``) against the 7 before them, for one site; None
    without a check-in in both weeks."""
    this, last = weeks(progress, today)
    if not this or not last:
        return None
    return Change(site, mean(last, site), mean(this, site))
