"""A strict fake of the Telegram Bot API for end-to-end tests and demos."""

from fake_telegram.errors import ApiError
from fake_telegram.server import FakeBotApi, MessageWaitTimeout

__all__ = ["ApiError", "FakeBotApi", "MessageWaitTimeout"]
