"""A time zone from what a person types: an IANA name, a city or a country.

"Madrid", "new york", "London", "Sydney" are cities in zone names (``Europe/Madrid``,
``America/New_York``); "Spain", "India", "UK" are countries, whose zones the tz database lists
(``zone.tab`` and ``iso3166.tab`` of the ``tzdata`` package, read offline). A country whose
zones keep different clocks (the United States, Australia, Canada) has no one answer: the
person is asked for their city. ``bot/content/places.yaml`` adds what the database does not
say: other names for countries, towns that are no zone's name, and which zone a country's
name means when its other zones are far islands.

Pure: no Telegram, no database; the tables are built once (at start, by ``load_content``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.content import read

__all__ = ["Place", "PlaceTable", "place_table", "understand_zone"]

# Zone names whose last part is a place (not Etc/GMT+5, US/Pacific or SystemV/...).
_AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia",
          "Europe", "Indian", "Pacific")  # fmt: skip
# Old zone names that are not places ("Australia/South" is Adelaide's old name).
_NOT_CITIES = {"north", "south", "east", "west", "central", "act", "lhi"}
_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")
# Words around a place that say nothing about it ("I'm in Madrid", "near London please").
_AROUND = re.compile(
    r"^(?:(?:i am|im|i live|we are|were|living|based|currently|now|at the moment)\s+)*"
    r"(?:(?:in|at|near|from|close to)\s+)?(?:the\s+)?|\s+(?:please|thanks|thank you|time)$"
)


def key(text: str) -> str:
    """How names are compared: lower case, no accents, no punctuation, single spaces."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NOT_WORD.sub(" ", text).split())


@dataclass(frozen=True)
class Place:
    """What a typed place means: a zone, or a country with several (ask for the city)."""

    zone: str | None
    country: str = ""  # the country's name, when it has several time zones
    cities: tuple[str, ...] = ()  # big cities of that country, to suggest


@dataclass(frozen=True)
class PlaceTable:
    cities: dict[str, str]  # key(city) -> zone
    countries: dict[str, Place]  # key(country name) -> its zone, or the question
    zones: dict[str, str]  # lower-case IANA name -> its spelling


def _tz_file(name: str) -> list[list[str]]:
    """The rows of a tab-separated file of the tzdata package (empty if it is not there)."""
    try:
        raw = resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        return []
    return [line.split("\t") for line in raw.splitlines() if line and not line.startswith("#")]


def _city(zone: str) -> str:
    return key(zone.rsplit("/", 1)[-1].replace("_", " "))


def _clocks(zone: str, year: int) -> tuple[timedelta | None, timedelta | None]:
    """The zone's UTC offsets in January and July: zones with the same two keep one clock."""
    tz = ZoneInfo(zone)
    return tuple(datetime(year, m, 15, 12, tzinfo=tz).utcoffset() for m in (1, 7))  # type: ignore[return-value]


def build_table(content: dict, year: int) -> PlaceTable:
    zones = {z.lower(): z for z in available_timezones()}
    # zone.tab: code, coordinates, zone, comment; a country's zones in the database's order.
    by_country: dict[str, list[str]] = {}
    for row in _tz_file("zone.tab"):
        by_country.setdefault(row[0], []).append(row[2])
    canonical = {z for zs in by_country.values() for z in zs}

    cities: dict[str, str] = {}
    # The tz database's own zones win a name over old links ("Buenos Aires").
    for zone in sorted(zones.values(), key=lambda z: (z not in canonical, z)):
        if zone.split("/", 1)[0] in _AREAS and "/" in zone and _city(zone) not in _NOT_CITIES:
            cities.setdefault(_city(zone), zone)
    for zone, towns in content["cities"].items():
        for town in towns:
            cities.setdefault(key(town), zone)

    names: dict[str, str] = {}  # key(name) -> code
    ambiguous: set[str] = set()
    for code, name, *_ in _tz_file("iso3166.tab"):
        forms = {name}
        if m := re.fullmatch(r"(.+?) \((.+)\)", name):  # "Korea (South)", "Britain (UK)"
            forms = {m.group(1)}
        for form in map(key, forms):
            if form in names and names[form] != code:
                ambiguous.add(form)  # "Korea", "Congo", "Samoa": say which
            names[form] = code
    for form in ambiguous:
        del names[form]
    for code, others in content["country_names"].items():
        for other in others:
            names[key(other)] = code

    iso = {row[0]: row[1] for row in _tz_file("iso3166.tab")}
    countries: dict[str, Place] = {}
    for form, code in names.items():
        country_zones = by_country.get(code, [])
        if not country_zones:
            continue
        clocks: dict[tuple, list[str]] = {}
        for zone in country_zones:
            clocks.setdefault(_clocks(zone, year), []).append(zone)
        main = content["main_zone"].get(code)
        if main is not None or len(clocks) == 1:
            countries[form] = Place(main or country_zones[0])
            continue
        examples = content["several_zones_examples"].get(code) or [
            zs[0].rsplit("/", 1)[-1].replace("_", " ") for zs in list(clocks.values())[:4]
        ]
        countries[form] = Place(None, country=iso.get(code, code), cities=tuple(examples))
    return PlaceTable(cities=cities, countries=countries, zones=zones)


@cache
def place_table() -> PlaceTable:
    """Built once from the tz database and ``places.yaml`` of the content directory."""
    return build_table(read("places.yaml"), datetime.now().year)


def understand_zone(raw: str, table: PlaceTable | None = None) -> Place | None:
    """The zone someone means by ``raw``; None if it names no zone, city or country."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 80:
        return None
    table = table or place_table()
    # An IANA name, in any capitalisation, with spaces for underscores ("america/new york").
    name = table.zones.get(raw.replace(" ", "_").lower())
    if name is not None and "/" in name:
        return Place(name)
    words = key(raw)
    stripped = _AROUND.sub("", words).strip()
    # "Madrid, Spain": the most precise part that is known, a city before a country.
    whole = [words, stripped, *(key(p) for p in re.split(r"[,/;]|\s-\s", raw) if key(p))]
    # "London UK", "new york usa": the place before a country's name.
    tail = stripped.split()
    heads = [" ".join(tail[:n]) for n in range(len(tail) - 1, 0, -1)]
    for candidates in (whole, heads):
        for c in candidates:
            if c in table.cities:
                return Place(table.cities[c])
        for c in candidates:
            if c in table.countries:
                return table.countries[c]
    if name is not None:  # an old single-word zone name ("UTC", "GMT", "Japan")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            return None
        return Place(name)
    return None
