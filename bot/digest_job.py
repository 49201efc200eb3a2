"""Sends the daily clinic digest when it is due (called from the repeating tick)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import async_sessionmaker
from telegram.error import TelegramError

from bot.clock import Clock
from bot.content import text
from bot.render import chunk_lines
from bot.sender import Sender
from bot.services import digest
from bot.settings import Settings
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


def render(d: digest.Digest) -> list[str]:
    lines = [
        text(
            "digest_header",
            day=d.day.strftime("%A %d %B"),
            active=d.active,
            checked_in=d.checked_in,
            urgent=d.open_urgent,
            worsening=d.open_worsening,
        )
    ]
    if d.reviews:
        lines.append(text("digest_reviews"))
        lines += [
            text("digest_review_row", name=p.name, id=p.id, reason=a.reason) for p, a in d.reviews
        ]
    else:
        lines.append(text("digest_no_reviews"))
    if d.unreachable:
        lines.append(
            text(
                "digest_unreachable",
                names=", ".join(f"{p.name} (ID {p.id})" for p in d.unreachable),
            )
        )
    return lines


async def run_if_due(
    sm: async_sessionmaker, sender: Sender, settings: Settings, clock: Clock
) -> bool:
    now = clock.now()
    args = (settings.digest_time, settings.clinic_timezone)
    async with UnitOfWork(sm) as uow:
        if not await digest.claim(uow, now, *args):
            return False
    async with UnitOfWork(sm) as uow:
        d = await digest.build(uow, now, settings.thresholds, settings.clinic_timezone)
    lines = render(d)
    try:
        for message in chunk_lines(lines):
            await sender.send_message(settings.clinic_chat_id, message)
    except TelegramError as exc:  # the lease runs out and the next tick tries again
        log.warning("daily digest not sent yet: %s", exc.message)
        return False
    async with UnitOfWork(sm) as uow:
        await digest.done(uow, clock.now(), *args)
        # Daily housekeeping: update ids are only needed to spot re-deliveries (seconds).
        await uow.updates.prune(clock.now() - timedelta(days=7))
        await uow.commit()
    return True
