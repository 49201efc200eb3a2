"""Draws docs/progress-chart.png, the chart README shows, from made-up demo data (six weeks of a
patient getting better, with a bad week and one alert), with the bot's own chart code.

    .venv/bin/python docs/make_progress_chart.py
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

from bot.outcomes.chart import render_png
from bot.outcomes.progress import build

START = date(2026, 10, 5)


def demo_entries() -> list[SimpleNamespace]:
    rng = random.Random(7)  # the same picture every time
    entries = []
    for day in range(42):
        if rng.random() < 0.12:
            continue  # a missed check-in
        flare = 2 if 16 <= day <= 20 else 0
        leg = max(0, min(10, round(7.5 - day / 6 + flare + rng.uniform(-1, 1))))
        back = max(0, min(10, round(4.5 - day / 14 + flare / 2 + rng.uniform(-1, 1))))
        done = rng.choice(["yes", "yes", "yes", "partly", "no"])
        entries.append(
            SimpleNamespace(
                local_day=START + timedelta(days=day), leg_pain=leg, back_pain=back, exercises=done
            )
        )
    return entries


def main() -> None:
    progress = build(demo_entries(), [(START + timedelta(days=18), "worsening")])
    out = Path(__file__).with_name("progress-chart.png")
    out.write_bytes(render_png(progress))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
