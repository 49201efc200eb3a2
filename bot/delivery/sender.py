"""What the outbox sends with: the bot's calls at a given priority, not retried here.

The rate limit itself is in the transport (:mod:`bot.delivery.transport`), so replies to
people and outbox messages share one budget. Errors surface to the caller (the outbox), which
records the attempt and reschedules: ``RetryAfter``, ``Forbidden``, ``BadRequest``,
``NetworkError``.
"""

from __future__ import annotations

import warnings

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.warnings import PTBUserWarning

from bot.delivery.transport import retry_after_seconds, sending_as
from storage.models import Priority

__all__ = ["Sender", "retry_after_seconds"]

# PTB suggests Bot.send_message over do_api_request("sendMessage"); pushes and the check-in's
# edits want the raw answer (see raw_call), so those suggestions are silenced, as the inbox
# does for getUpdates.
warnings.filterwarnings(
    "ignore", message=r".*Bot\.(send_message|edit_message_text).*", category=PTBUserWarning
)


async def raw_call(bot: Bot, endpoint: str, **params: object) -> dict | bool:
    """A Bot API call whose answer is not made into objects: building a ``Message`` from the
    answer of ``sendMessage`` or ``editMessageText`` was a sixth of the bot's CPU per push and
    a twentieth per button press (py-spy), and only the message's id is ever used.
    ``Bot.do_api_request`` (PTB's public call for a raw answer) sends what ``send_message``
    or ``edit_message_text`` would, under the application's defaults (HTML, no link
    preview), through the same transport, whose ``post`` maps errors onto the same
    exceptions."""
    defaults = bot.defaults  # type: ignore[attr-defined] - the application's ExtBot
    params = {
        "parse_mode": defaults.parse_mode if defaults else None,
        "link_preview_options": defaults.link_preview_options if defaults else None,
        **params,
    }
    return await bot.do_api_request(
        endpoint, api_kwargs={k: v for k, v in params.items() if v is not None}
    )


class Sender:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send_message(
        self, chat_id: int, text: str, priority: Priority = Priority.ANSWER, **kwargs
    ) -> Message:
        with sending_as(priority):
            return await self.bot.send_message(chat_id, text, **kwargs)

    async def send_photo(
        self, chat_id: int, png: bytes, caption: str, priority: Priority = Priority.REMINDER
    ) -> int:
        """``sendPhoto`` for outbox messages (the weekly summary); returns the message's id."""
        with sending_as(priority):
            message = await self.bot.send_photo(chat_id, photo=png, caption=caption)
        return message.message_id

    async def send_push(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        priority: Priority = Priority.REMINDER,
    ) -> int:
        """``sendMessage`` for outbox messages; returns the new message's id (the hot path of
        a morning with 100,000 patients due: see :func:`raw_call`)."""
        with sending_as(priority):
            result = await raw_call(
                self.bot, "send_message", chat_id=chat_id, text=text, reply_markup=markup
            )
        return result["message_id"]

    async def edit_message_text(
        self, chat_id: int, message_id: int, text: str, priority: Priority, **kwargs
    ):
        with sending_as(priority):
            return await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, **kwargs
            )
