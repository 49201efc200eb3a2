"""Every Bot API call goes through here: the shared budget, and retries for answers to people.

Calls that put a message in a chat (send, edit) take a slot from the :class:`Limiter` at the
priority of whoever is sending. A reply or an edit in answer to an update (the default) is
retried when Telegram answers 429 (after exactly ``retry_after``), 5xx or times out, for up to
``RETRY_FOR`` seconds, so a patient's button press is never left without its answer. The outbox
sets ``retry=False`` for its own sends: it records each attempt and reschedules instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import time
from collections.abc import Iterator
from datetime import timedelta

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.request import RequestData

from bot.delivery.http import AiohttpRequest
from bot.delivery.limiter import Limiter
from storage.models import Priority

log = logging.getLogger(__name__)

# Methods that put something in a chat and count against Telegram's message limits.
SENDING = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "sendDocument",
        "sendPhoto",
    }
)
# Answers to a person that are retried even though they use no message slot.
RETRIED = SENDING | {"answerCallbackQuery"}
RETRY_FOR = 300.0  # seconds: after that a reply is stale, and the failure is logged
MAX_BACKOFF = 30.0

_priority: contextvars.ContextVar[Priority] = contextvars.ContextVar(
    "send_priority", default=Priority.ANSWER
)
_retry: contextvars.ContextVar[bool] = contextvars.ContextVar("send_retry", default=True)


# PTB 22.2 and later give ``RetryAfter.retry_after`` in seconds with a deprecation warning,
# unless PTB_TIMEDELTA opts in to the timedelta that PTB's next major version will give: the
# bot opts in (the bot reads no other duration PTB changes this way).
os.environ.setdefault("PTB_TIMEDELTA", "true")


def retry_after_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked us to wait (PTB gives seconds or a timedelta)."""
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


@contextlib.contextmanager
def sending_as(priority: Priority, *, retry: bool = False) -> Iterator[None]:
    """Calls made inside take slots at ``priority`` (and, by default, are not retried here)."""
    p, r = _priority.set(priority), _retry.set(retry)
    try:
        yield
    finally:
        _priority.reset(p)
        _retry.reset(r)


def _chat_id(request_data: RequestData | None) -> int | None:
    if request_data is None:
        return None
    value = request_data.parameters.get("chat_id")
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None  # an @username, or an inline message


class BotRequest(AiohttpRequest):
    """The bot's transport: aiohttp, the shared limiter, and retries for interactive calls."""

    def __init__(self, limiter: Limiter, **kwargs) -> None:
        super().__init__(**kwargs)
        self.limiter = limiter

    async def post(self, url: str, request_data: RequestData | None = None, **kwargs):
        method = url.rsplit("/", 1)[-1]
        if method not in RETRIED:
            return await super().post(url, request_data, **kwargs)
        priority, retry = _priority.get(), _retry.get()
        limited = method in SENDING and self.limiter.enabled
        chat_id = _chat_id(request_data) if limited or retry else None
        deadline = time.monotonic() + RETRY_FOR
        attempt = 0
        while True:
            try:
                if limited:
                    async with self.limiter.slot(chat_id, priority):
                        return await super().post(url, request_data, **kwargs)
                return await super().post(url, request_data, **kwargs)
            except RetryAfter as exc:
                if not retry or time.monotonic() > deadline:
                    raise
                wait = retry_after_seconds(exc)
                detail = f"429, retry after {wait:.0f}s"
            except BadRequest:
                raise  # the request itself is wrong: sending it again cannot help
            except NetworkError as exc:  # timeouts, 5xx, refused connections
                if not retry or time.monotonic() > deadline:
                    raise
                attempt += 1
                wait = min(0.5 * 2**attempt, MAX_BACKOFF)
                detail = exc.message
            log.warning("%s to chat %s not delivered yet (%s); retrying", method, chat_id, detail)
            await asyncio.sleep(wait)
