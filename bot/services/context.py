"""What every handler needs, built once per process in ``bot.app``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.runtime.clock import Clock
from bot.settings import Settings
from storage.db import SessionMaker
from storage.uow import UnitOfWork


@dataclass
class Services:
    settings: Settings
    sessionmaker: SessionMaker
    clock: Clock
    # Told the most urgent outbox priority a unit of work committed (set by the application:
    # it wakes the outbox's fast lane, so urgent advice and answers go out at once).
    on_queued: Callable[[int], None] = field(default=lambda priority: None)
    # Sends what the fast lane has queued, and returns when it is out (set by the application).
    deliver_now: Callable[[], Awaitable[None]] | None = None

    async def deliver_urgent(self) -> None:
        """Urgent advice first: a handler awaits this before the flow goes on. The advice is
        durable whatever happens here (queued with the alert), so a failure is only logged."""
        if self.deliver_now is not None:
            await self.deliver_now()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker, after_commit=self.on_queued)

    def now(self):
        return self.clock.now()
