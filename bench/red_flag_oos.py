"""Out-of-sample figures of the red-flag reader: ``python bench/red_flag_oos.py`` from the root.

The model learns from the tuning half of ``tests/data/red_flag_eval.yaml``, and both halves have
been read while the phrase rules were worked on, so their own figures flatter the reader. This
scores every item of both halves with models that never learnt from it, two ways:

* ``own``: the model learns only from what is not an evaluation item (the labelled phrases of
  ``tests/data/red_flag_phrases.yaml``, the FAQ's questions and its example questions); the ask
  threshold is chosen out of fold (five folds by a hash of each message: each fold gets the
  threshold the trainer's rule sets on the other four);
* ``cv``: five folds over all the items; each fold is scored by a model learnt from everything
  else (what the trainer will do once both halves are tuning data).

The phrase rules are the same in both (they are not learnt). Prints recall (urgent at once or
asked) and direct false alarms per half and in all. Writes nothing.
"""

from __future__ import annotations

import sys
import zlib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from train_red_flag_model import EVAL, MARGIN, MIN_EVIDENCE, fit, training_data  # noqa: E402

import bot.language.red_flag_triage as triage  # noqa: E402
from bot.language.red_flag_model import RedFlagModel  # noqa: E402
from bot.language.red_flags import detect_red_flag  # noqa: E402

FOLDS = 5


def main() -> int:
    data = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    items = [(x["text"], 1, x["split"], x["kind"]) for x in data["urgent"]]
    items += [(x["text"], 0, x["split"], x["kind"]) for x in data["benign"]]
    _, other = training_data()
    fold_of = [zlib.crc32(t.encode("utf-8")) % FOLDS for t, *_ in items]
    rule_missed = [i for i, (t, y, *_) in enumerate(items) if y == 1 and not detect_red_flag(t)]
    for way in ("own", "cv"):
        # Out-of-fold probabilities, for the thresholds.
        models = {}
        if way == "own":
            w = fit(other)
            models = dict.fromkeys(range(FOLDS), w)
        else:
            for k in range(FOLDS):
                train = [(t, y) for j, (t, y, *_) in enumerate(items) if fold_of[j] != k]
                models[k] = fit(train + other)
        probs = {}
        for k, w in models.items():
            m = RedFlagModel(weights=w, ask_threshold=0.5, ask_min_evidence=MIN_EVIDENCE)
            for j, (t, *_) in enumerate(items):
                if fold_of[j] == k:
                    probs[j] = m.probability(t)
        levels = {}
        for k, w in models.items():
            lowest = min(probs[j] for j in rule_missed if fold_of[j] != k)
            m = RedFlagModel(
                weights=w, ask_threshold=MARGIN * lowest, ask_min_evidence=MIN_EVIDENCE
            )
            triage.load_model = lambda m=m: m  # the triage reads the model through this
            for j, (t, *_) in enumerate(items):
                if fold_of[j] == k:
                    levels[j] = triage.assess(t).level
        for split in ("tune", "test", ""):
            idx = [j for j, it in enumerate(items) if it[2].startswith(split)]
            urgent = [j for j in idx if items[j][1] == 1]
            benign = [j for j in idx if items[j][1] == 0]
            caught = sum(1 for j in urgent if levels[j] != "none")
            alerted = sum(1 for j in benign if levels[j] == "urgent")
            asked = sum(1 for j in benign if levels[j] == "ask")
            print(
                f"{way:<4} {split or 'all':<5} urgent caught {caught / len(urgent):6.1%} "
                f"({caught}/{len(urgent)})   benign alerted {alerted / len(benign):5.1%} "
                f"({alerted}/{len(benign)}; {asked} asked)"
            )
            if split == "":
                for j in urgent:
                    if levels[j] == "none":
                        text, _, _, kind = items[j]
                        print(f"  [{way}] MISSED {kind:<22} p={probs[j]:.3f} {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
