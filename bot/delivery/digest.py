"""Queues the daily clinic digest when it is due (called from the repeating tick)."""

from __future__ import annotations

from datetime import timedelta

from bot.content.render import chunk_lines, digest_lines
from bot.runtime.clock import Clock
from bot.services import digest
from bot.settings import Settings
from storage.db import SessionMaker
from storage.models import Priority
from storage.uow import UnitOfWork


async def run_if_due(sm: SessionMaker, settings: Settings, clock: Clock) -> bool:
    """Build today's digest when it is due and queue it in the outbox (lowest priority), in
    the transaction that moves the job on to tomorrow: it is queued once, and sent however
    long Telegram takes."""
    now = clock.now()
    args = (settings.digest_time, settings.clinic_timezone)
    async with UnitOfWork(sm) as uow:
        if not await digest.claim(uow, now, *args):
            return False
    async with UnitOfWork(sm) as uow:
        d = await digest.build(uow, now, settings.thresholds, settings.clinic_timezone)
        for i, message in enumerate(chunk_lines(digest_lines(d))):
            await uow.outbox.add(
                kind="digest",
                priority=Priority.DIGEST,
                chat_id=0,
                dedupe_key=f"digest:{d.day.isoformat()}:{i}",
                send_at=now,
                body=message,
            )
        await digest.done(uow, clock.now(), *args)
        # Daily housekeeping: handled updates are only kept to spot re-deliveries.
        await uow.inbox.prune(clock.now() - timedelta(days=7))
        await uow.commit()
    return True
