"""Message text handling shared by every method that takes formatted text.

Mirrors what the real server does after parsing: control characters are cleaned, entities
that cover only whitespace are dropped, the text is trimmed, and URLs, @mentions, #hashtags
and /commands get entities of their own. All entity offsets/lengths are UTF-16 code units,
as in the Bot API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from fake_telegram.errors import bad_request

# Entities that may overlap anything (the docs' "bold, italic, underline, strikethrough, and
# spoiler can contain and can be part of any other entities").
SPLITTABLE_TYPES = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler"})
# Entities that keep their meaning even over whitespace (TDLib's "hidden data" entities).
_HIDDEN_DATA_TYPES = frozenset({"text_link", "text_mention", "custom_emoji"})
ENTITY_TYPES = frozenset(
    {
        "mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number",
        "bold", "italic", "underline", "strikethrough", "spoiler", "blockquote",
        "expandable_blockquote", "code", "pre", "text_link", "text_mention", "custom_emoji",
    }
)  # fmt: skip

_LINK_SCHEMES = frozenset({"http", "https", "ftp", "tg", "ton", "tonsite"})
_HOST = r"[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_BARE_LINK = re.compile(rf"^({_HOST})([/?#].*)?$")
_SCHEME_LINK = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$", re.DOTALL)

_AUTO_PATTERNS = (
    ("bot_command", re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")),
    ("url", re.compile(r"(?<![\w@])https?://[^\s<>\"]+", re.IGNORECASE)),
    ("email", re.compile(r"(?<![\w.+-])[\w.+-]+@" + _HOST + r"(?![\w-])")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?!\w)")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)
_URL_TRAILING_PUNCTUATION = ".,;:!?)'\""


# Tie-break for entities covering the same range (outer/"bigger" kinds first, like TDLib).
_TYPE_ORDER = {
    kind: rank
    for rank, kind in enumerate(
        (
            "blockquote", "expandable_blockquote", "pre", "code", "text_link", "text_mention",
            "url", "email", "mention", "hashtag", "cashtag", "bot_command", "phone_number",
            "bold", "italic", "underline", "strikethrough", "spoiler", "custom_emoji",
        )
    )
}  # fmt: skip


def entity_sort_key(entity: dict[str, Any]) -> tuple[int, int, int]:
    return entity["offset"], -entity["length"], _TYPE_ORDER.get(entity["type"], 99)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def check_link(url: str) -> str | None:
    """Validate/normalise a link like the real server ("telegram.org" -> "http://telegram.org/").

    Returns None for something that is not an acceptable link.
    """
    url = url.strip()
    if not url or any(ch.isspace() for ch in url):
        return None
    match = _SCHEME_LINK.match(url)
    if match:
        scheme, rest = match.group(1).lower(), match.group(2)
        if scheme not in _LINK_SCHEMES:
            return None
        if scheme in ("tg", "ton", "tonsite"):
            return f"{scheme}://{rest}" if rest else None
        bare = _BARE_LINK.match(rest)
        if not bare:
            return None
    else:
        if url.lower().startswith("mailto:") and "@" in url:
            return url
        scheme = "http"
        bare = _BARE_LINK.match(url)
        if not bare:
            return None
    host, tail = bare.group(1).lower(), bare.group(2) or ""
    if not tail.startswith("/"):
        tail = "/" + tail
    return f"{scheme}://{host}{tail}"


# -- offsets ---------------------------------------------------------------------------------


def _utf16_prefix(text: str) -> list[int]:
    """prefix[i] = UTF-16 offset of code point i (prefix[len] = total length)."""
    prefix = [0]
    for ch in text:
        prefix.append(prefix[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return prefix


def _to_code_points(text: str, entities: list[dict[str, Any]]) -> list[list[Any]]:
    """Entities as [start, end, entity] in code point indices (boundaries rounded down)."""
    prefix = _utf16_prefix(text)
    index_of = {u16: i for i, u16 in enumerate(prefix)}

    def to_index(u16: int) -> int:
        while u16 not in index_of and u16 > 0:
            u16 -= 1
        return index_of.get(u16, 0)

    return [
        [to_index(e["offset"]), to_index(min(e["offset"] + e["length"], prefix[-1])), e]
        for e in entities
    ]


def _from_code_points(text: str, spans: list[list[Any]]) -> list[dict[str, Any]]:
    prefix = _utf16_prefix(text)
    result = []
    for start, end, entity in spans:
        if end <= start:
            continue
        fixed = dict(entity)
        fixed["offset"] = prefix[start]
        fixed["length"] = prefix[end] - prefix[start]
        result.append(fixed)
    result.sort(key=entity_sort_key)
    return result


# -- normalisation -----------------------------------------------------------------------------


def normalize(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Clean control characters, drop whitespace-only entities and trim, like the server."""
    spans = _to_code_points(text, entities)

    # Control characters become spaces and '\r' disappears; remap entity bounds accordingly.
    kept: list[str] = []
    new_index = []
    for ch in text:
        new_index.append(len(kept))
        if ch == "\r":
            continue
        kept.append(" " if ord(ch) < 32 and ch != "\n" else ch)
    new_index.append(len(kept))
    for span in spans:
        span[0], span[1] = new_index[span[0]], new_index[span[1]]
    chars = kept

    # An entity never starts with whitespace and never covers only whitespace.
    for span in spans:
        if span[2]["type"] in _HIDDEN_DATA_TYPES:
            continue
        while span[0] < span[1] and chars[span[0]] in " \n":
            span[0] += 1
    spans = [s for s in spans if s[1] > s[0]]

    # Trim: all trailing whitespace, leading whitespace only up to the first entity.
    end = len(chars)
    while end > 0 and chars[end - 1] in " \n":
        end -= 1
    first_entity = min((s[0] for s in spans), default=end)
    start = 0
    while start < min(end, first_entity) and chars[start] in " \n":
        start += 1
    trimmed = "".join(chars[start:end])
    for span in spans:
        span[0] = max(span[0], start) - start
        span[1] = min(span[1], end) - start
    return trimmed, _from_code_points(trimmed, spans)


def find_auto_entities(text: str, existing: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Entities Telegram detects by itself: /commands, URLs, e-mails, @mentions, #hashtags."""
    blocked = [
        (e["offset"], e["offset"] + e["length"])
        for e in existing
        if e["type"] not in SPLITTABLE_TYPES and "blockquote" not in e["type"]
    ]
    prefix = _utf16_prefix(text)
    found: list[dict[str, Any]] = []
    for kind, pattern in _AUTO_PATTERNS:
        for match in pattern.finditer(text):
            start, stop = match.start(), match.end()
            if kind == "url":
                while stop > start and text[stop - 1] in _URL_TRAILING_PUNCTUATION:
                    stop -= 1
            lo, hi = prefix[start], prefix[stop]
            if any(lo < b_hi and b_lo < hi for b_lo, b_hi in blocked):
                continue
            found.append({"type": kind, "offset": lo, "length": hi - lo})
            blocked.append((lo, hi))
    return found


def command_entities(text: str) -> list[dict[str, Any]]:
    """Entities for a message a fake user types (detected the same way as for the bot)."""
    entities = find_auto_entities(text, [])
    entities.sort(key=entity_sort_key)
    return entities


# -- the whole pipeline -------------------------------------------------------------------------


def _explicit_entities(raw: str | None, text: str) -> list[dict[str, Any]]:
    if raw is None or raw == "":
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        raise bad_request("can't parse entities JSON object") from None
    if not isinstance(value, list):
        raise bad_request("can't parse entities JSON object")
    total = utf16_len(text)
    entities = []
    for item in value:
        if not isinstance(item, dict):
            raise bad_request("can't parse MessageEntity: expected an Object")
        kind, offset, length = item.get("type"), item.get("offset"), item.get("length")
        if not isinstance(kind, str) or kind not in ENTITY_TYPES:
            raise bad_request("can't parse MessageEntity: unsupported entity type")
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise bad_request("can't parse MessageEntity: offset and length must be integers")
        if offset + length > total:
            raise bad_request(
                f"entity beginning at UTF-16 offset {offset} ends after the end of the text "
                f"at UTF-16 offset {offset + length}"
            )
        if kind == "text_link":
            url = check_link(str(item.get("url", "")))
            if url is None:
                raise bad_request("wrong HTTP URL specified")
            item = {**item, "url": url}
        entities.append(item)
    return entities


def format_text(
    raw: str,
    parse_mode: str | None,
    entities_json: str | None,
    *,
    strict_html: bool = True,
    resolve_user: Callable[[int], dict[str, Any] | None] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Turn a text parameter into (text, entities) or raise the ApiError the server would."""
    # Imported here: the parsers import helpers from this module.
    from fake_telegram.html import EntityParseError, parse_html
    from fake_telegram.markdown import parse_markdown, parse_markdown_v2

    mode = (parse_mode or "").strip().lower()
    try:
        if mode in ("", "none"):  # the server accepts "none" as "no parse mode"
            text, entities = raw, _explicit_entities(entities_json, raw)
        elif mode == "html":
            text, entities = parse_html(raw, strict_entities=strict_html, resolve_user=resolve_user)
        elif mode == "markdownv2":
            text, entities = parse_markdown_v2(raw, resolve_user=resolve_user)
        elif mode == "markdown":
            text, entities = parse_markdown(raw, resolve_user=resolve_user)
        else:
            raise bad_request("unsupported parse_mode")
    except EntityParseError as error:
        raise bad_request(f"can't parse entities: {error}") from None
    text, entities = normalize(text, entities)
    entities = entities + find_auto_entities(text, entities)
    entities.sort(key=entity_sort_key)
    return text, entities
