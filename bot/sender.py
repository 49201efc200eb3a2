"""One rate-limited path for every push (alerts, relayed answers, prompts).

Telegram allows about 30 messages a second overall and 20 a minute to one group. The limiter
waits for a slot rather than provoking 429s; a 429 that happens anyway surfaces as
``RetryAfter`` to the caller, which reschedules the work (the outbox) instead of sleeping here.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

from telegram import Bot, Message


class SlidingWindow:
    """At most ``limit`` events in any ``period`` seconds."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        while self._times and now - self._times[0] >= self.period:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self.period - (now - self._times[0])

    def take(self, now: float) -> None:
        self._times.append(now)


class Sender:
    def __init__(self, bot: Bot, per_second: int = 30, per_group_per_minute: int = 20) -> None:
        self.bot = bot
        self._global = SlidingWindow(per_second, 1.0)
        self._per_group = per_group_per_minute
        self._groups: dict[int, SlidingWindow] = {}
        self._lock = asyncio.Lock()

    async def _slot(self, chat_id: int) -> None:
        if self._global.limit <= 0:  # limit turned off (benchmarks, a local Bot API server)
            return
        async with self._lock:
            while True:
                now = time.monotonic()
                wait = self._global.wait_time(now)
                group = None
                if chat_id < 0:  # groups and channels have negative ids
                    group = self._groups.setdefault(chat_id, SlidingWindow(self._per_group, 60))
                    wait = max(wait, group.wait_time(now))
                if wait <= 0:
                    self._global.take(now)
                    if group is not None:
                        group.take(now)
                    return
                await asyncio.sleep(wait)

    async def send_message(self, chat_id: int, text: str, **kwargs) -> Message:
        await self._slot(chat_id)
        return await self.bot.send_message(chat_id, text, **kwargs)

    async def edit_message_text(self, chat_id: int, message_id: int, text: str, **kwargs):
        await self._slot(chat_id)
        return await self.bot.edit_message_text(
            text, chat_id=chat_id, message_id=message_id, **kwargs
        )
