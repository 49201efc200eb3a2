"""The exercise library (``bot/content/exercises.yaml``): exercises and plans.

Pure Python: no Telegram, no database. :meth:`Library.load` reads and checks the YAML, raising
:class:`ValueError` with a message naming the offending entry, so a broken library stops the bot
at start rather than in front of a patient. Its rendering into Telegram
HTML is :func:`bot.content.render.render_exercise` and :func:`bot.content.render.render_plan`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from bot.content import expand, parse_yaml, read

DEFAULT_PATH = Path(__file__).parent / "exercises.yaml"

EXERCISE_ID_MAX = 24
PLAN_ID_MAX = 20
NAME_MAX = 32
STEPS_MIN, STEPS_MAX = 3, 6
CAUTIONS_MIN, CAUTIONS_MAX = 1, 3
TIMES_A_DAY_MIN, TIMES_A_DAY_MAX = 1, 4
MESSAGE_MAX = 4096

_KEBAB = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DOSE_KEYS = {"sets", "reps", "hold_seconds", "times_a_day", "minutes", "each_side"}
_EXERCISE_KEYS = {"id", "name", "steps", "dose", "cautions", "stop_if"}
_PLAN_KEYS = {"id", "name", "description", "exercises"}
_TOP_KEYS = {"advice", "urgent", "exercises", "plans"}
_META_KEYS = {"version", "reviewed"}  # the content change log: optional


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


@dataclass(frozen=True)
class Dose:
    """How much of an exercise: exactly one of ``reps``, ``hold_seconds`` or ``minutes``.

    ``sets`` is the number of sets of ``reps``, or the number of holds for ``hold_seconds``;
    ``None`` means one. ``each_side`` says the amount is for each side (or each leg).
    """

    sets: int | None
    reps: int | None
    hold_seconds: int | None
    times_a_day: int
    minutes: int | None
    each_side: bool = False

    def __post_init__(self) -> None:
        for name in ("sets", "reps", "hold_seconds", "minutes"):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < 1):
                raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
        kinds = [k for k in ("reps", "hold_seconds", "minutes") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                "exactly one of reps, hold_seconds or minutes must be set, "
                f"got {', '.join(kinds) or 'none'}"
            )
        if type(self.times_a_day) is not int or not (
            TIMES_A_DAY_MIN <= self.times_a_day <= TIMES_A_DAY_MAX
        ):
            raise ValueError(
                f"times_a_day must be {TIMES_A_DAY_MIN} to {TIMES_A_DAY_MAX}, "
                f"got {self.times_a_day!r}"
            )
        if type(self.each_side) is not bool:
            raise ValueError(f"each_side must be true or false, got {self.each_side!r}")

    def describe(self) -> str:
        """Plain English, e.g. ``2 sets of 10, twice a day`` or ``hold 20 seconds, 3 times,
        twice a day`` or ``15 minutes, once a day``."""
        sets = self.sets or 1
        side = " on each side" if self.each_side else ""
        if self.reps is not None:
            amount = (
                f"{sets} sets of {self.reps}{side}"
                if sets > 1
                else f"{_plural(self.reps, 'repetition')}{side}"
            )
        elif self.hold_seconds is not None:
            amount = f"hold {_plural(self.hold_seconds, 'second')}"
            amount += f", {_times(sets)}{side}" if sets > 1 else side
        else:
            assert self.minutes is not None
            minutes = _plural(self.minutes, "minute")
            amount = f"{sets} × {minutes}" if sets > 1 else minutes
        return f"{amount}, {_times(self.times_a_day)} a day"


@dataclass(frozen=True)
class Exercise:
    id: str
    name: str
    steps: tuple[str, ...]
    dose: Dose
    cautions: tuple[str, ...]
    stop_if: str


@dataclass(frozen=True)
class Plan:
    id: str
    name: str
    description: str
    exercises: tuple[Exercise, ...]


@dataclass(frozen=True)
class Library:
    exercises: dict[str, Exercise]
    plans: dict[str, Plan]
    advice: str  # general advice shown with every exercise and plan
    urgent: str  # when to call 999 / go to A&E, shown with every exercise and plan

    @classmethod
    def load(cls, path: Path | None = None) -> Library:
        """Read and check the library; raise ValueError naming the problem if it is invalid."""
        path = Path(path) if path is not None else DEFAULT_PATH
        try:
            with open(path, encoding="utf-8") as fh:
                data = parse_yaml(fh)
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML: {exc}") from exc
        try:
            return cls.from_data(data)
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from exc

    @classmethod
    def from_data(cls, data: Any) -> Library:
        if not isinstance(data, Mapping):
            raise ValueError("the library must be a mapping with 'exercises' and 'plans'")
        _check_keys(data, _TOP_KEYS, _TOP_KEYS | _META_KEYS, "the library")
        advice = _text(data["advice"], "advice")
        urgent = _text(data["urgent"], "urgent")

        exercises: dict[str, Exercise] = {}
        for i, raw in enumerate(_list(data["exercises"], "exercises", minimum=1)):
            ex = _exercise(raw, i)
            if ex.id in exercises:
                raise ValueError(f"duplicate exercise id {ex.id!r}")
            exercises[ex.id] = ex

        plans: dict[str, Plan] = {}
        for i, raw in enumerate(_list(data["plans"], "plans", minimum=1)):
            plan = _plan(raw, i, exercises)
            if plan.id in plans:
                raise ValueError(f"duplicate plan id {plan.id!r}")
            plans[plan.id] = plan
        return cls(exercises=exercises, plans=plans, advice=advice, urgent=urgent)

    def plan(self, plan_id: str) -> Plan | None:
        """The plan with this id, ignoring case and surrounding spaces; None if there is none."""
        return self.plans.get(plan_id.strip().lower())

    def exercise(self, exercise_id: str) -> Exercise | None:
        """The exercise with this id, ignoring case and surrounding spaces; None if none."""
        return self.exercises.get(exercise_id.strip().lower())


@cache
def library() -> Library:
    """The library of the content directory (``exercises.yaml``), loaded once."""
    return Library.from_data(read("exercises.yaml"))


# --- validation ------------------------------------------------------------------------------


def _check_keys(raw: Mapping[str, Any], required: set[str], allowed: set[str], where: str) -> None:
    missing = sorted(required - raw.keys())
    if missing:
        raise ValueError(f"{where}: missing {', '.join(missing)}")
    unknown = sorted(str(k) for k in raw.keys() - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _text(value: Any, where: str, *, max_len: int | None = None) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: must be non-empty text, got {value!r}")
    # One space between words; a line break stays (a literal block can hold a list).
    value = "\n".join(" ".join(line.split()) for line in value.strip().splitlines() if line.strip())
    if "<" in value or ">" in value:
        raise ValueError(f"{where}: must be plain text without markup, got {value!r}")
    value = expand(value, escape=False)  # [[snippets]] from safety.yaml; escaped when rendered
    if max_len is not None and len(value) > max_len:
        raise ValueError(f"{where}: {value!r} is longer than {max_len} characters")
    return value


def _list(value: Any, where: str, *, minimum: int = 0, maximum: int | None = None) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: must be a list, got {value!r}")
    if len(value) < minimum or (maximum is not None and len(value) > maximum):
        limit = f"{minimum} to {maximum}" if maximum is not None else f"at least {minimum}"
        raise ValueError(f"{where}: must have {limit} items, has {len(value)}")
    return value


def _id(value: Any, where: str, max_len: int) -> str:
    if not isinstance(value, str) or not _KEBAB.match(value) or len(value) > max_len:
        raise ValueError(
            f"{where}: id must be kebab-case (a-z, 0-9, hyphens) of at most {max_len} "
            f"characters, got {value!r}"
        )
    return value


def _exercise(raw: Any, index: int) -> Exercise:
    where = f"exercise #{index + 1}"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be a mapping, got {raw!r}")
    _check_keys(raw, _EXERCISE_KEYS, _EXERCISE_KEYS, where)
    ex_id = _id(raw["id"], where, EXERCISE_ID_MAX)
    where = f"exercise {ex_id!r}"
    steps = _list(raw["steps"], f"{where} steps", minimum=STEPS_MIN, maximum=STEPS_MAX)
    cautions = _list(
        raw["cautions"], f"{where} cautions", minimum=CAUTIONS_MIN, maximum=CAUTIONS_MAX
    )
    dose_raw = raw["dose"]
    if not isinstance(dose_raw, Mapping):
        raise ValueError(f"{where} dose: must be a mapping, got {dose_raw!r}")
    _check_keys(dose_raw, {"times_a_day"}, _DOSE_KEYS, f"{where} dose")
    try:
        dose = Dose(
            sets=dose_raw.get("sets"),
            reps=dose_raw.get("reps"),
            hold_seconds=dose_raw.get("hold_seconds"),
            times_a_day=dose_raw["times_a_day"],
            minutes=dose_raw.get("minutes"),
            each_side=dose_raw.get("each_side", False),
        )
    except ValueError as exc:
        raise ValueError(f"{where} dose: {exc}") from exc
    return Exercise(
        id=ex_id,
        name=_text(raw["name"], f"{where} name", max_len=NAME_MAX),
        steps=tuple(_text(s, f"{where} step {n}") for n, s in enumerate(steps, start=1)),
        dose=dose,
        cautions=tuple(_text(c, f"{where} caution {n}") for n, c in enumerate(cautions, start=1)),
        stop_if=_text(raw["stop_if"], f"{where} stop_if"),
    )


def _plan(raw: Any, index: int, exercises: Mapping[str, Exercise]) -> Plan:
    where = f"plan #{index + 1}"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: must be a mapping, got {raw!r}")
    _check_keys(raw, _PLAN_KEYS, _PLAN_KEYS, where)
    plan_id = _id(raw["id"], where, PLAN_ID_MAX)
    where = f"plan {plan_id!r}"
    ids = _list(raw["exercises"], f"{where} exercises", minimum=1)
    chosen: list[Exercise] = []
    for ex_id in ids:
        if not isinstance(ex_id, str) or ex_id not in exercises:
            raise ValueError(f"{where}: unknown exercise id {ex_id!r}")
        if any(ex.id == ex_id for ex in chosen):
            raise ValueError(f"{where}: exercise {ex_id!r} is listed twice")
        chosen.append(exercises[ex_id])
    return Plan(
        id=plan_id,
        name=_text(raw["name"], f"{where} name", max_len=NAME_MAX),
        description=_text(raw["description"], f"{where} description"),
        exercises=tuple(chosen),
    )
