"""Standard outcome measures: their content (``bot/content/proms.yaml``, checked by pydantic
models at start) and their scoring, as published.

* **Keele STarT Back Screening Tool** (Hill et al. 2008): items 1-8 agree = 1, disagree = 0;
  item 9 "very much" or "extremely" bothersome = 1. Total 0-9; the psychosocial subscale is
  items 5-9 (0-5). Risk of a poor outcome: total 0-3 low; otherwise subscale 0-3 medium,
  4-5 high.
* **Patient-Specific Functional Scale** (Stratford et al. 1995): up to 3 activities, each rated
  0 (unable) to 10 (as before); the score is their mean. A change of 2 points is clinically
  important.
* **Global Rating of Change**: one answer from "very much worse" (-3) to "very much better" (+3).
"""

from __future__ import annotations

from functools import cache
from statistics import mean

from bot.content import read
from bot.content.schema import PromContent

STARTBACK_ITEMS = 9
PSYCHOSOCIAL = range(4, 9)  # items 5-9, zero-based
BOTHERSOME_SCORES = (0, 0, 0, 1, 1)  # not at all, slightly, moderately, very much, extremely
PSFS_MAX_ACTIVITIES = 3
PSFS_IMPORTANT_CHANGE = 2
MAX_ACTIVITY = 60


@cache
def content() -> PromContent:
    """The questionnaires of ``proms.yaml`` (checked against their schema when read)."""
    return PromContent.model_validate(read("proms.yaml"))


def score_startback(answers: list[int]) -> dict:
    """``answers``: items 1-8 as 1 (agree) or 0 (disagree), item 9 as the index of the answer
    (0 "not at all" to 4 "extremely")."""
    if len(answers) != STARTBACK_ITEMS:
        raise ValueError(f"STarT Back has {STARTBACK_ITEMS} items, got {len(answers)}")
    if any(a not in (0, 1) for a in answers[:8]) or answers[8] not in range(5):
        raise ValueError("STarT Back answer out of range")
    points = [*answers[:8], BOTHERSOME_SCORES[answers[8]]]
    total = sum(points)
    psychosocial = sum(points[i] for i in PSYCHOSOCIAL)
    if total <= 3:
        risk = "low"
    elif psychosocial <= 3:
        risk = "medium"
    else:
        risk = "high"
    return {"total": total, "psychosocial": psychosocial, "risk": risk}


def score_psfs(ratings: list[int]) -> dict:
    if not 1 <= len(ratings) <= PSFS_MAX_ACTIVITIES or any(r not in range(11) for r in ratings):
        raise ValueError("PSFS needs 1 to 3 ratings from 0 to 10")
    return {"mean": round(mean(ratings), 1), "activities": len(ratings)}


def score_groc(value: int) -> dict:
    if value not in range(-3, 4):
        raise ValueError("GROC answers score -3 to 3")
    return {"score": value}
