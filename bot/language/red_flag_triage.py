"""Three answers to a patient's free text: urgent, ask, or nothing to do.

* **urgent**: a phrase rule (``red_flags.py``) matched, not negated, and the sentence it is in is
  about the patient now: not someone else, not the past, not "what if", not "what does ...
  mean". The urgent path is taken at once.
* **ask**: between the two. A phrase rule matched but the sentence talks about someone else, the
  past, a hypothetical or a meaning; or no rule matched but the model (``red_flag_model.py``)
  finds the message sounds like a red flag. The bot asks "Is this happening now?" (Yes takes the
  urgent path; no answer in time alerts the clinic).
* **none**: neither.

A red flag always wins over everything else the message might be (a question, a note): the
caller acts on ``urgent`` and ``ask`` before anything else. Pure: reads only the content files.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.content import read
from bot.language.red_flag_model import concepts_in, load_model
from bot.language.red_flags import (
    RedFlagHit,
    denied_red_flags,
    detect_red_flags,
    load_rules,
    normalise,
)

__all__ = ["CONTEXT_CONCEPTS", "Triage", "assess"]

#: Concepts of red_flag_model.yaml that make a rule hit a question rather than an alert.
CONTEXT_CONCEPTS = ("other_person", "past", "hypothetical", "meaning", "improving")
#: The model's probability above which a message is asked about despite a denial in it.
DENIED_ASK_PROBABILITY = 0.5
_SENTENCE_END = re.compile(r"[.!?\n]+")
# A question in general terms ("is urinary retention painful?", "does foot drop get better?"),
# as opposed to a symptom with a question after it ("bit of incontinence today, is that normal?").
_GENERAL_QUESTION = re.compile(
    r"^\s*(?:does|do|can|could|is|are|will|would|should|how|why|what|whats|when|which|where)\b"
)
# A message's likely kind when no rule matched, from the ideas in it (first found wins).
_KIND_OF_CONCEPT = (
    ("urine", "bladder_bowel"),
    ("bowel", "bladder_bowel"),
    ("toilet", "bladder_bowel"),
    ("accident", "bladder_bowel"),
    ("saddle", "saddle_numbness"),
    ("sex", "sexual_function"),
    ("both", "both_legs"),
    ("footdrop", "weakness_worsening"),
    ("weak", "weakness_worsening"),
)


@dataclass(frozen=True)
class Triage:
    level: str  # urgent | ask | none
    #: What was found (for ``ask`` without a rule hit, the likely kind and a plain reason).
    hit: RedFlagHit | None
    #: The model's probability (0 to 1) that the message describes a red flag.
    probability: float
    #: Why an ``ask``: "context:<concept>" or "model"; empty otherwise.
    why: str = ""


@lru_cache(maxsize=1)
def _unclear_reason() -> str:
    return str(read("red_flag_model.yaml")["unclear_reason"]).strip()


def _sentence_around(norm: str, fragment: str) -> tuple[str, bool]:
    """The sentence of the normalised text that holds the matched fragment, and whether it is
    a question (ends with a question mark)."""
    frag = normalise(fragment)
    pos = 0
    for m in [*_SENTENCE_END.finditer(norm), None]:
        end = m.start() if m else len(norm)
        sentence = norm[pos:end]
        if frag and frag in sentence:
            return sentence, bool(m and "?" in m.group())
        pos = m.end() if m else len(norm)
    return norm, norm.rstrip().endswith("?")


def _guess(norm: str) -> RedFlagHit:
    found = concepts_in(norm)
    rules = {k.kind: k.reason for k in load_rules().kinds}
    for concept, kind in _KIND_OF_CONCEPT:
        if concept in found:
            return RedFlagHit(kind=kind, reason=rules[kind], matched="")
    return RedFlagHit(kind="unclear", reason=_unclear_reason(), matched="")


def assess(text: str | None) -> Triage:
    """Decide what a message needs: see the module docstring."""
    if not text or not text.strip():
        return Triage("none", None, 0.0)
    model = load_model()
    score = model.score(text)
    p = score.probability
    hits = detect_red_flags(text)
    norm = normalise(text)
    if hits:
        hit = hits[0]
        sentence, question = _sentence_around(norm, hit.matched)
        context = concepts_in(sentence)
        reasons = [c for c in CONTEXT_CONCEPTS if c in context]
        if question and _GENERAL_QUESTION.match(sentence):
            reasons.append("question")
        if reasons:
            return Triage("ask", hit, p, f"context:{reasons[0]}")
        return Triage("urgent", hit, p)
    # A patient who explicitly denies the sign ("no problems with my bladder") is not asked
    # about it again unless the rest of the message makes the model fairly sure.
    denied = bool(denied_red_flags(text))
    if model.would_ask(score) and (not denied or p >= DENIED_ASK_PROBABILITY):
        return Triage("ask", _guess(norm), p, "model")
    return Triage("none", None, p)
