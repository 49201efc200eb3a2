"""Errors in the exact shape the Bot API answers them.

Every failure is ``{"ok": false, "error_code": N, "description": "..."}`` with the HTTP status
equal to ``error_code``; a 429 also carries ``"parameters": {"retry_after": N}``, which is what
python-telegram-bot turns into ``telegram.error.RetryAfter``.
"""

from __future__ import annotations

from typing import Any

# Default descriptions for injected failures (fail_next) when the caller gives none.
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """Raised inside a method handler; turned into the Bot API error response."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None):
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.error_code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(message: str) -> ApiError:
    """A 400 whose description reads like the real one: ``Bad Request: <message>``.

    The real server lowercases the first letter of the underlying TDLib message
    ("Message must be non-empty" -> "Bad Request: message must be non-empty").
    """
    if message and message[0].isupper() and not message[:2].isupper():
        message = message[0].lower() + message[1:]
    return ApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> ApiError:
    return ApiError(403, f"Forbidden: {message}")


def conflict(message: str) -> ApiError:
    return ApiError(409, f"Conflict: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    retry_after = max(1, int(retry_after))
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def injected_error(error_code: int, description: str | None, retry_after: int | None) -> ApiError:
    """Build the error for ``FakeBotApi.fail_next``."""
    if error_code == 429:
        retry_after = 1 if retry_after is None else retry_after
        if description is None:
            return too_many_requests(retry_after)
    if description is None:
        description = _DEFAULT_DESCRIPTIONS.get(error_code, "Internal Server Error")
    return ApiError(error_code, description, retry_after=retry_after)


UNAUTHORIZED = ApiError(401, "Unauthorized")
NOT_FOUND = ApiError(404, "Not Found")
