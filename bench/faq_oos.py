"""Out-of-sample figures of the FAQ matcher: ``python bench/faq_oos.py`` from the repository root.

The evaluation sets' tuning halves are learnt from (``bench/train_faq_model.py``), and both
halves have been read while the matcher was worked on, so their own figures flatter it. This
measures how the matcher does on questions it has never learnt from, two ways, on every item of
both sets (``tests/data/faq_questions.yaml`` and ``tests/data/faq_eval.yaml``, both halves):

* ``own``: the model learns from the FAQ's own texts only (questions, phrasings,
  ``faq_examples.yaml``), never from an evaluation item; every item is then a question it has
  not seen. The threshold is chosen out of fold (five folds by a hash of each question: each
  fold is judged with the threshold chosen on the other four).
* ``cv``: five folds over all the items; each fold is scored by a model learnt from the FAQ's
  own texts and the other four folds (what the trainer will do once all of them are tuning
  data), with the threshold chosen on the other folds' out-of-fold scores.

Prints top-1 (answered with the right entry) and declined for each set and each way. Writes
nothing.
"""

from __future__ import annotations

import argparse
import sys
import zlib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from faq_eval import (  # noqa: E402
    DECLINING_DEFERRALS,
    choose_threshold,
    load_eval,
    load_questions,
)
from train_faq_model import MIN_COUNT, as_model, best, fit  # noqa: E402

from bot.language.faq import DECLINE, FaqIndex, training_data  # noqa: E402

FOLDS = 5


def items() -> list[tuple[str, str, str]]:
    """(question, class, set) for every item of both sets, both halves."""
    out = []
    a, u = load_eval()
    out += [(q, c, "faq_eval") for q, c in a] + [(q, DECLINE, "faq_eval") for q in u]
    for split in ("tune", "test"):
        a, d = load_questions(split)
        out += [(q, c, f"q-{split}") for q, c in a] + [(q, DECLINE, f"q-{split}") for q in d]
    return out


def design(index: FaqIndex, texts: list[tuple[str, bool]]) -> list[dict[str, float]]:
    return [index.model_features(t, own=own) for t, own in texts]


def matrix(feats, rows, names_from):
    counts: dict[str, int] = {}
    for i in names_from:
        for f in feats[i]:
            counts[f] = counts.get(f, 0) + 1
    names = sorted(f for f, n in counts.items() if n >= MIN_COUNT or f in ("^", "?"))
    col = {f: i for i, f in enumerate(names)}
    x = np.zeros((len(rows), len(names)))
    for r, i in enumerate(rows):
        for f, v in feats[i].items():
            j = col.get(f)
            if j is not None:
                x[r, j] = v
    return x, names, col["^"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--way", choices=("own", "cv", "both"), default="both")
    args = parser.parse_args(argv)
    index = FaqIndex.load(model_path=None)
    own = training_data(index.entries, index.declines)
    evals = items()
    classes = [e.id for e in index.entries] + [DECLINE]
    label = {c: i for i, c in enumerate(classes)}
    texts = [(t, c != DECLINE) for t, c in own] + [(q, False) for q, _, _ in evals]
    feats = design(index, texts)
    y_all = np.array([label[c] for _, c in own] + [label[c] for _, c, _ in evals])
    n_own = len(own)
    fold_of = [zlib.crc32(q.encode("utf-8")) % FOLDS for q, _, _ in evals]
    ways = ("own", "cv") if args.way == "both" else (args.way,)
    for way in ways:
        scored: list[tuple[str, float]] = [("", 0.0)] * len(evals)
        models = [None] if way == "own" else list(range(FOLDS))
        for k in models:
            rows = list(range(n_own))
            if k is not None:
                rows += [n_own + j for j, f in enumerate(fold_of) if f != k]
            x, names, bias = matrix(feats, rows, rows)
            w = fit(x, y_all[rows], len(classes), bias)
            index.use_model(as_model(w, names, classes))
            for j, (q, _, _) in enumerate(evals):
                if k is None or fold_of[j] == k:
                    scored[j] = best(index, q)
            print(f"  [{way}] model {1 if k is None else k + 1}/{len(models)} scored", flush=True)
        report(way, evals, scored, fold_of)
    return 0


def report(way, evals, scored, fold_of) -> None:
    # Threshold for each fold chosen on the other folds' scores.
    thresholds = {}
    for k in range(FOLDS):
        pos, neg = [], []
        for j, (_, c, _) in enumerate(evals):
            if fold_of[j] == k:
                continue
            got, s = scored[j]
            if c == DECLINE:
                neg.append(0.0 if got in DECLINING_DEFERRALS else s)
            else:
                pos.append((s, got == c))
        thresholds[k] = choose_threshold(pos, neg)
    for which in ("q-", "q-tune", "q-test", "faq_eval"):
        n_a = right = ranked = n_d = declined = 0
        for j, (_, c, s_) in enumerate(evals):
            if not s_.startswith(which):
                continue
            got, s = scored[j]
            t = thresholds[fold_of[j]]
            if c == DECLINE:
                n_d += 1
                declined += s < t or got in DECLINING_DEFERRALS
            else:
                n_a += 1
                ranked += got == c
                right += got == c and s >= t
        name = which.replace("q-", "questions ").strip()
        print(
            f"{way:<4} {name:<16} top-1 {right / n_a:6.1%} ({right}/{n_a}; "
            f"best entry right {ranked / n_a:.1%})   declined "
            f"{declined / n_d:6.1%} ({declined}/{n_d})"
            f"   thresholds {min(thresholds.values()):.3f}-{max(thresholds.values()):.3f}",
            flush=True,
        )


if __name__ == "__main__":
    sys.exit(main())
