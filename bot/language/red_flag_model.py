"""A small statistical reader of free text for red flags: when to *ask*.

The phrase rules (``red_flags.py``) decide what is clearly urgent. Patients also describe the
same signs in everyday words no list of phrases will hold ("like someone turned the tap off",
"I have to look to check if I've been"). This module scores a message between 0 and 1 for
"sounds like a red flag" with a logistic regression over:

* the words of the message and adjacent pairs of words, a word after a negation cue marked as
  negated ("n:numb");
* the ideas in ``bot/content/red_flag_model.yaml`` (urine, effort, no feeling, both legs ...),
  and each pair of ideas found in one clause ("cc:effort|urine"), which is what lets a few
  hundred labelled messages generalise to words they never used.

The weights are learnt offline by ``bench/train_red_flag_model.py`` on the *tuning* half of the
evaluation set and the project's labelled phrases, and stored in
``bot/content/red_flag_model.json``. Pure Python at run time: no numpy, no framework; the
files are read once and a message takes well under a millisecond.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.content import parse_yaml, read
from bot.language.red_flags import load_rules, normalise

__all__ = [
    "CONCEPTS_PATH",
    "WEIGHTS_PATH",
    "RedFlagModel",
    "Score",
    "features",
    "load_concepts",
    "load_model",
]

_CONTENT = Path(__file__).resolve().parent.parent / "content"
CONCEPTS_PATH = _CONTENT / "red_flag_model.yaml"
WEIGHTS_PATH = _CONTENT / "red_flag_model.json"

_WORD = re.compile(r"[a-z0-9]+")
_NEGATORS = frozenset(
    "no not never without none nothing havent hasnt hadnt isnt arent wasnt werent wont "
    "wouldnt shouldnt doesnt didnt dont nor neither nope nah zero".split()
)
_NEGATED_WORDS = 3  # words after a cue that are marked as negated


@lru_cache(maxsize=4)
def load_concepts(path: str | Path | None = None) -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The concept patterns (read and compiled once)."""
    if path is None:  # the content directory's, checked against its schema
        data = read("red_flag_model.yaml")
    else:
        data = parse_yaml(Path(path).read_text(encoding="utf-8"))
    out = []
    for name, patterns in data["concepts"].items():
        alternation = "|".join(f"(?:{p})" for p in patterns)
        try:
            out.append((str(name), re.compile(rf"\b(?:{alternation})(?!\w)")))
        except re.error as exc:
            raise ValueError(f"red_flag_model.yaml: bad pattern in {name}: {exc}") from exc
    return tuple(out)


def clauses(norm: str) -> list[str]:
    """The normalised text cut at clause breaks (the same breaks as the negation check)."""
    rules = load_rules()
    parts = rules.clause_break.split(norm)
    return [p.strip() for p in parts if p and p.strip()]


def concepts_in(text: str) -> set[str]:
    """The concept names found in a piece of normalised text."""
    return {name for name, pattern in load_concepts() if pattern.search(text)}


def features(text: str) -> dict[str, float]:
    """The model's features of a message (binary, as a dict of name -> 1.0)."""
    norm = normalise(text)
    feats: dict[str, float] = {"bias": 1.0}
    words = _WORD.findall(norm)
    marked: list[str] = []
    left = 0
    for w in words:
        if w in _NEGATORS:
            left = _NEGATED_WORDS
            marked.append(w)
            continue
        marked.append(f"n:{w}" if left > 0 else w)
        left = max(0, left - 1)
    for w in marked:
        feats[f"w:{w}"] = 1.0
    for a, b in zip(marked, marked[1:], strict=False):
        feats[f"b:{a}_{b}"] = 1.0
    found_all: set[str] = set()
    for clause in clauses(norm):
        found = sorted(concepts_in(clause))
        found_all.update(found)
        for i, a in enumerate(found):
            for b in found[i + 1 :]:
                feats[f"cc:{a}|{b}"] = 1.0
    for c in found_all:
        feats[f"c:{c}"] = 1.0
    return feats


@dataclass(frozen=True)
class Score:
    probability: float
    #: The score without the bias, in log-odds: how much the message itself says.
    evidence: float


@dataclass(frozen=True)
class RedFlagModel:
    weights: dict[str, float]
    #: At or above this probability the bot asks "Is this happening now?" ...
    ask_threshold: float
    #: ... provided the message itself carries this much evidence (its score without the bias,
    #: in log-odds): a time, a name or "yes" typed into a flow has none and is never asked about.
    ask_min_evidence: float = 1.0

    def score(self, text: str) -> Score:
        """The message's probability and evidence, from one reading of its features."""
        if not text or not text.strip():
            return Score(0.0, 0.0)
        z = evidence = 0.0
        for f, v in features(text).items():
            term = self.weights.get(f, 0.0) * v
            z += term
            if f != "bias":
                evidence += term
        if z >= 0:
            return Score(1.0 / (1.0 + math.exp(-z)), evidence)
        e = math.exp(z)
        return Score(e / (1.0 + e), evidence)

    def would_ask(self, score: Score) -> bool:
        return score.evidence >= self.ask_min_evidence and score.probability >= self.ask_threshold

    def asks(self, text: str) -> bool:
        return self.would_ask(self.score(text))

    def probability(self, text: str) -> float:
        return self.score(text).probability


@lru_cache(maxsize=4)
def load_model(path: str | Path | None = None) -> RedFlagModel:
    """The trained weights (read once). Raises if the file is missing or malformed, so the bot
    stops at start rather than running without its second reader."""
    if path is None:  # the content directory's, checked against its schema
        data = read("red_flag_model.json")
    else:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    weights = {str(k): float(v) for k, v in data["weights"].items()}
    threshold = float(data["ask_threshold"])
    min_evidence = float(data["ask_min_evidence"])
    if not 0.0 < threshold < 1.0 or "bias" not in weights:
        raise ValueError("red_flag_model.json: needs weights with a bias and 0 < ask_threshold < 1")
    return RedFlagModel(weights=weights, ask_threshold=threshold, ask_min_evidence=min_evidence)
