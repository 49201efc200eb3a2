"""Request parameters, read the way the real Bot API server reads them.

The server accepts the query string, ``application/x-www-form-urlencoded``,
``multipart/form-data`` (file uploads) and ``application/json``. Internally every argument
is a string: a JSON body's non-string values are re-serialised, so ``{"chat_id": 5}`` and
``chat_id=5`` are the same thing, and complex arguments (``reply_markup``, ``entities``,
``commands``, ``scope``...) are JSON text in every encoding. Each method then interprets
its arguments by type, which is exactly what :class:`Params` offers.

python-telegram-bot 22 (``HTTPXRequest``) posts urlencoded forms, or multipart when a file
is uploaded; strings are sent raw and everything else JSON-encoded (``true``, ``123``,
``{"inline_keyboard": ...}``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from fake_telegram.errors import ApiError, bad_request

_INTEGER = re.compile(r"^[+-]?\d+$")

# Argument names whose value is JSON, integer or boolean (only used to present recorded
# requests readably; handlers parse their own arguments).
JSON_ARGUMENTS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "commands", "scope", "allowed_updates",
        "link_preview_options", "reply_parameters", "media", "results",
    }
)  # fmt: skip
INTEGER_ARGUMENTS = frozenset(
    {
        "chat_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id",
        "cache_time", "message_thread_id", "user_id", "from_chat_id", "max_connections",
    }
)  # fmt: skip
BOOLEAN_ARGUMENTS = frozenset(
    {
        "show_alert", "disable_notification", "protect_content", "drop_pending_updates",
        "disable_web_page_preview", "allow_sending_without_reply", "has_spoiler",
        "disable_content_type_detection", "show_caption_above_media", "allow_paid_broadcast",
    }
)  # fmt: skip


@dataclass(frozen=True)
class UploadedFile:
    filename: str
    content_type: str | None
    data: bytes


class Params:
    """Typed access to one request's arguments."""

    def __init__(self, values: dict[str, str], files: dict[str, UploadedFile]) -> None:
        self.values = values
        self.files = files

    def has(self, name: str) -> bool:
        return self.values.get(name, "") != "" or name in self.files

    def string(self, name: str) -> str | None:
        value = self.values.get(name)
        return value if value != "" else None

    def integer(self, name: str, default: int = 0) -> int:
        """Integers parse like the server's: anything that is not a number counts as 0."""
        value = self.values.get(name, "").strip()
        return int(value) if _INTEGER.match(value) else default

    def boolean(self, name: str) -> bool:
        return self.values.get(name, "").strip().lower() in ("true", "1")

    def chat_id(self) -> int:
        raw = self.values.get("chat_id", "").strip()
        if raw == "":
            raise bad_request("chat_id is empty")
        if not _INTEGER.match(raw):
            raise bad_request("chat not found")  # "@username" of a chat this fake never has
        return int(raw)

    def file(self, name: str) -> UploadedFile | str | None:
        """An input file: an uploaded part, an attach:// reference, or a file_id / URL."""
        value = self.string(name)
        if value is not None and value.startswith("attach://"):
            return self.files.get(value[len("attach://") :])
        if value is not None:
            return value
        return self.files.get(name)

    def readable(self) -> dict[str, Any]:
        """The arguments decoded for humans (JSON parsed, numbers and booleans typed)."""
        result: dict[str, Any] = {}
        for name, value in self.values.items():
            result[name] = _decode_for_display(name, value)
        for name, upload in self.files.items():
            result[name] = {
                "filename": upload.filename,
                "content_type": upload.content_type,
                "size": len(upload.data),
            }
        return result


def _decode_for_display(name: str, value: str) -> Any:
    if name in JSON_ARGUMENTS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if name in INTEGER_ARGUMENTS and _INTEGER.match(value.strip()):
        return int(value)
    if name in BOOLEAN_ARGUMENTS and value.strip().lower() in ("true", "false", "1", "0"):
        return value.strip().lower() in ("true", "1")
    return value


def _as_argument(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


async def read_params(request: web.Request) -> Params:
    """Collect arguments from the query string and the body (the body wins)."""
    values: dict[str, str] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    content_type = request.content_type
    try:
        if content_type == "application/json":
            raw = await request.read()
            if raw.strip():
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise bad_request("can't parse JSON object") from None
                if not isinstance(body, dict):
                    raise bad_request("can't parse JSON object")
                for name, value in body.items():
                    argument = _as_argument(value)
                    if argument is not None:
                        values[name] = argument
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = UploadedFile(
                        filename=value.filename,
                        content_type=value.content_type,
                        data=value.file.read(),
                    )
                else:
                    values[name] = str(value)
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "Request Entity Too Large") from None
    return Params(values, files)
