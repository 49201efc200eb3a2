"""Red flags in anything a patient types: detected first, before any flow or question."""

from __future__ import annotations

from datetime import datetime

from bot.rules.escalation import Decision
from bot.rules.red_flags import RedFlagHit
from bot.services.alerts import raise_alert
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
    """Raise an urgent alert for a registered patient; returns the patient (or None)."""
    patient = await uow.patients.by_user(user_id)
    if patient is None:
        return None
    await raise_alert(uow, patient, decision_for_text(hit, message), now)
    await uow.commit()
    return patient
