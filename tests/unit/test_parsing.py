"""Small parsers that stand between what a user sends and what is stored."""

import pytest

from bot.render import parse_callback
from bot.services.checkin import parse_value
from bot.services.onboarding import parse_hhmm, parse_timezone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("08:30", "08:30"),
        ("8:30", "08:30"),
        ("0830", "08:30"),
        ("20.15", "20:15"),
        (" 7:05 ", "07:05"),
        ("23:59", "23:59"),
        ("24:00", None),
        ("7", None),
        ("noon", None),
        ("12:60", None),
        ("", None),
        ("9:3", None),
    ],
)
def test_typed_check_in_times(raw, expected):
    assert parse_hhmm(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Europe/Dublin", "Europe/Dublin"),
        ("europe/dublin", "Europe/Dublin"),
        ("America/New York", "America/New_York"),
        ("UTC", "UTC"),
        ("Mars/Olympus", None),
        ("../../etc/passwd", None),
        ("", None),
    ],
)
def test_typed_time_zones(raw, expected):
    assert parse_timezone(raw) == expected


@pytest.mark.parametrize(
    ("step", "raw", "expected"),
    [
        ("leg_pain", "0", 0),
        ("leg_pain", "10", 10),
        ("leg_pain", "11", None),
        ("back_pain", "-1", None),
        ("back_pain", "07", 7),
        ("back_pain", "x", None),
        ("numbness", "y", True),
        ("red_flag", "n", False),
        ("red_flag", "maybe", None),
        ("exercises", "partly", "partly"),
        ("exercises", "yes", "yes"),
        ("exercises", "1", None),
        ("note", "skip", "skip"),
        ("note", "keep", "keep"),
        ("note", "drop", None),
        ("unknown", "y", None),
    ],
)
def test_button_values_are_checked_per_step(step, raw, expected):
    assert parse_value(step, raw) == expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("ci:a1b2c3:lp:7", ("ci", "a1b2c3", "lp", "7")),
        ("ob:ff00aa:c:y", ("ob", "ff00aa", "c", "y")),
        ("al:42:ack", ("al", "42", "ack", "")),
        ("xx:1:ack", None),
        ("ci:a1b2c3:lp:7:extra", None),
        ("", None),
        (None, None),
        ("ci:<script>:lp:7", None),
        ("al:42:ACK", None),
    ],
)
def test_callback_data_is_parsed_strictly(data, expected):
    assert parse_callback(data) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", "2026-06-10"),
        ("7", "2026-06-16"),
        ("90", "2026-09-07"),
        ("91", None),
        ("0", None),
        ("2026-06-20", "2026-06-20"),
        ("2026-06-09", None),
        ("20/06", "2026-06-20"),
        ("20/06/2026", "2026-06-20"),
        ("01/01", None),
        ("31/02", None),
        ("soon", None),
        ("", None),
    ],
)
def test_pause_lengths_and_dates(raw, expected):
    from datetime import date

    from bot.services.patient_settings import parse_pause

    got = parse_pause(raw, date(2026, 6, 10))
    assert (got.isoformat() if got else None) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10:00, 18:00", ["10:00", "18:00"]),
        ("18:00 10:00", ["10:00", "18:00"]),
        ("7:30 and 19:30", ["07:30", "19:30"]),
        ("10:00,10:00", ["10:00"]),
        ("9", None),
        ("10:00, 11:00, 12:00, 13:00, 14:00", None),
        ("", None),
        ("10:00, later", None),
    ],
)
def test_exercise_reminder_times(raw, expected):
    from bot.services.patient_settings import parse_times

    assert parse_times(raw) == expected
