"""Progress over time: the clinically important change, and the chart a patient is sent."""

from __future__ import annotations

import io
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from PIL import Image

from bot.content import render
from bot.outcomes.chart import render_png
from bot.outcomes.progress import Change, build

START = date(2026, 10, 1)


def entries(legs, backs=None, exercises="yes", gaps=()):
    backs = backs or [2] * len(legs)
    return [
        SimpleNamespace(
            local_day=START + timedelta(days=i),
            leg_pain=leg,
            back_pain=back,
            exercises=exercises,
        )
        for i, (leg, back) in enumerate(zip(legs, backs, strict=True))
        if i not in gaps
    ]


@pytest.mark.parametrize(
    "start, now, direction",
    [
        (7, 4, "better"),  # 3 points, 43%
        (7, 5, "same"),  # 2 points but 29%
        (3, 1, "better"),  # 2 points, 67%
        (8, 6.5, "same"),  # 1.5 points
        (2, 4, "worse"),  # 2 points, 100%
        (0, 2, "worse"),  # from nothing: 2 points is enough
        (0, 1, "same"),
        (9, 7, "same"),  # 2 points, 22%
    ],
)
def test_a_change_is_clinically_important_at_2_points_and_30_percent(start, now, direction):
    assert Change("leg", start, now).direction == direction


def test_the_summary_says_how_far_the_patient_has_come():
    progress = build(entries([7, 7, 7, 6, 5, 4, 4, 4, 4], [3, 3, 3, 3, 3, 3, 3, 3, 3]))
    caption = render.progress_caption(progress)
    assert "Leg pain is down 3 points (43%) since you started: a real improvement." in caption
    assert "Back pain is about the same as when you started (3 then, 3 now)." in caption
    assert "You did your exercises at 100% of your check-ins." in caption


def test_of_two_check_ins_on_a_day_the_later_one_counts():
    rows = entries([5, 5, 5]) + [
        SimpleNamespace(
            local_day=START + timedelta(days=2), leg_pain=9, back_pain=2, exercises="no"
        )
    ]
    progress = build(rows)
    assert [d.leg for d in progress.days] == [5, 5, 9]
    assert progress.adherence() == pytest.approx(2 / 3)


def test_the_seven_day_mean_covers_only_the_last_seven_days():
    progress = build(entries([10] * 7 + [0] * 7))
    assert progress.mean7("leg")[6] == 10 and progress.mean7("leg")[13] == 0
    assert progress.mean7("leg")[9] == pytest.approx(40 / 7)


def _image(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


@pytest.mark.parametrize(
    "case",
    ["one entry", "gaps", "all zeros", "90 days", "not asked"],
)
def test_the_chart_is_a_phone_sized_picture_with_something_on_it(case):
    rows = {
        "one entry": entries([6]),
        "gaps": entries([6, 5, 7, 4, 3, 5, 2, 6, 4], gaps={2, 3, 4, 7}),
        "all zeros": entries([0] * 10, [0] * 10, exercises="no"),
        "90 days": entries([(i * 7) % 11 for i in range(90)], [(i * 3) % 11 for i in range(90)]),
        "not asked": entries([8, 9, 9], exercises=None),
    }[case]
    alerts = [(START + timedelta(days=1), "urgent"), (START + timedelta(days=2), "worsening")]
    image = _image(render_png(build(rows, alerts)))
    width, height = image.size
    assert width >= 800 and height >= 500
    # Not blank: the pain colours are on it, and far more than a handful of non-white pixels.
    colours = {c for _, c in image.getcolors(maxcolors=1_000_000)}
    assert (0x00, 0x72, 0xB2) in colours  # leg: its 7-day mean line
    non_white = sum(n for n, c in image.getcolors(maxcolors=1_000_000) if c != (255, 255, 255))
    assert non_white > width * height * 0.03


def test_the_summary_names_the_activities_score_once_it_was_asked_twice():
    progress = build(entries([5, 5, 5, 5]))
    psfs = [SimpleNamespace(score={"mean": 3.0}), SimpleNamespace(score={"mean": 6.5})]
    assert "went from 3 to 6.5 out of 10: a real improvement." in render.progress_caption(
        progress, psfs
    )
    assert "activities score" not in render.progress_caption(progress, psfs[:1])
