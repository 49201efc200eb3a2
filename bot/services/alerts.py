"""Alerts to the clinic: raised into the outbox, acknowledged by staff.

An alert row is the outbox entry: ``next_send_at`` says when the sender should next act on it
(first send, retry, or re-notify of an unacknowledged urgent alert). See ``bot/outbox.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.rules.escalation import Decision
from storage.models import Alert, Patient
from storage.uow import UnitOfWork


async def raise_alert(
    uow: UnitOfWork, patient: Patient, decision: Decision, now: datetime
) -> tuple[Alert, bool]:
    """Record a decision as an alert; returns (alert, created).

    One open alert per patient and rule: a new trigger updates the open one (new figures, and
    the staff message is edited or, for an urgent one, sent again) instead of adding another.
    """
    alert = await uow.alerts.open_for(patient.id, decision.rule)
    created = alert is None
    if alert is None:
        alert = await uow.alerts.add(
            Alert(
                patient_id=patient.id,
                level=decision.level,
                rule=decision.rule,
                reason=decision.reason,
                figures=dict(decision.figures),
                status="open",
                created_at=now,
                updated_at=now,
                # Review notes are not pushed one by one: they go in the daily digest.
                next_send_at=None if decision.level == "review" else now,
                attempts=0,
                sends=0,
            )
        )
    else:
        alert.reason = decision.reason
        alert.figures = dict(decision.figures)
        alert.updated_at = now
        alert.next_send_at = None if decision.level == "review" else now
    await uow.audit.record(
        now,
        "system",
        "alert_raised" if created else "alert_updated",
        patient_id=patient.id,
        alert_id=alert.id,
        rule=decision.rule,
        level=decision.level,
    )
    return alert, created


@dataclass(frozen=True)
class AckResult:
    status: str  # acknowledged | already | unknown | refused
    alert: Alert | None = None
    patient: Patient | None = None


async def acknowledge(
    uow: UnitOfWork, alert_id: int, user_id: int, user_name: str, is_staff: bool, now: datetime
) -> AckResult:
    alert = await uow.alerts.get(alert_id)
    if alert is None:
        return AckResult("unknown")
    if not is_staff:
        await uow.audit.record(
            now,
            "staff",
            "ack_refused",
            actor_id=user_id,
            patient_id=alert.patient_id,
            alert_id=alert_id,
        )
        await uow.commit()
        return AckResult("refused")
    done = await uow.alerts.acknowledge(alert_id, user_id, user_name, now)
    if done:
        await uow.audit.record(
            now,
            "staff",
            "alert_acknowledged",
            actor_id=user_id,
            patient_id=alert.patient_id,
            alert_id=alert_id,
        )
    await uow.commit()
    await uow.session.refresh(alert)
    patient = await uow.patients.get(alert.patient_id)
    return AckResult("acknowledged" if done else "already", alert, patient)
