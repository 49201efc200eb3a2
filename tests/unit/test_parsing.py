"""Small parsers that stand between what a user sends and what is stored."""

from datetime import date

import pytest

from bot.content import callbacks
from bot.language.when import Weekly, parse_pause, parse_weekly
from bot.services.checkin import parse_value
from bot.services.onboarding import parse_hhmm, parse_timezone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("08:30", "08:30"),
        ("8:30", "08:30"),
        ("0830", "08:30"),
        ("830", "08:30"),
        ("20.15", "20:15"),
        ("8h30", "08:30"),
        (" 7:05 ", "07:05"),
        ("23:59", "23:59"),
        ("00:00", "00:00"),
        ("21:15", "21:15"),
        ("9am", "09:00"),
        ("9 am", "09:00"),
        ("9AM", "09:00"),
        ("9 a.m.", "09:00"),
        ("9.30", "09:30"),
        ("9.30am", "09:30"),
        ("9:30pm", "21:30"),
        ("9:30 PM", "21:30"),
        ("9.30 p.m.", "21:30"),
        ("11pm", "23:00"),
        ("12am", "00:00"),
        ("12pm", "12:00"),
        ("12:30am", "00:30"),
        ("at 7pm", "19:00"),
        ("7 in the evening", "19:00"),
        ("8 in the morning", "08:00"),
        ("noon", "12:00"),
        ("Noon", "12:00"),
        ("midday", "12:00"),
        ("12 noon", "12:00"),
        ("midnight", "00:00"),
        ("6 o'clock pm", "18:00"),
        # Refused: not a time, or morning and evening cannot be told apart.
        ("7", None),
        ("9 o'clock", None),
        ("24:00", None),
        ("12:60", None),
        ("13pm", None),
        ("0am", None),
        ("9:3", None),
        ("", None),
        ("soon", None),
        ("9 or 10", None),
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
        ("Madrid", "Europe/Madrid"),
        ("madrid", "Europe/Madrid"),
        ("Spain", "Europe/Madrid"),
        ("new york", "America/New_York"),
        ("New York City", "America/New_York"),
        ("NYC", "America/New_York"),
        ("London", "Europe/London"),
        ("UK", "Europe/London"),
        ("the UK", "Europe/London"),
        ("United Kingdom", "Europe/London"),
        ("England", "Europe/London"),
        ("Manchester", "Europe/London"),
        ("Glasgow, Scotland", "Europe/London"),
        ("India", "Asia/Kolkata"),
        ("Mumbai", "Asia/Kolkata"),
        ("Sydney", "Australia/Sydney"),
        ("Perth, Australia", "Australia/Perth"),
        ("São Paulo", "America/Sao_Paulo"),
        ("Sao Paulo", "America/Sao_Paulo"),
        ("St. John's", "America/St_Johns"),
        ("Germany", "Europe/Berlin"),
        ("Ireland", "Europe/Dublin"),
        ("Tenerife", "Atlantic/Canary"),
        ("Portugal", "Europe/Lisbon"),
        ("Argentina", "America/Argentina/Buenos_Aires"),
        ("I'm in Madrid", "Europe/Madrid"),
        ("London UK", "Europe/London"),
        # A country with several time zones is not guessed: the patient is asked.
        ("USA", None),
        ("Australia", None),
        ("Canada", None),
        # Not places.
        ("Mars/Olympus", None),
        ("../../etc/passwd", None),
        ("hello", None),
        ("9am", None),
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
    ("area", "data", "expected"),
    [
        (callbacks.CHECKIN, "ci:a1b2c3:lp:7", ("a1b2c3", "lp", "7")),
        (callbacks.ONBOARDING, "ob:ff00aa:c:y", ("ff00aa", "c", "y")),
        (callbacks.ALERT, "al:42:ack", ("42", "ack")),
        (callbacks.ALERT, "xx:1:ack", None),
        (callbacks.CHECKIN, "ci:a1b2c3:lp:7:extra", None),
        (callbacks.CHECKIN, "", None),
        (callbacks.CHECKIN, None, None),
        (callbacks.CHECKIN, "ci:<script>:lp:7", None),
        (callbacks.ALERT, "al:42:ACK", None),
        (callbacks.ALERT, "al:12345678901:ack", None),  # longer than any 32-bit database id
        (callbacks.ERASE, "dm:123456789012:yes", ("123456789012", "yes")),
        (callbacks.CHECKIN, "ci:a1b2c3:lp:999", None),
        (callbacks.QUESTIONNAIRE, "pr:a1b2c3:a:3_end", ("a1b2c3", "a", "3_end")),
    ],
)
def test_callback_data_is_parsed_strictly(area, data, expected):
    assert area.parse(data) == expected


def test_building_callback_data_checks_fields_and_telegrams_limit():
    assert callbacks.CHECKIN.build("a1b2c3", "lp", 7) == "ci:a1b2c3:lp:7"
    with pytest.raises(ValueError):
        callbacks.CHECKIN.build("a1b2c3", "zz", 7)  # no such step
    with pytest.raises(ValueError):
        callbacks.FAQ.build("x" * 40, "show")  # too long for its field
    areas = [v for v in vars(callbacks).values() if isinstance(v, callbacks.Area)]
    prefixes = [a.prefix for a in areas]
    assert len(prefixes) == len(set(prefixes)) == 11


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Today (Wednesday 10 June 2026, the patient's local date) is the first paused day.
        ("1", "2026-06-10"),
        ("7", "2026-06-16"),
        ("90", "2026-09-07"),
        ("a day", "2026-06-10"),
        ("5 days", "2026-06-14"),
        ("for 10 days", "2026-06-19"),
        ("a week", "2026-06-16"),
        ("A week", "2026-06-16"),
        ("1 week", "2026-06-16"),
        ("one week", "2026-06-16"),
        ("2 weeks", "2026-06-23"),
        ("two weeks", "2026-06-23"),
        ("a couple of weeks", "2026-06-23"),
        ("a fortnight", "2026-06-23"),
        ("a month", "2026-07-09"),
        ("2026-06-20", "2026-06-20"),
        ("20/06", "2026-06-20"),
        ("20/06/2026", "2026-06-20"),
        ("20.06.26", "2026-06-20"),
        ("until 14/07", "2026-07-14"),
        ("until 14 July", "2026-07-14"),
        ("until the 14th of July", "2026-07-14"),
        ("till July 14th", "2026-07-14"),
        ("14 Jul 2026", "2026-07-14"),
        ("till the 20th", "2026-06-20"),
        ("until the 5th", "2026-07-05"),  # the 5th of June has gone: July's
        ("until the 31st", "2026-07-31"),  # June has no 31st
        ("until Sunday", "2026-06-14"),
        ("until Wednesday", "2026-06-17"),  # today is a Wednesday: next week's
        ("tomorrow", "2026-06-11"),
        ("today", "2026-06-10"),
    ],
)
def test_pause_lengths_and_dates(raw, expected):
    got = parse_pause(raw, date(2026, 6, 10))
    assert got.until is not None and got.until.isoformat() == expected and not got.problem


@pytest.mark.parametrize(
    ("raw", "today", "expected"),
    [
        # A date without a year that has gone this year is next year's.
        ("until 14 March", date(2026, 12, 20), "2027-03-14"),
        ("until 14/03", date(2026, 12, 20), "2027-03-14"),
        ("until 2 January", date(2026, 12, 20), "2027-01-02"),
        ("till the 20th", date(2026, 12, 21), "2027-01-20"),
        ("a week", date(2026, 12, 28), "2027-01-03"),
        ("a month", date(2026, 1, 31), "2026-02-27"),
    ],
)
def test_pauses_across_the_year_end_and_short_months(raw, today, expected):
    assert parse_pause(raw, today).until.isoformat() == expected


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("soon", "unclear"),
        ("", "unclear"),
        ("0", "unclear"),
        ("31/02", "unclear"),
        ("until Blursday", "unclear"),
        ("14 Smarch", "unclear"),
        ("2026-06-09", "past"),
        ("until 9 June 2026", "past"),
        ("until 9 June", "past"),  # yesterday: a slip, not next year's
        ("91", "too_long"),
        ("13 weeks", "too_long"),
        ("3 months", "too_long"),
        ("01/01", "too_long"),  # next January: more than 90 days away
        ("until 14 March 2027", "too_long"),
    ],
)
def test_pauses_that_are_refused_say_why(raw, problem):
    got = parse_pause(raw, date(2026, 6, 10))
    assert got.until is None and got.problem == problem


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10:00, 18:00", ["10:00", "18:00"]),
        ("18:00 10:00", ["10:00", "18:00"]),
        ("7:30 and 19:30", ["07:30", "19:30"]),
        ("10:00,10:00", ["10:00"]),
        ("9am and 6pm", ["09:00", "18:00"]),
        ("9 am, 6 pm", ["09:00", "18:00"]),
        ("10am; noon; 6.30pm", ["10:00", "12:00", "18:30"]),
        ("10:00, 10am", ["10:00"]),
        ("9", None),
        ("10:00, 11:00, 12:00, 13:00, 14:00", None),
        ("", None),
        ("10:00, later", None),
    ],
)
def test_exercise_reminder_times(raw, expected):
    from bot.services.patient_settings import parse_times

    assert parse_times(raw) == expected


@pytest.mark.parametrize(
    "typed, weekday, at, off",
    [
        ("Sunday", 6, None, False),
        ("sunday 6pm", 6, "18:00", False),
        ("Fri at 18:30", 4, "18:30", False),
        ("every friday at 9am", 4, "09:00", False),
        ("on Mondays", 0, None, False),
        ("off", None, None, True),
        ("No thanks", None, None, True),
    ],
)
def test_the_weekly_summary_day_and_time_as_people_type_them(typed, weekday, at, off):
    assert parse_weekly(typed) == Weekly(off=off, weekday=weekday, at=at)


@pytest.mark.parametrize("typed", ["someday", "sun 7", "the weekend", "31 March"])
def test_what_is_not_a_weekly_day_is_refused(typed):
    assert parse_weekly(typed) is None
