"""A patient's control over their data: a copy of everything (/mydata), and erasure (/deleteme).

Erasure deletes the patient row and, through foreign keys, their diary, drafts, alerts and
relayed questions; the audit events that name them (some hold previous diary values) and their
invite (it holds their name) go too. One anonymous audit event records that an erasure happened.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from bot.content import text
from bot.content.render import contact
from storage.models import Patient, Priority
from storage.uow import UnitOfWork

ERASED_NOTICE = "erased"  # the outbox kind of the message that tells the clinic


def _default(value: object) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(type(value).__name__)


CLINICIAN = "a clinician"
SOMEONE_ELSE = "someone else"
# Columns that name a member of staff: shown by role only.
_STAFF_FIELDS = {
    "alerts_to_the_clinic": ("acknowledged_by", "acknowledged_by_name"),
    "questions": ("answered_by", "answered_by_name"),
}


def _only_this_patient(data: dict, own_id: int) -> None:
    """The export holds this patient's data only: nobody else's Telegram id (a refused press of
    another person on this patient's alert is in the activity log), and staff by role."""
    for section, fields in _STAFF_FIELDS.items():
        for row in data[section]:
            for field in fields:
                if row.get(field) is not None:
                    row[field] = CLINICIAN
    for event in data["activity_log"]:
        if event.get("actor_id") is not None and event["actor_id"] != own_id:
            event["actor_id"] = CLINICIAN if event["actor"] == "staff" else SOMEONE_ELSE


def _typed(payload: dict) -> str | None:
    """What the person typed in an update, exactly as Telegram delivered it."""
    message = payload.get("message") or payload.get("edited_message") or {}
    return message.get("text") or message.get("caption")


async def export(uow: UnitOfWork, patient: Patient, now: datetime) -> bytes:
    data = {"exported_at": now, **await uow.patients.everything_about(patient)}
    # Messages about the patient sent to staff (alerts, on-call copies, notices) name the
    # clinicians' chats: the patient's copy holds the messages to them only.
    data["messages_to_you"] = [
        m for m in data["messages_to_you"] if m["chat_id"] == patient.chat_id
    ]
    _only_this_patient(data, patient.telegram_user_id)
    data["messages_as_you_typed_them"] = [
        {"received_at": row.received_at, "text": typed}
        for row in await uow.inbox.for_chat(patient.chat_id)
        if (typed := _typed(row.payload))
    ]
    await uow.audit.record(
        now, "patient", "data_exported", actor_id=patient.telegram_user_id, patient_id=patient.id
    )
    await uow.commit()
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False).encode()


async def erasure_waits(uow: UnitOfWork, patient: Patient) -> bool:
    """True while an urgent alert for the patient is open: the clinic must be able to see what
    was reported, and contact them, before it is erased."""
    return any(a.level == "urgent" for a in await uow.alerts.open_alerts(patient.id))


async def erase(uow: UnitOfWork, telegram_user_id: int, now: datetime) -> str:
    """Erase everything about a patient: 'erased', 'not_registered', or 'urgent_open' (nothing
    erased yet: see :func:`erasure_waits`). The clinic chat is told who left, in a message
    whose text the outbox forgets once it is sent; one audit event without personal data
    records that an erasure happened."""
    patient = await uow.patients.by_user(telegram_user_id)
    if patient is None:
        return "not_registered"
    if await erasure_waits(uow, patient):
        await uow.audit.record(
            now, "patient", "erasure_deferred", actor_id=telegram_user_id, patient_id=patient.id
        )
        await uow.commit()
        return "urgent_open"
    pid, chat_id = patient.id, patient.chat_id
    notice = text(
        "erased_notice",
        name=patient.name,
        id=pid,
        contact=contact(patient.phone, patient.clinic_ref),
    )
    await uow.patients.erase(patient)
    await uow.conversations.drop(telegram_user_id)
    await uow.inbox.erase_chat(chat_id)  # their messages as received
    await uow.audit.record(now, "patient", "patient_erased")
    await uow.outbox.add(
        kind=ERASED_NOTICE,
        priority=Priority.ANSWER,
        chat_id=0,  # the clinic chat
        dedupe_key=f"erased:{pid}",
        send_at=now,
        body=notice,
    )
    await uow.commit()
    return "erased"


async def export_for(uow: UnitOfWork, telegram_user_id: int, now: datetime) -> bytes | None:
    """/mydata: :func:`export` for the sender, None when they are not registered."""
    patient = await uow.patients.by_user(telegram_user_id)
    if patient is None:
        return None
    return await export(uow, patient, now)


async def erasure_asked(uow: UnitOfWork, telegram_user_id: int) -> str:
    """/deleteme: 'not_registered', 'urgent_open' (see :func:`erasure_waits`) or 'confirm'
    (the patient is asked to confirm)."""
    patient = await uow.patients.by_user(telegram_user_id)
    if patient is None:
        return "not_registered"
    return "urgent_open" if await erasure_waits(uow, patient) else "confirm"
