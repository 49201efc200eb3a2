"""Plumbing the benchmark scripts share: the bot's CPU from /proc, its log, the commit
measured, a child that dies with its parent, and the lag of this process's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process (its threads included), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            raw = fh.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw.rsplit(")", 1)[1].split()  # the command name may contain spaces
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def read_tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


def run_quiet(argv: list[str]) -> str:
    """A command's output in the repository, or "" if it failed."""
    try:
        done = subprocess.run(
            argv, cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def code_version() -> str:
    """The commit measured, and whether bot/ or storage/ had uncommitted changes (read-only)."""
    commit = run_quiet(["git", "rev-parse", "--short", "HEAD"]) or "unknown commit"
    dirty = run_quiet(["git", "status", "--porcelain", "--", "bot", "storage"])
    return commit + (" (with uncommitted changes in bot/ or storage/)" if dirty else "")


def die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if this benchmark dies without cleaning up."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


async def spawn_logged(
    argv: list[str], *, env: dict[str, str], cwd: Path, log_path: Path
) -> asyncio.subprocess.Process:
    """Start a child with its output appended to ``log_path``; it dies with this process."""
    log = open(log_path, "ab")  # noqa: ASYNC230 - opening a local log file is instant
    try:
        return await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=die_with_parent,
        )
    finally:
        log.close()  # the child has its own copy of the descriptor


class LoopLag:
    """How late this process's event loop wakes up. It serves the fake API: a stall here would
    bunch requests together (429s that are not the bot's fault) and add to every latency
    measured. Lags under ``floor`` seconds are not kept."""

    def __init__(self, period: float = 0.01, floor: float = 0.0) -> None:
        self.period = period
        self.floor = floor
        self.late: list[tuple[float, float]] = []  # (when it went to sleep, seconds late)
        self._task: asyncio.Task | None = None

    async def _watch(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.period)
            lag = time.monotonic() - before - self.period
            if lag >= self.floor:
                self.late.append((before, lag))

    def worst(self, start: float, end: float) -> float:
        return max((lag for at, lag in self.late if start <= at <= end), default=0.0)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
