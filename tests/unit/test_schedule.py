"""Reminder scheduling: wall-clock times in a patient's zone, fired once per local day.

Expected instants are written out by hand (checked against the 2026 rules of each zone), never
recomputed with the code under test. The year-long runs and the minute-by-minute sweep over the
transition days are the safety net for everything the hand-written cases miss.

2026 transitions used here:
* Europe/London: spring forward 29 Mar 01:00 GMT -> 02:00 BST; fall back 25 Oct 02:00 -> 01:00.
* America/New_York: 8 Mar 02:00 EST -> 03:00 EDT; 1 Nov 02:00 EDT -> 01:00 EST.
* Australia/Sydney: 5 Apr 03:00 AEDT -> 02:00 AEST; 4 Oct 02:00 AEST -> 03:00 AEDT.
* Australia/Lord_Howe (30-minute shift): 5 Apr 02:00 -> 01:30; 4 Oct 02:00 -> 02:30.
* America/Havana (changes at midnight): 8 Mar 00:00 -> 01:00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from bot.rules.schedule import (
    QUIET_END,
    QUIET_START,
    SEND,
    SKIP,
    WAIT,
    DueDecision,
    decide,
    in_quiet_hours,
    is_allowed_time,
    local_date,
    next_occurrence,
    nudge_time,
    occurrences,
    snooze_until,
)

LONDON = "Europe/London"
NEW_YORK = "America/New_York"
SYDNEY = "Australia/Sydney"
KOLKATA = "Asia/Kolkata"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at(tz: str, *args: int, fold: int = 0) -> datetime:
    """An aware wall-clock datetime in ``tz`` (fold=1 for the second of two occurrences)."""
    return datetime(*args, tzinfo=ZoneInfo(tz), fold=fold)


# --- next_occurrence: one case per row ------------------------------------------------------

NEXT_CASES = [
    # (local, tz, after, expected UTC instant)
    pytest.param(time(9), LONDON, utc(2026, 1, 15, 6), utc(2026, 1, 15, 9), id="london-winter"),
    pytest.param(time(9), LONDON, utc(2026, 7, 15, 6), utc(2026, 7, 15, 8), id="london-summer"),
    pytest.param(time(9), NEW_YORK, utc(2026, 1, 15), utc(2026, 1, 15, 14), id="ny-winter"),
    pytest.param(time(9), NEW_YORK, utc(2026, 7, 15), utc(2026, 7, 15, 13), id="ny-summer"),
    # Later the same day has passed: tomorrow.
    pytest.param(time(9), LONDON, utc(2026, 1, 15, 12), utc(2026, 1, 16, 9), id="passed-today"),
    # `after` exactly at the occurrence: strictly after, so the next day.
    pytest.param(time(9), LONDON, utc(2026, 6, 1, 8), utc(2026, 6, 2, 8), id="after-exactly-at"),
    pytest.param(
        time(9),
        LONDON,
        utc(2026, 6, 1, 8) - timedelta(microseconds=1),
        utc(2026, 6, 1, 8),
        id="after-1us-before",
    ),
    # `after` may be in any zone: only the instant matters.
    pytest.param(
        time(9), LONDON, at(NEW_YORK, 2026, 6, 1, 3, 59), utc(2026, 6, 1, 8), id="after-in-ny-tz"
    ),
    pytest.param(
        time(9), LONDON, at(NEW_YORK, 2026, 6, 1, 4), utc(2026, 6, 2, 8), id="after-in-ny-tz-at"
    ),
    # Seconds are ignored: reminders have minute precision.
    pytest.param(
        time(9, 0, 45), LONDON, utc(2026, 1, 15), utc(2026, 1, 15, 9), id="seconds-dropped"
    ),
    # London spring forward: 01:00-01:59 does not exist on 29 Mar.
    pytest.param(
        time(0, 59), LONDON, utc(2026, 3, 28, 12), utc(2026, 3, 29, 0, 59), id="ldn-pre-gap"
    ),
    pytest.param(time(1), LONDON, utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="ldn-gap-start"),
    pytest.param(time(1, 30), LONDON, utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="ldn-gap-0130"),
    pytest.param(time(1, 59), LONDON, utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="ldn-gap-end"),
    pytest.param(time(2), LONDON, utc(2026, 3, 28, 12), utc(2026, 3, 29, 1), id="ldn-post-gap"),
    pytest.param(
        time(1, 30), LONDON, utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30), id="ldn-gap-next"
    ),
    # London fall back: 01:00-01:59 happens twice on 25 Oct; the first (BST) one fires.
    pytest.param(
        time(1, 30), LONDON, utc(2026, 10, 24, 12), utc(2026, 10, 25, 0, 30), id="ldn-fold"
    ),
    pytest.param(
        time(1, 30),
        LONDON,
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
        id="ldn-fold-not-2nd",
    ),
    pytest.param(
        time(1, 30), LONDON, utc(2026, 10, 25, 1), utc(2026, 10, 26, 1, 30), id="ldn-fold-between"
    ),
    pytest.param(
        time(1, 30),
        LONDON,
        at(LONDON, 2026, 10, 25, 1, 30, fold=1),
        utc(2026, 10, 26, 1, 30),
        id="ldn-fold-after-is-2nd-occurrence",
    ),
    pytest.param(
        time(1, 30),
        LONDON,
        at(LONDON, 2026, 10, 25, 1, 0, fold=0),
        utc(2026, 10, 25, 0, 30),
        id="ldn-fold-after-is-1st-0100",
    ),
    pytest.param(time(2), LONDON, utc(2026, 10, 24, 12), utc(2026, 10, 25, 2), id="ldn-fold-after"),
    # New York: DST changes at 02:00 local.
    pytest.param(time(2, 30), NEW_YORK, utc(2026, 3, 7, 12), utc(2026, 3, 8, 7), id="ny-gap-0230"),
    pytest.param(time(2), NEW_YORK, utc(2026, 3, 7, 12), utc(2026, 3, 8, 7), id="ny-gap-0200"),
    pytest.param(time(3), NEW_YORK, utc(2026, 3, 7, 12), utc(2026, 3, 8, 7), id="ny-post-gap"),
    pytest.param(
        time(1, 30), NEW_YORK, utc(2026, 10, 31, 12), utc(2026, 11, 1, 5, 30), id="ny-fold"
    ),
    pytest.param(
        time(1, 30),
        NEW_YORK,
        utc(2026, 11, 1, 5, 30),
        utc(2026, 11, 2, 6, 30),
        id="ny-fold-not-2nd",
    ),
    # Sydney (southern hemisphere): DST ends in April, starts in October.
    pytest.param(time(9), SYDNEY, utc(2026, 1, 15), utc(2026, 1, 15, 22), id="syd-summer"),
    pytest.param(time(9), SYDNEY, utc(2026, 7, 15), utc(2026, 7, 15, 23), id="syd-winter"),
    pytest.param(time(2, 30), SYDNEY, utc(2026, 4, 4), utc(2026, 4, 4, 15, 30), id="syd-fold-apr"),
    pytest.param(
        time(2, 30), SYDNEY, utc(2026, 4, 4, 15, 30), utc(2026, 4, 5, 16, 30), id="syd-fold-not-2nd"
    ),
    pytest.param(time(2, 30), SYDNEY, utc(2026, 10, 3), utc(2026, 10, 3, 16), id="syd-gap-oct"),
    # Kolkata: +05:30 all year, no DST.
    pytest.param(time(9), KOLKATA, utc(2026, 1, 1), utc(2026, 1, 1, 3, 30), id="kolkata-jan"),
    pytest.param(time(9), KOLKATA, utc(2026, 7, 1), utc(2026, 7, 1, 3, 30), id="kolkata-jul"),
    # Local date ahead of UTC: 04:00 IST on 2 Jan is 22:30 UTC on 1 Jan.
    pytest.param(
        time(4), KOLKATA, utc(2026, 1, 1, 12), utc(2026, 1, 1, 22, 30), id="kolkata-early"
    ),
    # Other half- and quarter-hour zones.
    pytest.param(
        time(9), "Asia/Kathmandu", utc(2026, 5, 1), utc(2026, 5, 1, 3, 15), id="kathmandu"
    ),
    pytest.param(
        time(2, 30), "Australia/Adelaide", utc(2026, 10, 3), utc(2026, 10, 3, 16, 30), id="adl-gap"
    ),
    pytest.param(
        time(2, 15), "Australia/Lord_Howe", utc(2026, 10, 3), utc(2026, 10, 3, 15, 30), id="lhi-gap"
    ),
    pytest.param(
        time(1, 45), "Australia/Lord_Howe", utc(2026, 4, 4), utc(2026, 4, 4, 14, 45), id="lhi-fold"
    ),
    # Zones that change at midnight.
    pytest.param(
        time(0, 30), "America/Havana", utc(2026, 3, 7, 12), utc(2026, 3, 8, 5), id="havana-gap-0030"
    ),
    pytest.param(
        time(23, 30),
        "America/Sao_Paulo",
        utc(2018, 2, 17, 12),
        utc(2018, 2, 18, 1, 30),
        id="saopaulo-fold-2330",
    ),
    # Samoa skipped 30 Dec 2011 entirely: no firing for that date, next one on 31 Dec (+14).
    pytest.param(
        time(9), "Pacific/Apia", utc(2011, 12, 29, 22), utc(2011, 12, 30, 19), id="apia-lost-day"
    ),
]


@pytest.mark.parametrize(("local", "tz", "after", "expected"), NEXT_CASES)
def test_next_occurrence(local: time, tz: str, after: datetime, expected: datetime) -> None:
    result = next_occurrence(local, tz, after)
    assert result == expected
    assert result.tzinfo is UTC  # stored as UTC, as DESIGN.md asks
    assert result > after


# --- a whole year, one firing per local day ----------------------------------------------------

YEAR_CASES = [
    # (tz, {date the UTC offset of the 09:00 firing changes: new offset}, offset on 1 Jan)
    pytest.param(
        LONDON,
        {date(2026, 3, 29): timedelta(hours=1), date(2026, 10, 25): timedelta(0)},
        timedelta(0),
        id="london",
    ),
    pytest.param(
        NEW_YORK,
        {date(2026, 3, 8): timedelta(hours=-4), date(2026, 11, 1): timedelta(hours=-5)},
        timedelta(hours=-5),
        id="new-york",
    ),
    pytest.param(
        SYDNEY,
        {date(2026, 4, 5): timedelta(hours=10), date(2026, 10, 4): timedelta(hours=11)},
        timedelta(hours=11),
        id="sydney",
    ),
    pytest.param(
        "Australia/Lord_Howe",
        {date(2026, 4, 5): timedelta(hours=10, minutes=30), date(2026, 10, 4): timedelta(hours=11)},
        timedelta(hours=11),
        id="lord-howe",
    ),
    pytest.param(KOLKATA, {}, timedelta(hours=5, minutes=30), id="kolkata"),
]


@pytest.mark.parametrize(("tz", "changes", "first_offset"), YEAR_CASES)
def test_0900_fires_once_every_local_day_of_2026(
    tz: str, changes: dict[date, timedelta], first_offset: timedelta
) -> None:
    start = at(tz, 2026, 1, 1, 0, 0)
    end = at(tz, 2026, 12, 31, 23, 59)
    fired = occurrences(time(9), tz, start, end)

    assert len(fired) == 365
    locals_ = [instant.astimezone(ZoneInfo(tz)) for instant in fired]
    assert all(moment.time() == time(9) for moment in locals_)
    assert [moment.date() for moment in locals_] == [
        date(2026, 1, 1) + timedelta(days=n) for n in range(365)
    ]
    assert locals_[0].utcoffset() == first_offset

    # The offset changes on exactly the expected days, to the expected value, and the gap
    # between two firings is 24 h except across a change (shorter in spring, longer in autumn).
    seen: dict[date, timedelta] = {}
    for before, after in zip(locals_, locals_[1:], strict=False):
        if after.utcoffset() != before.utcoffset():
            seen[after.date()] = after.utcoffset()
        real_gap = after.astimezone(UTC) - before.astimezone(UTC)
        assert real_gap == timedelta(days=1) - (after.utcoffset() - before.utcoffset())
    assert seen == changes


# --- every minute of every transition day fires once -------------------------------------------

TRANSITION_DAYS = [
    pytest.param(LONDON, date(2026, 3, 29), id="london-spring"),
    pytest.param(LONDON, date(2026, 10, 25), id="london-autumn"),
    pytest.param(NEW_YORK, date(2026, 3, 8), id="ny-spring"),
    pytest.param(NEW_YORK, date(2026, 11, 1), id="ny-autumn"),
    pytest.param(SYDNEY, date(2026, 4, 5), id="sydney-autumn"),
    pytest.param(SYDNEY, date(2026, 10, 4), id="sydney-spring"),
    pytest.param("Australia/Lord_Howe", date(2026, 10, 4), id="lord-howe-spring"),
    pytest.param("America/Havana", date(2026, 3, 8), id="havana-midnight"),
]


@pytest.mark.parametrize(("tz", "day"), TRANSITION_DAYS)
def test_every_minute_fires_exactly_once_on_a_transition_day(tz: str, day: date) -> None:
    zone = ZoneInfo(tz)
    # From noon the day before to noon the day after: exactly one firing falls on `day`.
    start = datetime.combine(day - timedelta(days=1), time(12), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(12), tzinfo=zone)
    for minute in range(24 * 60):
        wall = time(minute // 60, minute % 60)
        fired = occurrences(wall, tz, start, end)
        on_day = [f for f in fired if local_date(f, tz) == day]
        assert len(on_day) == 1, (wall, fired)
        shown = on_day[0].astimezone(zone)
        naive = datetime.combine(day, wall)
        if shown.replace(tzinfo=None) == naive:
            # The time exists: it fires at its first occurrence (no earlier instant shows it).
            earlier = on_day[0] - timedelta(hours=1)
            assert earlier.astimezone(zone).replace(tzinfo=None) != naive
        else:
            # The time is in the gap: it fires at the first minute after it, within the hour.
            assert naive < shown.replace(tzinfo=None) <= naive + timedelta(hours=1)
            just_before = (on_day[0] - timedelta(minutes=1)).astimezone(zone)
            assert just_before.replace(tzinfo=None) < naive  # the minute before is pre-gap


# --- occurrences -----------------------------------------------------------------------------

OCCURRENCE_CASES = [
    # (local, tz, start, end, expected)
    pytest.param(
        time(1, 30),
        LONDON,
        utc(2026, 3, 28),
        utc(2026, 3, 31),
        [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)],
        id="london-0130-spring-once",
    ),
    pytest.param(
        time(1, 30),
        LONDON,
        utc(2026, 10, 24),
        utc(2026, 10, 27),
        [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        id="london-0130-autumn-once-not-twice",
    ),
    pytest.param(
        time(2, 30),
        NEW_YORK,
        utc(2026, 3, 7),
        utc(2026, 3, 10),
        [utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)],
        id="ny-0230-spring",
    ),
    pytest.param(
        time(9),
        LONDON,
        utc(2026, 1, 1, 9),
        utc(2026, 1, 2, 9),
        [utc(2026, 1, 2, 9)],
        id="start-exclusive-end-inclusive",
    ),
    pytest.param(time(9), LONDON, utc(2026, 1, 1, 10), utc(2026, 1, 2, 8), [], id="none-in-range"),
    pytest.param(time(9), LONDON, utc(2026, 1, 2), utc(2026, 1, 2), [], id="empty-interval"),
    pytest.param(time(9), LONDON, utc(2026, 1, 3), utc(2026, 1, 1), [], id="end-before-start"),
]


@pytest.mark.parametrize(("local", "tz", "start", "end", "expected"), OCCURRENCE_CASES)
def test_occurrences(
    local: time, tz: str, start: datetime, end: datetime, expected: list[datetime]
) -> None:
    assert occurrences(local, tz, start, end) == expected


# --- bad input -------------------------------------------------------------------------------

BAD_INPUT_CASES = [
    pytest.param(
        lambda: next_occurrence(time(9), LONDON, datetime(2026, 1, 1)), ValueError, id="naive-after"
    ),
    pytest.param(
        lambda: next_occurrence(time(9, tzinfo=UTC), LONDON, utc(2026, 1, 1)),
        ValueError,
        id="aware-local-time",
    ),
    pytest.param(
        lambda: next_occurrence(time(9), "Mars/Olympus_Mons", utc(2026, 1, 1)),
        ZoneInfoNotFoundError,
        id="unknown-zone",
    ),
    pytest.param(
        lambda: occurrences(time(9), LONDON, utc(2026, 1, 1), datetime(2026, 1, 2)),
        ValueError,
        id="occurrences-naive-end",
    ),
    pytest.param(
        lambda: decide(datetime(2026, 1, 1), utc(2026, 1, 1)), ValueError, id="decide-naive-due"
    ),
    pytest.param(
        lambda: decide(utc(2026, 1, 1), datetime(2026, 1, 1)), ValueError, id="decide-naive-now"
    ),
    pytest.param(
        lambda: decide(utc(2026, 1, 1), utc(2026, 1, 1), timedelta(seconds=-1)),
        ValueError,
        id="decide-negative-grace",
    ),
    pytest.param(lambda: nudge_time(datetime(2026, 1, 1)), ValueError, id="nudge-naive"),
    pytest.param(lambda: nudge_time(utc(2026, 1, 1), timedelta(0)), ValueError, id="nudge-zero"),
    pytest.param(lambda: snooze_until(datetime(2026, 1, 1)), ValueError, id="snooze-naive"),
    pytest.param(lambda: snooze_until(utc(2026, 1, 1), 0), ValueError, id="snooze-zero"),
    pytest.param(lambda: snooze_until(utc(2026, 1, 1), -5), ValueError, id="snooze-negative"),
    pytest.param(lambda: snooze_until(utc(2026, 1, 1), 1.5), ValueError, id="snooze-float"),
    pytest.param(lambda: snooze_until(utc(2026, 1, 1), True), ValueError, id="snooze-bool"),
    pytest.param(lambda: local_date(datetime(2026, 1, 1), LONDON), ValueError, id="date-naive"),
    pytest.param(lambda: in_quiet_hours(time(9, tzinfo=UTC)), ValueError, id="quiet-aware-time"),
]


@pytest.mark.parametrize(("call", "error"), BAD_INPUT_CASES)
def test_bad_input_is_refused(call, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


# --- quiet hours -----------------------------------------------------------------------------


def test_quiet_hour_bounds() -> None:
    assert (QUIET_START, QUIET_END) == (time(22, 0), time(7, 0))


QUIET_CASES = [
    pytest.param(time(6, 59), True, id="0659-quiet"),
    pytest.param(time(6, 59, 59), True, id="065959-quiet"),
    pytest.param(time(7, 0), False, id="0700-allowed"),
    pytest.param(time(12, 0), False, id="1200-allowed"),
    pytest.param(time(21, 59), False, id="2159-allowed"),
    pytest.param(time(22, 0), False, id="2200-allowed"),
    pytest.param(time(22, 0, 30), False, id="220030-still-2200"),
    pytest.param(time(22, 1), True, id="2201-quiet"),
    pytest.param(time(23, 30), True, id="2330-quiet"),
    pytest.param(time(23, 59), True, id="2359-quiet"),
    pytest.param(time(0, 0), True, id="0000-quiet"),
    pytest.param(time(3, 0), True, id="0300-quiet"),
]


@pytest.mark.parametrize(("local", "quiet"), QUIET_CASES)
def test_in_quiet_hours(local: time, quiet: bool) -> None:
    assert in_quiet_hours(local) is quiet


ALLOWED_CASES = [
    pytest.param(time(9), False, True, id="day-default"),
    pytest.param(time(9), True, True, id="day-chosen"),
    pytest.param(time(22), False, True, id="2200-default"),
    pytest.param(time(7), False, True, id="0700-default"),
    pytest.param(time(23, 30), False, False, id="night-default-refused"),
    pytest.param(time(23, 30), True, True, id="night-chosen-allowed"),
    pytest.param(time(6, 59), False, False, id="0659-default-refused"),
    pytest.param(time(0, 0), True, True, id="midnight-chosen-allowed"),
]


@pytest.mark.parametrize(("local", "chosen", "allowed"), ALLOWED_CASES)
def test_is_allowed_time(local: time, chosen: bool, allowed: bool) -> None:
    assert is_allowed_time(local, chosen_by_patient=chosen) is allowed


# --- decide ----------------------------------------------------------------------------------

DUE = utc(2026, 5, 4, 9)
SECOND = timedelta(seconds=1)
HOURS_2 = timedelta(hours=2)

DECIDE_CASES = [
    # (now, grace, action, words in the reason)
    pytest.param(DUE - timedelta(hours=1), HOURS_2, WAIT, "not due yet", id="an-hour-early"),
    pytest.param(DUE - SECOND, HOURS_2, WAIT, "not due yet", id="one-second-early"),
    pytest.param(DUE, HOURS_2, SEND, "due now", id="exactly-at-due"),
    pytest.param(DUE + SECOND, HOURS_2, SEND, "within the grace period", id="one-second-late"),
    pytest.param(DUE + timedelta(hours=1), HOURS_2, SEND, "within", id="catch-up-after-downtime"),
    pytest.param(DUE + HOURS_2, HOURS_2, SEND, "within the grace period", id="exactly-grace-end"),
    pytest.param(
        DUE + HOURS_2 + SECOND,
        HOURS_2,
        SKIP,
        "missed by more than the grace period",
        id="one-second-past-grace",
    ),
    pytest.param(DUE + timedelta(days=1), HOURS_2, SKIP, "missed", id="a-day-late"),
    pytest.param(DUE, timedelta(0), SEND, "due now", id="zero-grace-on-time"),
    pytest.param(
        DUE + timedelta(microseconds=1), timedelta(0), SKIP, "missed", id="zero-grace-1us-late"
    ),
    pytest.param(
        DUE + timedelta(minutes=10),
        timedelta(minutes=10),
        SEND,
        "within",
        id="custom-grace-edge",
    ),
    # `now` in another zone: the same instant as DUE (10:00 BST), so it is due now.
    pytest.param(at(LONDON, 2026, 5, 4, 10), HOURS_2, SEND, "due now", id="now-in-local-zone"),
]


@pytest.mark.parametrize(("now", "grace", "action", "words"), DECIDE_CASES)
def test_decide(now: datetime, grace: timedelta, action: str, words: str) -> None:
    decision = decide(DUE, now, grace)
    assert isinstance(decision, DueDecision)
    assert decision.action == action
    assert words in decision.reason


def test_decide_default_grace_is_two_hours() -> None:
    assert decide(DUE, DUE + HOURS_2).action == SEND
    assert decide(DUE, DUE + HOURS_2 + SECOND).action == SKIP


def test_due_decision_is_immutable() -> None:
    decision = decide(DUE, DUE)
    with pytest.raises(AttributeError):
        decision.action = SKIP  # type: ignore[misc]


# --- nudge, snooze, local date ---------------------------------------------------------------

LATER_CASES = [
    # (computed, expected UTC)
    pytest.param(lambda: nudge_time(utc(2026, 5, 4, 9)), utc(2026, 5, 4, 12), id="nudge-default"),
    pytest.param(
        lambda: nudge_time(utc(2026, 5, 4, 9), timedelta(minutes=90)),
        utc(2026, 5, 4, 10, 30),
        id="nudge-custom",
    ),
    # Real elapsed time across a clock change: 00:30 GMT + 3 h is 03:30 UTC (04:30 BST), not
    # 03:30 BST, which is what wall-clock arithmetic on a ZoneInfo datetime would give.
    pytest.param(
        lambda: nudge_time(at(LONDON, 2026, 3, 29, 0, 30)),
        utc(2026, 3, 29, 3, 30),
        id="nudge-across-spring-forward",
    ),
    pytest.param(lambda: snooze_until(utc(2026, 5, 4, 9)), utc(2026, 5, 4, 9, 30), id="snooze-30"),
    pytest.param(
        lambda: snooze_until(utc(2026, 5, 4, 23, 50), 15), utc(2026, 5, 5, 0, 5), id="snooze-15"
    ),
    # 01:45 BST (00:45 UTC) + 30 min is 01:15 GMT (01:15 UTC): real time, past the fall back.
    pytest.param(
        lambda: snooze_until(at(LONDON, 2026, 10, 25, 1, 45)),
        utc(2026, 10, 25, 1, 15),
        id="snooze-across-fall-back",
    ),
]


@pytest.mark.parametrize(("computed", "expected"), LATER_CASES)
def test_nudge_and_snooze(computed, expected: datetime) -> None:
    result = computed()
    assert result == expected
    assert result.tzinfo is UTC


LOCAL_DATE_CASES = [
    pytest.param(utc(2026, 6, 1, 23, 30), LONDON, date(2026, 6, 2), id="london-bst-after-2300z"),
    pytest.param(utc(2026, 1, 1, 23, 30), LONDON, date(2026, 1, 1), id="london-gmt-2330z"),
    pytest.param(utc(2026, 6, 1, 23, 30), NEW_YORK, date(2026, 6, 1), id="ny-evening"),
    pytest.param(utc(2026, 6, 1, 3, 59), NEW_YORK, date(2026, 5, 31), id="ny-before-midnight"),
    pytest.param(utc(2026, 6, 1, 14), SYDNEY, date(2026, 6, 2), id="sydney-midnight"),
    pytest.param(utc(2026, 6, 1, 13, 59, 59), SYDNEY, date(2026, 6, 1), id="sydney-1s-before"),
    pytest.param(utc(2026, 6, 1, 18, 30), KOLKATA, date(2026, 6, 2), id="kolkata-midnight"),
    pytest.param(utc(2026, 6, 1, 18, 29), KOLKATA, date(2026, 6, 1), id="kolkata-2359"),
    pytest.param(at(NEW_YORK, 2026, 6, 1, 20), LONDON, date(2026, 6, 2), id="input-in-other-zone"),
]


@pytest.mark.parametrize(("instant", "tz", "expected"), LOCAL_DATE_CASES)
def test_local_date(instant: datetime, tz: str, expected: date) -> None:
    assert local_date(instant, tz) == expected
