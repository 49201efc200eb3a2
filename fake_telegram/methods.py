"""The Bot API methods the fake implements, one handler each.

This is a mixin of :class:`fake_telegram.server.FakeBotApi`: handlers read the typed
:class:`~fake_telegram.params.Params`, validate like the real server (same error texts, same
order of checks where it matters) and mutate the fake's state through the helpers defined on
FakeBotApi (``_writable_chat``, ``_store_bot_message``, ``_enqueue`` ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fake_telegram.errors import ApiError, bad_request, conflict, too_many_requests
from fake_telegram.markup import parse_reply_markup
from fake_telegram.media import guess_mime_type, image_size
from fake_telegram.params import Params, UploadedFile
from fake_telegram.state import ChatState, StoredMessage, Upload

if TYPE_CHECKING:
    from fake_telegram.server import FakeBotApi

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_PHOTO_BYTES = 10 * 1024 * 1024
CALLBACK_QUERY_LIFETIME = 15 * 60  # seconds during which a callback query can be answered
DELETE_WINDOW = 48 * 3600  # messages older than this can't be deleted
LONG_POLL_MAX_TIMEOUT = 50  # the server caps getUpdates' timeout at 50 s
MAX_COMMANDS = 100

# Methods that count against flood control (set_rate_limit).
SENDING_METHODS = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageCaption"}
)
CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
COMMAND_SCOPES = frozenset(
    {
        "default", "all_private_chats", "all_group_chats", "all_chat_administrators",
        "chat", "chat_administrators", "chat_member",
    }
)  # fmt: skip
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")
# Update types delivered when getUpdates' allowed_updates is not given (the docs' default).
DEFAULT_ALLOWED_UPDATES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "inline_query",
        "chosen_inline_result", "callback_query", "shipping_query", "pre_checkout_query",
        "poll", "poll_answer", "my_chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost", "business_connection", "business_message",
        "edited_business_message", "deleted_business_messages", "purchased_paid_media",
    }
)  # fmt: skip
ALL_UPDATE_TYPES = DEFAULT_ALLOWED_UPDATES | {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@dataclass
class Answer:
    """A successful result that also carries the optional ``description`` field."""

    result: Any
    description: str | None = None


class Poller:
    """The one pending long-poll getUpdates request."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.terminated: ApiError | None = None

    def terminate(self, error: ApiError) -> None:
        self.terminated = error
        self.event.set()


# Canonical Bot API method name -> handler attribute. Lookup is case-insensitive.
METHODS = {
    "getMe": "_get_me",
    "logOut": "_log_out",
    "close": "_close",
    "getUpdates": "_get_updates",
    "setWebhook": "_set_webhook",
    "deleteWebhook": "_delete_webhook",
    "getWebhookInfo": "_get_webhook_info",
    "setMyCommands": "_set_my_commands",
    "getMyCommands": "_get_my_commands",
    "deleteMyCommands": "_delete_my_commands",
    "sendMessage": "_send_message",
    "editMessageText": "_edit_message_text",
    "editMessageReplyMarkup": "_edit_message_reply_markup",
    "editMessageCaption": "_edit_message_caption",
    "deleteMessage": "_delete_message",
    "answerCallbackQuery": "_answer_callback_query",
    "sendPhoto": "_send_photo",
    "sendDocument": "_send_document",
    "sendChatAction": "_send_chat_action",
    "getChat": "_get_chat",
    "getFile": "_get_file",
}
METHODS_BY_LOWER_NAME = {name.lower(): name for name in METHODS}


class BotApiMethods:
    # -- account -------------------------------------------------------------------------

    def _get_me(self: FakeBotApi, p: Params) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _log_out(self: FakeBotApi, p: Params) -> bool:
        return True

    def _close(self: FakeBotApi, p: Params) -> bool:
        return True

    # -- updates ---------------------------------------------------------------------------

    async def _get_updates(self: FakeBotApi, p: Params) -> list[dict[str, Any]]:
        if self._webhook_url:
            raise conflict(
                "can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        offset = p.integer("offset")
        limit = min(max(p.integer("limit"), 1), 100) if p.has("limit") else 100
        timeout = min(max(p.integer("timeout"), 0), LONG_POLL_MAX_TIMEOUT)
        self._set_allowed_updates(p.string("allowed_updates"))
        self._confirm_updates(offset)

        # Only one getUpdates may be pending: the older one is terminated, as on the real
        # server, which is how a second bot instance shows up.
        if self._poller is not None:
            self._poller.terminate(
                conflict(
                    "terminated by other getUpdates request; "
                    "make sure that only one bot instance is running"
                )
            )
        batch = self._take_updates(limit)
        if batch or timeout == 0 or self._closing:
            return batch

        poller = Poller()
        self._poller = poller
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if poller.terminated is not None:
                    raise poller.terminated
                if self._closing:
                    return []
                batch = self._take_updates(limit)
                remaining = deadline - loop.time()
                if batch or remaining <= 0:
                    return batch
                poller.event.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(poller.event.wait(), remaining)
        finally:
            if self._poller is poller:
                self._poller = None

    def _set_allowed_updates(self: FakeBotApi, raw: str | None) -> None:
        if raw is None:
            return  # keep the previous setting, as the server does
        try:
            value = json.loads(raw)
        except ValueError:
            return
        if not isinstance(value, list):
            return
        chosen = {str(v).lower() for v in value if isinstance(v, str)} & ALL_UPDATE_TYPES
        self._allowed_updates = frozenset(chosen) if chosen else DEFAULT_ALLOWED_UPDATES

    def _set_webhook(self: FakeBotApi, p: Params) -> Answer:
        url = p.string("url") or ""
        if not url:
            return self._delete_webhook(p)
        if not url.lower().startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self._webhook_url = url
        if self._poller is not None:
            self._poller.terminate(conflict("terminated by setWebhook request"))
        if p.boolean("drop_pending_updates"):
            self._queue.clear()
        self._set_allowed_updates(p.string("allowed_updates"))
        return Answer(True, "Webhook was set")

    def _delete_webhook(self: FakeBotApi, p: Params) -> Answer:
        was_set = bool(self._webhook_url)
        self._webhook_url = ""
        if p.boolean("drop_pending_updates"):
            self._queue.clear()
        return Answer(True, "Webhook was deleted" if was_set else "Webhook is already deleted")

    def _get_webhook_info(self: FakeBotApi, p: Params) -> dict[str, Any]:
        return {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    # -- commands ---------------------------------------------------------------------------

    def _commands_key(self: FakeBotApi, p: Params) -> str:
        language_code = p.string("language_code") or ""
        if language_code and not _LANGUAGE_CODE.match(language_code):
            raise bad_request("LANG_CODE_INVALID")
        return commands_key(self._scope_key(p.string("scope")), language_code)

    def _scope_key(self: FakeBotApi, raw: str | dict[str, Any] | None) -> str:
        """'default' or the canonical JSON of a BotCommandScope."""
        if raw is None or raw == "":
            return "default"
        if isinstance(raw, str):
            try:
                scope = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse BotCommandScope JSON object") from None
        else:
            scope = raw
        if not isinstance(scope, dict) or scope.get("type") not in COMMAND_SCOPES:
            raise bad_request("unsupported BotCommandScope type specified")
        kind = scope["type"]
        if kind == "default":
            return "default"
        canonical: dict[str, Any] = {"type": kind}
        if kind in ("chat", "chat_administrators", "chat_member"):
            chat_id = scope.get("chat_id")
            if isinstance(chat_id, str) and re.match(r"^-?\d+$", chat_id):
                chat_id = int(chat_id)
            if not isinstance(chat_id, int) or chat_id not in self.chats:
                raise bad_request("chat not found")
            canonical["chat_id"] = chat_id
            if kind == "chat_member":
                user_id = scope.get("user_id")
                if not isinstance(user_id, int) or user_id not in self.chats[chat_id].members:
                    raise bad_request("user not found")
                canonical["user_id"] = user_id
        return json.dumps(canonical, sort_keys=True)

    def _set_my_commands(self: FakeBotApi, p: Params) -> bool:
        raw = p.string("commands")
        commands: list[Any] = []
        if raw is not None:
            try:
                commands = json.loads(raw)
            except ValueError:
                raise bad_request("can't parse commands JSON object") from None
            if not isinstance(commands, list):
                raise bad_request("expected an Array of BotCommand")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: expected an Object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not isinstance(description, str):
                raise bad_request(
                    'can\'t parse BotCommand: Field "command" and "description" must be of '
                    "type String"
                )
            if not _COMMAND_NAME.match(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not description.strip() or len(description) > 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._commands_key(p)
        if cleaned:
            self.commands[key] = cleaned
        else:
            self.commands.pop(key, None)
        return True

    def _get_my_commands(self: FakeBotApi, p: Params) -> list[dict[str, str]]:
        return [dict(c) for c in self.commands.get(self._commands_key(p), [])]

    def _delete_my_commands(self: FakeBotApi, p: Params) -> bool:
        self.commands.pop(self._commands_key(p), None)
        return True

    # -- messages ---------------------------------------------------------------------------

    def _send_message(self: FakeBotApi, p: Params) -> dict[str, Any]:
        chat_id = p.chat_id()
        raw = p.string("text")
        if raw is None:
            raise bad_request("message text is empty")
        parse_mode = p.string("parse_mode")
        text, entities = self._format(raw, parse_mode, p.string("entities"))
        markup = parse_reply_markup(p.string("reply_markup"))
        self._check_json_object(p, "link_preview_options", "link preview options")
        chat = self._writable_chat(chat_id)
        reply = self._reply_target(chat, p)
        _check_text_length(text)
        self._consume_quota("sendMessage", chat.id)
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        stored = self._store_bot_message(
            chat, fields, markup=markup, reply=reply, source=raw, parse_mode=parse_mode
        )
        return stored.message

    def _edit_message_text(self: FakeBotApi, p: Params) -> dict[str, Any]:
        raw = p.string("text")
        if raw is None:
            raise bad_request("message text is empty")
        parse_mode = p.string("parse_mode")
        text, entities = self._format(raw, parse_mode, p.string("entities"))
        markup = _inline_markup(p)
        chat, stored = self._editable_message(p)
        if "text" not in stored.message:
            raise bad_request("there is no text in the message to edit")
        _check_text_length(text)
        current = stored.message
        if (
            current["text"] == text
            and current.get("entities", []) == entities
            and current.get("reply_markup") == markup
        ):
            raise bad_request(_NOT_MODIFIED)
        self._consume_quota("editMessageText", chat.id)
        _set_or_drop(current, "text", text)
        _set_or_drop(current, "entities", entities)
        stored.source, stored.parse_mode = raw, parse_mode
        self._apply_edit(chat, stored, markup)
        return stored.message

    def _edit_message_caption(self: FakeBotApi, p: Params) -> dict[str, Any]:
        raw = p.string("caption") or ""
        parse_mode = p.string("parse_mode")
        caption, entities = (
            self._format(raw, parse_mode, p.string("caption_entities")) if raw else ("", [])
        )
        markup = _inline_markup(p)
        chat, stored = self._editable_message(p)
        current = stored.message
        if not any(kind in current for kind in ("photo", "document", "voice", "video", "audio")):
            raise bad_request("there is no caption in the message to edit")
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        if (
            current.get("caption", "") == caption
            and current.get("caption_entities", []) == entities
            and current.get("reply_markup") == markup
        ):
            raise bad_request(_NOT_MODIFIED)
        self._consume_quota("editMessageCaption", chat.id)
        _set_or_drop(current, "caption", caption)
        _set_or_drop(current, "caption_entities", entities)
        stored.source, stored.parse_mode = raw or None, parse_mode
        self._apply_edit(chat, stored, markup)
        return stored.message

    def _edit_message_reply_markup(self: FakeBotApi, p: Params) -> dict[str, Any]:
        markup = _inline_markup(p)
        chat, stored = self._editable_message(p)
        if stored.message.get("reply_markup") == markup:
            raise bad_request(_NOT_MODIFIED)
        self._apply_edit(chat, stored, markup)
        return stored.message

    def _apply_edit(
        self: FakeBotApi, chat: ChatState, stored: StoredMessage, markup: dict[str, Any] | None
    ) -> None:
        # An edit replaces the inline keyboard (none given = removed); a reply keyboard
        # belongs to the chat, not the message, so it stays.
        _set_or_drop(stored.message, "reply_markup", markup)
        if markup is not None or (stored.markup and "inline_keyboard" in stored.markup):
            stored.markup = markup
        stored.message["edit_date"] = self._unix_time()
        self._announce(chat.id, stored, edited=True)

    def _delete_message(self: FakeBotApi, p: Params) -> bool:
        chat = self._known_chat(p.chat_id())
        message_id = p.integer("message_id")
        if message_id <= 0:
            raise bad_request("message identifier is not specified")
        stored = chat.messages.get(message_id)
        if stored is None or stored.deleted:
            raise bad_request("message to delete not found")
        too_old = self._monotonic() - stored.sent_at > DELETE_WINDOW
        # Bots may delete incoming messages only in private chats (they are no admins here).
        if too_old or (not stored.outgoing and not chat.is_private):
            raise bad_request("message can't be deleted")
        stored.deleted = True
        self._announce(chat.id, stored, edited=True)
        return True

    def _answer_callback_query(self: FakeBotApi, p: Params) -> bool:
        query_id = p.string("callback_query_id")
        state = self._callback_queries.get(query_id) if query_id else None
        expired = state is not None and (
            self._monotonic() - state.created > CALLBACK_QUERY_LIFETIME
        )
        if state is None or state.answered or expired:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.string("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad_request("MESSAGE_TOO_LONG")
        state.answered = True
        answer: dict[str, Any] = {
            "callback_query_id": query_id,
            "show_alert": p.boolean("show_alert"),
        }
        for optional in ("text", "url"):  # present only when the bot sent them
            if p.string(optional) is not None:
                answer[optional] = p.string(optional)
        self._callback_answers.append(answer)
        return True

    # -- media --------------------------------------------------------------------------------

    def _caption(self: FakeBotApi, p: Params) -> tuple[dict[str, Any], str | None]:
        raw = p.string("caption")
        if raw is None:
            return {}, None
        caption, entities = self._format(raw, p.string("parse_mode"), p.string("caption_entities"))
        if len(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        fields: dict[str, Any] = {}
        if caption:
            fields["caption"] = caption
        if entities:
            fields["caption_entities"] = entities
        return fields, raw

    def _send_photo(self: FakeBotApi, p: Params) -> dict[str, Any]:
        chat_id = p.chat_id()
        photo = p.file("photo")
        if photo is None:
            raise bad_request("there is no photo in the request")
        caption_fields, source = self._caption(p)
        markup = parse_reply_markup(p.string("reply_markup"))
        upload = None
        if isinstance(photo, UploadedFile):
            if not photo.data:
                raise bad_request("file must be non-empty")
            if len(photo.data) > MAX_PHOTO_BYTES:
                raise bad_request("file is too big")
            size = image_size(photo.data)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            upload = Upload(
                photo.data, photo.filename, guess_mime_type(photo.filename, photo.content_type)
            )
            sizes = self._register_photo(photo.data, *size)
        else:
            sizes = self._known_photo(photo)
        chat = self._writable_chat(chat_id)
        reply = self._reply_target(chat, p)
        self._consume_quota("sendPhoto", chat.id)
        stored = self._store_bot_message(
            chat,
            {"photo": sizes, **caption_fields},
            markup=markup,
            reply=reply,
            source=source,
            parse_mode=p.string("parse_mode"),
            upload=upload,
        )
        return stored.message

    def _send_document(self: FakeBotApi, p: Params) -> dict[str, Any]:
        chat_id = p.chat_id()
        document = p.file("document")
        if document is None:
            raise bad_request("there is no document in the request")
        caption_fields, source = self._caption(p)
        markup = parse_reply_markup(p.string("reply_markup"))
        upload = None
        if isinstance(document, UploadedFile):
            if not document.data:
                raise bad_request("file must be non-empty")
            mime_type = guess_mime_type(document.filename, document.content_type)
            upload = Upload(document.data, document.filename, mime_type)
            stored_file = self._new_file("document", document.data, document.filename, mime_type)
            info = {
                "file_name": document.filename,
                "mime_type": mime_type,
                "file_id": stored_file.file_id,
                "file_unique_id": stored_file.file_unique_id,
                "file_size": len(document.data),
            }
        else:
            info = self._known_document(document)
        chat = self._writable_chat(chat_id)
        reply = self._reply_target(chat, p)
        self._consume_quota("sendDocument", chat.id)
        stored = self._store_bot_message(
            chat,
            {"document": info, **caption_fields},
            markup=markup,
            reply=reply,
            source=source,
            parse_mode=p.string("parse_mode"),
            upload=upload,
        )
        return stored.message

    def _send_chat_action(self: FakeBotApi, p: Params) -> bool:
        chat_id = p.chat_id()
        action = (p.string("action") or "").strip().lower()
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._writable_chat(chat_id)
        return True

    # -- chats and files ------------------------------------------------------------------------

    def _get_chat(self: FakeBotApi, p: Params) -> dict[str, Any]:
        chat = self._known_chat(p.chat_id())
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _get_file(self: FakeBotApi, p: Params) -> dict[str, Any]:
        file_id = p.string("file_id")
        stored = self.files.get(file_id) if file_id else None
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    # -- shared checks --------------------------------------------------------------------------

    def _check_json_object(self: FakeBotApi, p: Params, name: str, label: str) -> None:
        raw = p.string(name)
        if raw is None:
            return
        try:
            value = json.loads(raw)
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise bad_request(f"can't parse {label} JSON object")

    def _consume_quota(self: FakeBotApi, method: str, chat_id: int) -> None:
        if self._flood is None or method not in SENDING_METHODS:
            return
        now = self._monotonic()
        wait = self._flood.retry_after(chat_id, now)
        if wait is not None:
            raise too_many_requests(wait)
        self._flood.record(chat_id, now)

    def _reply_target(self: FakeBotApi, chat: ChatState, p: Params) -> dict[str, Any] | None:
        """The message being replied to (reply_parameters or the legacy reply_to_message_id)."""
        allow_missing = p.boolean("allow_sending_without_reply")
        raw = p.string("reply_parameters")
        if raw is not None:
            try:
                parameters = json.loads(raw)
            except ValueError:
                parameters = None
            if not isinstance(parameters, dict) or not isinstance(
                parameters.get("message_id"), int
            ):
                raise bad_request("can't parse reply parameters JSON object")
            other_chat = parameters.get("chat_id")
            if other_chat is not None and other_chat != chat.id:
                raise bad_request("message to be replied not found")
            message_id = parameters["message_id"]
            allow_missing = parameters.get("allow_sending_without_reply") is True
        else:
            message_id = p.integer("reply_to_message_id")
        if message_id == 0:
            return None
        target = chat.messages.get(message_id)
        if target is None or target.deleted:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return without_reply(target.message)


def commands_key(scope_key: str, language_code: str) -> str:
    """Key of FakeBotApi.commands: "default" or the scope's JSON, plus "|<lang>" if any."""
    return f"{scope_key}|{language_code}" if language_code else scope_key


def _check_text_length(text: str) -> None:
    if not text:
        raise bad_request("message must be non-empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")


def _inline_markup(p: Params) -> dict[str, Any] | None:
    markup = parse_reply_markup(p.string("reply_markup"))
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _set_or_drop(target: dict[str, Any], key: str, value: Any) -> None:
    if value in (None, "", []):
        target.pop(key, None)
    else:
        target[key] = value


def without_reply(message: dict[str, Any]) -> dict[str, Any]:
    """A copy for embedding as reply_to_message (the Bot API nests only one level)."""
    copy = json.loads(json.dumps(message))
    copy.pop("reply_to_message", None)
    return copy
