"""Alerts to the clinic: raised into the outbox, acknowledged by staff.

Raising (or updating) an alert queues its message to the clinic chat in the same transaction;
an urgent one also queues the urgent advice to the patient, sent first. The outbox renders the
alert when it sends it and, while an urgent alert is open, queues its next re-notification.
See ``bot/delivery/outbox.py``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.rules.escalation import Decision
from storage.models import Alert, Patient, Priority
from storage.uow import UnitOfWork, current_update


def once_key() -> str:
    """What makes a queued message unique: the update that caused it (handled once), or a
    random token outside an update (a job)."""
    handled = current_update.get()
    return f"u{handled.update_id}" if handled is not None else uuid.uuid4().hex[:16]


ALERT = "alert"  # the outbox kind of messages about an alert
# An open urgent alert updated again and again (a patient typing red flag after red flag)
# edits its message in the clinic group at most this often: the group's 20 messages a minute (edits
# count) are for other patients' alerts too.
EDIT_GAP = timedelta(seconds=30)


def alert_purpose(dedupe_key: str) -> str:
    """What an alert message is for, from the key it was queued with: ``new`` (the first
    post), ``update`` (edit the posted message in place), ``renotify`` (post it again)."""
    why = dedupe_key.split(":")[2] if dedupe_key.count(":") >= 2 else "new"
    return why if why in ("new", "update", "renotify") else "new"


async def queue_alert_message(
    uow: UnitOfWork, alert: Alert, clinic_chat_id: int, now: datetime, why: str
) -> None:
    """Queue a message about ``alert`` to the clinic chat (rendered when it is sent)."""
    await uow.outbox.add(
        kind=ALERT,
        priority=Priority.URGENT if alert.level == "urgent" else Priority.ALERT,
        chat_id=clinic_chat_id,
        dedupe_key=f"alert:{alert.id}:{why}",
        send_at=now,
        patient_id=alert.patient_id,
        ref_id=alert.id,
    )


async def queue_urgent_advice(
    uow: UnitOfWork, patient: Patient, reason: str, alert: Alert | None, now: datetime
) -> None:
    """The urgent advice to the patient (in plain words, ``reason``), written in the same
    transaction as the alert and sent before anything else."""
    await uow.outbox.add(
        kind="urgent_advice",
        priority=Priority.URGENT,
        chat_id=patient.chat_id,
        dedupe_key=f"advice:{alert.id if alert else 0}:{once_key()}",
        send_at=now,
        patient_id=patient.id,
        ref_id=alert.id if alert else None,
        body=reason,
    )


async def raise_alert(
    uow: UnitOfWork,
    patient: Patient,
    decision: Decision,
    now: datetime,
    advice: str | None = None,
    clinic_chat_id: int = 0,
) -> tuple[Alert, bool]:
    """Record a decision as an alert; returns (alert, created).

    One open alert per patient and rule: a new trigger updates the open one (new figures, and
    the staff message is edited or, for an urgent one, sent again) instead of adding another.
    ``advice`` (plain words) queues the urgent advice to the patient in the same transaction.
    ``clinic_chat_id`` 0 means the clinic chat of the settings in force when it is sent.
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
                sends=0,
            )
        )
    else:
        alert.reason = decision.reason
        alert.figures = dict(decision.figures)
        alert.updated_at = now
    # Review notes are not pushed one by one: they go in the daily digest. An update of an
    # alert whose message is still waiting to go adds nothing: the message is rendered from
    # the alert when it is sent, so it carries the latest figures (a flood of red flags from
    # one patient is one message in the clinic group, edited, not one message each).
    # Updates of a posted alert are edits, at most one per ``EDIT_GAP``.
    if decision.level != "review":
        if created:
            await queue_alert_message(uow, alert, clinic_chat_id, now, "new")
        elif not await uow.outbox.waiting_for(ALERT, alert.id, "renotify"):
            last = alert.last_sent_at
            flood = alert.level == "urgent" and last is not None  # routine ones change daily
            at = max(now, last + EDIT_GAP) if flood else now
            await queue_alert_message(uow, alert, clinic_chat_id, at, f"update:{once_key()}")
    if advice is not None:
        await queue_urgent_advice(uow, patient, advice, alert, now)
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


ONCALL = "oncall"  # the outbox kind of an urgent alert's private copy to an on-call clinician
ALERT_EDIT = "alert_edit"  # the outbox kind of an edit of a copy, once acknowledged


async def queue_escalations(
    uow: UnitOfWork, now: datetime, after: timedelta, every: timedelta, oncall: frozenset[int]
) -> int:
    """Private copies of every urgent alert left unacknowledged for ``after``, to each on-call
    clinician, and again each ``every`` until acknowledged. Run on every tick: the dedupe key
    names the round, so a round is queued once whatever the processes. Returns how many
    rounds were due."""
    if not oncall:
        return 0
    due = await uow.alerts.open_urgent_since(now - after)
    rows = [
        {
            "kind": ONCALL,
            "priority": Priority.URGENT,
            "chat_id": user_id,
            "dedupe_key": f"oncall:{alert.id}:{user_id}:"
            f"{1 + int((now - alert.created_at - after) / every)}",
            "send_at": now,
            "patient_id": alert.patient_id,
            "ref_id": alert.id,
        }
        for alert in due
        for user_id in sorted(oncall)
    ]
    # Only rounds not queued yet, found in one query: a conflicting insert would still use up
    # an outbox id (a PostgreSQL sequence) on every tick.
    queued = await uow.outbox.existing_keys([r["dedupe_key"] for r in rows])
    await uow.outbox.add_many([r for r in rows if r["dedupe_key"] not in queued])
    return len(due)


async def queue_acknowledged_edits(
    uow: UnitOfWork,
    alert: Alert,
    now: datetime,
    pressed: tuple[int, int] | None = None,
    only: tuple[int, int] | None = None,
) -> None:
    """Edit every copy of an alert (in the clinic chat, its re-notifications, the private
    copies) to show who acknowledged it; ``pressed`` (chat, message; chat 0 for the clinic
    chat) was edited already. ``only``: just this copy (one that went out as the alert was
    acknowledged)."""
    if only is not None:
        copies = {only}
    else:
        copies = await uow.outbox.sent_copies((ALERT, ONCALL), alert.id) - {pressed}
    await uow.outbox.add_many(
        [
            {
                "kind": ALERT_EDIT,
                "priority": Priority.ALERT,
                "chat_id": chat_id,
                "dedupe_key": f"acked:{alert.id}:{chat_id}:{message_id}",
                "send_at": now,
                "patient_id": alert.patient_id,
                "ref_id": alert.id,
                "edit_message_id": message_id,
            }
            for chat_id, message_id in sorted(copies)
        ]
    )


@dataclass(frozen=True)
class AckResult:
    status: str  # acknowledged | already | unknown | refused
    alert: Alert | None = None
    patient: Patient | None = None


async def acknowledge(
    uow: UnitOfWork,
    alert_id: int,
    user_id: int,
    user_name: str,
    is_staff: bool,
    now: datetime,
    pressed: tuple[int, int] | None = None,
) -> AckResult:
    """Acknowledge an alert (staff only); every other copy of it is edited to say so.
    ``pressed``: the (chat, message) the button was pressed on, 0 for the clinic chat."""
    alert = await uow.alerts.get(alert_id)
    if alert is None:
        return AckResult("unknown")
    if not is_staff:
        await uow.audit.record(
            now,
            "visitor",  # not on the staff list: whoever pressed it, not a clinician
            "ack_refused",
            actor_id=user_id,
            patient_id=alert.patient_id,
            alert_id=alert_id,
        )
        await uow.commit()
        return AckResult("refused")
    done = await uow.alerts.acknowledge(alert_id, user_id, user_name, now)
    if done:
        await uow.outbox.skip_pending("alert", alert_id)  # no more re-notifications
        await uow.outbox.skip_pending(ONCALL, alert_id)
        await queue_acknowledged_edits(uow, alert, now, pressed)
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
