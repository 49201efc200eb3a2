"""Flood control modelled on Telegram's published limits (sliding windows).

"About 30 messages per second" overall and "20 messages per minute" to one group. The real
limits are fuzzy; a small slack (``SLACK_SECONDS``) forgives the jitter between the bot's own
clock and ours, so a bot with a correct limiter does not trip over network timing.
"""

from __future__ import annotations

import math
from collections import deque

SLACK_SECONDS = 0.05


class SlidingWindow:
    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque()

    def _expire(self, now: float) -> None:
        while self._times and now - self._times[0] >= self.period - SLACK_SECONDS:
            self._times.popleft()

    def retry_after(self, now: float) -> int | None:
        """Whole seconds to wait if one more event now would exceed the limit, else None."""
        self._expire(now)
        if len(self._times) < self.limit:
            return None
        wait = self._times[0] + self.period - SLACK_SECONDS - now
        return max(1, math.ceil(wait))

    def record(self, now: float) -> None:
        self._times.append(now)


class FloodControl:
    """Overall per-second window plus one per-minute window per group chat."""

    def __init__(self, per_second: float | None, per_group_per_minute: int | None) -> None:
        self._overall = SlidingWindow(max(1, math.floor(per_second)), 1.0) if per_second else None
        self._per_group = per_group_per_minute
        self._groups: dict[int, SlidingWindow] = {}

    def _group_window(self, chat_id: int) -> SlidingWindow | None:
        if not self._per_group or chat_id >= 0:
            return None
        return self._groups.setdefault(chat_id, SlidingWindow(self._per_group, 60.0))

    def retry_after(self, chat_id: int, now: float) -> int | None:
        waits = [
            window.retry_after(now)
            for window in (self._overall, self._group_window(chat_id))
            if window is not None
        ]
        waits = [w for w in waits if w is not None]
        return max(waits) if waits else None

    def record(self, chat_id: int, now: float) -> None:
        for window in (self._overall, self._group_window(chat_id)):
            if window is not None:
                window.record(now)
