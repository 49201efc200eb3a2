"""Validation of ``reply_markup`` the way the real server parses it.

Returns the markup normalised (null fields dropped). Error texts are the server's, e.g.
``can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard``
or ``BUTTON_DATA_INVALID`` for callback_data outside 1-64 bytes.
"""

from __future__ import annotations

import json
from typing import Any

from fake_telegram.errors import bad_request
from fake_telegram.text import check_link

# Fields of InlineKeyboardButton of which exactly one must be present (Bot API docs).
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
MAX_CALLBACK_DATA_BYTES = 64


def parse_reply_markup(raw: str | None) -> dict[str, Any] | None:
    """Parse the ``reply_markup`` parameter; None when absent or when it carries nothing."""
    if raw is None or raw == "":
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict):
        raise bad_request("object expected as reply markup")

    keyboard = _rows(value, "keyboard", "ReplyKeyboardMarkup", _keyboard_button)
    inline = _rows(value, "inline_keyboard", "InlineKeyboardMarkup", _inline_button)
    for flag in ("resize_keyboard", "one_time_keyboard", "is_persistent", "selective"):
        if flag in value and not isinstance(value[flag], bool):
            raise bad_request(f'field "{flag}" of the reply markup must be of the type Boolean')
    for flag in ("remove_keyboard", "force_reply"):
        if flag in value and not isinstance(value[flag], bool):
            raise bad_request(f'field "{flag}" of the reply markup must be of the type Boolean')

    # Same precedence as the server: a reply keyboard wins, then an inline one, then the flags.
    options = {k: v for k, v in value.items() if k not in ("keyboard", "inline_keyboard")}
    if keyboard:
        return {"keyboard": keyboard, **options}
    if inline:
        return {"inline_keyboard": inline}
    if value.get("remove_keyboard") is True:
        return {k: v for k, v in options.items() if k in ("remove_keyboard", "selective")}
    if value.get("force_reply") is True:
        keep = ("force_reply", "input_field_placeholder", "selective")
        return {k: v for k, v in options.items() if k in keep}
    return None


def _rows(value: dict[str, Any], key: str, type_name: str, parse_button: Any) -> list[list[Any]]:
    if key not in value:
        return []
    rows = value[key]
    if not isinstance(rows, list):
        raise bad_request(f'field "{key}" of the {type_name} must be an Array')
    result = []
    for row in rows:
        if not isinstance(row, list):
            raise bad_request(f'field "{key}" of the {type_name} must be an Array of Arrays')
        result.append([parse_button(button) for button in row])
    return result


def _keyboard_button(button: Any) -> Any:
    if isinstance(button, str):
        if not button:
            raise bad_request("can't parse keyboard button: Button text must be non-empty")
        return button
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse keyboard button: KeyboardButton must be a String or an Object"
        )
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    if not text:
        raise bad_request("can't parse keyboard button: Button text must be non-empty")
    return {k: v for k, v in button.items() if v is not None}


def _inline_button(button: Any) -> dict[str, Any]:
    prefix = "can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise bad_request(prefix + "InlineKeyboardButton must be an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request(prefix + 'Field "text" must be of type String')
    if not text.strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    # The server treats empty callback_data/url like absent ones.
    actions = [
        name
        for name in _INLINE_ACTIONS
        if button.get(name) is not None
        and not (name in ("callback_data", "url") and not button[name])
    ]
    if not actions:
        raise bad_request(prefix + "Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        # The docs: "Exactly one of the optional fields must be used".
        fields = ", ".join(actions)
        raise bad_request(prefix + f"exactly one of the optional fields must be used, got {fields}")
    action = actions[0]
    if action == "callback_data":
        data = button["callback_data"]
        if not isinstance(data, str):
            raise bad_request(prefix + 'Field "callback_data" must be of type String')
        if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
    elif action == "url":
        url = button["url"]
        if not isinstance(url, str):
            raise bad_request(prefix + 'Field "url" must be of type String')
        if check_link(url) is None:
            raise bad_request("BUTTON_URL_INVALID")
    return {k: v for k, v in button.items() if v is not None}


def inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    """All buttons of an inline keyboard, row by row."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]
