"""Times and pauses as people type them: "9am", "9.30", "noon"; "a week", "until 14 March".

Pure functions: no Telegram, no database, no clock (the caller passes the patient's local
"today").
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, time, timedelta

__all__ = ["Pause", "parse_pause", "parse_time", "parse_times"]

MAX_PAUSE_DAYS = 90
# A day and month that were this recently are taken as a slip ("past"), not next year's.
RECENT_DAYS = 31

_NAMED_TIMES = {"noon": "12:00", "midday": "12:00", "12 noon": "12:00", "midnight": "00:00"}
# "9 in the evening" -> "9pm"
_PART_OF_DAY = (
    (re.compile(r"\s*(?:in the )?(?:morning)$"), "am"),
    (re.compile(r"\s*(?:in the )?(?:afternoon|evening)$|\s*at night$|\s*tonight$"), "pm"),
)
_TIME = re.compile(
    r"^(?:at\s+)?(?P<h>\d{1,2})(?:(?:[:.h]|\s(?=\d\d\b))?(?P<m>\d{2}))?\s*(?P<ampm>am|pm)?$"
)


def _clean(raw: str) -> str:
    text = " ".join((raw or "").lower().split())
    text = re.sub(r"\b([ap])\.?\s?m\b\.?", r"\1m", text)  # "p.m." / "p m" -> "pm"
    text = re.sub(r"\s*o'?\s?clock\b", "", text)
    return text.strip(" .!")


def parse_time(raw: str) -> str | None:
    """A time of day as ``HH:MM``: "08:30", "8.30", "0830", "21:15", "9am", "9 am",
    "9:30pm", "9.30 p.m.", "noon", "midnight", "7 in the evening". A bare hour ("7") is
    refused: morning or evening cannot be told."""
    text = _clean(raw)
    if text in _NAMED_TIMES:
        return _NAMED_TIMES[text]
    for pattern, ampm in _PART_OF_DAY:
        if pattern.search(text) and not text.endswith(("am", "pm")):
            text = pattern.sub("", text) + ampm
    m = _TIME.match(text)
    if not m:
        return None
    hour, minute = int(m["h"]), int(m["m"] or 0)
    if m["ampm"]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ampm"] == "pm" else 0)
    elif m["m"] is None:
        return None
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute).strftime("%H:%M")


def parse_times(raw: str, most: int) -> list[str] | None:
    """Several times ("10:00, 18:00", "9am and 6pm", "9 am 6 pm"), sorted, without repeats;
    None if one is not a time or there are more than ``most``."""
    text = _clean(raw)
    text = re.sub(r"(\d)\s+([ap]m)\b", r"\1\2", text)  # "9 am" is one time
    text = text.replace("12 noon", "noon")
    parts = [p for p in re.split(r"[,;&+]|\s+and\s+|\s+", text) if p.strip()]
    times = [parse_time(p) for p in parts]
    if not times or None in times:
        return None
    unique = sorted(set(times))  # type: ignore[arg-type]
    return unique if len(unique) <= most else None


# --- pauses --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """The last paused day, or why there is none: ``unclear``, ``past`` or ``too_long``."""

    until: date | None
    problem: str = ""


_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "a couple of": 2, "couple of": 2, "a few": 3, "few": 3,
}  # fmt: skip
_UNITS = {"day": 1, "night": 1, "week": 7, "fortnight": 14}
_MONTHS = (
    {name.lower(): n for n, name in enumerate(calendar.month_name) if name}
    | {name.lower(): n for n, name in enumerate(calendar.month_abbr) if name}
    | {"sept": 9}
)
_WEEKDAYS = {name.lower(): n for n, name in enumerate(calendar.day_name)} | {
    name.lower(): n for n, name in enumerate(calendar.day_abbr)
}
_NUMBER = "|".join(sorted((re.escape(k) for k in _NUMBERS), key=len, reverse=True))
_LENGTH = re.compile(
    rf"^(?:for\s+)?(?:about\s+)?(?P<n>\d{{1,3}}|{_NUMBER})?\s*"
    r"(?P<unit>days?|nights?|weeks?|fortnights?|months?)$"
)
_UNTIL = re.compile(
    r"^(?:(?:pause\s+)?(?:until|till|til|untill|to|through|thru|up to|up until)\s+)?"
    r"(?:the\s+)?"
)
_ORDINAL = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"
_MONTH = r"(?P<mon>[a-z]{3,9})\.?"
_YEAR = r"(?:,?\s+(?P<y>\d{4}))?"
_DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[/.\-](?P<mo>\d{1,2})(?:[/.\-](?P<y>\d{2}|\d{4}))?$"),
    re.compile(rf"^{_ORDINAL}(?:\s+of)?\s+{_MONTH}{_YEAR}$"),
    re.compile(rf"^{_MONTH}\s+(?:the\s+)?{_ORDINAL}{_YEAR}$"),
    re.compile(rf"^{_ORDINAL}$"),
)


def _plus_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _date(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _length(text: str, today: date) -> Pause | None:
    """ "a week", "2 weeks", "5 days", "a fortnight", "a month", "7" (days)."""
    if text.isdigit():
        n, unit = int(text), "day"
    elif m := _LENGTH.match(text):
        given = m["n"] or "a"
        n = int(given) if given.isdigit() else _NUMBERS[given]
        unit = m["unit"].rstrip("s")
    else:
        return None
    if n < 1:
        return Pause(None, "unclear")
    if unit == "month":
        if n > 3:
            return Pause(None, "too_long")
        return _checked(_plus_months(today, n) - timedelta(days=1), today)
    days = n * _UNITS[unit]
    if days > MAX_PAUSE_DAYS:
        return Pause(None, "too_long")
    return Pause(today + timedelta(days=days - 1))


def _day_of(text: str, today: date) -> Pause | None:
    """ "14 March", "March 14th", "14/03", "14/03/2027", "2027-03-14", "the 20th", "Sunday",
    "tomorrow": the last paused day. Without a year, a day already gone is next year's."""
    if text == "tomorrow":
        return _checked(today + timedelta(days=1), today)
    if text == "today":
        return _checked(today, today)
    if text.removeprefix("next ") in _WEEKDAYS:
        ahead = (_WEEKDAYS[text.removeprefix("next ")] - today.weekday() - 1) % 7 + 1
        return _checked(today + timedelta(days=ahead), today)
    for form in _DATE_FORMS:
        m = form.match(text)
        if not m:
            continue
        parts = m.groupdict()
        if parts.get("mon") is not None:
            month = _MONTHS.get(parts["mon"])
            if month is None:
                return None
        elif parts.get("mo") is not None:
            month = int(parts["mo"])
        else:  # "the 20th": this month's, or next month's if it has gone
            found = _date(today.year, today.month, int(parts["d"]))
            if found is None or found < today:
                following = _plus_months(today.replace(day=1), 1)
                found = _date(following.year, following.month, int(parts["d"]))
            return _checked(found, today) if found else Pause(None, "unclear")
        year = parts.get("y")
        if year is None:
            found = _date(today.year, month, int(parts["d"]))
            if found is not None and found < today:
                if (today - found).days <= RECENT_DAYS:
                    return Pause(None, "past")  # days ago: a slip, not next year
                found = _date(today.year + 1, month, int(parts["d"]))
        else:
            full = int(year) + (2000 if len(year) == 2 else 0)
            found = _date(full, month, int(parts["d"]))
        return _checked(found, today) if found else Pause(None, "unclear")
    return None


def _checked(until: date, today: date) -> Pause:
    if until < today:
        return Pause(None, "past")
    if (until - today).days >= MAX_PAUSE_DAYS:
        return Pause(None, "too_long")
    return Pause(until)


def parse_pause(raw: str, today: date) -> Pause:
    """How long to pause, as typed: a length ("a week", "1 week", "2 weeks", "5 days", "7")
    or the last day ("until 14 March", "until 14/03", "till the 20th", "2026-12-24",
    "Sunday"), against the patient's local ``today`` (today counts as the first paused day).
    At most :data:`MAX_PAUSE_DAYS` days."""
    text = _clean(raw).replace(",", " ")
    text = " ".join(text.split())
    if not text:
        return Pause(None, "unclear")
    found = _length(text, today) or _day_of(_UNTIL.sub("", text, count=1), today)
    return found or Pause(None, "unclear")


@dataclass(frozen=True)
class Weekly:
    """When the weekly summary comes: ``off``, or a weekday (0 Monday) and a time (None: the
    check-in time)."""

    off: bool = False
    weekday: int | None = None
    at: str | None = None


_OFF = {"off", "stop", "none", "no", "never", "no thanks", "turn off", "switch off"}


def parse_weekly(raw: str) -> Weekly | None:
    """ "Sunday", "sunday 6pm", "Fri at 18:30", "off"; None when it is not one of those."""
    text = _clean(raw)
    if text in _OFF:
        return Weekly(off=True)
    text = re.sub(r"^(?:on\s+|every\s+)", "", text)
    day, _, rest = text.partition(" ")
    day = day.removesuffix("s") if day.endswith("days") else day  # "sundays"
    if day not in _WEEKDAYS:
        return None
    rest = re.sub(r"^(?:at\s+)", "", rest.strip())
    if not rest:
        return Weekly(weekday=_WEEKDAYS[day])
    at = parse_time(rest)
    return Weekly(weekday=_WEEKDAYS[day], at=at) if at else None
