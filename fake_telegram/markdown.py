"""Parsers for ``parse_mode=MarkdownV2`` and the legacy ``parse_mode=Markdown``.

Both follow the Bot API "Formatting options" section and answer with TDLib-style reasons,
e.g. ``Character '.' is reserved and must be escaped with the preceding '\\'`` or
``Can't find end of Bold entity at byte offset 7``. They cover the documented syntax; exotic
corners (tg://time links, nested blockquote tricks) are not modelled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fake_telegram.html import EntityParseError
from fake_telegram.text import check_link, entity_sort_key, utf16_len

_RESERVED_V2 = set("_*[]()~`>#+-=|{}.!")
_ENTITY_NAMES = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}
_MARKERS = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_TG_USER_LINK = re.compile(r"^tg://user\?id=(\d{1,20})$", re.IGNORECASE)
_TG_EMOJI_LINK = re.compile(r"^tg://emoji\?id=(\d{1,20})$", re.IGNORECASE)

UserResolver = Callable[[int], dict[str, Any] | None]


@dataclass
class _Open:
    kind: str
    utf16_offset: int
    byte_offset: int
    text_index: int


@dataclass
class _Output:
    chars: list[str] = field(default_factory=list)
    u16: int = 0
    entities: list[dict[str, Any]] = field(default_factory=list)

    def emit(self, text: str) -> None:
        self.chars.append(text)
        self.u16 += utf16_len(text)

    def add(self, kind: str, start: int, **extra: Any) -> None:
        if self.u16 > start:
            self.entities.append(
                {"type": kind, "offset": start, "length": self.u16 - start, **extra}
            )

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        self.entities.sort(key=entity_sort_key)
        return "".join(self.chars), self.entities


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


def _link(url: str, start: int, out: _Output, resolve_user: UserResolver | None) -> None:
    user_match = _TG_USER_LINK.match(url)
    if user_match:
        user = resolve_user(int(user_match.group(1))) if resolve_user else None
        if user is not None:
            out.add("text_mention", start, user=user)
        return
    checked = check_link(url)
    if checked is not None:
        out.add("text_link", start, url=checked)


def parse_markdown_v2(
    src: str, *, resolve_user: UserResolver | None = None
) -> tuple[str, list[dict[str, Any]]]:
    out = _Output()
    stack: list[_Open] = []
    n = len(src)
    i = 0
    blockquote: _Open | None = None

    def unexpected(ch: str) -> EntityParseError:
        return EntityParseError(
            f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
        )

    while i < n:
        ch = src[i]
        at_line_start = i == 0 or src[i - 1] == "\n"

        if at_line_start and blockquote is None and (ch == ">" or src.startswith("**>", i)):
            expandable = ch == "*"
            blockquote = _Open(
                "expandable_blockquote" if expandable else "blockquote",
                out.u16,
                _byte_offset(src, i),
                len(out.chars),
            )
            i += 3 if expandable else 1
            continue
        if at_line_start and blockquote is not None and blockquote.kind == "blockquote":
            if ch == ">":  # the quotation continues on this line
                i += 1
                continue
        if ch == "\n" and blockquote is not None and blockquote.kind == "blockquote":
            if not src.startswith(">", i + 1):
                out.add(blockquote.kind, blockquote.utf16_offset)
                blockquote = None
        if (
            blockquote is not None
            and blockquote.kind == "expandable_blockquote"
            and src.startswith("||", i)
            and (i + 2 == n or src[i + 2] == "\n")
            and not (stack and stack[-1].kind == "spoiler")
        ):
            out.add(blockquote.kind, blockquote.utf16_offset)
            blockquote = None
            i += 2
            continue

        if ch == "\\" and i + 1 < n and 1 <= ord(src[i + 1]) <= 126:
            out.emit(src[i + 1])
            i += 2
            continue
        if ch == "`":
            i = _code_v2(src, i, out)
            continue
        marker = "__" if src.startswith("__", i) else "||" if src.startswith("||", i) else ch
        if marker in _MARKERS:
            kind = _MARKERS[marker]
            if stack and stack[-1].kind == kind:
                opened = stack.pop()
                out.add(kind, opened.utf16_offset)
            else:
                stack.append(_Open(kind, out.u16, _byte_offset(src, i), len(out.chars)))
            i += len(marker)
            continue
        if ch == "[" or src.startswith("![", i):
            kind = "custom_emoji" if ch == "!" else "text_link"
            stack.append(_Open(kind, out.u16, _byte_offset(src, i), len(out.chars)))
            i += 2 if ch == "!" else 1
            continue
        if ch == "]" and stack and stack[-1].kind in ("text_link", "custom_emoji"):
            opened = stack.pop()
            i += 1
            if i < n and src[i] == "(":
                url, i = _url_v2(src, i + 1)
            elif opened.kind == "custom_emoji":
                raise EntityParseError("The entity must contain a tg://emoji or tg://time URL")
            else:
                url = "".join(out.chars[opened.text_index :])
            if opened.kind == "custom_emoji":
                emoji = _TG_EMOJI_LINK.match(url)
                if not emoji:
                    raise EntityParseError("Invalid tg://emoji or tg://time URL specified")
                out.add("custom_emoji", opened.utf16_offset, custom_emoji_id=emoji.group(1))
            else:
                _link(url, opened.utf16_offset, out, resolve_user)
            continue
        if ch in _RESERVED_V2:
            raise unexpected(ch)
        out.emit(ch)
        i += 1

    if stack:
        opened = stack[-1]
        name = _ENTITY_NAMES[opened.kind]
        raise EntityParseError(
            f"Can't find end of {name} entity at byte offset {opened.byte_offset}"
        )
    if blockquote is not None:
        if blockquote.kind == "expandable_blockquote":
            raise EntityParseError(
                f"Can't find end of ExpandableBlockQuote entity at byte offset "
                f"{blockquote.byte_offset}"
            )
        out.add(blockquote.kind, blockquote.utf16_offset)
    return out.result()


def _code_v2(src: str, i: int, out: _Output) -> int:
    """Parse `code` or ```pre``` starting at i; inside, only '`' and '\\' are escaped."""
    n = len(src)
    is_pre = src.startswith("```", i)
    start_offset = _byte_offset(src, i)
    j = i + (3 if is_pre else 1)
    language = ""
    if is_pre:
        line_end = src.find("\n", j)
        first_line = src[j:line_end] if line_end != -1 else ""
        if line_end != -1 and first_line and not any(c in first_line for c in " `\\"):
            language = first_line
            j = line_end + 1
    start_u16 = out.u16
    closing = "```" if is_pre else "`"
    while j < n:
        if src[j] == "\\" and j + 1 < n and 1 <= ord(src[j + 1]) <= 126:
            out.emit(src[j + 1])
            j += 2
            continue
        if src.startswith(closing, j):
            if is_pre:
                extra = {"language": language} if language else {}
                out.add("pre", start_u16, **extra)
            else:
                out.add("code", start_u16)
            return j + len(closing)
        out.emit(src[j])
        j += 1
    name = "Code" if not is_pre else ("PreCode" if language else "Pre")
    raise EntityParseError(f"Can't find end of {name} entity at byte offset {start_offset}")


def _url_v2(src: str, j: int) -> tuple[str, int]:
    """Read a link target after '(' ; ')' and '\\' must be escaped inside it."""
    url_offset = _byte_offset(src, j)
    parts = []
    while j < len(src):
        if src[j] == "\\" and j + 1 < len(src):
            parts.append(src[j + 1])
            j += 2
            continue
        if src[j] == ")":
            return "".join(parts), j + 1
        parts.append(src[j])
        j += 1
    raise EntityParseError(f"Can't find end of a URL at byte offset {url_offset}")


def parse_markdown(
    src: str, *, resolve_user: UserResolver | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """Legacy Markdown: *bold*, _italic_, `code`, ```pre```, [text](url); no nesting."""
    out = _Output()
    n = len(src)
    i = 0
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n and src[i + 1] in "_*`[":
            out.emit(src[i + 1])
            i += 2
            continue
        if ch not in "_*`[":
            out.emit(ch)
            i += 1
            continue
        begin = _byte_offset(src, i)
        not_found = EntityParseError(
            f"Can't find end of the entity starting at byte offset {begin}"
        )
        start = out.u16
        if ch == "[":
            close = src.find("]", i + 1)
            if close == -1 or not src.startswith("(", close + 1) or src.find(")", close) == -1:
                raise not_found
            end_url = src.find(")", close)
            out.emit(src[i + 1 : close])
            _link(src[close + 2 : end_url], start, out, resolve_user)
            i = end_url + 1
            continue
        if src.startswith("```", i):
            close = src.find("```", i + 3)
            if close == -1:
                raise not_found
            body = src[i + 3 : close]
            language = ""
            first, newline, rest = body.partition("\n")
            if newline and first and " " not in first:
                language, body = first, rest
            out.emit(body)
            out.add("pre", start, **({"language": language} if language else {}))
            i = close + 3
            continue
        close = src.find(ch, i + 1)
        if close == -1:
            raise not_found
        out.emit(src[i + 1 : close])
        out.add({"*": "bold", "_": "italic", "`": "code"}[ch], start)
        i = close + 1
    return out.result()
