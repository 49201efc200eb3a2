"""The one sender: a push is the same message send_message would have sent; long texts split;
replies retried by the transport, outbox sends not."""

from __future__ import annotations

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import RetryAfter
from telegram.ext import Defaults, ExtBot

from bot.content.render import chunk_lines
from bot.delivery.http import AiohttpRequest
from bot.delivery.limiter import Limiter
from bot.delivery.sender import Sender
from bot.delivery.transport import BotRequest, sending_as
from fake_telegram import FakeBotApi
from storage.models import Priority

TOKEN = "424242:fake-token-used-only-by-the-tests"
PATIENT = 42


@pytest.fixture
async def api():
    fake = FakeBotApi(TOKEN)
    await fake.start()
    fake.add_user(PATIENT, "Anna", started=True)
    yield fake
    await fake.stop()


async def test_a_push_is_the_message_send_message_would_send(api):
    defaults = Defaults(
        parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Start", callback_data="ck:7:go")]])
    body = "Good morning <b>Anna</b> &amp; welcome: https://example.org"
    async with ExtBot(
        TOKEN, base_url=api.base_url, defaults=defaults, request=AiohttpRequest()
    ) as bot:
        sender = Sender(bot)
        message_id = await sender.send_push(PATIENT, body, markup)
        await sender.send_message(PATIENT, body, reply_markup=markup)
    pushed, sent = api.messages(PATIENT)[-2:]
    assert pushed["message_id"] == message_id
    for key in ("text", "entities", "reply_markup", "link_preview_options"):
        assert pushed.get(key) == sent.get(key), key
    assert pushed["entities"][0]["type"] == "bold"  # HTML was parsed, not shown as tags


def test_long_texts_split_between_lines_under_the_limit():
    lines = [f"line {i:03d} " + "x" * 40 for i in range(300)]
    chunks = chunk_lines(lines, limit=1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert "\n".join(chunks).split("\n") == lines
    assert chunk_lines(["a" * 10, "b" * 10], limit=21) == ["a" * 10 + "\n" + "b" * 10]
    assert chunk_lines(["a" * 10, "b" * 10], limit=20) == ["a" * 10, "b" * 10]
    assert chunk_lines([]) == []


async def test_a_reply_is_retried_after_429_and_5xx_until_it_is_delivered(api):
    api.fail_next("sendMessage", 1, error_code=429, retry_after=1)
    api.fail_next("sendMessage", 1, error_code=502)
    request = BotRequest(Limiter(per_second=30))
    async with ExtBot(TOKEN, base_url=api.base_url, request=request) as bot:
        await bot.send_message(PATIENT, "Your answer was saved.")
    assert [m["text"] for m in api.messages(PATIENT)] == ["Your answer was saved."]
    assert len(api.requests("sendMessage")) == 3


async def test_the_outbox_sees_the_429_itself_to_record_and_reschedule_it(api):
    api.fail_next("sendMessage", 1, error_code=429, retry_after=3)
    request = BotRequest(Limiter(per_second=30))
    async with ExtBot(TOKEN, base_url=api.base_url, request=request) as bot:
        with sending_as(Priority.REMINDER), pytest.raises(RetryAfter):
            await bot.send_message(PATIENT, "Time for your check-in")
    assert api.messages(PATIENT) == []
