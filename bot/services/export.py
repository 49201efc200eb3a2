"""Exports for the clinic's records: CSV tables and a FHIR R4 Bundle per patient.

Every export is an access to patients' data and is written to the audit log.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import Callable
from datetime import datetime

from bot.content import render
from bot.outcomes import fhir
from bot.outcomes.chart import render_png
from bot.outcomes.progress import build as build_progress
from bot.outcomes.proms import content
from bot.outcomes.report import render_pdf
from bot.rules.schedule import local_date
from bot.services import proms
from storage.models import Alert, CheckinEntry, Patient, PromResponse
from storage.uow import UnitOfWork

TABLES = {
    "patients.csv": (
        "patient_id",
        "name",
        "clinic_ref",
        "phone",
        "status",
        "enrolled_on",
        "discharged_at",
        "checkin_time",
        "timezone",
    ),
    "entries.csv": (
        "patient_id",
        "local_day",
        "checked_in_at",
        "leg_pain",
        "back_pain",
        "numbness",
        "weakness",
        "weakness_worsening",
        "red_flag",
        "exercises",
        "note",
    ),
    "proms.csv": (
        "patient_id",
        "instrument",
        "occasion",
        "completed_at",
        "score",
        "psychosocial",
        "risk",
        "answers",
    ),
    "alerts.csv": (
        "patient_id",
        "alert_id",
        "level",
        "rule",
        "reason",
        "raised_at",
        "status",
        "acknowledged_by",
        "acknowledged_at",
    ),
}


async def patients_to_export(uow: UnitOfWork, patient_id: int | None) -> list[Patient]:
    if patient_id is None:
        return await uow.patients.list_all(include_discharged=True)
    patient = await uow.patients.get(patient_id)
    return [patient] if patient is not None else []


async def _record(uow: UnitOfWork, patient: Patient):
    entries = await uow.checkins.entries(patient.id)
    entries.reverse()
    responses = [r for r in await uow.proms.for_patient(patient.id) if r.status == "done"]
    alerts = list(reversed(await uow.alerts.for_patient(patient.id)))
    return entries, responses, alerts


def _texts() -> dict:
    c = content()
    return {"startback": [*c.startback.items, c.startback.bothersome], "groc": c.groc.question}


async def fhir_bundle(
    uow: UnitOfWork, patient: Patient, actor: str, actor_id: int | None, now: datetime
) -> str:
    entries, responses, alerts = await _record(uow, patient)
    await uow.audit.record(
        now, actor, "exported", actor_id=actor_id, patient_id=patient.id, format="fhir"
    )
    await uow.commit()
    return fhir.patient_bundle(patient, entries, responses, alerts, _texts())


async def patient_bundle(
    uow: UnitOfWork, patient_id: int, actor: str, actor_id: int | None, now: datetime
) -> tuple[Patient, bytes] | None:
    """A patient's Bundle as a file's bytes (None: no such patient); audited."""
    patient = await uow.patients.get(patient_id)
    if patient is None:
        return None
    return patient, (await fhir_bundle(uow, patient, actor, actor_id, now)).encode()


def _rows(patient: Patient, entries, responses, alerts) -> dict[str, list[list]]:
    def yn(value: bool | None) -> str:
        return "" if value is None else ("yes" if value else "no")

    return {
        "patients.csv": [
            [
                patient.id,
                patient.name,
                patient.clinic_ref or "",
                patient.phone or "",
                patient.status,
                patient.enrolled_on.isoformat(),
                patient.discharged_at.isoformat() if patient.discharged_at else "",
                patient.checkin_time,
                patient.timezone,
            ]
        ],
        "entries.csv": [_entry(patient, e, yn) for e in entries],
        "proms.csv": [_prom(patient, r) for r in responses],
        "alerts.csv": [_alert(patient, a) for a in alerts],
    }


def _entry(patient: Patient, e: CheckinEntry, yn) -> list:
    return [
        patient.id,
        e.local_day.isoformat(),
        e.created_at.isoformat(),
        e.leg_pain,
        e.back_pain,
        yn(e.numbness),
        yn(e.weakness),
        yn(e.weakness_worsening),
        yn(e.red_flag),
        e.exercises or "",
        e.note or "",
    ]


def _prom(patient: Patient, r: PromResponse) -> list:
    s = r.score or {}
    score = s.get("total", s.get("mean", s.get("score", "")))
    answers = json.dumps(
        r.answers.get("items") or r.answers.get("activities") or r.answers.get("value"),
        ensure_ascii=False,
    )
    return [
        patient.id,
        r.instrument,
        r.occasion,
        r.completed_at.isoformat() if r.completed_at else "",
        score,
        s.get("psychosocial", ""),
        s.get("risk", ""),
        answers,
    ]


def _alert(patient: Patient, a: Alert) -> list:
    return [
        patient.id,
        a.id,
        a.level,
        a.rule,
        a.reason,
        a.created_at.isoformat(),
        a.status,
        a.acknowledged_by_name or "",
        a.acknowledged_at.isoformat() if a.acknowledged_at else "",
    ]


def _cell(value: object) -> object:
    """A cell a spreadsheet will not run: text a patient typed that starts like a formula
    (=, +, -, @, a tab or a carriage return) is written with a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def export(
    uow: UnitOfWork,
    fmt: str,
    patient_id: int | None,
    now: datetime,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> dict[str, str]:
    """The export's files, name -> text: ``csv`` (one file per table, header row first) or
    ``fhir`` (a Bundle per patient). ``progress(done, total)`` is called after each patient."""
    patients = await patients_to_export(uow, patient_id)
    if patient_id is not None and not patients:
        raise ValueError(f"no patient with ID {patient_id}")
    tables: dict[str, list[list]] = {name: [] for name in TABLES}
    files: dict[str, str] = {}
    for i, patient in enumerate(patients, 1):
        if fmt == "fhir":
            bundle = await fhir_bundle(uow, patient, "operator", None, now)
            files[f"patient-{patient.id}.fhir.json"] = bundle
        else:
            for name, rows in _rows(patient, *await _record(uow, patient)).items():
                tables[name] += rows
            await uow.audit.record(now, "operator", "exported", patient_id=patient.id, format="csv")
        progress(i, len(patients))
    if fmt == "csv":
        await uow.commit()
        for name, header in TABLES.items():
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            writer.writerow(header)
            writer.writerows([[_cell(v) for v in row] for row in tables[name]])
            files[name] = buffer.getvalue()
    return files


async def discharge_report(
    uow: UnitOfWork,
    patient_id: int,
    actor: str,
    actor_id: int | None,
    settings,
    now: datetime,
) -> tuple[Patient, bytes] | None:
    """The patient's discharge report as a PDF (chart, summary, questionnaires, alerts);
    audited. The chart and the PDF are drawn off the event loop."""
    patient = await uow.patients.get(patient_id)
    if patient is None:
        return None
    entries, responses, alerts = await _record(uow, patient)
    days = [(local_date(a.created_at, patient.timezone), a.level) for a in alerts]
    progress = build_progress(entries, days)
    await uow.audit.record(
        now, actor, "exported", actor_id=actor_id, patient_id=patient.id, format="report"
    )
    await uow.commit()
    png = await asyncio.to_thread(render_png, progress) if progress.enough else None
    data = render.report_data(
        patient, progress, proms.latest(responses), alerts, len(entries), png, settings, now
    )
    return patient, await asyncio.to_thread(render_pdf, data)
