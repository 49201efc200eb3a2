"""Reaching the database and Telegram at start, before anything else is done.

A failure a moment of patience can fix (connection refused while a server restarts, a timeout,
a host name not found yet) is tried again a few times with a growing pause; what cannot be
fixed by waiting (a token Telegram refuses, a wrong password, a database file that cannot be
opened) is said at once. Either way the operator gets one line (:class:`StartupError`) naming
what was tried, with any password in it hidden. The full traceback is logged at DEBUG only.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TypeVar

from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.delivery.http import AiohttpRequest
from bot.settings import Settings
from storage.db import driver_error, make_engine, shown_url, url_password

log = logging.getLogger(__name__)
T = TypeVar("T")

# Longest wait for one attempt to connect to the database (asyncpg's own default is 60 s).
DATABASE_CONNECT_SECONDS = 10.0


class StartupError(Exception):
    """The bot cannot start: the message is one line for the operator."""


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then what it wraps (``__cause__``, ``__context__``, a DBAPI ``orig``)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop(0)
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]


def _refused(e: BaseException) -> bool:
    return isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED


def reason(exc: BaseException) -> str:
    """What went wrong, in a few plain words."""
    for e in _causes(exc):
        if _refused(e):
            return "connection refused"
        if isinstance(e, socket.gaierror):
            return "host name not found"
        if isinstance(e, TimeoutError | TimedOut):
            return "no answer in time"
    inner = driver_error(exc)
    text = inner.message if isinstance(inner, NetworkError) else str(inner)
    lines = text.strip().splitlines()
    return lines[0] if lines else type(inner).__name__


def database_transient(exc: BaseException) -> bool:
    """A database failure worth another try: the network, or a server not ready yet."""
    transient_names = {"CannotConnectNowError", "TooManyConnectionsError"}  # asyncpg
    return any(
        isinstance(e, OSError | TimeoutError) or type(e).__name__ in transient_names
        for e in _causes(exc)
    )


def telegram_transient(exc: BaseException) -> bool:
    """Network errors, timeouts, 5xx and 429 are worth another try; a refused token is not."""
    return isinstance(exc, RetryAfter) or (
        isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
    )


async def retrying(
    attempt: Callable[[], Awaitable[T]],
    *,
    tries: int,
    backoff: float,
    transient: Callable[[BaseException], bool],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """``attempt()``, tried up to ``tries`` times while it fails transiently, waiting
    ``backoff``, then twice that, and so on between tries. The last failure is raised."""
    for n in range(1, tries + 1):
        try:
            return await attempt()
        except Exception as exc:
            if n >= tries or not transient(exc):
                raise
            wait = backoff * 2 ** (n - 1)
            log.debug("try %d of %d failed (%s); next in %.1f s", n, tries, reason(exc), wait)
            await sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover - tries >= 1


def _tried(tries: int, started: float) -> str:
    if tries <= 1:
        return ""
    took = time.monotonic() - started
    return (
        f" ({tries} tries over {took:.1f} s)"
        if took < 10
        else f" ({tries} tries over {took:.0f} s)"
    )


async def reach_database(settings: Settings) -> None:
    """Open (and close) one connection to ``DATABASE_URL``."""
    url = settings.database_url
    engine = make_engine(url)

    async def connect() -> None:
        async with asyncio.timeout(DATABASE_CONNECT_SECONDS), engine.connect():
            pass

    started = time.monotonic()
    try:
        await retrying(
            connect,
            tries=settings.startup_tries,
            backoff=settings.startup_backoff_seconds,
            transient=database_transient,
        )
    except Exception as exc:
        log.debug("database not reachable", exc_info=True)
        transient = database_transient(exc)
        what = "cannot reach the database" if transient else "cannot use the database"
        tried = _tried(settings.startup_tries, started) if transient else ""
        line = f"{what} at {shown_url(url)}: {reason(exc)}{tried}"
        password = url_password(url)
        if password:
            line = line.replace(password, "***")
        raise StartupError(line) from None
    finally:
        await engine.dispose()


async def reach_telegram(settings: Settings) -> str:
    """Ask Telegram who the bot is (``getMe``); returns the bot's username."""
    base = settings.telegram_api_base_url
    bot = Bot(
        settings.token,
        base_url=base,
        request=AiohttpRequest(connection_pool_size=1),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
    )
    started = time.monotonic()
    try:
        await retrying(
            bot.initialize,
            tries=settings.startup_tries,
            backoff=settings.startup_backoff_seconds,
            transient=telegram_transient,
        )
        return bot.username
    except InvalidToken:
        # PTB's own message quotes the token: never show it.
        raise StartupError(
            f"Telegram at {base} refused the bot token: check TELEGRAM_BOT_TOKEN"
            " (and TELEGRAM_API_BASE_URL, if it is not Telegram's own)"
        ) from None
    except Exception as exc:
        log.debug("Telegram not reachable", exc_info=True)
        tried = _tried(settings.startup_tries, started) if telegram_transient(exc) else ""
        raise StartupError(f"cannot reach Telegram at {base}: {reason(exc)}{tried}") from None
    finally:
        await bot.shutdown()


async def preflight(settings: Settings, *, telegram: bool = True) -> str | None:
    """The database, then Telegram (when the command needs it): the bot's username, or None."""
    await reach_database(settings)
    return await reach_telegram(settings) if telegram else None
