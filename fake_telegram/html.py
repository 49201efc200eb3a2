"""Strict parser for ``parse_mode=HTML``, following the Bot API "HTML style" rules.

Behaviour and error texts follow the real server (TDLib's HTML parser): only the documented
tags are accepted, tags must nest properly, ``</>`` closes the innermost tag, entity offsets
and lengths are counted in UTF-16 code units, and errors read e.g.
``Unsupported start tag "foo" at byte offset 12`` (the byte offset is into the UTF-8 source).

One deliberate difference: the docs say every ``<``, ``>`` and ``&`` that is not part of a
tag or an HTML entity must be escaped, but the real server silently keeps a stray ``&`` (and
``&nbsp;``-like unknown entities) as literal text. With ``strict_entities=True`` (the default)
this parser rejects them instead, so a bot that forgets to escape user input fails in tests
rather than in production on the first "<3" or "Q&A" that also contains a ``<``.
A bare ``>`` is accepted, as it is by the real server.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fake_telegram.text import check_link, entity_sort_key, utf16_len

_SUPPORTED_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "s", "strike", "del", "u", "ins",
        "tg-spoiler", "tg-emoji", "span", "pre", "code", "blockquote",
    }
)  # fmt: skip
_SIMPLE_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",  # only <span class="tg-spoiler"> gets this far
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SPACES = " \t\r\n\v\f"
_TG_USER_LINK = re.compile(r"^tg://user\?id=(\d{1,20})$", re.IGNORECASE)
_SURROGATE_ERROR = (
    "Text contains invalid Unicode characters after decoding HTML entities, "
    "check for unmatched surrogate code units"
)


class EntityParseError(ValueError):
    """The markup is invalid; ``str(error)`` is the TDLib-style reason."""


@dataclass
class _OpenTag:
    name: str
    argument: str  # href / code language / custom emoji id / "expandable" for blockquote
    utf16_offset: int
    text_index: int  # index into the output character list, to recover an <a>'s own text


def parse_html(
    source: str,
    *,
    strict_entities: bool = True,
    resolve_user: Callable[[int], dict[str, Any] | None] | None = None,
) -> tuple[str, list[dict[str, Any]]]:
    """Return ``(plain_text, entities)`` or raise :class:`EntityParseError`."""
    return _HtmlParser(source, strict_entities, resolve_user).run()


class _HtmlParser:
    def __init__(
        self,
        source: str,
        strict_entities: bool,
        resolve_user: Callable[[int], dict[str, Any] | None] | None,
    ) -> None:
        self.src = source
        self.n = len(source)
        self.strict = strict_entities
        self.resolve_user = resolve_user
        self.out: list[str] = []
        self.u16 = 0  # UTF-16 length of the output so far
        self.stack: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []

    # -- helpers ---------------------------------------------------------------------------

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def fail(self, message: str) -> EntityParseError:
        return EntityParseError(message)

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.u16 += utf16_len(text)

    def skip_spaces(self, j: int) -> int:
        while j < self.n and self.src[j] in _SPACES:
            j += 1
        return j

    # -- main loop -------------------------------------------------------------------------

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        i = 0
        while i < self.n:
            ch = self.src[i]
            if ch == "&":
                i = self.character_reference(i)
            elif ch == "<":
                if i + 1 < self.n and self.src[i + 1] == "/":
                    i = self.end_tag(i)
                else:
                    i = self.start_tag(i)
            else:
                self.emit(ch)
                i += 1
        if self.stack:
            raise self.fail(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        for entity in self.entities:
            entity.pop("_lang", None)  # a code language only survives inside a <pre>
        self.entities.sort(key=entity_sort_key)
        return "".join(self.out), self.entities

    # -- character references ----------------------------------------------------------------

    def decode_reference(self, i: int, *, strict: bool) -> tuple[str | None, int]:
        """Decode ``&...`` at ``i``; return (text or None if not a reference, next index)."""
        src, n = self.src, self.n
        j = i + 1
        if j < n and src[j] == "#":
            j += 1
            hexadecimal = j < n and src[j] in "xX"
            if hexadecimal:
                j += 1
            digits_start = j
            allowed = "0123456789abcdefABCDEF" if hexadecimal else "0123456789"
            while j < n and src[j] in allowed:
                j += 1
            digits = src[digits_start:j]
            if not digits or j - i >= 10:
                return None, i
            code = int(digits, 16 if hexadecimal else 10)
            if code == 0 or code >= 0x10FFFF:
                return None, i
            if 0xD800 <= code <= 0xDFFF:
                raise self.fail(_SURROGATE_ERROR)
            text = chr(code)
        else:
            while j < n and src[j].isascii() and src[j].isalpha():
                j += 1
            text = _NAMED_ENTITIES.get(src[i + 1 : j])
            if text is None:
                return None, i
        if j < n and src[j] == ";":
            return text, j + 1
        if strict:
            return None, i  # the docs require the terminating ';'
        return text, j

    def character_reference(self, i: int) -> int:
        text, end = self.decode_reference(i, strict=self.strict)
        if text is not None:
            self.emit(text)
            return end
        if self.strict:
            match = re.match(r"&#?[0-9A-Za-z]+;", self.src[i:])
            where = f"at byte offset {self.byte_offset(i)}"
            if match:
                raise self.fail(f'Unsupported HTML entity "{match.group(0)}" {where}')
            raise self.fail(f'Character "&" must be escaped as "&amp;" {where}')
        self.emit("&")  # what the real server does with a stray '&'
        return i + 1

    # -- tags ------------------------------------------------------------------------------

    def start_tag(self, i: int) -> int:
        src, n = self.src, self.n
        offset = self.byte_offset(i)
        j = i + 1
        while j < n and src[j] not in _SPACES and src[j] != ">":
            j += 1
        if j == n:
            raise self.fail(f"Unclosed start tag at byte offset {offset}")
        name = src[i + 1 : j].lower()
        if name not in _SUPPORTED_TAGS:
            raise self.fail(f'Unsupported start tag "{name}" at byte offset {offset}')

        attributes: dict[str, str] = {}
        while True:
            j = self.skip_spaces(j)
            if j == n:
                raise self.fail(f"Unclosed start tag at byte offset {offset}")
            if src[j] == ">":
                j += 1
                break
            attr_start = j
            while j < n and src[j] not in _SPACES and src[j] not in "=>":
                j += 1
            attr = src[attr_start:j]
            if not attr:
                raise self.fail(f'Empty attribute name in the tag "{name}" at byte offset {offset}')
            j = self.skip_spaces(j)
            if j == n or src[j] != "=":
                attributes[attr] = ""  # a value-less attribute such as "expandable"
                continue
            j = self.skip_spaces(j + 1)
            if j == n:
                raise self.fail(f'Unclosed start tag "{name}" at byte offset {offset}')
            if src[j] in "\"'":
                value, j = self.quoted_value(j, offset)
            else:
                token_start = j
                while j < n and src[j].isascii() and (src[j].isalnum() or src[j] in ".-"):
                    j += 1
                if j == n or (src[j] not in _SPACES and src[j] != ">"):
                    token_offset = self.byte_offset(token_start)
                    raise self.fail(f"Unexpected end of name token at byte offset {token_offset}")
                value = src[token_start:j].lower()  # HTML name tokens are case-insensitive
            attributes[attr] = value

        argument = ""
        if name == "a":
            argument = attributes.get("href", "")
        elif name == "code":
            klass = attributes.get("class", "")
            argument = klass[len("language-") :] if klass.startswith("language-") else ""
        elif name == "span":
            if attributes.get("class") != "tg-spoiler":
                raise self.fail(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        elif name == "tg-emoji":
            argument = attributes.get("emoji-id", "")
        elif name == "blockquote":
            argument = "expandable" if "expandable" in attributes else ""
        self.stack.append(_OpenTag(name, argument, self.u16, len(self.out)))
        return j

    def quoted_value(self, j: int, tag_offset: int) -> tuple[str, int]:
        # Attribute values decode entities leniently, like the real server: hrefs with an
        # unescaped '&' in the query string are too common to reject.
        quote = self.src[j]
        j += 1
        parts: list[str] = []
        while j < self.n and self.src[j] != quote:
            if self.src[j] == "&":
                text, end = self.decode_reference(j, strict=False)
                if text is not None:
                    parts.append(text)
                    j = end
                    continue
            parts.append(self.src[j])
            j += 1
        if j == self.n:
            raise self.fail(f"Unclosed start tag at byte offset {tag_offset}")
        return "".join(parts), j + 1

    def end_tag(self, i: int) -> int:
        src, n = self.src, self.n
        offset = self.byte_offset(i)
        if not self.stack:
            raise self.fail(f"Unexpected end tag at byte offset {offset}")
        j = i + 2
        while j < n and src[j] not in _SPACES and src[j] != ">":
            j += 1
        end_name = src[i + 2 : j].lower()
        j = self.skip_spaces(j)
        if j == n or src[j] != ">":
            raise self.fail(f"Unclosed end tag at byte offset {offset}")
        top = self.stack[-1]
        if end_name and end_name != top.name:
            raise self.fail(
                f'Unmatched end tag at byte offset {offset}, expected "</{top.name}>", '
                f'found "</{end_name}>"'
            )
        self.stack.pop()
        if self.u16 > top.utf16_offset:  # empty tags produce no entity
            self.close_entity(top)
        return j + 1

    def close_entity(self, tag: _OpenTag) -> None:
        offset, length = tag.utf16_offset, self.u16 - tag.utf16_offset
        last = self.entities[-1] if self.entities else None
        same_range = last is not None and last["offset"] == offset and last["length"] == length
        entity: dict[str, Any]
        if tag.name in _SIMPLE_TYPES:
            entity = {"type": _SIMPLE_TYPES[tag.name], "offset": offset, "length": length}
        elif tag.name == "tg-emoji":
            if not tag.argument.isdigit() or int(tag.argument) == 0:
                raise self.fail("Invalid custom emoji identifier specified")
            entity = {"type": "custom_emoji", "offset": offset, "length": length}
            entity["custom_emoji_id"] = tag.argument
        elif tag.name == "a":
            maybe = self.link_entity(tag, offset, length)
            if maybe is None:
                return  # an invalid URL silently produces plain text, as on the real server
            entity = maybe
        elif tag.name == "pre":
            # <code class="language-x"><pre>..</pre></code> and <pre><code class=..> both
            # collapse into one "pre" entity that carries the language.
            if same_range and last is not None and last["type"] == "code" and last.get("_lang"):
                last["type"] = "pre"
                last["language"] = last.pop("_lang")
                return
            entity = {"type": "pre", "offset": offset, "length": length}
        elif tag.name == "code":
            if same_range and last is not None and last["type"] == "pre" and tag.argument:
                last["language"] = tag.argument
                return
            entity = {"type": "code", "offset": offset, "length": length}
            if tag.argument:
                entity["_lang"] = tag.argument  # only meaningful if a <pre> wraps it exactly
        else:  # blockquote
            kind = "expandable_blockquote" if tag.argument else "blockquote"
            entity = {"type": kind, "offset": offset, "length": length}
        self.entities.append(entity)

    def link_entity(self, tag: _OpenTag, offset: int, length: int) -> dict[str, Any] | None:
        url = tag.argument or "".join(self.out[tag.text_index :])
        user_match = _TG_USER_LINK.match(url)
        if user_match:
            user = self.resolve_user(int(user_match.group(1))) if self.resolve_user else None
            if user is None:
                return None
            return {"type": "text_mention", "offset": offset, "length": length, "user": user}
        checked = check_link(url)
        if checked is None:
            return None
        return {"type": "text_link", "offset": offset, "length": length, "url": checked}
