"""Red flags in anything a patient types: detected first, before any flow or question.

The urgent advice is queued in the outbox in the same transaction as the clinic alert, so
neither is lost to a crash, a database outage or a failing Telegram."""

from __future__ import annotations

import html
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.content import text
from bot.content.render import clinic_time
from bot.language.red_flag_triage import assess
from bot.language.red_flags import RedFlagHit
from bot.rules.escalation import Decision
from bot.services.alerts import once_key, queue_alert_message, raise_alert
from bot.settings import Settings
from storage.models import Alert, Patient, Priority
from storage.uow import UnitOfWork

if TYPE_CHECKING:
    from bot.services.context import Services

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


# --- "Is this happening now?" ------------------------------------------------------------------
#
# A message that may describe a red flag (bot/language/red_flag_triage.py says "ask") gets one
# question with Yes / No buttons. Its state is an alert row of rule UNCONFIRMED_RULE: the
# patient's words, the plain reason and the buttons' nonce are in its figures. The clinic
# message about it is queued in the outbox at once, due RED_FLAG_CONFIRM_MINUTES later, so an
# unanswered question alerts the clinic even across a restart; an answer in time skips it.
# Yes takes the urgent path (report_text_red_flag); No closes the alert with thanks.

UNCONFIRMED_RULE = "red_flag_unconfirmed"


@dataclass(frozen=True)
class Question:
    alert_id: int
    nonce: str


def _excerpt(message: str) -> str:
    excerpt = " ".join(message.split())
    return excerpt if len(excerpt) <= EXCERPT else excerpt[: EXCERPT - 1] + "…"


async def ask_if_happening_now(
    uow: UnitOfWork,
    patient: Patient,
    hit: RedFlagHit,
    message: str,
    now: datetime,
    confirm_after: timedelta,
    settings: Settings,
) -> Question:
    """Record the question and queue the clinic alert that goes out if it is not answered."""
    nonce = secrets.token_urlsafe(6).replace("-", "x").replace("_", "y")
    due = now + confirm_after
    reason = text(
        "alert_reason_unconfirmed",
        reason=hit.reason,
        excerpt=_excerpt(message),
        asked=clinic_time(now, settings),
        due=clinic_time(due, settings),
    )
    figures = {
        "kind": hit.kind,
        "source": "message",
        "reason": hit.reason,
        "message": _excerpt(message),
        "nonce": nonce,
        "asked_at": now.isoformat(),
    }
    alert = await uow.alerts.open_for(patient.id, UNCONFIRMED_RULE)
    if alert is None:
        alert = await uow.alerts.add(
            Alert(
                patient_id=patient.id,
                level="urgent",
                rule=UNCONFIRMED_RULE,
                # Plain text: the reason is escaped when the alert is rendered.
                reason=html.unescape(reason),
                figures=figures,
                status="open",
                created_at=now,
                updated_at=now,
                sends=0,
            )
        )
        # Once per alert: a second unsure message before the answer keeps the first deadline.
        await queue_alert_message(uow, alert, 0, due, "unanswered")
    else:
        alert.reason = html.unescape(reason)
        alert.figures = figures
        alert.updated_at = now
    await uow.audit.record(
        now, "system", "red_flag_asked", patient_id=patient.id, alert_id=alert.id, kind=hit.kind
    )
    await uow.commit()
    return Question(alert.id, nonce)


async def answer_happening_now(
    uow: UnitOfWork, user_id: int, alert_id: int, yes: bool, nonce: str, now: datetime
) -> str:
    """The patient's answer: "urgent" (Yes: advice and alert queued), "thanks" (No), or
    "stale" (not this patient's question, an older one, or already answered)."""
    patient = await uow.patients.by_user(user_id)
    alert = await uow.alerts.get(alert_id)
    if (
        patient is None
        or alert is None
        or alert.patient_id != patient.id
        or alert.rule != UNCONFIRMED_RULE
        or alert.figures.get("nonce") != nonce
        or alert.figures.get("answer")
    ):
        return "stale"
    figures = dict(alert.figures)
    figures["answer"] = "yes" if yes else "no"
    figures["answered_at"] = now.isoformat()
    alert.figures = figures
    alert.updated_at = now
    if alert.status == "open" and alert.sends == 0:
        # Answered in time: the clinic need not hear about the question itself.
        alert.status = "answered"
        await uow.outbox.skip_pending("alert", alert.id)
    await uow.audit.record(
        now,
        "patient",
        "red_flag_answered",
        actor_id=user_id,
        patient_id=patient.id,
        alert_id=alert.id,
        answer=figures["answer"],
    )
    if not yes:
        await uow.commit()
        return "thanks"
    hit = RedFlagHit(kind=figures["kind"], reason=figures["reason"], matched="")
    await report_text_red_flag(uow, user_id, hit, figures["message"], now)
    return "urgent"


# --- any text: the urgent path, the question, or nothing ------------------------------------


@dataclass(frozen=True)
class TextCheck:
    """What a typed text led to: "none" (no red flag acted on: handle it as usual), "urgent"
    (the advice and the clinic alert are queued) or "asked" ("Is this happening now?":
    ``question`` holds its alert and nonce; the text is handled as usual too)."""

    status: str
    question: Question | None = None


async def check_text(s: Services, user_id: int, message: str) -> TextCheck:
    """A red flag in any text, before anything else. A clear one takes the urgent path; one
    that only may describe a red flag gets the question. Someone not (yet) a patient is
    advised only on a clear red flag: there is no clinic alert to fall back on, and they may
    be typing a time or a name to join. No unit of work is opened for a text without one."""
    triage = assess(message)
    if triage.level == "none" or triage.hit is None:
        return TextCheck("none")
    async with s.uow() as uow:
        if triage.level == "ask":
            patient = await uow.patients.by_user(user_id)
            if patient is None:
                return TextCheck("none")
            after = timedelta(minutes=s.settings.red_flag_confirm_minutes)
            asked = await ask_if_happening_now(
                uow, patient, triage.hit, message, s.now(), after, s.settings
            )
            return TextCheck("asked", asked)
        await report_text_red_flag(uow, user_id, triage.hit, message, s.now())
    return TextCheck("urgent")
