"""Patients' questions: answered from the approved FAQ, or passed to the clinic.

The matcher (``bot/language/faq.py``) never guesses: below its calibrated threshold the patient
is told so and may relay the question to the staff chat; a staff reply to that message reaches
them.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from bot.content import render
from bot.language.faq import FaqEntry, FaqIndex, FaqMatch
from bot.services.alerts import once_key
from bot.services.patients import active_patient
from storage.models import Patient, Priority, RelayedQuestion
from storage.uow import UnitOfWork

MAX_QUESTION = 2000


@cache
def faq_index() -> FaqIndex:
    return FaqIndex.load()


def answer(question: str) -> FaqMatch:
    return faq_index().match(question[:MAX_QUESTION])


def related(entry: FaqEntry) -> list[FaqEntry]:
    """The FAQ entries an answer points to (those that exist)."""
    return [e for e in (faq_index().get(r) for r in entry.related) if e]


def answer_topics() -> list[FaqEntry]:
    """The FAQ's topics that are answers (for /faq), in the file's order."""
    return [e for e in faq_index().entries if e.kind == "answer"]


async def keep_question(uow: UnitOfWork, patient: Patient, question: str, now: datetime) -> int:
    """Store a question the bot could not answer, so that a button can relay it later."""
    q = await uow.questions.add(
        RelayedQuestion(patient_id=patient.id, question=question, created_at=now)
    )
    await uow.commit()
    return q.id


async def question_to_relay(
    uow: UnitOfWork, patient: Patient, question_id: int
) -> RelayedQuestion | None:
    """The patient's own, not yet relayed question (None for someone else's or a replay)."""
    q = await uow.questions.get(question_id)
    if q is None or q.patient_id != patient.id or q.staff_message_id is not None:
        return None
    return q


async def queue_relay(uow: UnitOfWork, patient: Patient, q: RelayedQuestion, body: str, now):
    """Queue the question for the staff chat; its message id is stored once it is sent."""
    await uow.outbox.add(
        kind="relay",
        priority=Priority.ANSWER,
        chat_id=0,
        dedupe_key=f"relay:{q.id}",
        send_at=now,
        patient_id=patient.id,
        ref_id=q.id,
        body=body,
    )
    await uow.commit()


async def queue_to_patient(
    uow: UnitOfWork, patient: Patient, body: str, now: datetime, kind: str = "to_patient"
) -> None:
    """A message from the clinic to a patient (a staff answer, a new plan), sent by the
    outbox; a ``staff_reply`` tells the staff chat when it was delivered or why not."""
    await uow.outbox.add(
        kind=kind,
        priority=Priority.ANSWER,
        chat_id=patient.chat_id,
        dedupe_key=f"{kind}:{patient.id}:{once_key()}",
        send_at=now,
        patient_id=patient.id,
        body=body,
    )
    await uow.commit()


async def record_reply(
    uow: UnitOfWork,
    staff_chat_id: int,
    staff_message_id: int,
    answer_text: str,
    staff_id: int,
    now: datetime,
    staff_name: str = "",
) -> tuple[RelayedQuestion, Patient] | None:
    q = await uow.questions.by_staff_message(staff_chat_id, staff_message_id)
    if q is None:
        return None
    patient = await uow.patients.get(q.patient_id)
    if patient is None:
        return None
    q.answer = answer_text
    q.answered_by = staff_id
    q.answered_by_name = staff_name[:100] or None
    q.answered_at = now
    await uow.audit.record(
        now,
        "staff",
        "question_answered",
        actor_id=staff_id,
        patient_id=patient.id,
        question_id=q.id,
    )
    return q, patient  # not committed: the caller queues the answer in the same transaction


async def relay(
    uow: UnitOfWork, telegram_user_id: int, question_id: int, now: datetime
) -> tuple[Patient, RelayedQuestion] | None:
    """ "Ask the clinic": the sender's own, not yet relayed question is queued for the staff
    chat. None when the sender is not an active patient or the question is not theirs (or
    already relayed)."""
    patient = await active_patient(uow, telegram_user_id)
    if patient is None:
        return None
    q = await question_to_relay(uow, patient, question_id)
    if q is None:
        return None
    await queue_relay(uow, patient, q, render.relay_to_staff(patient, q), now)
    return patient, q


async def reply_to_patient(
    uow: UnitOfWork,
    staff_chat_id: int,
    staff_message_id: int,
    answer_text: str,
    staff_id: int,
    now: datetime,
    staff_name: str,
    clinic: str,
) -> bool:
    """A staff reply to a relayed question: recorded, and queued for the patient in the same
    transaction (the outbox delivers it and tells the staff chat). False when the message
    replied to is not a relayed question."""
    found = await record_reply(
        uow, staff_chat_id, staff_message_id, answer_text, staff_id, now, staff_name=staff_name
    )
    if found is None:
        return False
    _, patient = found
    body = render.relay_reply(clinic, answer_text)
    await queue_to_patient(uow, patient, body, now, kind="staff_reply")
    return True
