"""Telegram's sending budget, shared by every message the bot sends, taken in priority order.

Telegram allows about 30 messages a second overall and 20 a minute to one group. Every send and
edit waits here for a slot instead of provoking 429s. Waiters are served by priority (urgent
first, then answers to people, routine alerts, reminders, digests), and in arrival order within
a priority. A group's window is waited for on its own, before the global one, so a busy staff
group never holds up a message to anyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from collections.abc import AsyncIterator

from storage.models import Priority

IN_FLIGHT = math.inf
BULK = Priority.REMINDER  # this priority and lower may not use a window's reserved slots


class Window:
    """At most ``limit`` requests in any ``period`` seconds, as the server counts them.

    A request holds its slot from when it is sent until ``period`` after its answer came back.
    Telegram counted it somewhere in between, so the next request can never land inside that
    window, however long this one waited in a connection pool or on the wire. (Counting from
    the moment of sending alone lets network jitter squeeze 31 requests into Telegram's second.)
    """

    def __init__(self, limit: int, period: float, reserved: int = 0) -> None:
        self.limit = limit
        self.period = period
        # Slots that bulk traffic (reminders, digests) may not take: kept for urgent messages
        # and answers, which then never wait for a whole window of reminders to age out.
        self.reserved = reserved
        self._slots: list[list[float]] = []  # [finish time], IN_FLIGHT until the answer
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def wait_time(self, now: float, priority: int = 0) -> float | None:
        """0 if a slot is free now (for this priority); else seconds until one frees, None if
        only an answer still in flight can free one."""
        self._slots = [s for s in self._slots if now - s[0] < self.period]
        cap = self.limit - (self.reserved if priority >= BULK else 0)
        if len(self._slots) < cap:
            return 0.0
        ages = sorted(s[0] for s in self._slots)
        oldest = ages[len(self._slots) - cap]  # the one whose expiry brings it under the cap
        return None if oldest == IN_FLIGHT else self.period - (now - oldest)

    def take(self) -> list[float]:
        slot = [IN_FLIGHT]
        self._slots.append(slot)
        return slot

    async def acquire(self, priority: int) -> list[float]:
        if not self._waiters and self.wait_time(time.monotonic(), priority) == 0:
            return self.take()
        fut = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), fut))
        self._serve()
        try:
            return await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self._slots.remove(fut.result())  # granted while being cancelled: give back
            self._serve()
            raise

    def release(self, slot: list[float], now: float | None = None) -> None:
        slot[0] = time.monotonic() if now is None else now
        self._serve()

    def _serve(self) -> None:
        """Hand free slots to the waiters in priority order; wake up again when one frees."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiters:
            priority, _, fut = self._waiters[0]
            if fut.done():  # cancelled
                heapq.heappop(self._waiters)
                continue
            wait = self.wait_time(time.monotonic(), priority)
            if wait == 0:
                heapq.heappop(self._waiters)
                fut.set_result(self.take())
                continue
            if wait is not None:  # else the next release() serves them
                self._timer = asyncio.get_running_loop().call_later(wait, self._serve)
            return


class Limiter:
    """The whole deployment's budget in this process: global, and per group chat."""

    def __init__(self, per_second: int = 30, per_group_per_minute: int = 20) -> None:
        self.enabled = per_second > 0
        # A tenth of the second's slots are never used by reminders or digests: with one slot
        # kept back, five presses a second used it up and urgent advice waited up to 1 s
        # behind a fan-out; with three, 80 ms (bench/latency.py --fanout 100000). The cost:
        # bulk messages go at 27 a second instead of 30.
        self._global = Window(per_second, 1.0, reserved=max(1, per_second // 10))
        self._per_group = per_group_per_minute
        self._groups: dict[int, Window] = {}

    @contextlib.asynccontextmanager
    async def slot(self, chat_id: int | None, priority: int) -> AsyncIterator[None]:
        if not self.enabled:  # limit turned off (benchmarks, a local Bot API server)
            yield
            return
        held: list[tuple[Window, list[float]]] = []
        try:
            if chat_id is not None and chat_id < 0:  # groups and channels have negative ids
                group = self._groups.setdefault(chat_id, Window(self._per_group, 60.0))
                held.append((group, await group.acquire(priority)))
            held.append((self._global, await self._global.acquire(priority)))
            yield
        finally:
            for window, slot in held:
                window.release(slot)
