"""When a reminder fires: wall-clock times in a patient's zone, turned into UTC instants.

DESIGN.md ("Scheduling"): the database stores each reminder's next time in UTC, computed here
from the patient's local time with :mod:`zoneinfo`, so a reminder survives restarts and is
neither lost nor sent twice across daylight-saving changes. Everything here is pure: no clock,
no database, no Telegram; the caller passes "now".

Rules, in one place:

* A daily time ``local`` fires once per local calendar day, at the wall-clock minute ``local``.
* If that minute does not exist on a day (spring forward: 01:30 in London on the last Sunday of
  March), it fires at the first wall-clock minute after the gap (02:00 BST), once.
* If that minute occurs twice (fall back: 01:30 in London on the last Sunday of October), it
  fires once, at the first occurrence (``fold=0``, still on summer time).
* If a gap swallows the time *and* runs past midnight, so that the firing would land on the next
  local date (only historical: Pacific/Apia skipped 30 December 2011 entirely), that date gets no
  firing; otherwise the next date would get two. No current IANA zone does this.
* Quiet hours are the patient's night, 22:00 to 07:00 local. Both ends are allowed times: 07:00
  and 22:00 are not quiet, 06:59 and 22:01 are. A push goes out in quiet hours only at a time the
  patient chose explicitly.
* A due push is sent if it is at most ``grace`` late (catch-up after downtime), and skipped if it
  is later than that: a reminder hours late is noise, not help.

All instants are timezone-aware; a naive datetime is refused with :class:`ValueError`, because
``astimezone`` would silently read it as the server's local time. Results are aware UTC.
Arithmetic is done in UTC: adding a timedelta to a datetime in a ``ZoneInfo`` zone moves the wall
clock, not real time, and is wrong by an hour across a daylight-saving change. An unknown zone
name raises :class:`zoneinfo.ZoneInfoNotFoundError` (a ``KeyError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "DEFAULT_GRACE",
    "DEFAULT_NUDGE_DELAY",
    "DEFAULT_SNOOZE_MINUTES",
    "QUIET_END",
    "QUIET_START",
    "SEND",
    "SKIP",
    "WAIT",
    "DueDecision",
    "decide",
    "in_quiet_hours",
    "is_allowed_time",
    "local_date",
    "next_occurrence",
    "nudge_time",
    "occurrences",
    "snooze_until",
]

# The patient's night. Quiet means strictly after QUIET_START or strictly before QUIET_END.
QUIET_START = time(22, 0)
QUIET_END = time(7, 0)

DEFAULT_GRACE = timedelta(hours=2)
DEFAULT_NUDGE_DELAY = timedelta(hours=3)
DEFAULT_SNOOZE_MINUTES = 30

SEND = "send"
SKIP = "skip"
WAIT = "wait"

_MINUTE = timedelta(minutes=1)
# Longer than any gap a zone has ever had (Apia's lost day in 2011 was 24 hours).
_MAX_GAP = timedelta(hours=48)
# Days to look ahead for the next firing: enough to step over one dropped (skipped) date.
_MAX_DAYS_AHEAD = 7


def _require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` in UTC, refusing a naive datetime (it has no defined instant)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {value!r}")
    return value.astimezone(UTC)


def _wall_minute(local: time, name: str = "local") -> time:
    """``local`` as a naive wall-clock minute (seconds dropped: reminders have minute precision)."""
    if local.tzinfo is not None:
        raise ValueError(f"{name} must be a naive wall-clock time, got {local!r}")
    return local.replace(second=0, microsecond=0, fold=0)


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    """True if the naive wall-clock time ``wall`` is shown by clocks in ``zone`` at some instant.

    A time in a spring-forward gap does not survive a round trip through UTC: zoneinfo maps it
    with one offset and reads it back with the other.
    """
    aware = wall.replace(tzinfo=zone, fold=0)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _firing_on(day: date, local: time, zone: ZoneInfo) -> datetime | None:
    """The UTC instant at which the reminder for local date ``day`` fires, or None if it doesn't.

    ``local`` is a naive wall-clock minute.
    """
    wall = datetime.combine(day, local)
    # Spring-forward gap: walk forward to the first wall-clock minute that exists. Minute steps
    # keep the rule literal ("the first valid minute") even for gaps of odd length or alignment.
    start = wall
    while not _exists(wall, zone):
        wall += _MINUTE
        if wall - start > _MAX_GAP:  # pragma: no cover - no zone has such a gap
            raise RuntimeError(f"no valid wall-clock time within {_MAX_GAP} of {start} in {zone}")
    if wall.date() != day:
        # The gap ran past midnight: this date never shows the time; don't double up the next.
        return None
    # fold=0 picks the first of two occurrences in a fall-back overlap, so it fires once.
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def next_occurrence(local: time, tz: str, after: datetime) -> datetime:
    """The first instant strictly after ``after`` at which the wall clock in ``tz`` reads ``local``.

    ``local`` is a naive wall-clock time (minute precision: seconds are ignored), ``tz`` an IANA
    zone name, ``after`` any aware datetime. Returns an aware UTC datetime.

    A time that does not exist that day (spring-forward gap) fires at the first valid minute after
    the gap; a time that occurs twice (fall-back) fires once, at its first occurrence. So a daily
    reminder fires exactly once per local date (see the module docstring for the one historical
    exception).
    """
    wall_time = _wall_minute(local)
    after_utc = _require_aware(after, "after")
    zone = ZoneInfo(tz)
    # Start one local date early: cheap insurance that no firing near midnight is overlooked.
    # Firings are increasing with the date, so the first one past `after` is the answer.
    first_day = after_utc.astimezone(zone).date() - timedelta(days=1)
    for offset in range(_MAX_DAYS_AHEAD + 1):
        fires_at = _firing_on(first_day + timedelta(days=offset), wall_time, zone)
        # Compare in UTC: aware datetimes sharing a tzinfo compare by wall clock, ignoring fold.
        if fires_at is not None and fires_at > after_utc:
            return fires_at
    raise RuntimeError(  # pragma: no cover - every real zone has the time within a few days
        f"no occurrence of {wall_time} in {tz} within {_MAX_DAYS_AHEAD} days after {after}"
    )


def occurrences(local: time, tz: str, start: datetime, end: datetime) -> list[datetime]:
    """Every firing of daily ``local`` in ``tz`` in the interval (``start``, ``end``], in UTC.

    Built from :func:`next_occurrence` so that both always agree. Empty if ``end <= start``.
    """
    end_utc = _require_aware(end, "end")
    current = _require_aware(start, "start")
    found: list[datetime] = []
    while True:
        current = next_occurrence(local, tz, current)
        if current > end_utc:
            return found
        found.append(current)


def in_quiet_hours(local: time) -> bool:
    """True if the wall-clock time ``local`` is in the patient's night.

    Quiet means ``local < 07:00`` or ``local > 22:00`` (minute precision). Both ends are allowed:
    07:00 and 22:00 are not quiet; 06:59, 22:01, 23:30 and 00:00 are.
    """
    minute = _wall_minute(local)
    return minute < QUIET_END or minute > QUIET_START


def is_allowed_time(local: time, chosen_by_patient: bool) -> bool:
    """May a push go out at wall-clock time ``local``?

    Outside quiet hours always; inside them only if the patient chose that time explicitly (a
    night-shift worker may want a 23:30 reminder, but the bot never picks one for them).
    """
    return chosen_by_patient or not in_quiet_hours(local)


@dataclass(frozen=True)
class DueDecision:
    """What to do with a push that was due at some instant."""

    action: str  # SEND | SKIP | WAIT
    reason: str  # one sentence for logs and the operator


def decide(due_at: datetime, now: datetime, grace: timedelta = DEFAULT_GRACE) -> DueDecision:
    """Send, skip or wait for a push due at ``due_at``, as of ``now``.

    * ``now < due_at``: wait.
    * ``due_at <= now <= due_at + grace``: send (both ends inclusive; this is the catch-up after
      downtime, so a restart doesn't lose the reminder).
    * later: skip, "missed by more than the grace period" (an old reminder is noise).
    """
    if grace < timedelta(0):
        raise ValueError(f"grace must not be negative, got {grace}")
    due_utc = _require_aware(due_at, "due_at")
    now_utc = _require_aware(now, "now")
    if now_utc < due_utc:
        return DueDecision(WAIT, f"not due yet: due in {due_utc - now_utc}")
    late = now_utc - due_utc
    if late <= grace:
        if not late:
            return DueDecision(SEND, "due now")
        return DueDecision(SEND, f"due {late} ago, within the grace period of {grace}")
    return DueDecision(
        SKIP, f"missed by more than the grace period: due {late} ago, grace is {grace}"
    )


def nudge_time(prompt_at: datetime, delay: timedelta = DEFAULT_NUDGE_DELAY) -> datetime:
    """When to nudge a patient who hasn't answered a prompt sent at ``prompt_at`` (UTC).

    Real elapsed time (computed in UTC), so a nudge across a clock change is still ``delay`` later.
    """
    if delay <= timedelta(0):
        raise ValueError(f"delay must be positive, got {delay}")
    return _require_aware(prompt_at, "prompt_at") + delay


def snooze_until(now: datetime, minutes: int = DEFAULT_SNOOZE_MINUTES) -> datetime:
    """When a reminder snoozed at ``now`` for ``minutes`` comes back (UTC, real elapsed time)."""
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise ValueError(f"minutes must be a positive whole number, got {minutes!r}")
    return _require_aware(now, "now") + timedelta(minutes=minutes)


def local_date(instant: datetime, tz: str) -> date:
    """The patient's calendar date at ``instant`` in zone ``tz`` (e.g. which day a check-in is)."""
    return _require_aware(instant, "instant").astimezone(ZoneInfo(tz)).date()
