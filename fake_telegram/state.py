"""Plain containers for what the fake Telegram remembers (one set per FakeBotApi)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class UserState:
    info: dict[str, Any]  # the User object
    started: bool = False  # wrote to the bot in private: the bot may message them
    known: bool = False  # appeared in an update the bot received (getChat works)
    blocked: bool = False  # blocked the bot: sends answer 403


@dataclass
class ChatState:
    info: dict[str, Any]  # the Chat object as embedded in messages
    members: set[int] = field(default_factory=set)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def id(self) -> int:
        return self.info["id"]

    @property
    def is_private(self) -> bool:
        return self.info["type"] == "private"

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class Upload:
    data: bytes
    filename: str
    mime_type: str


@dataclass
class StoredMessage:
    message: dict[str, Any]  # the Message object in its current state, exactly as served
    outgoing: bool  # sent by the bot
    sent_at: float  # monotonic fake-clock time (for the 48 h deletion rule)
    source: str | None = None  # the text/caption exactly as the bot sent it
    parse_mode: str | None = None
    markup: dict[str, Any] | None = None  # any reply_markup the bot sent (incl. reply keyboards)
    upload: Upload | None = None
    deleted: bool = False

    @property
    def message_id(self) -> int:
        return self.message["message_id"]


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # photo / document / voice / sticker
    data: bytes
    file_path: str
    file_name: str
    mime_type: str


@dataclass
class CallbackState:
    query_id: str
    user_id: int
    created: float  # monotonic fake-clock time
    answered: bool = False


@dataclass
class QueuedUpdate:
    update: dict[str, Any]
    # A deliberate duplicate (redeliver_last): it must reach the bot once even though its
    # update_id is already below the confirmed offset.
    redelivery: bool = False
    delivered: bool = False

    @property
    def update_id(self) -> int:
        return self.update["update_id"]


@dataclass
class Failure:
    error_code: int
    description: str | None
    retry_after: int | None
    execute: bool  # perform the call anyway, then answer the error
    chat_id: int | None = None  # only calls aimed at this chat fail
