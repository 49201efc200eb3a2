"""Queues the daily clinic digest when it is due (called from the repeating tick)."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import Clock
from bot.content import text
from bot.delivery.limiter import Priority
from bot.render import change_week_line, chunk_lines
from bot.services import digest
from bot.settings import Settings
from storage.db import SessionMaker
from storage.uow import UnitOfWork


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
    if d.changes:
        lines.append(text("digest_changes"))
        lines += [
            text(
                "digest_change_row",
                name=p.name,
                id=p.id,
                what=change_week_line(c),
            )
            for p, c in d.changes
        ]
    if d.unreachable:
        lines.append(
            text(
                "digest_unreachable",
                names=", ".join(f"{p.name} (ID {p.id})" for p in d.unreachable),
            )
        )
    return lines


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
        for i, message in enumerate(chunk_lines(render(d))):
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
