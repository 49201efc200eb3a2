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


@cache
def messages() -> dict[str, str]:
    with open(CONTENT_DIR / "messages.yaml", encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}


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
