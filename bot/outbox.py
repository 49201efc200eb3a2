"""The alert sender: claims due alerts from the database and delivers them to the clinic chat.

Each call of :func:`dispatch_once` does one batch and returns, so a test (or the repeating tick)
drives it step by step. Errors are told apart: a 429 waits exactly ``retry_after``; a network
error or a 5xx backs off (bounded delay, never dropped, because an alert must not be lost);
a permanent error (chat not found, bot removed from the group) stops and is logged loudly.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError

from bot import render
from bot.clock import Clock
from bot.sender import Sender, retry_after_seconds
from bot.settings import Settings
from storage.models import Alert, Patient
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
LEASE = timedelta(seconds=60)
MAX_BACKOFF = 60.0
# Small batches: each is sent within its lease even at 20 messages a minute to a group.
BATCH = 10


def alert_keyboard(alert: Alert) -> InlineKeyboardMarkup | None:
    if alert.status != "open":
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(render.label("btn_ack"), callback_data=f"al:{alert.id}:ack"),
                InlineKeyboardButton(render.label("btn_diary"), callback_data=f"al:{alert.id}:dia"),
            ]
        ]
    )


def backoff(attempts: int) -> float:
    return min(2.0 ** max(attempts, 1), MAX_BACKOFF)


async def _deliver(sender: Sender, settings: Settings, alert: Alert, patient: Patient) -> int:
    """Send or edit the staff message; returns its message id."""
    chat_id = settings.clinic_chat_id
    renotify = alert.level == "urgent" and alert.sends > 0
    body = render.alert_text(alert, patient, settings, repeat=renotify)
    markup = alert_keyboard(alert)
    if alert.telegram_message_id and not renotify:
        # A routine alert that was updated: edit it in place rather than add noise.
        try:
            await sender.edit_message_text(
                chat_id, alert.telegram_message_id, body, reply_markup=markup
            )
            return alert.telegram_message_id
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return alert.telegram_message_id
            if "not found" not in exc.message.lower():
                raise
    msg = await sender.send_message(chat_id, body, reply_markup=markup)
    return msg.message_id


async def dispatch_once(
    sessionmaker: async_sessionmaker, sender: Sender, settings: Settings, clock: Clock
) -> int:
    """Deliver the alerts that are due now; returns how many were acted on."""
    now = clock.now()
    async with UnitOfWork(sessionmaker) as uow:
        ids = await uow.alerts.due_ids(now, BATCH)
        claimed = [i for i in ids if await uow.alerts.claim(i, now, LEASE)]
        await uow.commit()
    for alert_id in claimed:
        await _send_one(sessionmaker, sender, settings, clock, alert_id)
    return len(claimed)


async def _send_one(
    sessionmaker: async_sessionmaker,
    sender: Sender,
    settings: Settings,
    clock: Clock,
    alert_id: int,
) -> None:
    async with UnitOfWork(sessionmaker) as uow:
        alert = await uow.alerts.get(alert_id)
        patient = await uow.patients.get(alert.patient_id) if alert else None
    if alert is None or patient is None:
        return
    outcome, detail, message_id, delay = "sent", None, None, None
    try:
        message_id = await _deliver(sender, settings, alert, patient)
    except RetryAfter as exc:
        outcome, detail, delay = (
            "retry",
            f"429 retry after {exc.retry_after}",
            retry_after_seconds(exc),
        )
    except NetworkError as exc:  # includes TimedOut and 5xx answers
        outcome, detail, delay = "retry", f"network: {exc.message}", backoff(alert.attempts + 1)
    except TelegramError as exc:
        outcome, detail = "failed", f"{type(exc).__name__}: {exc.message}"
        new_id = getattr(exc, "new_chat_id", None)
        hint = f" (the group is now chat {new_id}: set CLINIC_CHAT_ID)" if new_id else ""
        log.critical(
            "alert %s could not be delivered to the clinic chat: %s%s", alert_id, detail, hint
        )
    now = clock.now()
    async with UnitOfWork(sessionmaker) as uow:
        alert = await uow.alerts.get(alert_id)
        if alert is None:  # erased (/deleteme) while it was being sent
            return
        alert.attempts += 1
        alert.claimed_until = None
        alert.last_error = detail
        if outcome == "sent":
            alert.sends += 1
            alert.last_sent_at = now
            alert.telegram_message_id = message_id
            still_open = alert.status == "open" and alert.level == "urgent"
            alert.next_send_at = (
                now + timedelta(minutes=settings.alert_renotify_minutes) if still_open else None
            )
            if alert.sends == 1:
                await uow.audit.record(
                    now, "system", "alert_sent", patient_id=alert.patient_id, alert_id=alert.id
                )
        elif outcome == "retry":
            alert.next_send_at = now + timedelta(seconds=delay)
            log.warning("alert %s: will retry in %.0fs (%s)", alert_id, delay, detail)
        elif alert.level == "urgent" and alert.status == "open":
            # An urgent alert is never given up: a misconfigured or migrated group chat is
            # fixed by a person, and the alert must still arrive once it is.
            alert.next_send_at = now + timedelta(minutes=settings.alert_renotify_minutes)
        else:
            alert.next_send_at = None
        await uow.alerts.record_attempt(alert_id, now, outcome, detail)
        await uow.commit()


async def drain(
    sessionmaker: async_sessionmaker, sender: Sender, settings: Settings, clock: Clock
) -> None:
    while await dispatch_once(sessionmaker, sender, settings, clock) >= BATCH:
        pass
