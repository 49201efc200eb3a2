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
        self._seen: tuple[int, int, int] | None = None  # the file as last read
        self._value: datetime | None = None

    def now(self) -> datetime:
        try:
            st = self.path.stat()
            seen = (st.st_ino, st.st_mtime_ns, st.st_size)  # tests replace it: a new inode
            if seen != self._seen:  # read again only once it changed
                raw = self.path.read_text().strip()
        except FileNotFoundError:
            return datetime.now(UTC)
        if seen != self._seen:
            self._seen = seen
            value = datetime.fromisoformat(raw) if raw else None
            self._value = value if value is None or value.tzinfo else value.replace(tzinfo=UTC)
        return self._value or datetime.now(UTC)


def make_clock(clock_file: str | None) -> Clock:
    return FileClock(clock_file) if clock_file else SystemClock()
