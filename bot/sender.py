"""One rate-limited path for every push (alerts, relayed answers, prompts).

Telegram allows about 30 messages a second overall and 20 a minute to one group. The limiter
waits for a slot rather than provoking 429s; a 429 that happens anyway surfaces as
``RetryAfter`` to the caller, which reschedules the work (the outbox) instead of sleeping here.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator
from datetime import timedelta

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import RetryAfter
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter  # PTB's own serialiser


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait (PTB gives seconds or a timedelta)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


IN_FLIGHT = math.inf
POLL = 0.01  # seconds between looks at a window that is full of requests still in flight


class SlidingWindow:
    """At most ``limit`` requests in any ``period`` seconds, as the server counts them.

    A request holds its slot from when it is sent until ``period`` after its answer came back.
    Telegram counted it somewhere in between, so the next request can never land inside that
    window, however long this one waited in a connection pool or on the wire. (Counting from
    the moment of sending alone lets network jitter squeeze 31 requests into Telegram's second.)
    """

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._slots: list[list[float]] = []  # [finish time], IN_FLIGHT until the answer

    def wait_time(self, now: float) -> float:
        self._slots = [s for s in self._slots if now - s[0] < self.period]
        if len(self._slots) < self.limit:
            return 0.0
        oldest = min(s[0] for s in self._slots)
        return POLL if oldest == IN_FLIGHT else self.period - (now - oldest)

    def take(self) -> list[float]:
        slot = [IN_FLIGHT]
        self._slots.append(slot)
        return slot

    @staticmethod
    def release(slot: list[float], now: float) -> None:
        slot[0] = now


class Sender:
    def __init__(self, bot: Bot, per_second: int = 30, per_group_per_minute: int = 20) -> None:
        self.bot = bot
        self._global = SlidingWindow(per_second, 1.0)
        self._per_group = per_group_per_minute
        self._groups: dict[int, SlidingWindow] = {}
        self._lock = asyncio.Lock()

    async def _slots(self, chat_id: int) -> list[list[float]]:
        if self._global.limit <= 0:  # limit turned off (benchmarks, a local Bot API server)
            return []
        async with self._lock:
            while True:
                now = time.monotonic()
                windows = [self._global]
                if chat_id < 0:  # groups and channels have negative ids
                    windows.append(
                        self._groups.setdefault(chat_id, SlidingWindow(self._per_group, 60))
                    )
                wait = max(w.wait_time(now) for w in windows)
                if wait <= 0:
                    return [w.take() for w in windows]
                await asyncio.sleep(wait)

    @contextlib.asynccontextmanager
    async def _limited(self, chat_id: int) -> AsyncIterator[None]:
        slots = await self._slots(chat_id)
        try:
            yield
        finally:
            now = time.monotonic()
            for slot in slots:
                SlidingWindow.release(slot, now)

    async def send_message(self, chat_id: int, text: str, **kwargs) -> Message:
        async with self._limited(chat_id):
            return await self.bot.send_message(chat_id, text, **kwargs)

    async def send_push(self, chat_id: int, text: str, markup: InlineKeyboardMarkup) -> int:
        """``sendMessage`` for scheduled pushes; returns the new message's id.

        The hot path of a morning with 100,000 patients due, so it skips one step of
        ``Bot.send_message``: building a ``Message`` object from the answer (a sixth of the
        bot's CPU per push), of which only the id is kept. The request is the one
        ``send_message`` makes under the application's defaults (HTML, no link preview), sent
        through the same transport, whose ``post`` maps errors onto the same exceptions
        (``RetryAfter``, ``Forbidden``, ``BadRequest``, ``NetworkError``).
        """
        defaults = self.bot.defaults  # type: ignore[attr-defined] - the application's ExtBot
        params = {
            "chat_id": chat_id,
            "text": text,
            "parse_mode": defaults.parse_mode if defaults else None,
            "link_preview_options": defaults.link_preview_options if defaults else None,
            "reply_markup": markup,
        }
        data = RequestData(
            [RequestParameter.from_input(k, v) for k, v in params.items() if v is not None]
        )
        async with self._limited(chat_id):
            result = await self.bot.request.post(f"{self.bot.base_url}/sendMessage", data)
        return result["message_id"]  # type: ignore[index,call-overload]

    async def edit_message_text(self, chat_id: int, message_id: int, text: str, **kwargs):
        async with self._limited(chat_id):
            return await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, **kwargs
            )
