"""An injectable clock, so tests can run hours of schedule in seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FileClock:
    """Reads the current instant (ISO 8601) from a file that a test moves forward.

    Falls back to the system clock while the file is missing or empty.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def now(self) -> datetime:
        try:
            raw = self.path.read_text().strip()
        except FileNotFoundError:
            raw = ""
        if not raw:
            return datetime.now(UTC)
        value = datetime.fromisoformat(raw)
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def make_clock(clock_file: str | None) -> Clock:
    return FileClock(clock_file) if clock_file else SystemClock()
