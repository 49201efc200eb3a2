"""Reading grades of the patient-facing text: ``python bench/readability.py`` from the root.

Prints the Flesch-Kincaid grade (textstat) of every text a patient reads, as the readability
test computes it (bot/content/readability.py): the median and worst per kind, the overall
median, and the hardest texts. Exits non-zero when a target of tests/unit/test_readability.py
is missed (any FAQ answer above grade 9; a median above 6.5).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.content import content_versions  # noqa: E402
from bot.content.readability import graded, median  # noqa: E402

MAX_FAQ_GRADE = 9.0
MAX_MEDIAN_GRADE = 6.5


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worst", type=int, default=8, help="how many of the hardest to list")
    args = parser.parse_args(argv)

    pairs = graded()
    versions = content_versions()
    reviewed = max(d for _, d in versions.values())
    print(
        f"content reviewed {reviewed:%Y-%m-%d}; versions: "
        + ", ".join(f"{name} v{v}" for name, (v, _) in versions.items())
    )
    print(f"{'kind':<10} {'texts':>5} {'median':>7} {'worst':>6}")
    for kind in ("faq", "message", "exercise", "plan"):
        sub = [p for p in pairs if p[0].kind == kind]
        print(f"{kind:<10} {len(sub):>5} {median(sub):>7.1f} {max(g for _, g in sub):>6.1f}")
    print(f"{'all':<10} {len(pairs):>5} {median(pairs):>7.1f} {max(g for _, g in pairs):>6.1f}")
    print(f"\nhardest {args.worst}:")
    for text, grade in sorted(pairs, key=lambda p: -p[1])[: args.worst]:
        print(f"  {grade:5.1f}  {text.where}")

    faq = [p for p in pairs if p[0].kind == "faq"]
    failures = [f"{t.where} at grade {g:.1f}" for t, g in faq if g > MAX_FAQ_GRADE]
    if median(pairs) > MAX_MEDIAN_GRADE:
        failures.append(f"median {median(pairs):.1f} > {MAX_MEDIAN_GRADE}")
    if failures:
        print("\nFAIL: " + "; ".join(failures))
        return 1
    print("\nOK: every FAQ answer at grade 9 or below; median at most 6.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
