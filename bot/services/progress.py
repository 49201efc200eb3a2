"""A patient's progress from their diary, for /progress, the weekly summary and /patient."""

from __future__ import annotations

from bot.outcomes.progress import Progress, build
from bot.rules.schedule import local_date
from storage.models import Patient
from storage.uow import UnitOfWork


async def progress_of(uow: UnitOfWork, patient: Patient) -> Progress:
    entries = await uow.checkins.entries(patient.id)
    entries.reverse()  # oldest first: of a day's check-ins the latest counts
    alerts = [
        (local_date(a.created_at, patient.timezone), a.level)
        for a in await uow.alerts.for_patient(patient.id)
    ]
    return build(entries, alerts)


async def psfs_scores(uow: UnitOfWork, patient: Patient) -> list:
    """The patient's completed PSFS questionnaires, oldest first."""
    return [
        r
        for r in await uow.proms.for_patient(patient.id)
        if r.instrument == "psfs" and r.status == "done"
    ]


async def chart_of(uow: UnitOfWork, patient_id: int) -> tuple[Patient, Progress] | None:
    """For staff: the patient's progress, or None for an unknown patient."""
    patient = await uow.patients.get(patient_id)
    if patient is None:
        return None
    return patient, await progress_of(uow, patient)


async def own_progress(uow: UnitOfWork, patient: Patient) -> tuple[Progress, list]:
    """/progress: the patient's progress and their completed PSFS questionnaires."""
    return await progress_of(uow, patient), await psfs_scores(uow, patient)
