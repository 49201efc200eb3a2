"""The fake Bot API must behave like the real one, errors included.

Driven both by a real ``telegram.Bot`` (what the bot under test uses) and by raw HTTP, to
pin down the exact error shapes.
"""

from __future__ import annotations

import asyncio
import io
import struct
import time
import zlib

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, RetryAfter

from fake_telegram import FakeBotApi, MessageWaitTimeout
from fake_telegram.html import EntityParseError, parse_html

# PTB 22 warns whenever RetryAfter.retry_after is read as an int; irrelevant here.
pytestmark = pytest.mark.filterwarnings("ignore:Deprecated since version v22.2")

TOKEN = "424242:fake-token-used-only-by-the-tests"
PATIENT = 42
STAFF = 43
GROUP = -1001234567890


def png(width: int, height: int) -> bytes:
    """A valid PNG of the given size (content irrelevant)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\x00\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


@pytest.fixture
async def api():
    fake = FakeBotApi(TOKEN)
    await fake.start()
    fake.add_user(PATIENT, "Anna", username="anna_p")
    fake.add_user(STAFF, "Dr. Bob", username="drbob")
    yield fake
    await fake.stop()


@pytest.fixture
async def bot(api):
    async with Bot(TOKEN, base_url=api.base_url) as client:
        yield client


@pytest.fixture
async def http():
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def poll_arrived(api: FakeBotApi) -> None:
    """Wait until a getUpdates request has reached the fake. It records a request and starts
    handling it without yielding, so a long poll with nothing to answer is pending by then."""
    for _ in range(200):
        if api.requests("getUpdates"):
            return
        await asyncio.sleep(0.01)
    raise AssertionError("getUpdates never reached the fake")


async def started(api: FakeBotApi, bot: Bot, user_id: int = PATIENT) -> int:
    """The user writes /start and the bot fetches it; returns the next offset."""
    await api.send_text(user_id, "/start")
    updates = await bot.get_updates(timeout=0)
    return updates[-1].update_id + 1


# -- HTTP surface ----------------------------------------------------------------------------


async def test_error_shapes_for_token_method_and_transport(api, http):
    wrong_token = await http.post(f"{api.base_url}123:wrong/getMe")
    assert wrong_token.status_code == 401
    assert wrong_token.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}

    unknown = await http.post(f"{api.base_url}{TOKEN}/sendTelepathy")
    assert unknown.status_code == 404
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}

    # Method names are case-insensitive; the query string works too.
    me = await http.get(f"{api.base_url}{TOKEN}/GETME", params={"x": "1"})
    assert me.json()["ok"] is True
    assert me.json()["result"]["username"] == "RecoveryDiaryBot"
    assert me.json()["result"]["is_bot"] is True


async def test_arguments_arrive_as_json_form_or_query(api, bot, http):
    await started(api, bot)
    url = f"{api.base_url}{TOKEN}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]}
    as_json = await http.post(
        url, json={"chat_id": PATIENT, "text": "json", "reply_markup": markup}
    )
    assert as_json.json()["result"]["reply_markup"] == markup
    as_form = await http.post(url, data={"chat_id": str(PATIENT), "text": "123"})
    assert as_form.json()["result"]["text"] == "123"  # a string arg stays a string
    as_query = await http.post(url, params={"chat_id": PATIENT, "text": "query"})
    assert as_query.json()["result"]["text"] == "query"
    assert [m["text"] for m in api.messages(PATIENT)] == ["json", "123", "query"]
    method, params = api.requests("sendMessage")[0]
    assert method == "sendMessage" and params["reply_markup"] == markup


# -- getUpdates -------------------------------------------------------------------------------


async def test_get_updates_offset_confirms_and_negative_offset_keeps_the_tail(api, bot):
    for text in ("one", "two", "three"):
        await api.send_text(PATIENT, text)
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates] == ["one", "two", "three"]
    # Unconfirmed updates are delivered again...
    assert len(await bot.get_updates(timeout=0, limit=2)) == 2
    # ...until an offset confirms them.
    assert await bot.get_updates(offset=updates[1].update_id + 1, timeout=0) == (updates[2],)
    assert api.pending_update_count == 1
    await api.send_text(PATIENT, "four")
    last = await bot.get_updates(offset=-1, timeout=0)
    assert [u.message.text for u in last] == ["four"]
    assert api.pending_update_count == 1


async def test_long_poll_wakes_up_when_an_update_arrives(api, bot):
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await poll_arrived(api)
    assert not poll.done()
    began = time.monotonic()
    await api.send_text(PATIENT, "hello")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - began < 1
    assert updates[0].message.text == "hello"


async def test_long_poll_without_updates_returns_empty_after_timeout(api, bot):
    began = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert 0.9 < time.monotonic() - began < 2


async def test_second_poller_terminates_the_first_with_409(api, http):
    url = f"{api.base_url}{TOKEN}/getUpdates"
    first = asyncio.create_task(http.post(url, data={"timeout": "5"}))
    await poll_arrived(api)
    second = asyncio.create_task(http.post(url, data={"timeout": "5"}))
    answer = await asyncio.wait_for(first, 2)
    assert answer.status_code == 409
    assert answer.json() == {
        "ok": False,
        "error_code": 409,
        "description": "Conflict: terminated by other getUpdates request; "
        "make sure that only one bot instance is running",
    }
    await api.send_text(PATIENT, "still served")
    assert (await asyncio.wait_for(second, 2)).json()["result"][0]["message"]["text"] == (
        "still served"
    )


async def test_get_updates_conflicts_with_an_active_webhook(api, bot):
    assert await bot.set_webhook("https://example.com/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == ()


async def test_redelivered_update_keeps_its_id(api, bot):
    offset = await started(api, bot)
    again = await api.redeliver_last()
    updates = await bot.get_updates(offset=offset, timeout=0)
    assert [u.update_id for u in updates] == [again["update_id"]] == [offset - 1]
    assert await bot.get_updates(offset=offset, timeout=0) == ()


async def test_user_media_parse_as_telegram_updates(api, bot):
    await api.send_sticker(PATIENT)
    await api.send_photo(PATIENT, caption="my knee")
    await api.send_voice(PATIENT)
    sticker, photo, voice = await bot.get_updates(timeout=0)
    assert sticker.effective_message.sticker.emoji == "👍"
    assert photo.effective_message.photo[-1].width == 1280
    assert photo.effective_message.caption == "my knee"
    assert voice.effective_message.voice.mime_type == "audio/ogg"
    assert voice.effective_user.id == PATIENT


async def test_commands_get_bot_command_entities(api, bot):
    await api.send_text(PATIENT, "/checkin@RecoveryDiaryBot now")
    (update,) = await bot.get_updates(timeout=0)
    (entity,) = update.message.entities
    assert (entity.type, entity.offset, entity.length) == ("bot_command", 0, 25)


async def test_group_privacy_mode_hides_plain_messages(api, bot):
    api.add_group(GROUP, "Clinic staff", [STAFF])
    await api.send_text(STAFF, "chatting among ourselves", chat_id=GROUP)
    await api.send_text(STAFF, "/report", chat_id=GROUP)
    (update,) = await bot.get_updates(timeout=0)
    assert update.message.text == "/report"
    assert update.message.chat.type == "supergroup"


# -- sending: validation ------------------------------------------------------------------------


async def test_unknown_chats_and_users_who_never_wrote(api, bot):
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-100999, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(PATIENT, "hi")  # exists, but never talked to the bot
    api.add_group(GROUP, "Clinic staff", [STAFF])
    await api.send_text(STAFF, "/report", chat_id=GROUP)
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(STAFF, "hi")  # seen in the group, but no private chat


async def test_blocked_user_answers_403_until_they_write_again(api, bot, http):
    offset = await started(api, bot)
    api.block_bot(PATIENT)
    answer = await http.post(
        f"{api.base_url}{TOKEN}/sendMessage", data={"chat_id": PATIENT, "text": "hi"}
    )
    assert answer.status_code == 403
    assert answer.json()["description"] == "Forbidden: bot was blocked by the user"
    (update,) = await bot.get_updates(offset=offset, timeout=0)
    assert update.my_chat_member.new_chat_member.status == "kicked"
    await api.send_text(PATIENT, "/start")
    assert (await bot.send_message(PATIENT, "welcome back")).text == "welcome back"


async def test_text_length_is_checked_after_entity_parsing(api, bot):
    await started(api, bot)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(PATIENT, "")
    with pytest.raises(BadRequest, match="Message must be non-empty"):
        await bot.send_message(PATIENT, "<b> </b>\n", parse_mode="HTML")
    assert len((await bot.send_message(PATIENT, "x" * 4096)).text) == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(PATIENT, "x" * 4097)
    tagged = "<b>" + "x" * 4096 + "</b>"  # 4103 characters of markup, 4096 of text
    assert len((await bot.send_message(PATIENT, tagged, parse_mode="HTML")).text) == 4096


async def test_html_is_parsed_into_text_and_entities(api, bot):
    await started(api, bot)
    html = '<b>Pain</b> &lt; 3 <a href="https://clinic.example/x?a=1&b=2">plan</a> 🦵<i>ok</i>'
    message = await bot.send_message(PATIENT, html, parse_mode="HTML")
    assert message.text == "Pain < 3 plan 🦵ok"
    bold, link, italic = message.entities
    assert (bold.type, bold.offset, bold.length) == ("bold", 0, 4)
    assert (link.type, link.url) == ("text_link", "https://clinic.example/x?a=1&b=2")
    assert (italic.offset, italic.length) == (16, 2)  # 🦵 counts as two UTF-16 units
    stored = api.messages(PATIENT)[-1]
    assert stored["html"] == html and stored["text"] == message.text


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("ok <br>", 'Unsupported start tag "br" at byte offset 3'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("pain < 3", 'Unsupported start tag "" at byte offset 5'),
        ("Q&A", 'Character "&" must be escaped as "&amp;" at byte offset 1'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ('<span class="x">y</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_invalid_html_is_rejected_like_the_real_server(api, http, html, reason):
    api.users[PATIENT].started = True
    answer = await http.post(
        f"{api.base_url}{TOKEN}/sendMessage",
        data={"chat_id": PATIENT, "text": html, "parse_mode": "HTML"},
    )
    assert answer.status_code == 400
    assert answer.json()["description"] == f"Bad Request: can't parse entities: {reason}"


def test_html_parser_handles_nesting_pre_and_blockquotes():
    text, entities = parse_html(
        '<blockquote expandable>a<pre><code class="language-python">x=1</code></pre></blockquote>'
    )
    assert text == "ax=1"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("expandable_blockquote", 0, 4),
        ("pre", 1, 3),
    ]
    assert entities[1]["language"] == "python"
    assert parse_html("&#128578; &quot;x&quot; <tg-spoiler>s</tg-spoiler>")[0] == '🙂 "x" s'
    with pytest.raises(EntityParseError):
        parse_html("<b>unclosed")


async def test_markdown_v2_reserved_characters_must_be_escaped(api, bot):
    await started(api, bot)
    with pytest.raises(BadRequest, match="character '.' is reserved and must be escaped"):
        await bot.send_message(PATIENT, "Done.", parse_mode="MarkdownV2")
    message = await bot.send_message(PATIENT, "*Done*\\.", parse_mode="MarkdownV2")
    assert message.text == "Done." and message.entities[0].type == "bold"


async def test_callback_data_is_limited_to_64_bytes(api, bot):
    await started(api, bot)
    ok = keyboard([("fits", "x" * 64)])
    assert (await bot.send_message(PATIENT, "a", reply_markup=ok)).reply_markup == ok
    with pytest.raises(BadRequest, match="Button_data_invalid"):  # PTB capitalizes
        await bot.send_message(PATIENT, "b", reply_markup=keyboard([("long", "x" * 65)]))
    # 33 characters but 66 bytes: the limit is in bytes.
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(PATIENT, "c", reply_markup=keyboard([("é", "é" * 33)]))


async def test_inline_buttons_need_exactly_one_action(api, http):
    api.users[PATIENT].started = True
    url = f"{api.base_url}{TOKEN}/sendMessage"
    text_only = {"inline_keyboard": [[{"text": "Nope"}]]}
    answer = await http.post(url, json={"chat_id": PATIENT, "text": "x", "reply_markup": text_only})
    assert answer.json()["description"] == (
        "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard"
    )
    bad_json = await http.post(url, data={"chat_id": PATIENT, "text": "x", "reply_markup": "{"})
    assert bad_json.json()["description"] == (
        "Bad Request: can't parse reply keyboard markup JSON object"
    )


async def test_reply_keyboards_are_accepted_but_not_part_of_the_message(api, bot):
    await started(api, bot)
    markup = ReplyKeyboardMarkup([["0", "1", "2"]], one_time_keyboard=True)
    message = await bot.send_message(PATIENT, "Pain today?", reply_markup=markup)
    assert message.reply_markup is None  # Message.reply_markup is inline-only
    shown = api.messages(PATIENT)[-1]["reply_markup"]
    assert [b["text"] for b in shown["keyboard"][0]] == ["0", "1", "2"]
    assert shown["one_time_keyboard"] is True


# -- edits, deletions, callbacks --------------------------------------------------------------


async def test_edits_replace_content_and_refuse_no_ops(api, bot):
    await started(api, bot)
    sent = await bot.send_message(PATIENT, "Pain?", reply_markup=keyboard([("Low", "p:1")]))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Pain?", PATIENT, sent.message_id, reply_markup=keyboard([("Low", "p:1")])
        )
    edited = await bot.edit_message_text("Saved ✅", PATIENT, sent.message_id)
    assert edited.text == "Saved ✅" and edited.edit_date is not None
    assert edited.reply_markup is None  # an edit without reply_markup drops the keyboard
    assert api.messages(PATIENT)[-1]["text"] == "Saved ✅"
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", PATIENT, 999)
    user_message = api.all_chat_messages(PATIENT)[0]
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", PATIENT, user_message["message_id"])
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(PATIENT, sent.message_id, reply_markup=None)


async def test_deleted_messages_disappear(api, bot):
    await started(api, bot)
    sent = await bot.send_message(PATIENT, "temporary")
    assert await bot.delete_message(PATIENT, sent.message_id)
    assert api.messages(PATIENT) == []
    assert api.messages(PATIENT, include_deleted=True)[0]["deleted"] is True
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(PATIENT, sent.message_id)


async def test_press_by_text_and_answer_callback_once(api, bot):
    offset = await started(api, bot)
    sent = await bot.send_message(
        PATIENT, "How is the pain?", reply_markup=keyboard([("Better", "p:b"), ("Worse", "p:w")])
    )
    query_id = await api.press(PATIENT, sent.message_id, "Worse")
    (update,) = await bot.get_updates(offset=offset, timeout=0)
    query = update.callback_query
    assert (query.id, query.data, query.message.text) == (query_id, "p:w", "How is the pain?")
    assert await query.answer("Noted", show_alert=True)
    assert api.callback_answers() == [
        {"callback_query_id": query_id, "text": "Noted", "show_alert": True}
    ]
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer()
    with pytest.raises(ValueError, match="no button 'Same'"):
        await api.press(PATIENT, sent.message_id, "Same")
    # press_button forges data that is not on the keyboard (for tamper tests).
    await api.press_button(PATIENT, sent.to_dict(), "p:forged")
    with pytest.raises(ValueError, match="does not exist"):
        await api.press_button(PATIENT, 999, "p:b")


async def test_callback_queries_expire(api, bot):
    await started(api, bot)
    sent = await bot.send_message(PATIENT, "Tap", reply_markup=keyboard([("Go", "go")]))
    query_id = await api.press(PATIENT, sent.message_id, "Go")
    api.advance_clock(16 * 60)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("not-a-query")


# -- reading helpers ----------------------------------------------------------------------------


async def test_wait_for_message_sees_new_and_edited_messages(api, bot):
    await started(api, bot)
    first = await bot.send_message(PATIENT, "first")

    async def later() -> None:
        await asyncio.sleep(0.05)
        await bot.edit_message_text("first, edited", PATIENT, first.message_id)
        await bot.send_message(PATIENT, "second")

    task = asyncio.create_task(later())
    edited = await api.wait_for_message(PATIENT, lambda m: "edited" in m["text"], timeout=2)
    assert edited["message_id"] == first.message_id
    newer = await api.wait_for_message(PATIENT, after=first.message_id, timeout=2)
    assert newer["text"] == "second"
    await task
    with pytest.raises(MessageWaitTimeout, match="#1 42: '/start'") as caught:
        await api.wait_for_message(PATIENT, after=newer["message_id"], timeout=0.1)
    assert isinstance(caught.value, AssertionError)


async def test_on_bot_message_reports_sends_and_edits(api, bot):
    await started(api, bot)
    seen: list[tuple[int, str, bool]] = []
    api.on_bot_message(
        lambda chat_id, message, edited: seen.append((chat_id, message["text"], edited))
    )
    sent = await bot.send_message(PATIENT, "v1")
    await bot.edit_message_text("v2", PATIENT, sent.message_id)
    assert seen == [(PATIENT, "v1", False), (PATIENT, "v2", True)]


async def test_photos_and_documents_keep_the_uploaded_bytes(api, bot):
    await started(api, bot)
    chart = png(640, 480)
    photo = await bot.send_photo(PATIENT, chart, caption="<b>Week 1</b>", parse_mode="HTML")
    assert (photo.photo[-1].width, photo.photo[-1].height) == (640, 480)
    assert photo.caption == "Week 1"
    await bot.send_document(PATIENT, io.BytesIO(b"day,pain\n1,6\n"), filename="diary.csv")
    (stored_photo,) = api.photos(PATIENT)
    assert stored_photo["file_bytes"] == chart
    # Predicates may index fields other messages lack: those simply don't match.
    found = await api.wait_for_message(PATIENT, lambda m: "Week" in m["caption"], timeout=1)
    assert found["message_id"] == photo.message_id
    (document,) = api.documents(PATIENT)
    assert (document["filename"], document["file_bytes"]) == ("diary.csv", b"day,pain\n1,6\n")
    assert document["document"]["mime_type"] == "text/csv"
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(PATIENT, b"not an image")
    resent = await bot.send_photo(PATIENT, photo.photo[0].file_id)  # by file_id
    assert resent.photo[-1].file_id == photo.photo[-1].file_id


async def test_commands_are_validated_and_stored_per_scope(api, bot):
    await started(api, bot)
    commands = [BotCommand("start", "Begin"), BotCommand("checkin", "Daily check-in")]
    assert await bot.set_my_commands(commands)
    assert await bot.set_my_commands(
        commands[:1], scope=BotCommandScopeChat(PATIENT), language_code="ru"
    )
    assert api.commands["default"] == [c.to_dict() for c in commands]
    assert api.commands[f'{{"chat_id": {PATIENT}, "type": "chat"}}|ru'] == [commands[0].to_dict()]
    assert api.get_commands({"type": "chat", "chat_id": PATIENT}, "ru") == [commands[0].to_dict()]
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="ru") == ()  # no fallback between scopes
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Check-In", "x")])
    with pytest.raises(BadRequest, match="Bot_command_description_invalid"):
        await bot.set_my_commands([BotCommand("checkin", "x" * 257)])
    assert await bot.delete_my_commands()
    assert api.get_commands() is None


async def test_get_chat_and_chat_actions(api, bot):
    await started(api, bot)
    chat = await bot.get_chat(PATIENT)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Anna", "anna_p")
    assert await bot.send_chat_action(PATIENT, "typing")
    with pytest.raises(BadRequest, match="Wrong parameter action"):
        await bot.send_chat_action(PATIENT, "dancing")


# -- failure injection --------------------------------------------------------------------------


async def test_fail_next_injects_errors_then_recovers(api, bot):
    await started(api, bot)
    api.fail_next("sendMessage", 2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(PATIENT, "hi")
    assert api.messages(PATIENT) == []
    assert (await bot.send_message(PATIENT, "hi")).text == "hi"

    api.fail_next("sendMessage", 1, error_code=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(PATIENT, "again")
    assert "7" in str(caught.value)

    # execute=True: the message goes out but the bot is told it failed (lost response).
    api.fail_next("sendMessage", 1, execute=True)
    with pytest.raises(NetworkError):
        await bot.send_message(PATIENT, "maybe")
    assert api.messages(PATIENT)[-1]["text"] == "maybe"


async def test_rate_limit_answers_429_with_retry_after(api, bot, http):
    await started(api, bot)
    api.set_rate_limit(per_second=3, per_group_per_minute=None)
    for n in range(3):
        await bot.send_message(PATIENT, f"m{n}")
    answer = await http.post(
        f"{api.base_url}{TOKEN}/sendMessage", data={"chat_id": PATIENT, "text": "m3"}
    )
    assert answer.status_code == 429
    body = answer.json()
    retry_after = body["parameters"]["retry_after"]
    assert isinstance(retry_after, int) and retry_after >= 1
    assert body["description"] == f"Too Many Requests: retry after {retry_after}"
    assert await bot.get_chat(PATIENT)  # reads are not limited
    api.advance_clock(1.0)
    assert (await bot.send_message(PATIENT, "m4")).text == "m4"


async def test_group_rate_limit_is_per_minute(api, bot):
    api.add_group(GROUP, "Clinic staff", [STAFF])
    api.set_rate_limit(per_second=None, per_group_per_minute=2)
    await bot.send_message(GROUP, "alert 1")
    await bot.send_message(GROUP, "alert 2")
    with pytest.raises(RetryAfter):
        await bot.send_message(GROUP, "alert 3")
    api.advance_clock(60)
    assert (await bot.send_message(GROUP, "alert 3")).chat.id == GROUP


async def test_instances_are_independent():
    async with FakeBotApi(TOKEN) as one, FakeBotApi("1:other") as two:
        one.add_user(PATIENT, "Anna")
        assert one.base_url != two.base_url
        assert PATIENT not in two.users
