"""Red flags in a patient's own words.

Cauda equina syndrome (compression of the nerve roots at the bottom of the spine) is rare in
people with sciatica, but it is an emergency: changes in bladder or bowel control, numbness
around the genitals or back passage ("saddle" numbness), changes in sexual function, symptoms
spreading to both legs, and leg weakness that gets worse by the hour need to be seen the same
day, or function can be lost for good. The check-in asks about these directly; this module
catches the same things when a patient *types* them, in a question, a note or any message, so
that the bot can tell them to seek emergency care at once and alert the clinic.

The phrases are content, not code: they live in ``bot/content/red_flags.yaml`` as readable
regular expressions grouped by kind, together with the negation rules (see the comment at the
top of that file). This module only normalises the text, runs the patterns and applies the
negation check. It is pure: the YAML file is the only thing it reads.

Negation matters in both directions. "No problems with my bladder" and "I haven't lost control
of my bowels" must not raise an emergency; "no idea why but I wet myself" and "I can't control
my bladder" must (there "can't" is the symptom, not a denial of it).

The detector is deliberately sensitive: when a phrase is ambiguous it fires, because a phone call
from the clinic is cheap and a missed cauda equina is not.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from bot.content import parse_yaml, read

__all__ = [
    "KINDS",
    "RED_FLAGS_PATH",
    "RedFlagHit",
    "RedFlagRules",
    "denied_red_flags",
    "detect_red_flag",
    "detect_red_flags",
    "load_rules",
    "normalise",
]

KINDS = (
    "bladder_bowel",
    "saddle_numbness",
    "sexual_function",
    "both_legs",
    "weakness_worsening",
)
RED_FLAGS_PATH = Path(__file__).resolve().parent.parent / "content" / "red_flags.yaml"

# Characters used as apostrophes. They are dropped, so "can't", "can’t" and "cant" read the same.
_APOSTROPHES = frozenset("'\u2019\u2018`\u00b4\u02bc\u02b9\u2032")
_HYPHEN_IN_WORD = re.compile(r"(?<=[^\W\d_])[-\u2010\u2011](?=[^\W\d_])")
_WHITESPACE = re.compile(r"\s+")
_TERM = re.compile(r"\{([a-z][a-z_]*\d?)\}")
_WORD = re.compile(r"[a-z0-9]+")
_MAX_GAP = 6
_LOOKBACK_CHARS = 240
# Clause-break words a gap may not step over (the punctuation ones cannot be in a gap anyway).
_GAP_STOP_WORDS = ("but", "though", "although", "however", "except", "whereas", "yet")


@dataclass(frozen=True)
class RedFlagHit:
    """A red flag found in free text."""

    kind: str  # one of KINDS
    reason: str  # plain words for patient and clinic, e.g. "changed bladder or bowel control"
    matched: str  # the fragment of the patient's own text that matched


@dataclass(frozen=True)
class _Kind:
    kind: str
    reason: str
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class RedFlagRules:
    """The compiled content of ``red_flags.yaml``."""

    kinds: tuple[_Kind, ...]
    replacements: tuple[tuple[re.Pattern[str], str], ...]
    clause_break: re.Pattern[str]
    window_words: int
    cue: re.Pattern[str]
    pseudo: re.Pattern[str] | None
    hypothetical: re.Pattern[str] | None
    after: re.Pattern[str] | None
    # The last few messages normalised with these rules: one message is read by the rules,
    # the denial check and the model, and normalising a long one is most of the work.
    normalised: dict[str, tuple[str, list[int]]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )


# --- loading -------------------------------------------------------------------------------


def _expand(pattern: str, terms: dict[str, str], where: str, depth: int = 0) -> str:
    """Replace ``{name}`` with its term (terms may use other terms)."""
    if depth > 5:
        raise ValueError(f"red_flags.yaml: terms nest too deeply in {where}")

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in terms:
            raise ValueError(f"red_flags.yaml: unknown term {{{name}}} in {where}")
        return _expand(terms[name], terms, f"term {name}", depth + 1)

    return _TERM.sub(sub, pattern)


def _alternation(items: Iterable[str]) -> str:
    return "|".join(f"(?:{item})" for item in items)


def _gap_terms(cue_words: list[str]) -> dict[str, str]:
    """``{gapN}``: up to N words, none of them a negation cue or a clause-break word.

    Without this, "both legs are not numb" could match ``both legs ... numb`` with the "not"
    inside the match, where the negation check (which looks before the match) never sees it.
    """
    stop = "|".join(re.escape(w) for w in [*cue_words, *_GAP_STOP_WORDS])
    word = rf"(?!(?:{stop})\b)[a-z0-9]+"
    return {f"gap{n}": rf"(?: {word}){{0,{n}}}" for n in range(1, _MAX_GAP + 1)}


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"red_flags.yaml: bad regular expression in {where}: {exc}") from exc


def _optional(patterns: list[str] | None, where: str) -> re.Pattern[str] | None:
    return _compile(_alternation(patterns), where) if patterns else None


@lru_cache(maxsize=8)
def load_rules(path: str | Path | None = None) -> RedFlagRules:
    """Load and compile the red-flag content (cached; the file is read once per path).

    Raises ``ValueError`` naming the problem if the file is malformed, so a bad edit to the
    content stops the bot at start rather than silently disabling a red flag.
    """
    if path is None:  # the content directory's, checked against its schema
        data = read("red_flags.yaml")
    else:
        with open(path, encoding="utf-8") as fh:
            data = parse_yaml(fh)

    negation = data["negation"]
    cues: list[str] = [str(c) for c in negation["cues"]]
    terms = {str(k): str(v) for k, v in (data.get("terms") or {}).items()}
    terms.update(_gap_terms([c for c in cues if " " not in c]))

    kinds = []
    for entry in data["kinds"]:
        kind = entry["kind"]
        if kind not in KINDS:
            raise ValueError(f"red_flags.yaml: unknown kind {kind!r} (expected one of {KINDS})")
        patterns = tuple(
            # Anchor at a word start and a word end, so "wee" never matches inside "week".
            _compile(rf"\b(?:{_expand(p, terms, kind)})(?!\w)", f"{kind}: {p}")
            for p in entry["patterns"]
        )
        kinds.append(_Kind(kind=kind, reason=str(entry["reason"]).strip(), patterns=patterns))
    missing = set(KINDS) - {k.kind for k in kinds}
    if missing:
        raise ValueError(f"red_flags.yaml: no patterns for {sorted(missing)}")

    replacements = tuple(
        (_compile(r["pattern"], f"replacement {r['pattern']}"), str(r["replace"]))
        for r in data.get("replacements") or []
    )
    window = int(negation["window_words"])
    if window < 1:
        raise ValueError("red_flags.yaml: negation.window_words must be at least 1")
    return RedFlagRules(
        kinds=tuple(kinds),
        replacements=replacements,
        clause_break=_compile(data["clause_breaks"], "clause_breaks"),
        window_words=window,
        cue=_compile(rf"\b(?:{_alternation(re.escape(c) for c in cues)})\b", "negation.cues"),
        pseudo=_optional(negation.get("pseudo_negations"), "negation.pseudo_negations"),
        hypothetical=_optional(negation.get("hypothetical"), "negation.hypothetical"),
        after=_compile(negation["after"], "negation.after") if negation.get("after") else None,
    )


# --- normalising, keeping track of where each character came from ---------------------------


def _sub_mapped(
    pattern: re.Pattern[str], repl: str, text: str, origin: list[int]
) -> tuple[str, list[int]]:
    """``pattern.sub(repl, text)`` that also maps each output character to the input.

    ``origin[i]`` is the index in the patient's original message of normalised character ``i``,
    so a hit can quote the patient's own words rather than our lower-cased rewrite.
    """
    parts: list[str] = []
    new_origin: list[int] = []
    pos = 0
    literal = "\\" not in repl  # no group references: the same text for every match
    for m in pattern.finditer(text):
        parts.append(text[pos : m.start()])
        new_origin.extend(origin[pos : m.start()])
        replacement = repl if literal else m.expand(repl)
        span = origin[m.start() : m.end()]
        if not span:  # an empty match: point at the neighbouring character
            span = [origin[min(m.start(), len(origin) - 1)]] if origin else [0]
        parts.append(replacement)
        new_origin.extend(span[min(k, len(span) - 1)] for k in range(len(replacement)))
        pos = m.end()
    parts.append(text[pos:])
    new_origin.extend(origin[pos:])
    return "".join(parts), new_origin


_NORMALISED_KEPT = 16


def _normalise_mapped(text: str, rules: RedFlagRules) -> tuple[str, list[int]]:
    """The normalised text and, for each of its characters, where it came from (read only:
    the result is shared by the callers that read the same message)."""
    kept = rules.normalised.get(text)
    if kept is None:
        kept = _normalise_uncached(text, rules)
        if len(rules.normalised) >= _NORMALISED_KEPT:
            rules.normalised.clear()
        rules.normalised[text] = kept
    return kept


def _normalise_uncached(text: str, rules: RedFlagRules) -> tuple[str, list[int]]:
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if ch in _APOSTROPHES:
            continue
        for c in unicodedata.normalize("NFKC", ch).lower():
            if c in _APOSTROPHES:
                continue
            chars.append(c)
            origin.append(i)
    out = "".join(chars)
    out, origin = _sub_mapped(_HYPHEN_IN_WORD, " ", out, origin)
    for pattern, repl in rules.replacements:
        out, origin = _sub_mapped(pattern, repl, out, origin)
    out, origin = _sub_mapped(_WHITESPACE, " ", out, origin)
    # Strip, keeping the map in step.
    start = len(out) - len(out.lstrip())
    end = len(out.rstrip())
    return out[start:end], origin[start:end]


def normalise(text: str, rules: RedFlagRules | None = None) -> str:
    """The text as the patterns see it: lower case, no apostrophes, single spaces."""
    return _normalise_mapped(text, rules or load_rules())[0]


# --- negation --------------------------------------------------------------------------------


def _is_negated(norm: str, start: int, end: int, rules: RedFlagRules) -> bool:
    """Whether the match ``norm[start:end]`` is denied or only asked about.

    Looks only within the clause the match is in: in "no pain today, but I wet myself" the "no"
    belongs to another clause.
    """
    # A clause longer than this is not one sentence any more; the bound also keeps a long
    # message linear to check.
    before = norm[max(0, start - _LOOKBACK_CHARS) : start]
    cut = 0
    for m in rules.clause_break.finditer(before):
        cut = m.end()
    clause = before[cut:]
    if rules.pseudo is not None:
        clause = rules.pseudo.sub(" ", clause)
    if rules.hypothetical is not None and rules.hypothetical.search(clause):
        return True
    window = " ".join(_WORD.findall(clause)[-rules.window_words :])
    if rules.cue.search(window):
        return True
    return bool(rules.after is not None and rules.after.match(norm[end:]))


# --- detection -------------------------------------------------------------------------------


def detect_red_flags(text: str | None, rules: RedFlagRules | None = None) -> list[RedFlagHit]:
    """Every kind of red flag in ``text``, at most one hit per kind, in the content's order."""
    if not text or not text.strip():
        return []
    rules = rules or load_rules()
    norm, origin = _normalise_mapped(text, rules)
    hits: list[RedFlagHit] = []
    for kind in rules.kinds:
        hit = _first_hit(kind, norm, origin, text, rules)
        if hit is not None:
            hits.append(hit)
    return hits


def _first_hit(
    kind: _Kind, norm: str, origin: list[int], text: str, rules: RedFlagRules
) -> RedFlagHit | None:
    for pattern in kind.patterns:
        for m in pattern.finditer(norm):
            if m.end() <= m.start() or _is_negated(norm, m.start(), m.end(), rules):
                continue
            matched = text[origin[m.start()] : origin[m.end() - 1] + 1].strip()
            return RedFlagHit(kind=kind.kind, reason=kind.reason, matched=matched)
    return None


def denied_red_flags(text: str | None, rules: RedFlagRules | None = None) -> list[str]:
    """The kinds a pattern matched in ``text`` but the patient denied ("no problems with my
    bladder"): used to keep an explicit denial from being asked about again."""
    if not text or not text.strip():
        return []
    rules = rules or load_rules()
    norm, _ = _normalise_mapped(text, rules)
    denied = []
    for kind in rules.kinds:
        for pattern in kind.patterns:
            if any(
                m.end() > m.start() and _is_negated(norm, m.start(), m.end(), rules)
                for m in pattern.finditer(norm)
            ):
                denied.append(kind.kind)
                break
    return denied


def detect_red_flag(text: str | None, rules: RedFlagRules | None = None) -> RedFlagHit | None:
    """The first red flag in ``text``, or ``None``.

    Kinds are tried in the content's order (bladder/bowel, saddle numbness, both legs, worsening
    weakness), so a message naming several gives the most specific cauda equina sign.
    """
    hits = detect_red_flags(text, rules)
    return hits[0] if hits else None
