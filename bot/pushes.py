"""Sends due pushes to patients (check-in prompts, nudges, exercise reminders).

One step (:func:`dispatch_once`): make due reminders into pushes, claim a batch, send them
concurrently through the one rate-limited sender, record each outcome. A patient who blocked
the bot (403) is marked unreachable and not tried again; 429 and network errors retry a few
times within the grace period; a reminder is better skipped than sent hours late.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.content import label, text
from bot.exercises import library
from bot.render import button
from bot.sender import Sender
from bot.services import reminders
from bot.settings import Settings
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)
BATCH = 500


def render_push(job: reminders.Job) -> tuple[str, InlineKeyboardMarkup]:
    push, patient = job.push, job.patient
    if push.kind == "exercise":
        plan = library().plan(patient.plan_id or "")
        names = ", ".join(e.name for e in plan.exercises) if plan else ""
        body = text(
            "exercise_reminder", name=patient.name, plan=plan.name if plan else "", exercises=names
        )
        return body, InlineKeyboardMarkup(
            [
                [
                    button(label("btn_done"), f"ex:{push.id}:done"),
                    button(label("btn_snooze"), f"ex:{push.id}:snz"),
                    button(label("btn_skip_today"), f"ex:{push.id}:skip"),
                ]
            ]
        )
    key = "checkin_nudge" if push.kind == "nudge" else "checkin_prompt"
    return (
        text(key, name=patient.name),
        InlineKeyboardMarkup([[button(label("btn_start_checkin_now"), f"ck:{push.id}:go")]]),
    )


def _seconds(value: object) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)  # type: ignore[arg-type]


async def _send(
    sm: async_sessionmaker, sender: Sender, settings: Settings, clock: Clock, job: reminders.Job
) -> None:
    grace = timedelta(hours=settings.reminder_grace_hours)
    async with UnitOfWork(sm) as uow:
        why_not = await reminders.still_wanted(uow, job, clock.now(), grace)
    if why_not:
        async with UnitOfWork(sm) as uow:
            await reminders.record_push(uow, job.push.id, clock.now(), "skipped", detail=why_not)
        return
    body, markup = render_push(job)
    outcome, kwargs = "sent", {}
    try:
        msg = await sender.send_message(job.patient.chat_id, body, reply_markup=markup)
        kwargs = {"message_id": msg.message_id}
    except RetryAfter as exc:
        outcome, kwargs = "retry", {"retry_in": _seconds(exc.retry_after), "detail": "429"}
    except Forbidden as exc:
        outcome, kwargs = "blocked", {"detail": exc.message}
    except BadRequest as exc:
        outcome, kwargs = "failed", {"detail": exc.message}
    except NetworkError as exc:
        outcome, kwargs = (
            "retry",
            {"retry_in": 2.0 * (job.push.attempts + 1), "detail": exc.message},
        )
    except TelegramError as exc:
        outcome, kwargs = "failed", {"detail": exc.message}
    if outcome != "sent":
        log.warning(
            "push %s to patient %s: %s (%s)",
            job.push.id,
            job.patient.id,
            outcome,
            kwargs.get("detail"),
        )
    async with UnitOfWork(sm) as uow:
        await reminders.record_push(uow, job.push.id, clock.now(), outcome, **kwargs)


async def dispatch_once(
    sm: async_sessionmaker, sender: Sender, settings: Settings, clock: Clock
) -> int:
    now = clock.now()
    async with UnitOfWork(sm) as uow:
        await reminders.materialise_due(
            uow,
            now,
            grace=timedelta(hours=settings.reminder_grace_hours),
            nudge_after=timedelta(hours=settings.checkin_nudge_hours),
        )
    async with UnitOfWork(sm) as uow:
        jobs = await reminders.claim_pushes(uow, now, BATCH)
    if not jobs:
        return 0
    # Concurrency bounded by the pool; the sender's limiter keeps the pace legal.
    gate = asyncio.Semaphore(settings.send_concurrency)

    async def one(job):
        async with gate:
            try:
                await _send(sm, sender, settings, clock, job)
            except Exception:  # one bad push must not stop the batch
                log.exception("push %s failed unexpectedly", job.push.id)

    await asyncio.gather(*(one(j) for j in jobs))
    return len(jobs)


async def drain(sm: async_sessionmaker, sender: Sender, settings: Settings, clock: Clock) -> None:
    while await dispatch_once(sm, sender, settings, clock) >= BATCH:
        pass
