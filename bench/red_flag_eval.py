"""Evaluate the red-flag reader: ``python bench/red_flag_eval.py`` from the repository root.

Runs ``bot/language/red_flag_triage.assess`` over ``tests/data/red_flag_eval.yaml`` and prints, for
each half (``tune``: what the rules and the model were tuned on; ``test``: held out):

* recall: urgent messages that get the urgent path at once, or the question "Is this happening
  now?" (a Yes is urgent), counted apart;
* false alarms: benign messages that raise an alert directly (the question is counted apart:
  it alerts nobody unless the patient says Yes or does not answer);
* time per message (median, p95, max), and for the longest message Telegram allows (4,096
  characters of repeated denials: every phrase matches, then each is checked for negation);

then every miss: each urgent message not caught and each benign message that alerted directly,
with its kind. Exits non-zero when a test-half figure misses its target.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.language.red_flag_triage import assess  # noqa: E402

EVAL_PATH = ROOT / "tests" / "data" / "red_flag_eval.yaml"
TARGET_RECALL = 1.0
TARGET_FALSE_ALARMS = 0.03
TARGET_MS = 20.0


def figures(split: str, data: dict | None = None) -> dict:
    """Counts, rates and misses on one half (``tune`` or ``test``)."""
    data = data or yaml.safe_load(EVAL_PATH.read_text(encoding="utf-8"))
    urgent = [x for x in data["urgent"] if x["split"] == split]
    benign = [x for x in data["benign"] if x["split"] == split]
    times: list[float] = []

    def run(text: str):
        t0 = time.perf_counter()
        t = assess(text)
        times.append((time.perf_counter() - t0) * 1000)
        return t

    u = [(x, run(x["text"])) for x in urgent]
    b = [(x, run(x["text"])) for x in benign]
    times.sort()
    return {
        "split": split,
        "n_urgent": len(u),
        "urgent_direct": sum(1 for _, t in u if t.level == "urgent"),
        "urgent_asked": sum(1 for _, t in u if t.level == "ask"),
        "missed": [(x, t) for x, t in u if t.level == "none"],
        "n_benign": len(b),
        "benign_alerted": [(x, t) for x, t in b if t.level == "urgent"],
        "benign_asked": sum(1 for _, t in b if t.level == "ask"),
        "median_ms": statistics.median(times),
        "p95_ms": times[int(0.95 * (len(times) - 1))],
        "max_ms": times[-1],
    }


def recall(f: dict) -> float:
    return (f["urgent_direct"] + f["urgent_asked"]) / f["n_urgent"]


def false_alarms(f: dict) -> float:
    return len(f["benign_alerted"]) / f["n_benign"]


def main() -> int:
    data = yaml.safe_load(EVAL_PATH.read_text(encoding="utf-8"))
    assess("warm up")  # load the content and the model, as the bot does at start
    results = [figures(s, data) for s in ("tune", "test")]
    for f in results:
        caught = f["urgent_direct"] + f["urgent_asked"]
        print(
            f"{f['split']:<5} urgent caught {recall(f):6.1%} ({caught}/{f['n_urgent']}: "
            f"{f['urgent_direct']} urgent at once, {f['urgent_asked']} asked)   "
            f"benign alerted {false_alarms(f):5.1%} ({len(f['benign_alerted'])}/{f['n_benign']}; "
            f"{f['benign_asked']} asked)   "
            f"time median {f['median_ms']:.2f} ms, p95 {f['p95_ms']:.2f} ms, "
            f"max {f['max_ms']:.2f} ms"
        )
    for f in results:
        for x, t in f["missed"]:
            print(f"  [{f['split']}] MISSED  {x['kind']:<22} p={t.probability:.3f}  {x['text']!r}")
        for x, t in f["benign_alerted"]:
            print(f"  [{f['split']}] ALERTED {x['kind']:<22} ({t.hit.kind})  {x['text']!r}")
    longest = ("not wet myself, no numbness in both legs. " * 100)[:4096]
    worst = []
    for i in range(5):  # five different texts: nothing kept from the run before
        t0 = time.perf_counter()
        assess(f"{i} {longest}"[:4096])
        worst.append((time.perf_counter() - t0) * 1000)
    print(f"\nlongest message (4,096 characters of denials): {max(worst):.1f} ms at worst of 5")
    test = results[1]
    failures = []
    if recall(test) < TARGET_RECALL:
        failures.append(f"test recall {recall(test):.1%} < {TARGET_RECALL:.0%}")
    if false_alarms(test) > TARGET_FALSE_ALARMS:
        failures.append(f"test false alarms {false_alarms(test):.1%} > {TARGET_FALSE_ALARMS:.0%}")
    if test["p95_ms"] >= TARGET_MS:
        failures.append(f"p95 {test['p95_ms']:.1f} ms >= {TARGET_MS} ms")
    print("\nFAIL: " + "; ".join(failures) if failures else "\nOK: test-half targets met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
