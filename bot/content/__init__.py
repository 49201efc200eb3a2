"""All text a patient or a clinician reads, kept as data.

``text(key, **values)`` renders a message from ``messages.yaml``. Values are HTML-escaped
(they may come from a patient) unless wrapped in :class:`Markup`.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path
from string import Formatter

import yaml

CONTENT_DIR = Path(__file__).parent


class Markup(str):
    """A value that is already safe HTML (rendered by us, not typed by a user)."""


# The YAML is wrapped for editors, not for small screens: a line continues the one above when
# that one was long (wrapped prose), unless it starts a list item or a heading. A short line
# ends where it ends (a title, a placeholder on its own line).
_LINE_STARTS = ("•", "/", "<b>", "⚠️", "✅", "🚨", "🔁", "📝", "❓", "💬")
_WRAPPED = 60


def unwrap(block: str) -> str:
    paragraphs = []
    for para in block.strip().split("\n\n"):
        lines: list[str] = []
        for line in para.splitlines():
            line = line.strip()
            if (
                lines
                and len(lines[-1].split("\n")[-1]) >= _WRAPPED
                and not line.startswith(_LINE_STARTS)
            ):
                lines[-1] += " " + line
            else:
                lines.append(line)
        paragraphs.append("\n".join(lines))
    return "\n\n".join(paragraphs)


@cache
def messages() -> dict[str, str]:
    with open(CONTENT_DIR / "messages.yaml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {k: unwrap(v) for k, v in data.items()}


def placeholders(key: str) -> set[str]:
    return {f for _, f, _, _ in Formatter().parse(messages()[key]) if f}


def text(key: str, **values: object) -> str:
    template = messages()[key]
    safe = {
        k: v if isinstance(v, Markup) else html.escape(str(v), quote=False)
        for k, v in values.items()
    }
    return template.format(**safe)


def label(key: str) -> str:
    """Button labels are plain text (Telegram does not parse HTML in them)."""
    return messages()[key]
