"""Sends due pushes to patients (check-in prompts, nudges, exercise reminders).

One step (:func:`dispatch_once`): make due reminders into pushes, claim a batch, send them
concurrently through the one rate-limited sender, record each outcome. A patient who blocked
the bot (403) is marked unreachable and not tried again; 429 and network errors retry a few
times within the grace period; a reminder is better skipped than sent hours late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from telegram import InlineKeyboardMarkup
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError

from bot.clock import Clock
from bot.content import label, text
from bot.exercises import library
from bot.render import button
from bot.sender import Sender, retry_after_seconds
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


async def _send(sender: Sender, job: reminders.Job) -> reminders.Outcome:
    body, markup = render_push(job)
    try:
        message_id = await sender.send_push(job.patient.chat_id, body, markup)
        return reminders.Outcome(job, "sent", message_id=message_id)
    except RetryAfter as exc:
        out = reminders.Outcome(job, "retry", "429", retry_in=retry_after_seconds(exc))
    except Forbidden as exc:
        out = reminders.Outcome(job, "blocked", exc.message)
    except NetworkError as exc:  # timeouts and 5xx
        out = reminders.Outcome(job, "retry", exc.message, retry_in=2.0 * (job.push.attempts + 1))
    except TelegramError as exc:  # BadRequest and the like: retrying will not help
        out = reminders.Outcome(job, "failed", exc.message)
    except Exception as exc:  # noqa: BLE001 - one bad push must not stop the batch
        log.exception("push %s failed unexpectedly", job.push.id)
        out = reminders.Outcome(job, "failed", type(exc).__name__)
    log.warning(
        "push %s to patient %s: %s (%s)", job.push.id, job.patient.id, out.outcome, out.detail
    )
    return out


def batch_size(settings: Settings) -> int:
    """Pushes claimed at a time: a batch should take about two seconds to send, so that a
    stopping bot hands back little and a second process finds work to share."""
    rate = settings.send_rate_per_second
    return BATCH if rate <= 0 else min(BATCH, max(10, 2 * rate))


async def dispatch_once(
    sm: async_sessionmaker,
    sender: Sender,
    settings: Settings,
    clock: Clock,
    gate: asyncio.Semaphore | None = None,
    keep_going: Callable[[], bool] = lambda: True,
) -> int:
    """Materialise due reminders, then claim, send and record one batch of pushes.

    ``keep_going`` is asked before each send: when the bot is stopping, the rest of the
    batch is handed back unsent (no lease to wait out) for the next start or another process.
    """
    now = clock.now()
    size = batch_size(settings)
    grace = timedelta(hours=settings.reminder_grace_hours)
    async with UnitOfWork(sm) as uow:
        await reminders.materialise_due(
            uow,
            now,
            grace=grace,
            nudge_after=timedelta(hours=settings.checkin_nudge_hours),
            limit=size,
        )
    async with UnitOfWork(sm) as uow:
        jobs = await reminders.claim_pushes(uow, now, size)
        skip = await reminders.unwanted(uow, jobs, now, grace) if jobs else {}
    if not jobs:
        return 0
    outcomes = [reminders.Outcome(j, "skipped", skip[j.push.id]) for j in jobs if j.push.id in skip]
    gate = gate or asyncio.Semaphore(settings.send_concurrency)

    async def one(job: reminders.Job) -> reminders.Outcome:
        async with gate:
            if not keep_going():
                return reminders.Outcome(job, "released")
            return await _send(sender, job)

    outcomes += await asyncio.gather(*(one(j) for j in jobs if j.push.id not in skip))
    async with UnitOfWork(sm) as uow:
        await reminders.record(uow, outcomes, clock.now())
    return len(jobs)


async def drain(
    sm: async_sessionmaker,
    sender: Sender,
    settings: Settings,
    clock: Clock,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Send until nothing is due (or the bot stops). Two loops share the work: while one
    waits on the database for its next batch, the other's messages are on the wire."""
    gate = asyncio.Semaphore(settings.send_concurrency)
    size = batch_size(settings)

    async def loop() -> None:
        while (
            keep_going()
            and await dispatch_once(sm, sender, settings, clock, gate, keep_going) >= size
        ):
            pass

    await asyncio.gather(loop(), loop())
