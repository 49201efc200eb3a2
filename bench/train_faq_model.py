"""Train the FAQ matcher's model: ``python bench/train_faq_model.py`` from the repository root.

Learns the weights of the small model in ``bot/faq.py`` (a multinomial logistic regression, L2,
over the matcher's word features; numpy, which matplotlib already brings) and writes
``bot/content/faq_model.json``, which the bot loads at start and reads in pure Python.

Training data, and only this (``bot.faq.training_data``): each FAQ entry's question, topic and
phrasings (``bot/content/faq.yaml``) and its example questions (``bot/content/faq_examples.yaml``),
one class per entry; the example questions to decline in ``faq_examples.yaml``, one class more.
No evaluation set is read here. Run it again after any change to those files or to
``bot/content/faq_language.yaml``: ``tests/unit/test_faq.py`` fails while the model's fingerprint
does not match the content.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.faq import (  # noqa: E402
    DECLINE,
    MODEL_PATH,
    FaqIndex,
    training_data,
    training_fingerprint,
)

L2 = 3e-5  # per example (the loss is a mean), on every weight but the bias
STEPS = 600
LEARNING_RATE = 0.05
MIN_COUNT = 2  # a feature seen in fewer training questions is not learnt (noise, not evidence)
KEEP = 0.01  # smaller weights are left out of the file (the figures do not move)


def fit(x: np.ndarray, y: np.ndarray, n_classes: int, bias: int) -> np.ndarray:
    """Softmax regression by full-batch Adam (deterministic: zeros to start, no sampling)."""
    target = np.eye(n_classes)[y]
    w = np.zeros((x.shape[1], n_classes))
    reg = np.full((x.shape[1], 1), L2)
    reg[bias] = 0.0
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for step in range(1, STEPS + 1):
        z = x @ w
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        grad = x.T @ (p - target) / len(y) + reg * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= LEARNING_RATE * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w


def main() -> int:
    index = FaqIndex.load(model_path=None)
    data = training_data(index.entries, index.declines)
    classes = [e.id for e in index.entries] + [DECLINE]
    label = {c: i for i, c in enumerate(classes)}
    feats = [index.model_features(text, own=c != DECLINE) for text, c in data]
    counts: dict[str, int] = {}
    for fs in feats:
        for f in fs:
            counts[f] = counts.get(f, 0) + 1
    names = sorted(f for f, n in counts.items() if n >= MIN_COUNT or f in ("^", "?"))
    col = {f: i for i, f in enumerate(names)}
    x = np.zeros((len(data), len(names)))
    for row, fs in enumerate(feats):
        for f, value in fs.items():
            if f in col:
                x[row, col[f]] = value
    y = np.array([label[c] for _, c in data])
    bias = col["^"]
    w = fit(x, y, len(classes), bias)
    right = float((np.argmax(x @ w, axis=1) == y).mean())
    # Sparse: for each feature, {class number: weight} for the weights that matter.
    weights = {}
    for f in names:
        row = {str(c): round(float(v), 3) for c, v in enumerate(w[col[f]]) if abs(v) >= KEEP}
        if row:
            weights[f] = row
    MODEL_PATH.write_text(
        json.dumps(
            {
                "about": "Weights of the FAQ matcher's model (bot/faq.py), written by "
                "bench/train_faq_model.py; do not edit by hand.",
                "fingerprint": training_fingerprint(data),
                "classes": classes,
                "weights": weights,
            },
            separators=(",", ":"),
        )
        + "\n",
        encoding="utf-8",
    )
    print(
        f"trained on {len(data)} questions ({len(classes)} classes, {len(names)} features); "
        f"{right:.1%} of them classified right; wrote {MODEL_PATH.relative_to(ROOT)} "
        f"({len(weights)} features, {sum(map(len, weights.values()))} weights, "
        f"{MODEL_PATH.stat().st_size // 1024} KB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
