"""What staff commands read and change. Every diary view and discharge is audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.services import proms, reminders
from storage.models import Alert, CheckinEntry, Patient, PromResponse, RelayedQuestion
from storage.uow import UnitOfWork


@dataclass(frozen=True)
class PatientRow:
    patient: Patient
    last: CheckinEntry | None
    trend: str  # better | worse | steady | "" (not enough data)
    open_alerts: int


def trend_of(entries: list[CheckinEntry]) -> str:
    """Newest-first entries: compare the latest worst pain with the mean of the 7 before."""
    if len(entries) < 2:
        return ""
    latest = max(entries[0].leg_pain, entries[0].back_pain)
    before = entries[1:8]
    avg = sum(max(e.leg_pain, e.back_pain) for e in before) / len(before)
    if latest <= avg - 1:
        return "better"
    if latest >= avg + 1:
        return "worse"
    return "steady"


async def patient_rows(uow: UnitOfWork) -> list[PatientRow]:
    counts = await uow.alerts.open_counts()
    rows = []
    for p in await uow.patients.list_all():
        entries = await uow.checkins.entries(p.id, limit=8)
        rows.append(
            PatientRow(p, entries[0] if entries else None, trend_of(entries), counts.get(p.id, 0))
        )
    return rows


@dataclass(frozen=True)
class DiaryPage:
    """One page of a patient's whole record for clinicians, newest first: check-ins (with
    their notes), alerts (and who acknowledged them) and questions to the clinic (with the
    answers), interleaved by time."""

    patient: Patient
    items: list[CheckinEntry | Alert | RelayedQuestion]
    page: int
    pages: int
    proms: dict[str, list[PromResponse]]  # completed questionnaires by instrument, oldest first


DIARY_PAGE = 15  # items per page: about one Telegram message


def _when(item: CheckinEntry | Alert | RelayedQuestion) -> datetime:
    return item.created_at


async def diary(
    uow: UnitOfWork, patient_id: int, staff_id: int, now: datetime, page: int = 1
) -> DiaryPage | None:
    """A page of the patient's record (1 is the newest); the view is audited."""
    patient = await uow.patients.get(patient_id)
    if patient is None:
        return None
    items: list[CheckinEntry | Alert | RelayedQuestion] = [
        *await uow.checkins.entries(patient_id),
        *await uow.alerts.for_patient(patient_id),
        *await uow.questions.for_patient(patient_id),
    ]
    items.sort(key=_when, reverse=True)
    pages = max(1, -(-len(items) // DIARY_PAGE))
    page = min(max(page, 1), pages)
    await uow.audit.record(
        now, "staff", "diary_viewed", actor_id=staff_id, patient_id=patient_id, page=page
    )
    await uow.commit()
    start = (page - 1) * DIARY_PAGE
    scores = proms.latest(await uow.proms.for_patient(patient_id))
    return DiaryPage(patient, items[start : start + DIARY_PAGE], page, pages, scores)


async def whole_notes(
    uow: UnitOfWork, patient_id: int, day: date, staff_id: int, now: datetime
) -> tuple[Patient | None, list[CheckinEntry]]:
    """The day's check-ins that have a note, oldest first, to show the notes in full (the
    diary shows a preview); the view is audited."""
    patient = await uow.patients.get(patient_id)
    if patient is None:
        return None, []
    entries = await uow.checkins.entries(patient_id, day=day)
    await uow.audit.record(
        now, "staff", "note_viewed", actor_id=staff_id, patient_id=patient_id, day=day.isoformat()
    )
    await uow.commit()
    return patient, [e for e in reversed(entries) if e.note]


async def open_alerts(uow: UnitOfWork) -> list[tuple[Alert, Patient]]:
    return await uow.alerts.open_with_patients()


async def discharge(
    uow: UnitOfWork, patient_id: int, staff_id: int, now: datetime
) -> tuple[Patient | None, bool]:
    patient = await uow.patients.get(patient_id)
    if patient is None:
        return None, False
    if patient.status == "discharged":
        return patient, False
    patient.status = "discharged"
    patient.discharged_at = now
    await uow.checkins.drop_draft(patient.id)
    await reminders.sync(uow, patient, now)  # no more prompts or reminders
    await reminders.drop_pending(uow, patient.id, now)
    await uow.audit.record(now, "staff", "discharged", actor_id=staff_id, patient_id=patient.id)
    # The end-of-treatment questions, queued in the same transaction as the discharge.
    await proms.start_at_discharge(uow, patient, now)
    return patient, True


async def record_refusal(uow: UnitOfWork, user_id: int, command: str, now: datetime) -> None:
    """A staff command from someone not on the staff list: audited."""
    await uow.audit.record(now, "staff", "staff_command_refused", actor_id=user_id, command=command)
    await uow.commit()


async def alert_diary(
    uow: UnitOfWork, alert_id: int, staff_id: int, now: datetime
) -> tuple[Alert | None, DiaryPage | None]:
    """The Diary button of an alert: (alert, the first page of its patient's diary). The alert
    None when it is unknown; the page None when its patient is."""
    alert = await uow.alerts.get(alert_id)
    if alert is None:
        return None, None
    return alert, await diary(uow, alert.patient_id, staff_id, now)
