"""What every handler needs, built once per process in ``bot.app``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.clock import Clock
from bot.sender import Sender
from bot.settings import Settings
from storage.uow import UnitOfWork


@dataclass
class Services:
    settings: Settings
    sessionmaker: async_sessionmaker
    clock: Clock
    sender: Sender | None = None
    # Starts delivering due alerts now instead of at the next tick (set by the application).
    on_kick: Callable[[], None] = field(default=lambda: None)

    def kick(self) -> None:
        self.on_kick()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker)

    def now(self):
        return self.clock.now()
