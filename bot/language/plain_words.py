"""Plain requests and small talk: "help", "menu", "hi", "thanks", "👍".

A patient types "help" where a command was expected, or says hello or thank you. Matched as
questions, these find the FAQ's nearest topic (for "help": when to get urgent help) or none;
they deserve the help, or a short friendly pointer instead. The words are content
(``bot/content/plain_words.yaml``); a message counts only if it is made of them and nothing
else. The caller checks for red flags first: they always win.

Pure: no Telegram, no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from bot.content import read

__all__ = ["KINDS", "Vocabulary", "plain_request", "vocabulary"]

#: What a message can be, most telling first (a message with several is the first of them).
KINDS = ("help", "thanks", "greeting", "ok")
MAX_LENGTH = 120  # longer than any small talk: something else is being said
_APOSTROPHES = re.compile(r"['’‘`´]")
_NOT_WORD = re.compile(r"[^\w]+")
# Parts of an emoji that are not the picture: joiners, variation selectors, skin tones.
_EMOJI_PARTS = {"\u200d", "\ufe0f", "\ufe0e", "\u20e3"} | {chr(c) for c in range(0x1F3FB, 0x1F400)}


@dataclass(frozen=True)
class Vocabulary:
    phrases: dict[tuple[str, ...], str]  # words -> kind ("filler" for words that add nothing)
    longest: int
    emoji_ok: frozenset[str]
    emoji_help: frozenset[str]


def _words(text: str) -> list[str]:
    text = _APOSTROPHES.sub("", text.lower())
    return [w for w in _NOT_WORD.sub(" ", text).split() if w and w != "_"]


def _bare(emoji: str) -> str:
    return "".join(c for c in emoji if c not in _EMOJI_PARTS)


def build_vocabulary(data: dict) -> Vocabulary:
    phrases: dict[tuple[str, ...], str] = {}
    for kind in ("filler", *reversed(KINDS)):  # the more telling kind wins a shared phrase
        for phrase in data[kind]:
            phrases[tuple(_words(phrase))] = kind
    phrases.pop((), None)
    return Vocabulary(
        phrases=phrases,
        longest=max(len(p) for p in phrases),
        emoji_ok=frozenset(_bare(e) for e in data["emoji_ok"]),
        emoji_help=frozenset(_bare(e) for e in data["emoji_help"]),
    )


@cache
def vocabulary() -> Vocabulary:
    """Built once from ``plain_words.yaml`` of the content directory."""
    return build_vocabulary(read("plain_words.yaml"))


def _is_emoji(c: str) -> bool:
    return unicodedata.category(c) == "So" or c in _EMOJI_PARTS


def plain_request(text: str | None, vocab: Vocabulary | None = None) -> str | None:
    """``help``, ``thanks``, ``greeting`` or ``ok`` when the whole message is that; ``emoji``
    for emoji only that say none of these; None for anything else (a question, a note...)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_LENGTH:
        return None
    vocab = vocab or vocabulary()
    emoji = {c for c in text if _is_emoji(c)} - _EMOJI_PARTS
    words = _words("".join(" " if _is_emoji(c) else c for c in text))
    kinds = _kinds(words, vocab)
    if kinds is None:  # other words: a question, a note...
        return None
    if emoji & vocab.emoji_help:
        return "help"
    if not words:
        if not emoji:
            return None  # "?" or "..."
        return "ok" if emoji <= vocab.emoji_ok else "emoji"
    return next((k for k in KINDS if k in kinds), None)  # None: filler only


def _kinds(words: list[str], vocab: Vocabulary) -> set[str] | None:
    """The kinds of the phrases that make up ``words`` (longest phrase first, filler left
    out), or None if some words are not small talk."""
    kinds: set[str] = set()
    i = 0
    while i < len(words):
        for n in range(min(vocab.longest, len(words) - i), 0, -1):
            kind = vocab.phrases.get(tuple(words[i : i + n]))
            if kind is not None:
                kinds.add(kind)
                i += n
                break
        else:
            return None
    kinds.discard("filler")
    return kinds
