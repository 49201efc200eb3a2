"""Train the FAQ matcher's model: ``python bench/train_faq_model.py`` from the repository root.

Learns the weights of the small model in ``bot/language/faq.py`` (a multinomial logistic
regression, L2, over the matcher's word features; numpy, which matplotlib already brings),
chooses the confidence threshold, and writes both to ``bot/content/faq_model.json``, which the
bot loads at start and reads in pure Python.

Training data, and only this:

* each FAQ entry's question, topic and phrasings (``bot/content/faq.yaml``) and its example
  questions (``bot/content/faq_examples.yaml``), one class per entry; the example questions to
  decline in ``faq_examples.yaml``, one class more (``bot.language.faq.training_data``);
* the tuning halves of the two evaluation sets (``bench/faq_eval.py:tuning_items``): the
  ``split: tune`` half of ``tests/data/faq_questions.yaml`` and the calibration half of
  ``tests/data/faq_eval.yaml``, answerable questions under their entry, questions to decline
  under the decline class. The test halves are never learnt from: their questions are read
  only to leave out a tuning question worded exactly like one of them.

The threshold is chosen on predictions for questions the model did not learn from: the tuning
items are split in five folds (by a hash of each question); for each fold a model is learnt
from everything else and the held-out fold is scored, as the bot would score it (similarity and
model mixed, the off-topic rule); the threshold then minimises the two error rates on those
out-of-fold scores and on the FAQ's ``out_of_scope`` questions, which nothing learns from
(``bench/faq_eval.py:choose_threshold``).

Run it again after any change to those files or to ``bot/content/faq_language.yaml``:
``tests/unit/test_faq.py`` fails while the model's fingerprint does not match them.
"""

from __future__ import annotations

import json
import re
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
    split_eval,
    tuning_items,
)

from bot.language.faq import (  # noqa: E402
    DECLINE,
    MODEL_PATH,
    FaqIndex,
    off_topic,
    training_data,
    training_fingerprint,
)

L2 = 3e-5  # per example (the loss is a mean), on every weight but the bias
STEPS = 600
LEARNING_RATE = 0.05
MIN_COUNT = 2  # a feature seen in fewer training questions is not learnt (noise, not evidence)
KEEP = 0.01  # smaller weights are left out of the file (the figures do not move)
FOLDS = 5


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


def as_model(w: np.ndarray, names: list[str], classes: list[str]) -> dict:
    """The weights as the bot reads them: for each feature, {class number: weight}, sparse."""
    weights = {}
    for i, f in enumerate(names):
        row = {str(c): round(float(v), 3) for c, v in enumerate(w[i]) if abs(v) >= KEEP}
        if row:
            weights[f] = row
    return {"classes": classes, "weights": weights}


def main() -> int:
    index = FaqIndex.load(model_path=None)
    answerable, to_decline = tuning_items()
    tuning = [(q, entry_id) for q, entry_id in answerable] + [(q, DECLINE) for q in to_decline]
    # A tuning question worded exactly as a test-half question (a short one such as "how long
    # does sciatica last", in the other set) is not learnt: that would be learning the test.
    held_out = test_wordings()
    tuning = [(q, c) for q, c in tuning if words_of(q) not in held_out]
    own = training_data(index.entries, index.declines)
    data = own + tuning
    classes = [e.id for e in index.entries] + [DECLINE]
    label = {c: i for i, c in enumerate(classes)}
    # The FAQ's own texts are read as their own (a word only one of them uses is unknown).
    feats = [index.model_features(t, own=c != DECLINE) for t, c in own]
    feats += [index.model_features(t) for t, _ in tuning]
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

    # Out-of-fold scores of the tuning questions, for the threshold.
    positives: list[tuple[float, bool]] = []
    negatives: list[float] = []
    fold_of = [zlib.crc32(q.encode("utf-8")) % FOLDS for q, _ in tuning]
    for k in range(FOLDS):
        keep = [i for i in range(len(own))]
        keep += [len(own) + j for j, f in enumerate(fold_of) if f != k]
        w = fit(x[keep], y[keep], len(classes), bias)
        index.use_model(as_model(w, names, classes))
        for j, (q, expected) in enumerate(tuning):
            if fold_of[j] != k:
                continue
            got, score = best(index, q)
            if expected == DECLINE:
                negatives.append(0.0 if got in DECLINING_DEFERRALS else score)
            else:
                positives.append((score, got == expected))
        print(f"fold {k + 1}/{FOLDS} scored", flush=True)

    w = fit(x, y, len(classes), bias)
    model = as_model(w, names, classes)
    index.use_model(model)
    negatives += [best(index, q)[1] for q in index.out_of_scope]  # never learnt from
    threshold = round(choose_threshold(positives, negatives), 4)
    right = sum(1 for s, ok in positives if ok and s >= threshold) / len(positives)
    declined = sum(1 for s in negatives if s < threshold) / len(negatives)
    fitted = float((np.argmax(x @ w, axis=1) == y).mean())
    MODEL_PATH.write_text(
        json.dumps(
            {
                "about": "Weights and threshold of the FAQ matcher's model (bot/language/faq.py), "
                "written by bench/train_faq_model.py; do not edit by hand.",
                "fingerprint": training_fingerprint(data),
                "threshold": threshold,
                "out_of_fold": {
                    "answerable": len(positives),
                    "right": round(right, 4),
                    "to_decline": len(negatives),
                    "declined": round(declined, 4),
                },
                **model,
            },
            separators=(",", ":"),
        )
        + "\n",
        encoding="utf-8",
    )
    print(
        f"trained on {len(data)} questions ({len(own)} of the FAQ's own, {len(tuning)} of the "
        f"tuning halves; {len(classes)} classes, {len(names)} features), {fitted:.1%} of them "
        f"classified right; threshold {threshold:.3f}: out of fold, {right:.1%} of "
        f"{len(positives)} answerable answered right, {declined:.1%} of {len(negatives)} to "
        f"decline declined; wrote {MODEL_PATH.relative_to(ROOT)} "
        f"({sum(map(len, model['weights'].values()))} weights, "
        f"{MODEL_PATH.stat().st_size // 1024} KB)"
    )
    return 0


def words_of(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", text.lower()))


def test_wordings() -> set[str]:
    """The words of every test-half question (compared, never learnt from)."""
    (_, _), (held_a, held_u) = split_eval(*load_eval())
    test_a, test_u = load_questions("test")
    return {words_of(q) for q in [*(q for q, _ in [*held_a, *test_a]), *held_u, *test_u]}


def best(index: FaqIndex, question: str) -> tuple[str, float]:
    """(best entry, its score) as the bot decides: 0 for an off-topic question."""
    scores = index.scores(question)
    top = max(range(len(scores)), key=scores.__getitem__)
    return index.entries[top].id, 0.0 if off_topic(question) else scores[top]


if __name__ == "__main__":
    sys.exit(main())
