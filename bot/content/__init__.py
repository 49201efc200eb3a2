"""All text a patient or a clinician reads, kept as data.

``text(key, **values)`` renders a message from ``messages.yaml``. Values are HTML-escaped
(they may come from a patient) unless wrapped in :class:`Markup`.

``safety.yaml`` holds the one list of emergency and serious symptoms, their routes (999 / A&E,
111 or an urgent GP, routine) and the one rule for how much an exercise may hurt. A content file
writes ``[[name]]`` where a snippet of it belongs, and :func:`expand` puts it in, so every
surface that names those symptoms shows the same list.

Every file is read through :func:`read`: parsed, checked against its schema
(``bot/content/schema.py``) and kept. The directory is this package's own unless the operator
points ``CONTENT_DIR`` elsewhere (:func:`use_dir`, called once at start, before anything is
read). A file that does not parse or fails its schema raises :class:`ContentError`, one line
naming the file and where.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from functools import cache
from pathlib import Path
from string import Formatter
from typing import IO, Any

import yaml

#: The content shipped with the bot.
PACKAGE_DIR = Path(__file__).resolve().parent
_dir = PACKAGE_DIR
_read_from: Path | None = None  # where the first file was read from (then the dir is fixed)


class ContentError(ValueError):
    """A content file that cannot be used: one line naming the file and where."""

    def __init__(self, name: str, where: str, problem: str) -> None:
        place = f"{name}, {where}" if where else name
        # One line: a YAML or pydantic message may span several.
        super().__init__(f"content error: {place}: {' '.join(str(problem).split())}")
        self.name = name


def use_dir(path: str | Path | None) -> None:
    """Read content from ``path`` (None: the package's own). Must come before any file is
    read: the texts, the FAQ index and the red-flag rules are built once from one directory."""
    global _dir
    new = Path(path).resolve() if path else PACKAGE_DIR
    if _read_from is not None and new != _read_from:
        raise RuntimeError(f"content was already read from {_read_from}")
    _dir = new


def content_dir() -> Path:
    return _dir


# LibYAML's parser where PyYAML has it (PyPI's wheels do): the same safe subset of YAML,
# several times faster than the pure-Python one, which was most of the bot's start-up.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_yaml(raw: str | IO[str]) -> Any:
    """``yaml.safe_load``, by LibYAML where it is available (an open file: its errors name
    it)."""
    return yaml.load(raw, Loader=_SAFE_LOADER)  # noqa: S506 - a safe loader


def _parse(name: str, path: Path) -> Any:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(name, "", f"file not found in {path.parent}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContentError(name, "", f"cannot be read: {exc}") from None
    if name.endswith(".json"):
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            where = f"line {exc.lineno}, column {exc.colno}"
            raise ContentError(name, where, f"not valid JSON: {exc.msg}") from None
    try:
        return parse_yaml(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContentError(name, where, f"not valid YAML: {problem}") from None


def check_file(path: Path) -> Any:
    """The data of the content file at ``path``, parsed and checked against the schema of a
    file of that name; :class:`ContentError` if it does not parse or does not fit."""
    from bot.content.schema import check

    data = _parse(path.name, path)
    check(path.name, data, path)
    return data


@cache
def read(name: str) -> Any:
    """The data of content file ``name`` of the content directory, checked (read once)."""
    global _read_from
    _read_from = _dir
    return check_file(_dir / name)


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
def safety() -> dict:
    """``safety.yaml``: the emergency and serious symptoms, routes and the exercise stop rule."""
    return read("safety.yaml")


def _bullets(items: list[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


@cache
def snippets() -> dict[str, str]:
    """The ``[[name]]`` snippets, as plain text."""
    s = safety()
    reviewed = date.fromisoformat(str(s["reviewed"]))
    out = {
        "emergency_signs": _bullets(s["emergency_signs"]),
        "emergency_advice": " ".join(s["emergency_advice"]),
        "accident": s["accident"],
        "urgent_signs": _bullets(s["urgent_signs"]),
        "stop_rule": " ".join(s["stop_rule"].split()),
        "reviewed": f"{reviewed.day} {reviewed:%B %Y}",
        "standard": s["standard"],
    }
    out.update({f"{route}_route": str(v) for route, v in s["routes"].items()})
    return out


_SNIPPET = re.compile(r"\[\[([a-z_]+)\]\]")


def expand(block: str, *, escape: bool = True) -> str:
    """Put each ``[[name]]`` snippet into ``block``, HTML-escaped unless ``escape`` is false.

    An unknown name raises ``ValueError``, so a typo stops the bot at start.
    """

    def sub(m: re.Match[str]) -> str:
        value = snippets().get(m.group(1))
        if value is None:
            raise ValueError(f"unknown content snippet [[{m.group(1)}]]")
        return html.escape(value, quote=False) if escape else value

    return _SNIPPET.sub(sub, block)


def without_snippets(block: str) -> str:
    """``block`` with every snippet it shows (as :func:`expand` rendered it) taken out.

    What is left is the text's own wording: the FAQ matcher learns only from that, and the
    safety test checks that no symptom list is left in it.
    """
    for value in sorted(snippets().values(), key=len, reverse=True):
        for shown in {value, html.escape(value, quote=False)}:
            block = block.replace(shown, " ")
    return block


@cache
def messages() -> dict[str, str]:
    data = read("messages.yaml")
    # Keys starting with "_" are about the file (its version), not messages.
    return {k: unwrap(expand(v)) for k, v in data.items() if not k.startswith("_")}


CONTENT_FILES = (
    "messages.yaml",
    "faq.yaml",
    "exercises.yaml",
    "red_flags.yaml",
    "safety.yaml",
    "proms.yaml",
)


def content_versions() -> dict[str, tuple[int, date]]:
    """Each content file's version and the date it was last clinically reviewed."""
    out = {}
    for name in CONTENT_FILES:
        data = read(name)
        meta = data.get("_content", data)
        out[name] = (int(meta["version"]), date.fromisoformat(str(meta["reviewed"])))
    return out


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
