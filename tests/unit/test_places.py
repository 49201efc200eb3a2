"""Time zones as people name them: zone names, cities and countries (bot/language/places.py)."""

import pytest

from bot.language.places import Place, build_table, key, understand_zone


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        # Cities in the tz database's zone names.
        ("Madrid", "Europe/Madrid"),
        ("new york", "America/New_York"),
        ("New York", "America/New_York"),
        ("London", "Europe/London"),
        ("Sydney", "Australia/Sydney"),
        ("Los Angeles", "America/Los_Angeles"),
        ("Kolkata", "Asia/Kolkata"),
        ("Buenos Aires", "America/Argentina/Buenos_Aires"),
        ("Port-au-Prince", "America/Port-au-Prince"),
        ("port au prince", "America/Port-au-Prince"),
        ("Zürich", "Europe/Zurich"),
        ("zurich", "Europe/Zurich"),
        ("  Dublin  ", "Europe/Dublin"),
        # Countries with one clock.
        ("Spain", "Europe/Madrid"),
        ("spain", "Europe/Madrid"),
        ("UK", "Europe/London"),
        ("Great Britain", "Europe/London"),
        ("Wales", "Europe/London"),
        ("India", "Asia/Kolkata"),
        ("France", "Europe/Paris"),
        ("Germany", "Europe/Berlin"),
        ("Italy", "Europe/Rome"),
        ("Japan", "Asia/Tokyo"),
        ("Nigeria", "Africa/Lagos"),
        ("South Africa", "Africa/Johannesburg"),
        ("Holland", "Europe/Amsterdam"),
        ("The Netherlands", "Europe/Amsterdam"),
        ("UAE", "Asia/Dubai"),
        ("South Korea", "Asia/Seoul"),
        ("Côte d'Ivoire", "Africa/Abidjan"),
        ("China", "Asia/Shanghai"),
        ("New Zealand", "Pacific/Auckland"),
        # Towns that are no zone's name (places.yaml).
        ("Manchester", "Europe/London"),
        ("Edinburgh", "Europe/London"),
        ("Barcelona", "Europe/Madrid"),
        ("Tenerife", "Atlantic/Canary"),
        ("San Francisco", "America/Los_Angeles"),
        ("Bangalore", "Asia/Kolkata"),
        ("Calgary", "America/Edmonton"),
        # Sentences and pairs.
        ("I'm in Madrid", "Europe/Madrid"),
        ("I live in London", "Europe/London"),
        ("Madrid, Spain", "Europe/Madrid"),
        ("London UK", "Europe/London"),
        ("Perth, Australia", "Australia/Perth"),
        ("Toronto Canada", "America/Toronto"),
        # IANA names in any case, with spaces for underscores.
        ("Europe/Lisbon", "Europe/Lisbon"),
        ("asia/tokyo", "Asia/Tokyo"),
        ("America/Los Angeles", "America/Los_Angeles"),
        ("UTC", "UTC"),
    ],
)
def test_a_place_names_its_zone(typed, zone):
    assert understand_zone(typed) == Place(zone)


@pytest.mark.parametrize(
    ("typed", "country", "city"),
    [
        ("USA", "United States", "New York"),
        ("US", "United States", "Chicago"),
        ("America", "United States", "Los Angeles"),
        ("United States", "United States", "Denver"),
        ("Australia", "Australia", "Sydney"),
        ("Canada", "Canada", "Toronto"),
        ("Brazil", "Brazil", "Sao Paulo"),
        ("Russia", "Russia", "Moscow"),
        ("Mexico", "Mexico", "Mexico City"),
        ("Indonesia", "Indonesia", "Jakarta"),
    ],
)
def test_a_country_with_several_time_zones_asks_for_a_city(typed, country, city):
    place = understand_zone(typed)
    assert place.zone is None and place.country == country and city in place.cities
    # Each suggested city is itself understood.
    for suggestion in place.cities:
        assert understand_zone(suggestion).zone is not None, suggestion


@pytest.mark.parametrize(
    "typed", ["Mars/Olympus", "../../etc/passwd", "", "   ", "hello", "9am", "no", "x" * 200]
)
def test_what_is_no_place_is_not_guessed(typed):
    assert understand_zone(typed) is None


def test_names_are_compared_without_case_accents_or_punctuation():
    assert key("  São   Paulo ") == "sao paulo"
    assert key("St. John's") == "st johns"
    assert key("Port-au-Prince") == "port au prince"


def test_the_tables_come_from_the_tz_database_and_the_content():
    content = {
        "country_names": {"ES": ["espana"]},
        "main_zone": {},
        "several_zones_examples": {},
        "cities": {"Europe/Madrid": ["cuenca"]},
    }
    table = build_table(content, 2026)
    assert understand_zone("Cuenca", table) == Place("Europe/Madrid")
    assert understand_zone("Manchester", table) is None  # not in this content
    # Without the shipped main_zone, Spain's Canary Islands keep another clock: ask.
    spain = understand_zone("Spain", table)
    assert spain == Place(None, country="Spain", cities=("Madrid", "Canary"))
    assert understand_zone("Espana", table) == spain
