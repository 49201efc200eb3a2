"""The HTTP client under every Bot API call the bot makes (getUpdates aside).

python-telegram-bot talks HTTP through a pluggable ``BaseRequest``; its default is httpx. On a
burst of scheduled pushes httpx's connection-pool bookkeeping and anyio locks cost about 3 ms
of CPU per message (``bench/reminders.py --profile-bot``), which caps one process at ~300
messages a second. aiohttp, with its C HTTP parser, does the same work for a fraction of that.
This adapter only moves bytes: PTB still builds the requests and parses every answer.

Errors map onto PTB's exceptions as ``HTTPXRequest`` maps them (``TimedOut``, ``NetworkError``).
Their text names the failure, never the URL: the URL holds the bot token.
"""

from __future__ import annotations

import asyncio

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_DEFAULT = BaseRequest.DEFAULT_NONE


def _given(value: object, fallback: float | None) -> float | None:
    return fallback if value is _DEFAULT else value  # type: ignore[return-value]


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._write = write_timeout
        self._connect = connect_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    def _timeout(self, read, connect, pool) -> aiohttp.ClientTimeout:
        read, connect, pool = (
            _given(read, self._read),
            _given(connect, self._connect),
            _given(pool, self._pool),
        )
        # aiohttp's ``connect`` covers waiting for a pooled connection plus opening one;
        # ``sock_read`` is the longest silence while the answer is awaited. aiohttp has no
        # write timeout: a stalled upload ends with the read timeout that follows it.
        acquire = None if connect is None or pool is None else connect + pool
        return aiohttp.ClientTimeout(
            total=None, connect=acquire, sock_connect=connect, sock_read=read
        )

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=_DEFAULT,
        write_timeout=_DEFAULT,
        connect_timeout=_DEFAULT,
        pool_timeout=_DEFAULT,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        data: aiohttp.FormData | dict[str, str] | None = None
        if request_data is not None:
            files = request_data.multipart_data
            data = request_data.json_parameters
            if files:
                form = aiohttp.FormData()
                for name, value in data.items():
                    form.add_field(name, value)
                for name, (filename, content, mime) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mime)
                data = form
        del write_timeout  # see _timeout
        timeout = self._timeout(read_timeout, connect_timeout, pool_timeout)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as res:
                return res.status, await res.read()
        except TimeoutError as exc:  # asyncio.TimeoutError is TimeoutError on 3.11+
            raise TimedOut() from exc
        except aiohttp.ClientConnectorError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc.os_error}") from exc
        except (aiohttp.ClientError, OSError, asyncio.IncompleteReadError) as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}") from exc
