"""A strict, in-process fake of the Telegram Bot API server.

Start it, point the bot at :attr:`FakeBotApi.base_url` (python-telegram-bot: ``base_url=``),
then act as people (:meth:`~FakeBotApi.send_text`, :meth:`~FakeBotApi.press`...) and read what
the bot did (:meth:`~FakeBotApi.messages`, :meth:`~FakeBotApi.wait_for_message`...).

"Strict" means it answers like the real server, errors included: unknown chats, users who
never started the bot, over-long texts, invalid HTML, oversized callback_data, unmodified
edits, expired callback queries, a second poller (409) and, when enabled, flood control (429).

All state lives on the instance; several instances can run side by side. Everything is meant
to be used from the event loop the server runs on.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import inspect
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiohttp import web

from fake_telegram.errors import (
    NOT_FOUND,
    UNAUTHORIZED,
    ApiError,
    bad_request,
    forbidden,
    injected_error,
)
from fake_telegram.markup import inline_buttons
from fake_telegram.media import photo_sizes, tiny_png
from fake_telegram.methods import (
    DEFAULT_ALLOWED_UPDATES,
    METHODS,
    METHODS_BY_LOWER_NAME,
    Answer,
    BotApiMethods,
    Poller,
    commands_key,
    without_reply,
)
from fake_telegram.params import Params, read_params
from fake_telegram.ratelimit import FloodControl
from fake_telegram.state import (
    CallbackState,
    ChatState,
    Failure,
    QueuedUpdate,
    StoredFile,
    StoredMessage,
    Upload,
    UserState,
)
from fake_telegram.text import command_entities, format_text

logger = logging.getLogger("fake_telegram")

MAX_REQUEST_BYTES = 50 * 1024 * 1024 + 1024 * 1024  # 50 MB uploads plus form overhead
FIRST_UPDATE_ID = 100_000_001

MessageListener = Callable[[int, dict[str, Any], bool], Awaitable[None] | None]
_dumps = partial(json.dumps, ensure_ascii=False, separators=(",", ":"))  # like the server
_FILE_PREFIXES = {"photo": "AgACAgIAAxkBAAI", "document": "BQACAgIAAxkBAAI",
                  "voice": "AwACAgIAAxkBAAI", "sticker": "CAACAgIAAxkBAAI"}  # fmt: skip
_FILE_FOLDERS = {"photo": "photos", "document": "documents", "voice": "voice",
                 "sticker": "stickers"}  # fmt: skip
_USER_PHOTO_SIZE = (1280, 960)


class MessageWaitTimeout(AssertionError, TimeoutError):
    """wait_for_message gave up; the message includes a dump of the chat."""


def _matches(predicate: Callable[[dict[str, Any]], bool], message: dict[str, Any]) -> bool:
    try:
        return bool(predicate(message))
    except KeyError:
        return False


class FakeBotApi(BotApiMethods):
    def __init__(
        self,
        token: str,
        *,
        bot_id: int = 7000000001,
        bot_username: str = "RecoveryDiaryBot",
        bot_first_name: str = "Recovery Diary",
        privacy_mode: bool = True,
        strict_html: bool = True,
    ) -> None:
        """
        ``privacy_mode`` (the BotFather default) limits what the bot sees in groups to
        commands, replies to its messages and @mentions. ``strict_html`` rejects a stray
        ``&`` in HTML text (the real server keeps it literally; see fake_telegram.html).
        """
        self.token = token
        self.bot_user = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.privacy_mode = privacy_mode
        self.strict_html = strict_html

        self.users: dict[int, UserState] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self._photo_sets: dict[str, list[dict[str, Any]]] = {}  # file_id -> its PhotoSize list
        # setMyCommands results per scope and language. Keys: "default", or the scope's
        # canonical JSON ('{"chat_id": -100..., "type": "chat"}'), plus "|<language_code>"
        # when one was given ("default|ru"). get_commands() builds keys for you.
        self.commands: dict[str, list[dict[str, str]]] = {}

        self._queue: list[QueuedUpdate] = []
        self._next_update_id = FIRST_UPDATE_ID
        self._last_update: dict[str, Any] | None = None
        self._allowed_updates = DEFAULT_ALLOWED_UPDATES
        self._poller: Poller | None = None
        self._webhook_url = ""

        self._callback_queries: dict[str, CallbackState] = {}
        self._callback_answers: list[dict[str, Any]] = []
        self._requests: list[tuple[str, dict[str, Any]]] = []
        self._failures: dict[str, deque[Failure]] = {}
        self._flood: FloodControl | None = None
        self._listeners: list[MessageListener] = []
        self._listener_tasks: set[asyncio.Task[Any]] = set()
        self._waiters: set[asyncio.Future[None]] = set()
        self._counter = 0  # for file ids and callback query ids
        self._clock_offset = 0.0

        self._runner: web.AppRunner | None = None
        self._address: tuple[str, int] | None = None
        self._closing = False

    # ======================================================================================
    # lifecycle
    # ======================================================================================

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Serve on ``host:port`` (port 0 = any free port)."""
        if self._runner is not None:
            raise RuntimeError("FakeBotApi is already running")
        self._closing = False
        app = web.Application(client_max_size=MAX_REQUEST_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/{tail:.*}", self._handle_unknown)
        # handler_cancellation: a bot that hangs up stops its long poll here too.
        runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_port = runner.addresses[0][1]
        self._address = ("127.0.0.1" if host in ("0.0.0.0", "") else host, bound_port)
        logger.info("fake Telegram Bot API listening on %s", self.base_url)

    async def stop(self) -> None:
        """Answer a pending long poll with no updates and shut the server down."""
        self._closing = True
        if self._poller is not None:
            self._poller.event.set()
        self._notify_waiters()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for task in list(self._listener_tasks):
            task.cancel()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """E.g. ``http://127.0.0.1:43123/bot``; clients append ``<token>/<method>``."""
        if self._address is None:
            raise RuntimeError("FakeBotApi is not started")
        host, port = self._address
        return f"http://{host}:{port}/bot"

    @property
    def file_base_url(self) -> str:
        """Base for file downloads (python-telegram-bot: ``base_file_url=``)."""
        return self.base_url.replace("/bot", "/file/bot")

    # ======================================================================================
    # acting as people
    # ======================================================================================

    def add_user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str = "en",
        started: bool = False,
    ) -> dict[str, Any]:
        """Create a Telegram user. The bot cannot message them until they write to it, unless
        ``started`` (a user who opened the bot earlier: seeding existing patients)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        info: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            info["last_name"] = last_name
        if username:
            info["username"] = username
        if language_code:
            info["language_code"] = language_code
        self.users[user_id] = UserState(info)
        self.users[user_id].started = started
        return dict(info)

    def add_group(
        self, chat_id: int, title: str, members: list[int] | tuple[int, ...] = ()
    ) -> dict:
        """Create a supergroup (negative id) that the bot is a member of."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative (supergroups look like -100...)")
        for user_id in members:
            self._user(user_id)
        chat = ChatState({"id": chat_id, "title": title, "type": "supergroup"}, set(members))
        self.chats[chat_id] = chat
        return dict(chat.info)

    def add_group_member(self, chat_id: int, user_id: int) -> None:
        self._user(user_id)
        self._group(chat_id).members.add(user_id)

    async def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> dict[str, Any]:
        """The user sends ``text`` (private chat unless ``chat_id``); returns the Message.

        /commands, URLs, @mentions and #hashtags get entities as in a real client.
        """
        if not text.strip() or len(text) > 4096:
            raise ValueError("Telegram clients send 1-4096 non-blank characters per message")
        content: dict[str, Any] = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return await self._user_message(user_id, chat_id, content, reply_to_message_id)

    async def edit_text(self, user_id: int, message: dict[str, Any], text: str) -> dict[str, Any]:
        """The user edits a text message they sent earlier (an ``edited_message`` update)."""
        if message.get("from", {}).get("id") != user_id or "text" not in message:
            raise ValueError("users can only edit their own text messages")
        if not text.strip() or len(text) > 4096:
            raise ValueError("Telegram clients send 1-4096 non-blank characters per message")
        edited = {**message, "text": text, "edit_date": self._unix_time()}
        edited.pop("entities", None)
        if entities := command_entities(text):
            edited["entities"] = entities
        self._enqueue("edited_message", edited)
        return edited

    async def send_sticker(
        self, user_id: int, *, chat_id: int | None = None, emoji: str = "👍"
    ) -> dict[str, Any]:
        file = self._new_file("sticker", b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker.webp")
        sticker = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(file.data),
        }
        return await self._user_message(user_id, chat_id, {"sticker": sticker}, None)

    async def send_photo(
        self, user_id: int, *, chat_id: int | None = None, caption: str | None = None
    ) -> dict[str, Any]:
        content: dict[str, Any] = {"photo": self._register_photo(tiny_png(), *_USER_PHOTO_SIZE)}
        if caption:
            content["caption"] = caption
            entities = command_entities(caption)
            if entities:
                content["caption_entities"] = entities
        return await self._user_message(user_id, chat_id, content, None)

    async def send_voice(
        self, user_id: int, *, chat_id: int | None = None, duration: int = 3
    ) -> dict[str, Any]:
        file = self._new_file("voice", b"OggS" + bytes(60), "voice.oga")
        voice = {
            "file_id": file.file_id,
            "file_unique_id": file.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(file.data),
        }
        return await self._user_message(user_id, chat_id, {"voice": voice}, None)

    async def press_button(
        self,
        user_id: int,
        message: dict[str, Any] | int,
        callback_data: str,
        *,
        chat_id: int | None = None,
    ) -> str:
        """The user taps an inline button carrying ``callback_data`` under ``message``.

        The data is NOT checked against the message's keyboard, so tests can forge taps;
        use :meth:`press` to tap a button that is really there. Returns the query id.
        """
        user = self._user(user_id)
        chat, stored = self._bot_message(user_id, message, chat_id)
        self._counter += 1
        query_id = str(4_600_000_000_000_000_000 + self._counter * 7919)
        instance = hashlib.sha1(f"{self.bot_user['id']}:{chat.id}".encode()).digest()[:8]
        query = {
            "id": query_id,
            "from": dict(user.info),
            "message": copy.deepcopy(stored.message),
            "chat_instance": str(int.from_bytes(instance, "big", signed=True)),
            "data": callback_data,
        }
        self._callback_queries[query_id] = CallbackState(query_id, user_id, self._monotonic())
        user.known = True
        self._enqueue("callback_query", query)
        await asyncio.sleep(0)
        return query_id

    async def press(
        self,
        user_id: int,
        message: dict[str, Any] | int,
        button_text: str,
        *,
        chat_id: int | None = None,
    ) -> str:
        """Tap the inline button labelled ``button_text`` in the message's current keyboard."""
        chat, stored = self._bot_message(user_id, message, chat_id)
        buttons = inline_buttons(stored.message.get("reply_markup"))
        for button in buttons:
            if button["text"] != button_text:
                continue
            if "callback_data" not in button:
                kind = next(k for k in button if k != "text")
                raise ValueError(f"button {button_text!r} is a {kind} button, not a callback one")
            return await self.press_button(
                user_id, stored.message_id, button["callback_data"], chat_id=chat.id
            )
        available = [b["text"] for b in buttons]
        raise ValueError(
            f"message #{stored.message_id} in chat {chat.id} has no button {button_text!r}; "
            f"its buttons are {available}"
        )

    async def redeliver_last(self) -> dict[str, Any]:
        """Deliver the most recent update again, with the same update_id.

        Telegram may deliver an update twice (e.g. when the bot's confirmation got lost);
        the duplicate reaches the bot even if it already confirmed that update_id.
        """
        if self._last_update is None:
            raise ValueError("no update has been sent yet")
        self._queue.append(QueuedUpdate(copy.deepcopy(self._last_update), redelivery=True))
        self._wake_poller()
        await asyncio.sleep(0)
        return self._last_update

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends to them answer 403 until they write again."""
        user = self._user(user_id)
        if user.blocked:
            return
        user.blocked = True
        if user.started:
            self._enqueue("my_chat_member", self._member_update(user, "member", "kicked"))

    def unblock_bot(self, user_id: int) -> None:
        user = self._user(user_id)
        if not user.blocked:
            return
        user.blocked = False
        if user.started:
            self._enqueue("my_chat_member", self._member_update(user, "kicked", "member"))

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock forward (message dates, callback expiry, flood windows)."""
        self._clock_offset += seconds

    # ======================================================================================
    # reading what the bot did
    # ======================================================================================

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        """Messages the bot sent to the chat, in order, each in its current (edited) state.

        Each is the Message object plus: ``reply_markup`` also for reply keyboards (the API
        result only carries inline ones), ``html`` (the raw text as sent, for parse_mode
        HTML), ``parse_mode``, ``file_bytes``/``filename``/``mime_type`` for uploads and
        ``deleted: True`` for deleted ones (only with ``include_deleted``).
        """
        return [
            view
            for view in self.all_chat_messages(chat_id, include_deleted=include_deleted)
            if view["from"]["id"] == self.bot_user["id"]
        ]

    def all_chat_messages(
        self, chat_id: int, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        """Messages in both directions, in order."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [
            self._view(stored)
            for stored in chat.messages.values()
            if include_deleted or not stored.deleted
        ]

    def last_message(self, chat_id: int) -> dict[str, Any] | None:
        """The bot's most recent (non-deleted) message in the chat."""
        sent = self.messages(chat_id)
        return sent[-1] if sent else None

    async def wait_for_message(
        self,
        chat_id: int,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        *,
        timeout: float = 10.0,  # noqa: ASYNC109 - the documented test-helper signature
        after: int | None = None,
    ) -> dict[str, Any]:
        """Wait until a bot message in the chat (current state) matches ``predicate``.

        Only messages with ``message_id > after`` count when ``after`` is given. Returns the
        earliest match. A predicate that raises KeyError (``m["text"]`` on a photo) simply
        does not match. Raises :class:`MessageWaitTimeout` (an AssertionError and a
        TimeoutError) with a dump of the chat when nothing matches in time.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for view in self.messages(chat_id):
                if after is not None and view["message_id"] <= after:
                    continue
                if predicate is None or _matches(predicate, view):
                    return view
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise MessageWaitTimeout(
                    f"no matching bot message in chat {chat_id} within {timeout:g}s"
                    f"{f' after #{after}' if after is not None else ''}\n"
                    + self.describe_chat(chat_id)
                )
            await self._wait_for_change(remaining)

    def describe_chat(self, chat_id: int) -> str:
        """A readable dump of the chat, for assertion messages."""
        lines = [f"chat {chat_id}:"]
        for view in self.all_chat_messages(chat_id, include_deleted=True):
            sender = "bot" if view["from"]["id"] == self.bot_user["id"] else view["from"]["id"]
            body = view.get("text") or view.get("caption") or ""
            kinds = [k for k in ("photo", "document", "sticker", "voice") if k in view]
            flags = (" (edited)" if "edit_date" in view else "") + (
                " (deleted)" if view.get("deleted") else ""
            )
            buttons = [b["text"] for b in inline_buttons(view.get("reply_markup"))]
            extra = f" [buttons: {' | '.join(buttons)}]" if buttons else ""
            media = f"[{', '.join(kinds)}] " if kinds else ""
            lines.append(f"  #{view['message_id']} {sender}: {media}{body!r}{extra}{flags}")
        if len(lines) == 1:
            lines.append("  (no messages)")
        return "\n".join(lines)

    def callback_answers(self) -> list[dict[str, Any]]:
        """answerCallbackQuery calls: {callback_query_id, show_alert[, text][, url]}."""
        return copy.deepcopy(self._callback_answers)

    def requests(self, method: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Every (method, params) the bot called, optionally only one method."""
        return [
            (name, copy.deepcopy(params))
            for name, params in self._requests
            if method is None or name.lower() == method.lower()
        ]

    def photos(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's photo messages, with ``file_bytes`` and ``filename`` of uploads."""
        return [view for view in self.messages(chat_id) if "photo" in view]

    def documents(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's document messages, with ``file_bytes``, ``filename``, ``mime_type``."""
        return [view for view in self.messages(chat_id) if "document" in view]

    def get_commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, str]] | None:
        """The commands set for exactly this scope and language (None if none were set)."""
        commands = self.commands.get(commands_key(self._scope_key(scope), language_code))
        return copy.deepcopy(commands) if commands is not None else None

    @property
    def pending_update_count(self) -> int:
        """Updates the bot has not confirmed yet."""
        return len(self._queue)

    def on_bot_message(self, callback: MessageListener) -> None:
        """Call ``callback(chat_id, message, edited)`` whenever the bot sends/edits/deletes.

        ``message`` is the same dict :meth:`messages` returns (a deletion is reported as an
        edit whose dict has ``deleted: True``). Coroutine functions are scheduled as tasks.
        """
        self._listeners.append(callback)

    # ======================================================================================
    # failure injection
    # ======================================================================================

    def fail_next(
        self,
        method: str,
        times: int = 1,
        *,
        error_code: int = 502,
        description: str | None = None,
        retry_after: int | None = None,
        execute: bool = False,
        chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``, if given) with an error.

        ``description`` defaults to the usual text for the code ("Bad Gateway", or
        "Too Many Requests: retry after N" for 429, which also gets parameters.retry_after).
        With ``execute=True`` the call still takes effect before the error is returned, like
        a send whose response got lost.
        """
        queue = self._failures.setdefault(method.lower(), deque())
        for _ in range(times):
            queue.append(Failure(error_code, description, retry_after, execute, chat_id))

    def set_rate_limit(
        self, per_second: float | None = 30, per_group_per_minute: int | None = 20
    ) -> None:
        """Enable flood control (answers 429 with retry_after); None disables a limit."""
        if per_second is None and per_group_per_minute is None:
            self._flood = None
        else:
            self._flood = FloodControl(per_second, per_group_per_minute)

    # ======================================================================================
    # HTTP
    # ======================================================================================

    def _error(self, error: ApiError) -> web.Response:
        return web.json_response(error.to_json(), status=error.error_code, dumps=_dumps)

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._error(UNAUTHORIZED)
        requested = request.match_info["method"]
        method = METHODS_BY_LOWER_NAME.get(requested.lower())
        try:
            params = await read_params(request)
        except ApiError as error:
            self._requests.append((method or requested, {}))
            return self._error(error)
        self._requests.append((method or requested, params.readable()))
        if method is None:
            logger.warning("bot called a method the fake does not know: %s", requested)
            return self._error(NOT_FOUND)

        failure = self._take_failure(method, params.readable().get("chat_id"))
        if failure is not None and not failure.execute:
            return self._error(
                injected_error(failure.error_code, failure.description, failure.retry_after)
            )
        try:
            result = getattr(self, METHODS[method])(params)
            if inspect.isawaitable(result):
                result = await result
        except ApiError as error:
            logger.debug("%s -> %s", method, error.description)
            return self._error(error)
        if failure is not None:
            return self._error(
                injected_error(failure.error_code, failure.description, failure.retry_after)
            )
        body: dict[str, Any] = {"ok": True}
        if isinstance(result, Answer):
            body["result"] = result.result
            if result.description:
                body["description"] = result.description
        else:
            body["result"] = result
        return web.json_response(body, dumps=_dumps)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(UNAUTHORIZED)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return self._error(NOT_FOUND)

    async def _handle_unknown(self, request: web.Request) -> web.Response:
        return self._error(NOT_FOUND)

    def _take_failure(self, method: str, chat_id: object) -> Failure | None:
        queue = self._failures.get(method.lower())
        for failure in list(queue or ()):
            if failure.chat_id is None or str(failure.chat_id) == str(chat_id):
                queue.remove(failure)
                return failure
        return None

    # ======================================================================================
    # internals shared with the method handlers
    # ======================================================================================

    def _unix_time(self) -> int:
        return int(time.time() + self._clock_offset)

    def _monotonic(self) -> float:
        return time.monotonic() + self._clock_offset

    def _format(
        self, raw: str, parse_mode: str | None, entities_json: str | None
    ) -> tuple[str, list[dict[str, Any]]]:
        return format_text(
            raw,
            parse_mode,
            entities_json,
            strict_html=self.strict_html,
            resolve_user=self._resolve_user,
        )

    def _resolve_user(self, user_id: int) -> dict[str, Any] | None:
        user = self.users.get(user_id)
        if user is None or not (user.known or user.started):
            return None
        return dict(user.info)

    def _user(self, user_id: int) -> UserState:
        user = self.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}; call add_user() first")
        return user

    def _group(self, chat_id: int) -> ChatState:
        chat = self.chats.get(chat_id)
        if chat is None or chat.is_private:
            raise ValueError(f"unknown group {chat_id}; call add_group() first")
        return chat

    def _private_chat(self, user: UserState) -> ChatState:
        chat = self.chats.get(user.info["id"])
        if chat is None:
            info = {k: user.info[k] for k in ("id", "first_name", "last_name", "username")
                    if k in user.info}  # fmt: skip
            info["type"] = "private"
            chat = ChatState(info, {user.info["id"]})
            self.chats[user.info["id"]] = chat
        return chat

    def _writable_chat(self, chat_id: int) -> ChatState:
        """The chat the bot wants to post to, or the error the server would give."""
        if chat_id == self.bot_user["id"]:
            raise forbidden("bots can't send messages to bots")
        if chat_id > 0:
            user = self.users.get(chat_id)
            if user is None or not (user.started or user.known):
                raise bad_request("chat not found")
            if not user.started:
                raise forbidden("bot can't initiate conversation with a user")
            if user.blocked:
                raise forbidden("bot was blocked by the user")
            return self._private_chat(user)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _known_chat(self, chat_id: int) -> ChatState:
        """A chat the bot can look at (getChat, edits, deletions)."""
        if chat_id > 0:
            user = self.users.get(chat_id)
            if user is None or not (user.started or user.known):
                raise bad_request("chat not found")
            return self._private_chat(user)
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _editable_message(self, p: Params) -> tuple[ChatState, StoredMessage]:
        if p.has("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")  # the fake has no inline messages
        chat = self._known_chat(p.chat_id())
        message_id = p.integer("message_id")
        if message_id <= 0:
            raise bad_request("message identifier is not specified")
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise bad_request("message to edit not found")
        if not stored.outgoing:
            raise bad_request("message can't be edited")
        return chat, stored

    def _bot_message(
        self, user_id: int, message: dict[str, Any] | int, chat_id: int | None
    ) -> tuple[ChatState, StoredMessage]:
        """Resolve the bot message a user interacts with (for button presses)."""
        if isinstance(message, dict):
            message_id = message["message_id"]
            chat_id = chat_id if chat_id is not None else message["chat"]["id"]
        else:
            message_id = message
        chat_id = user_id if chat_id is None else chat_id
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"chat {chat_id} does not exist")
        if user_id not in chat.members:
            raise ValueError(f"user {user_id} is not in chat {chat_id}")
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise ValueError(f"message #{message_id} does not exist in chat {chat_id}")
        if not stored.outgoing:
            raise ValueError(f"message #{message_id} in chat {chat_id} was not sent by the bot")
        return chat, stored

    def _store_bot_message(
        self,
        chat: ChatState,
        fields: dict[str, Any],
        *,
        markup: dict[str, Any] | None,
        reply: dict[str, Any] | None,
        source: str | None,
        parse_mode: str | None,
        upload: Upload | None = None,
    ) -> StoredMessage:
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": dict(self.bot_user),
            "chat": dict(chat.info),
            "date": self._unix_time(),
        }
        if reply is not None:
            message["reply_to_message"] = reply
        message.update(fields)
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Message.reply_markup is inline-only
        stored = StoredMessage(
            message,
            outgoing=True,
            sent_at=self._monotonic(),
            source=source,
            parse_mode=parse_mode,
            markup=markup,
            upload=upload,
        )
        chat.messages[stored.message_id] = stored
        self._announce(chat.id, stored, edited=False)
        return stored

    def _view(self, stored: StoredMessage) -> dict[str, Any]:
        view = copy.deepcopy(stored.message)
        if stored.markup is not None:
            view["reply_markup"] = copy.deepcopy(stored.markup)
        if stored.parse_mode:
            view["parse_mode"] = stored.parse_mode
            if stored.parse_mode.lower() == "html" and stored.source is not None:
                view["html"] = stored.source
        if stored.upload is not None:
            view["file_bytes"] = stored.upload.data
            view["filename"] = stored.upload.filename
            view["mime_type"] = stored.upload.mime_type
        if stored.deleted:
            view["deleted"] = True
        return view

    def _announce(self, chat_id: int, stored: StoredMessage, *, edited: bool) -> None:
        self._notify_waiters()
        for listener in self._listeners:
            try:
                outcome = listener(chat_id, self._view(stored), edited)
                if inspect.isawaitable(outcome):
                    task = asyncio.ensure_future(outcome)
                    self._listener_tasks.add(task)
                    task.add_done_callback(self._listener_tasks.discard)
            except Exception:  # a broken listener must not break the bot's request
                logger.exception("on_bot_message listener failed")

    def _notify_waiters(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _wait_for_change(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, seconds)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    # -- updates ---------------------------------------------------------------------------

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update unless getUpdates' allowed_updates excludes its type."""
        if kind not in self._allowed_updates:
            return None
        update = {"update_id": self._next_update_id, kind: payload}
        self._next_update_id += 1
        self._queue.append(QueuedUpdate(update))
        self._last_update = update
        self._wake_poller()
        return update

    def _wake_poller(self) -> None:
        if self._poller is not None:
            self._poller.event.set()

    def _confirm_updates(self, offset: int) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last -offset."""
        if offset == 0:
            return
        threshold = offset if offset > 0 else self._next_update_id + offset
        self._queue = [
            queued
            for queued in self._queue
            if queued.update_id >= threshold or (queued.redelivery and not queued.delivered)
        ]

    def _take_updates(self, limit: int) -> list[dict[str, Any]]:
        batch = self._queue[:limit]
        for queued in batch:
            queued.delivered = True
        return [queued.update for queued in batch]

    def _member_update(self, user: UserState, old: str, new: str) -> dict[str, Any]:
        chat = self._private_chat(user)
        bot = {**self.bot_user}

        def member(status: str) -> dict[str, Any]:
            return {
                "user": bot,
                "status": status,
                **({"until_date": 0} if status == "kicked" else {}),
            }

        return {
            "chat": dict(chat.info),
            "from": dict(user.info),
            "date": self._unix_time(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }

    # -- users' messages --------------------------------------------------------------------

    async def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        content: dict[str, Any],
        reply_to_message_id: int | None,
    ) -> dict[str, Any]:
        user = self._user(user_id)
        if chat_id is None or chat_id == user_id:
            if user.blocked:  # writing again means restarting the bot
                self.unblock_bot(user_id)
            user.started = True
            chat = self._private_chat(user)
        else:
            chat = self._group(chat_id)
            if user_id not in chat.members:
                raise ValueError(f"user {user_id} is not a member of group {chat_id}")
        message: dict[str, Any] = {
            "message_id": chat.take_message_id(),
            "from": dict(user.info),
            "chat": dict(chat.info),
            "date": self._unix_time(),
        }
        if reply_to_message_id is not None:
            target = chat.messages.get(reply_to_message_id)
            if target is None or target.deleted:
                raise ValueError(f"message #{reply_to_message_id} does not exist in {chat.id}")
            message["reply_to_message"] = without_reply(target.message)
        message.update(content)
        chat.messages[message["message_id"]] = StoredMessage(
            message, outgoing=False, sent_at=self._monotonic()
        )
        if self._bot_sees(chat, message):
            user.known = True
            self._enqueue("message", copy.deepcopy(message))
        self._notify_waiters()
        await asyncio.sleep(0)
        return copy.deepcopy(message)

    def _bot_sees(self, chat: ChatState, message: dict[str, Any]) -> bool:
        """Group privacy mode: only commands, replies to the bot and @mentions get through."""
        if chat.is_private or not self.privacy_mode:
            return True
        text = message.get("text") or message.get("caption") or ""
        username = self.bot_user["username"].lower()
        entities = message.get("entities") or message.get("caption_entities") or []
        for entity in entities:
            if entity["type"] == "bot_command" and entity["offset"] == 0:
                command = text.split()[0]
                return "@" not in command or command.split("@", 1)[1].lower() == username
        reply = message.get("reply_to_message")
        if reply is not None and reply.get("from", {}).get("id") == self.bot_user["id"]:
            return True
        return f"@{username}" in text.lower()

    # -- files ------------------------------------------------------------------------------

    def _new_file(
        self, kind: str, data: bytes, filename: str, mime_type: str = "application/octet-stream"
    ) -> StoredFile:
        self._counter += 1
        seed = f"{self.bot_user['id']}:{kind}:{self._counter}".encode()
        token = base64.urlsafe_b64encode(hashlib.sha512(seed).digest()).decode().rstrip("=")
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        stored = StoredFile(
            file_id=_FILE_PREFIXES[kind] + token[:40],
            file_unique_id="AQAD" + token[40:56],
            kind=kind,
            data=data,
            file_path=f"{_FILE_FOLDERS[kind]}/file_{self._counter}.{extension}",
            file_name=filename,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        return stored

    def _register_photo(self, data: bytes, width: int, height: int) -> list[dict[str, Any]]:
        """Store a photo and its size ladder; returns the PhotoSize list."""
        sizes = []
        for size_width, size_height in photo_sizes(width, height):
            stored = self._new_file("photo", data, "photo.jpg")
            sizes.append(
                {
                    "file_id": stored.file_id,
                    "file_unique_id": stored.file_unique_id,
                    "file_size": len(data),
                    "width": size_width,
                    "height": size_height,
                }
            )
        for size in sizes:
            self._photo_sets[size["file_id"]] = sizes
        return copy.deepcopy(sizes)

    def _known_photo(self, reference: str) -> list[dict[str, Any]]:
        if reference in self._photo_sets:
            return copy.deepcopy(self._photo_sets[reference])
        if reference.startswith(("http://", "https://")):
            # The real server would download it; the fake cannot, so it invents the photo.
            return self._register_photo(tiny_png(), 800, 600)
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _known_document(self, reference: str) -> dict[str, Any]:
        stored = self.files.get(reference)
        if stored is not None and stored.kind == "document":
            return {
                "file_name": stored.file_name,
                "mime_type": stored.mime_type,
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
            }
        if reference.startswith(("http://", "https://")):
            name = reference.rstrip("/").rsplit("/", 1)[-1] or "file"
            stored = self._new_file("document", b"downloaded", name)  # can't really fetch it
            return {
                "file_name": name,
                "mime_type": "application/octet-stream",
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.data),
            }
        raise bad_request("wrong file identifier/HTTP URL specified")
