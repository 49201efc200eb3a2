"""Red flags in anything a patient types: detected first, before any flow or question.

The urgent advice is queued in the outbox in the same transaction as the clinic alert, so
neither is lost to a crash, a database outage or a failing Telegram."""

from __future__ import annotations

from datetime import datetime

from bot.delivery.limiter import Priority
from bot.rules.escalation import Decision
from bot.rules.red_flags import RedFlagHit
from bot.services.alerts import once_key, raise_alert
from storage.models import Patient
from storage.uow import UnitOfWork

EXCERPT = 200


def decision_for_text(hit: RedFlagHit, message: str) -> Decision:
    excerpt = " ".join(message.split())
    if len(excerpt) > EXCERPT:
        excerpt = excerpt[: EXCERPT - 1] + "…"
    return Decision(
        level="urgent",
        rule="red_flag",
        reason=f"Red flag in a message ({hit.reason}): \u201c{excerpt}\u201d",
        figures={"kind": hit.kind, "source": "message"},
    )


async def report_text_red_flag(
    uow: UnitOfWork, user_id: int, hit: RedFlagHit, message: str, now: datetime
) -> Patient | None:
    """Raise an urgent alert and queue the advice; returns the patient (None: someone who is
    not a patient, who is advised all the same)."""
    patient = await uow.patients.by_user(user_id)
    if patient is None:
        await uow.outbox.add(
            kind="advice_guest",
            priority=Priority.URGENT,
            chat_id=user_id,  # a private chat's id is its user's id
            dedupe_key=f"advice:guest:{once_key()}",
            send_at=now,
            body=hit.reason,
        )
        await uow.commit()
        return None
    await raise_alert(uow, patient, decision_for_text(hit, message), now, advice=hit.reason)
    await uow.commit()
    return patient
