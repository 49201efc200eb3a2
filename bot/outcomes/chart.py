"""The progress chart: leg and back pain per day with their 7-day means, exercises done, and
the days an alert was raised. A PNG sized and lettered for a phone.

matplotlib's object interface with the Agg canvas (never ``pyplot``: no global state, safe in a
thread); callers run :func:`render_png` off the event loop (``asyncio.to_thread``).
"""

from __future__ import annotations

import io

from bot.content import label
from bot.outcomes.progress import Progress

# Okabe-Ito colours: told apart with every common colour-vision deficiency, and each series
# also has its own marker or line style.
LEG = "#0072B2"
BACK = "#D55E00"
DONE = "#009E73"
URGENT = "#CC0000"
WORSENING = "#E69F00"
WIDTH_IN, HEIGHT_IN, DPI = 9.0, 6.5, 120  # 1080 x 780 px: full width on a phone
STYLE = {"font.size": 15, "axes.titlesize": 17, "axes.labelsize": 15, "legend.fontsize": 13}


def render_png(progress: Progress) -> bytes:
    # matplotlib is imported on the first chart, not when the bot starts (a fifth of its
    # start-up, for a picture most runs draw a few times a day).
    from matplotlib import rc_context
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
    from matplotlib.figure import Figure

    with rc_context(STYLE):
        fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        pain, done = fig.subplots(2, 1, sharex=True, height_ratios=[4, 1])
        days = [d.day for d in progress.days]
        for site, colour, marker, style in (("leg", LEG, "o", "-"), ("back", BACK, "s", "--")):
            values = [getattr(d, site) for d in progress.days]
            pain.plot(
                days,
                values,
                marker,
                color=colour,
                alpha=0.45,
                markersize=7,
                label=label(f"chart_{site}_daily"),
            )
            pain.plot(
                days,
                progress.mean7(site),
                style,
                color=colour,
                linewidth=3.5,
                label=label(f"chart_{site}_mean"),
            )
        seen: set[str] = set()
        for event in progress.events:
            colour = URGENT if event.level == "urgent" else WORSENING
            pain.axvline(
                event.day,
                color=colour,
                linestyle=":",
                linewidth=2.5,
                label=None if event.level in seen else label(f"chart_{event.level}"),
            )
            seen.add(event.level)
        pain.set_ylim(-0.3, 10.3)
        pain.set_yticks(range(0, 11, 2))
        pain.set_ylabel(label("chart_pain_axis"))
        pain.set_title(label("chart_title"))
        pain.grid(axis="y", color="#DDDDDD")
        adherence = [d.exercises if d.exercises is not None else 0 for d in progress.days]
        done.bar(days, adherence, color=DONE, width=0.8, label=label("chart_exercises"))
        done.set_ylim(0, 1)
        done.set_yticks([0, 1], [label("chart_no"), label("chart_yes")])
        done.set_ylabel(label("chart_exercises_axis"))
        locator = AutoDateLocator(minticks=3, maxticks=7)
        done.xaxis.set_major_locator(locator)
        done.xaxis.set_major_formatter(ConciseDateFormatter(locator))
        fig.legend(loc="outside lower center", ncols=2, frameon=False)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()
