"""The aiohttp transport under the bot's API calls: errors map onto PTB's, without the token."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.delivery.http import AiohttpRequest

TOKEN = "123456:secret-token-that-must-not-leak"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def server():
    """A tiny HTTP server: /slow answers after a second, /echo returns the form it got (as a
    Bot API result), /getMe the bot."""

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1.0)
        return web.json_response({"ok": True, "result": True})

    async def echo(request: web.Request) -> web.Response:
        form = await request.post()
        return web.json_response({"ok": True, "result": {k: str(v) for k, v in form.items()}})

    async def get_me(request: web.Request) -> web.Response:
        me = {"id": 123456, "is_bot": True, "first_name": "Diary", "username": "DiaryBot"}
        return web.json_response({"ok": True, "result": me})

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/getMe", get_me)
    app.router.add_post(f"/bot{TOKEN}/slow", slow)
    app.router.add_post(f"/bot{TOKEN}/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield f"http://127.0.0.1:{port}/bot{TOKEN}"
    await runner.cleanup()


async def test_parameters_arrive_as_a_form(server):
    # Through PTB's public API, as the bot calls it: the Bot builds the request's data.
    bot = Bot(TOKEN, base_url=server.removesuffix(TOKEN), request=AiohttpRequest())
    async with bot:
        result = await bot.do_api_request("echo", api_kwargs={"chat_id": 42, "text": "héllo"})
    assert result == {"chat_id": "42", "text": "héllo"}


async def test_a_slow_answer_is_a_timeout(server):
    req = AiohttpRequest(read_timeout=0.1)
    await req.initialize()
    try:
        with pytest.raises(TimedOut):
            await req.do_request(f"{server}/slow", "POST")
    finally:
        await req.shutdown()


async def test_a_refused_connection_is_a_network_error_that_does_not_name_the_url():
    req = AiohttpRequest()
    await req.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await req.do_request(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe", "POST")
    finally:
        await req.shutdown()
    assert not isinstance(caught.value, TimedOut)
    assert TOKEN not in str(caught.value)
    assert "secret" not in repr(caught.value)


async def test_using_it_before_initialize_is_refused():
    with pytest.raises(RuntimeError):
        await AiohttpRequest().do_request("http://127.0.0.1:1/x", "POST")
