"""What patients and clinicians get back from the diary, against the real bot."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from tests.e2e.helpers import join, say

PATIENT = 7001


async def add_entries(db, patient_id: int, legs: list[int], backs: list[int]) -> None:
    now = datetime.now(UTC)
    for ago, (leg, back) in enumerate(zip(reversed(legs), reversed(backs), strict=True)):
        at = now - timedelta(days=ago, hours=1)
        await db.execute(
            "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain, numbness,"
            " weakness, weakness_worsening, red_flag, exercises, created_at, updated_at)"
            " VALUES (:p, :d, :leg, :back, false, false, false, false, 'yes', :t, :t)",
            p=patient_id,
            d=at.date(),
            leg=leg,
            back=back,
            t=at,
        )


async def test_progress_after_a_week_sends_a_chart_with_the_summary(api, bot, db):
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    few = await say(api, PATIENT, "/progress", contains="at least 3")
    assert "you have 0 so far" in few["text"]
    pid = await db.scalar("SELECT id FROM patients")
    await add_entries(db, pid, [7, 7, 7, 6, 5, 4, 4, 4], [3, 3, 3, 3, 3, 3, 2, 3])
    await api.send_text(PATIENT, "/progress")
    photo = await api.wait_for_message(PATIENT, lambda m: "photo" in m)
    caption = photo["caption"]
    assert "Leg pain is down 3 points (43%) since you started: a real improvement." in caption
    assert "Back pain is about the same" in caption
    image = Image.open(io.BytesIO(photo["file_bytes"]))
    assert image.format == "PNG" and image.size[0] >= 800
