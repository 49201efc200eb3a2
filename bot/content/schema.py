"""The shape of every content file, checked once when it is read (:func:`bot.content.read`).

A clinic may point ``CONTENT_DIR`` at its own edited copy of the content, so a missing answer,
a misspelt key or a message that lost a placeholder must stop the bot at start, with one line
naming the file and where, not fail in front of a patient. The checks here are about shape;
what needs the content's meaning (regular expressions compiled, snippets expanded, the
exercise library's doses) is checked by the loaders, which :func:`bot.app.load_content` runs
at start too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from string import Formatter
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.content import PACKAGE_DIR, ContentError, parse_yaml

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Texts = Annotated[list[Text], Field(min_length=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Meta(Strict):
    version: PositiveInt
    reviewed: date


# --- messages.yaml -------------------------------------------------------------------------


def _template(value: str) -> str:
    try:
        list(Formatter().parse(value))
    except ValueError as exc:
        raise ValueError(f"not a valid message template ({exc}); write {{{{ for a brace") from None
    return value


Message = Annotated[str, StringConstraints(min_length=1), AfterValidator(_template)]
_MESSAGES = TypeAdapter(dict[str, Message])


class _MessagesMeta(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the other keys are the messages
    content: Meta | None = Field(default=None, alias="_content")


def _placeholders(template: str) -> set[str]:
    return {f for _, f, _, _ in Formatter().parse(template) if f}


def _check_messages(data: Any, path: Path) -> None:
    if not isinstance(data, dict):
        raise _Problem((), "must be a mapping of message keys to texts")
    _MessagesMeta.model_validate(data)
    messages = {k: v for k, v in data.items() if not str(k).startswith("_")}
    _MESSAGES.validate_python(messages)
    bundled_path = PACKAGE_DIR / "messages.yaml"
    if path.resolve() == bundled_path:
        return
    # The code renders the keys (and fills the placeholders) of the messages it ships with.
    bundled = parse_yaml(bundled_path.read_text(encoding="utf-8"))
    for key, template in bundled.items():
        if key.startswith("_"):
            continue
        if key not in messages:
            raise _Problem((), f"message {key!r} is missing")
        unknown = _placeholders(messages[key]) - _placeholders(template)
        if unknown:
            names = ", ".join(f"{{{n}}}" for n in sorted(unknown))
            raise _Problem(
                (key,),
                f"unknown placeholder {names} (this message can use only "
                f"{', '.join(f'{{{n}}}' for n in sorted(_placeholders(template))) or 'none'})",
            )


# --- safety.yaml ---------------------------------------------------------------------------


class Routes(Strict):
    emergency: Text
    urgent: Text
    routine: Text


class SafetyFile(Strict):
    version: PositiveInt
    reviewed: date
    reviewed_by: Text
    standard: Text
    routes: Routes
    emergency_signs: Texts
    emergency_advice: Texts
    accident: Text
    urgent_signs: Texts
    stop_rule: Text


# --- faq.yaml ------------------------------------------------------------------------------

# An id travels in button data (``fq:<id>:show``, at most 32 characters).
FaqId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=32)]


class FaqEntry(Strict):
    id: FaqId
    topic: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    question: Text
    phrasings: list[Text] = []
    answer: Text
    related: list[FaqId] = []
    kind: Literal["answer", "deferral"] = "answer"


class FaqFile(Strict):
    version: PositiveInt
    reviewed: date
    entries: Annotated[list[FaqEntry], Field(min_length=1)]
    out_of_scope: list[Text] = []

    @model_validator(mode="after")
    def _ids(self) -> FaqFile:
        seen: set[str] = set()
        for e in self.entries:
            if e.id in seen:
                raise ValueError(f"entry id {e.id!r} is used twice")
            seen.add(e.id)
        for e in self.entries:
            for r in e.related:
                if r not in seen:
                    raise ValueError(f"entry {e.id!r}: related entry {r!r} does not exist")
        return self


# --- red_flags.yaml ------------------------------------------------------------------------


class Negation(Strict):
    window_words: PositiveInt
    cues: Texts
    pseudo_negations: list[Text] = []
    hypothetical: list[Text] = []
    after: str | None = None


class RedFlagKind(Strict):
    kind: Literal[
        "bladder_bowel", "saddle_numbness", "sexual_function", "both_legs", "weakness_worsening"
    ]
    reason: Text
    patterns: Texts


class Replacement(Strict):
    pattern: Text
    replace: str


class RedFlagsFile(Strict):
    version: PositiveInt
    reviewed: date
    replacements: list[Replacement] = []
    terms: dict[str, Text] = {}
    clause_breaks: Text
    negation: Negation
    kinds: Annotated[list[RedFlagKind], Field(min_length=1)]


# --- red_flag_model.yaml and .json ---------------------------------------------------------


class ConceptsFile(Strict):
    version: PositiveInt
    concepts: Annotated[dict[str, Texts], Field(min_length=1)]
    unclear_reason: Text


class ModelFile(Strict):
    about: Any = None
    ask_threshold: float = Field(gt=0, lt=1)
    ask_min_evidence: float
    weights: dict[str, float]

    @model_validator(mode="after")
    def _bias(self) -> ModelFile:
        if "bias" not in self.weights:
            raise ValueError("weights need a 'bias'")
        return self


# --- places.yaml and plain_words.yaml ------------------------------------------------------

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


def _zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


Zone = Annotated[str, AfterValidator(_zone)]


class PlacesFile(Strict):
    version: PositiveInt
    country_names: dict[CountryCode, Texts]
    main_zone: dict[CountryCode, Zone]
    several_zones_examples: dict[CountryCode, Texts]
    cities: dict[Zone, Texts]


class PlainWordsFile(Strict):
    version: PositiveInt
    help: Texts
    greeting: Texts
    thanks: Texts
    ok: Texts
    filler: list[Text] = []
    emoji_ok: Texts
    emoji_help: list[Text] = []


# --- checking ------------------------------------------------------------------------------


# --- proms.yaml: the questionnaires ------------------------------------------------------------


class StartBackContent(Strict):
    title: str
    copyright: str
    intro: str
    agree: str
    disagree: str
    items: list[str] = Field(min_length=8, max_length=8)
    bothersome: str
    bothersome_answers: list[str] = Field(min_length=5, max_length=5)
    done: str


class PsfsContent(Strict):
    title: str
    intro: str
    ask_rating: str
    ask_more: str
    review_intro: str
    discharge_intro: str
    enough: str
    too_long: str
    done: str


class GrocContent(Strict):
    title: str
    question: str
    answers: list[tuple[str, int]] = Field(min_length=7, max_length=7)
    done: str

    @field_validator("answers")
    @classmethod
    def _symmetric(cls, value: list[tuple[str, int]]) -> list[tuple[str, int]]:
        if [score for _, score in value] != [3, 2, 1, 0, -1, -2, -3]:
            raise ValueError("answers must score 3 down to -3, best first")
        return value


class PromContent(Strict):
    meta: Meta = Field(alias="_content")

    startback: StartBackContent
    psfs: PsfsContent
    groc: GrocContent


class _Problem(Exception):
    def __init__(self, loc: tuple, message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


def _model(cls: type[BaseModel]) -> Callable[[Any, Path], None]:
    def check(data: Any, path: Path) -> None:
        cls.model_validate(data)

    return check


#: File name -> its check. exercises.yaml is checked, entry by entry, by its own loader
#: (``bot.content.exercises.Library.from_data``), which names the offending exercise or plan.
CHECKS: dict[str, Callable[[Any, Path], None]] = {
    "messages.yaml": _check_messages,
    "safety.yaml": _model(SafetyFile),
    "faq.yaml": _model(FaqFile),
    "red_flags.yaml": _model(RedFlagsFile),
    "red_flag_model.yaml": _model(ConceptsFile),
    "red_flag_model.json": _model(ModelFile),
    "places.yaml": _model(PlacesFile),
    "plain_words.yaml": _model(PlainWordsFile),
    "proms.yaml": _model(PromContent),
}


def check(name: str, data: Any, path: Path) -> None:
    """Raise :class:`ContentError` if ``data`` (read from ``path``) does not fit its schema."""
    checker = CHECKS.get(name)
    if checker is None:
        return
    try:
        checker(data, path)
    except _Problem as problem:
        raise ContentError(name, _where(path, problem.loc), problem.message) from None
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        raise ContentError(name, _where(path, loc), msg) from None


def _dotted(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _where(path: Path, loc: tuple) -> str:
    """``line N (entries[3].answer)``: the line of the deepest part of ``loc`` in the file."""
    if not loc:  # about the file as a whole
        return ""
    line = _line(path, loc)
    dotted = _dotted(loc)
    return dotted if line is None else f"line {line} ({dotted})"


def _line(path: Path, loc: tuple) -> int | None:
    if path.suffix not in (".yaml", ".yml"):
        return None
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    if node is None:
        return None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(part)), None)
            if pair is not None:
                # A value's line is its key's (a block of text starts on the line after).
                child = pair[0] if isinstance(pair[1], yaml.ScalarNode) else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
    return node.start_mark.line + 1
