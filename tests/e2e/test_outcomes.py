"""What patients and clinicians get back from the diary, against the real bot."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta

from PIL import Image

from tests.e2e.conftest import CLINIC_CHAT, STAFF
from tests.e2e.helpers import checkin, join, last_id, press, say

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
    # The clinician sees the same chart under the diary, with the change in figures.
    await api.send_text(STAFF, f"/patient {pid}", chat_id=CLINIC_CHAT)
    chart = await api.wait_for_message(CLINIC_CHAT, lambda m: "photo" in m)
    assert "Leg pain 7 → 4, down 3 (43%): clinically important improvement" in chart["caption"]
    assert "Back pain 3 → 2.7: no clinically important change" in chart["caption"]


async def answer_prom(api, message: dict, tap: str, contains: str = "") -> dict:
    """Tap a questionnaire answer; the message changes to the next question (or a new
    message comes, when ``contains`` names it)."""
    return await press(api, PATIENT, message, tap, contains=contains)


async def test_startback_and_psfs_are_asked_after_joining_and_shown_to_the_clinic(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    after = last_id(api, PATIENT)
    await checkin(api, PATIENT, first, leg=6, back=4)
    q = await api.wait_for_message(PATIENT, lambda m: "Question 1 of 9" in m["text"], after=after)
    assert "9 quick questions" in q["text"] and "© Keele University" in q["text"]
    # Agree with items 1, 2, 5, 6; disagree with the rest; "Very much" bothersome:
    # total 5, psychosocial 3 (items 5, 6, 9): medium risk.
    for n, tap in enumerate(["Agree", "Agree", "Disagree", "Disagree", "Agree", "Agree"], 1):
        q = await answer_prom(api, q, tap, contains=f"Question {n + 1} of 9")
    q = await answer_prom(api, q, "Disagree", contains="Question 8 of 9")
    q = await answer_prom(api, q, "Disagree", contains="Question 9 of 9")
    after = last_id(api, PATIENT)
    await answer_prom(api, q, "Very much", contains="that's all")
    psfs = await api.wait_for_message(
        PATIENT, lambda m: "Type the first activity" in m["text"], after=after
    )
    rate = await say(api, PATIENT, "putting on socks", contains="How well can you do this now")
    assert "putting on socks" in rate["text"]
    more = await press(api, PATIENT, rate, "3", contains="another activity")
    rate = await say(api, PATIENT, "sitting in the car", contains="How well")
    more = await press(api, PATIENT, rate, "6", contains="another activity")
    await press(api, PATIENT, more, "That's all", contains="saved your answers")
    rows = await db.rows("SELECT instrument, status, score FROM prom_responses ORDER BY id")
    scores = [(r["instrument"], r["status"], _json(r["score"])) for r in rows]
    assert scores == [
        ("startback", "done", {"total": 5, "psychosocial": 3, "risk": "medium"}),
        ("psfs", "done", {"mean": 4.5, "activities": 2}),
    ]
    assert "up to 3 everyday activities" in psfs["text"]
    pid = await db.scalar("SELECT id FROM patients")
    diary = await say(api, STAFF, f"/patient {pid}", chat_id=CLINIC_CHAT, contains="STarT Back")
    assert "medium risk (total 5/9, psychosocial 3/5)" in diary["text"]
    assert "PSFS" in diary["text"] and "4.5/10" in diary["text"]


async def test_no_questionnaire_follows_urgent_advice(api, bot, db):
    first = await join(api, PATIENT, "Sam Taylor")
    m = await press(api, PATIENT, first, "4", contains="lower back")
    m = await press(api, PATIENT, m, "3", contains="numbness")
    m = await press(api, PATIENT, m, "No", contains="weak")
    m = await press(api, PATIENT, m, "No", contains="safety")
    await api.press(PATIENT, m, "Yes")
    await api.wait_for_message(PATIENT, lambda x: "stopped the check-in" in x["text"])
    # The chat's next message is handled after the press: by then, no questionnaire was begun.
    await say(api, PATIENT, "/checkin", contains="leg")
    assert await db.scalar("SELECT count(*) FROM prom_responses") == 0
    assert not [m for m in api.messages(PATIENT) if "Question 1 of 9" in m["text"]]


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


async def test_staff_export_a_patients_fhir_bundle_and_the_operator_exports_csv(
    api, bot, db, tmp_path
):
    from fhir.resources.R4B.bundle import Bundle

    first = await join(api, PATIENT, "Sam Taylor")
    await checkin(api, PATIENT, first, leg=6, back=4, note="stiff, after the drive")
    pid = await db.scalar("SELECT id FROM patients")
    await api.send_text(STAFF, f"/export {pid}", chat_id=CLINIC_CHAT)
    doc = await api.wait_for_message(CLINIC_CHAT, lambda m: "document" in m)
    assert doc["filename"] == f"patient-{pid}.fhir.json"
    bundle = Bundle.model_validate_json(doc["file_bytes"])
    kinds = [e.resource.get_resource_type() for e in bundle.entry]
    assert kinds.count("Patient") == 1 and kinds.count("Observation") == 2
    audit = await db.scalar("SELECT count(*) FROM audit_events WHERE action = 'exported'")
    assert audit == 1

    out = tmp_path / "export"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "export",
        "--format",
        "csv",
        "--out",
        str(out),
        env=bot.env,
        cwd=bot.workdir,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert sorted(p.name for p in out.iterdir()) == [
        "alerts.csv",
        "entries.csv",
        "patients.csv",
        "proms.csv",
    ]
    with open(out / "entries.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["patient_id"], r["leg_pain"], r["note"]) for r in rows] == [
        (str(pid), "6", "stiff, after the drive")
    ]
    with open(out / "patients.csv", newline="", encoding="utf-8") as fh:
        assert next(csv.reader(fh))[:3] == ["patient_id", "name", "clinic_ref"]


async def test_the_discharge_report_is_a_pdf_with_the_chart_scores_and_alerts(
    api, bot, db, tmp_path
):
    from pypdf import PdfReader

    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    pid = await db.scalar("SELECT id FROM patients")
    await add_entries(db, pid, [7, 7, 7, 6, 5, 4, 4, 4], [3, 3, 3, 3, 3, 3, 2, 3])
    await api.send_text(PATIENT, "I can't feel when I need to pee")
    alert = await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"])
    await press(api, STAFF, alert, "Acknowledge", chat_id=CLINIC_CHAT, contains="Acknowledged")
    await api.send_text(STAFF, f"/report {pid}", chat_id=CLINIC_CHAT)
    doc = await api.wait_for_message(CLINIC_CHAT, lambda m: "document" in m)
    assert doc["filename"] == f"discharge-report-{pid}.pdf"
    reader = PdfReader(io.BytesIO(doc["file_bytes"]))
    words = " ".join(page.extract_text() for page in reader.pages)
    assert "Discharge report: Sam Taylor" in words
    assert "clinically important improvement" in words
    assert "urgent" in words and "Dana" in words
    assert "Keele University" in words
    assert any(page.images for page in reader.pages)  # the chart


async def test_the_weekly_summary_arrives_on_sunday_at_the_check_in_time(api, bot, db):
    saturday = datetime(2026, 6, 13, 12, 0, tzinfo=UTC)  # Europe/London: 13:00 BST
    bot.set_clock(saturday)
    await join(api, PATIENT, "Sam Taylor")  # check-in time 09:00
    await say(api, PATIENT, "/cancel")
    pid = await db.scalar("SELECT id FROM patients")
    for ago, leg in enumerate([4, 4, 5, 5, 6, 6, 7, 7, 7, 7]):
        at = saturday - timedelta(days=ago)
        await db.execute(
            "INSERT INTO checkin_entries (patient_id, local_day, leg_pain, back_pain, numbness,"
            " weakness, weakness_worsening, red_flag, exercises, created_at, updated_at)"
            " VALUES (:p, :d, :leg, 2, false, false, false, false, 'yes', :t, :t)",
            p=pid,
            d=at.date(),
            leg=leg,
            t=at,
        )
    assert await db.scalar("SELECT count(*) FROM reminders WHERE kind = 'weekly'") == 1
    bot.set_clock(datetime(2026, 6, 14, 8, 0, 30, tzinfo=UTC))  # Sunday 09:00:30 BST
    summary = await api.wait_for_message(PATIENT, lambda m: "photo" in m)
    caption = summary["caption"]
    assert caption.startswith("Your week, Sam Taylor. You checked in on 7 of the last 7 days.")
    assert "Leg pain is down 2.7 points (38%) since you started: a real improvement." in caption
    assert "exercises at 100%" in caption


async def test_the_weekly_summary_day_is_changed_in_settings(api, bot, db):
    await join(api, PATIENT, "Sam Taylor")
    await say(api, PATIENT, "/cancel")
    menu = await say(api, PATIENT, "/settings", contains="Weekly summary: Sundays at 09:00")
    await press(api, PATIENT, menu, "Weekly summary", contains="Which day and time")
    await say(api, PATIENT, "someday", contains="didn't understand")
    await say(api, PATIENT, "Friday 6pm", contains="come on Fridays at 18:00")
    row = (await db.rows("SELECT weekly_day, weekly_time FROM patients"))[0]
    assert (row["weekly_day"], row["weekly_time"]) == (4, "18:00")
    slots = await db.rows("SELECT local_time FROM reminders WHERE kind = 'weekly'")
    assert [s["local_time"] for s in slots] == ["18:00"]
    menu = await say(api, PATIENT, "/settings", contains="Weekly summary")
    await press(api, PATIENT, menu, "Weekly summary", contains="Which day and time")
    await say(api, PATIENT, "off", contains="won't send the weekly summary")
    assert await db.scalar("SELECT count(*) FROM reminders WHERE kind = 'weekly'") == 0
