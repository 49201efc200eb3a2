"""The patient behind a Telegram account, for every service that acts on what they send."""

from __future__ import annotations

from storage.models import Patient
from storage.uow import UnitOfWork


async def active_patient(
    uow: UnitOfWork, telegram_user_id: int, with_draft: bool = False
) -> Patient | None:
    """The registered, not discharged patient with this Telegram id (and, ``with_draft``,
    their check-in draft loaded in the same query). Writing to the bot means they can be
    reached again, if they had blocked it."""
    patient = await uow.patients.by_user(telegram_user_id, with_draft)
    if patient is None or patient.status != "active":
        return None
    if patient.unreachable:
        patient.unreachable = False
        await uow.commit_aside()
        uow.patients.forget_held()  # the draft is read again, in the caller's transaction
    return patient
