"""Train the red-flag model: ``python bench/train_red_flag_model.py`` from the repository root.

Learns the weights of ``bot/language/red_flag_model.py`` (logistic regression, L2, balanced
classes; numpy, which matplotlib already brings) and writes ``bot/content/red_flag_model.json``.

Training data, and only this:

* the ``split: tune`` half of ``tests/data/red_flag_eval.yaml`` (urgent 1, benign 0) -- the test
  half is never read here;
* the labelled phrases of ``tests/data/red_flag_phrases.yaml`` (positive 1, negative 0);
* the model's own examples in ``bench/data/red_flag_examples.yaml`` (urgent 1, benign 0):
  signs in lay words that no phrase rule need catch, and near misses;
* every FAQ question and phrasing in ``bot/content/faq.yaml``, and the ``split: tune`` half of
  ``tests/data/faq_questions.yaml`` (0: ordinary questions in patients' words).

The ask threshold is chosen by 5-fold cross-validation over the tuning half: the lowest
out-of-fold probability of an urgent message the phrase rules miss, times a safety margin, so
that the threshold is set on predictions for messages the model did not learn from.
"""

from __future__ import annotations

import functools
import json
import random
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.language.red_flag_model import WEIGHTS_PATH  # noqa: E402
from bot.language.red_flag_model import features as _features  # noqa: E402
from bot.language.red_flags import detect_red_flag  # noqa: E402

EVAL = ROOT / "tests" / "data" / "red_flag_eval.yaml"
PHRASES = ROOT / "tests" / "data" / "red_flag_phrases.yaml"
EXAMPLES = ROOT / "bench" / "data" / "red_flag_examples.yaml"
FAQ = ROOT / "bot" / "content" / "faq.yaml"
QUESTIONS = ROOT / "tests" / "data" / "faq_questions.yaml"
L2 = 0.3
MARGIN = 0.6  # the threshold is this share of the lowest out-of-fold probability
MIN_COUNT = 2  # a feature seen in fewer training messages is dropped
FOLDS = 5
# The model asks only about a message with at least this much evidence of its own (log-odds
# above an empty message): set on the tuning half, where every urgent message the rules miss has
# more than 5, and it keeps messages typed into a flow ("09:00", "yes", a name) from being asked.
MIN_EVIDENCE = 1.0


# Every message is fitted six times (five folds and the final model): its features are read once.
features = functools.lru_cache(maxsize=None)(_features)


def training_data() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(tuning half of the evaluation set, everything else used for training)."""
    ev = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    tune = [(x["text"], 1) for x in ev["urgent"] if x["split"] == "tune"]
    tune += [(x["text"], 0) for x in ev["benign"] if x["split"] == "tune"]
    ph = yaml.safe_load(PHRASES.read_text(encoding="utf-8"))
    other = [(x["text"], 1) for x in ph["positive"]] + [(t, 0) for t in ph["negative"]]
    ex = yaml.safe_load(EXAMPLES.read_text(encoding="utf-8"))
    other += [(t, 1) for t in ex["urgent"]] + [(t, 0) for t in ex["benign"]]
    # Ordinary questions in patients' words (the tuning half of the FAQ set only).
    qs = yaml.safe_load(QUESTIONS.read_text(encoding="utf-8"))
    other += [(x["text"], 0) for x in [*qs["answerable"], *qs["decline"]] if x["split"] == "tune"]
    faq = yaml.safe_load(FAQ.read_text(encoding="utf-8"))
    for e in faq["entries"]:
        other += [(str(q), 0) for q in [e["question"], *(e.get("phrasings") or [])]]
    return tune, other


def fit(items: list[tuple[str, int]]) -> dict[str, float]:
    feats = [features(t) for t, _ in items]
    counts: dict[str, int] = {}
    for f in feats:
        for k in f:
            counts[k] = counts.get(k, 0) + 1
    names = sorted(k for k, c in counts.items() if c >= MIN_COUNT or k == "bias")
    col = {k: i for i, k in enumerate(names)}
    # The message-by-feature matrix is sparse (a message has tens of features out of
    # thousands): kept as (row, column, value) triples, multiplied with bincount.
    rows, cols, vals = [], [], []
    for i, f in enumerate(feats):
        for k, v in f.items():
            j = col.get(k)
            if j is not None:
                rows.append(i)
                cols.append(j)
                vals.append(v)
    ri, ci, vi = np.array(rows), np.array(cols), np.array(vals, dtype=float)
    n, d = len(items), len(names)

    def xv(v: np.ndarray) -> np.ndarray:  # X @ v
        return np.bincount(ri, weights=vi * v[ci], minlength=n)

    def xtu(u: np.ndarray) -> np.ndarray:  # X.T @ u
        return np.bincount(ci, weights=vi * u[ri], minlength=d)

    y = np.array([label for _, label in items], dtype=float)
    pos = y.sum()
    sample_w = np.where(y == 1, n / (2 * pos), n / (2 * (n - pos)))
    w = np.zeros(d)
    reg = np.full(d, L2)
    reg[col["bias"]] = 0.0
    reg += 1e-6
    # Newton's method, each step solved by conjugate gradients on Hessian-vector products
    # (the same minimum as a dense solve, without a features-by-features matrix).
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-xv(w)))
        grad = xtu(sample_w * (p - y)) + reg * w
        curv = sample_w * p * (1 - p)
        step = conjugate_gradient(lambda v, c=curv: xtu(c * xv(v)) + reg * v, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return {k: round(float(w[col[k]]), 4) for k in names if abs(w[col[k]]) >= 1e-4}


def conjugate_gradient(matvec, b: np.ndarray, tolerance: float = 1e-10) -> np.ndarray:
    """Solve A x = b for a symmetric positive definite A given only as ``matvec(v) = A v``."""
    x = np.zeros_like(b)
    r = b.copy()
    direction = r.copy()
    rr = r @ r
    for _ in range(500):
        ad = matvec(direction)
        alpha = rr / (direction @ ad)
        x += alpha * direction
        r -= alpha * ad
        rr_new = r @ r
        if np.sqrt(rr_new) < tolerance * max(1.0, np.sqrt(b @ b)):
            break
        direction = r + (rr_new / rr) * direction
        rr = rr_new
    return x


def probability(weights: dict[str, float], text: str) -> float:
    z = sum(weights.get(f, 0.0) for f in features(text))
    return float(1.0 / (1.0 + np.exp(-z)))


def main() -> int:
    tune, other = training_data()
    rng = random.Random(11)
    order = list(range(len(tune)))
    rng.shuffle(order)
    oof: dict[int, float] = {}
    for k in range(FOLDS):
        held = {i for n, i in enumerate(order) if n % FOLDS == k}
        weights = fit([tune[i] for i in range(len(tune)) if i not in held] + other)
        for i in held:
            oof[i] = probability(weights, tune[i][0])
    rule_missed = [i for i, (t, y) in enumerate(tune) if y == 1 and detect_red_flag(t) is None]
    lowest = min(oof[i] for i in rule_missed)
    threshold = round(MARGIN * lowest, 4)
    benign = [i for i, (_, y) in enumerate(tune) if y == 0]
    asked = sum(1 for i in benign if oof[i] >= threshold)
    print(
        f"training: {len(tune)} tuning-half messages + {len(other)} others; "
        f"{len(rule_missed)} urgent tuning messages the rules miss, lowest out-of-fold "
        f"probability {lowest:.3f}; ask threshold {threshold:.3f} "
        f"(out of fold, {asked}/{len(benign)} benign tuning messages would be asked)"
    )
    weights = fit(tune + other)
    WEIGHTS_PATH.write_text(
        json.dumps(
            {
                "about": "Weights of bot/language/red_flag_model.py, written by "
                "bench/train_red_flag_model.py; do not edit by hand.",
                "ask_threshold": threshold,
                "ask_min_evidence": MIN_EVIDENCE,
                "weights": dict(sorted(weights.items())),
            },
            indent=0,
            sort_keys=False,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {WEIGHTS_PATH.relative_to(ROOT)} ({len(weights)} weights)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
