"""End-to-end harness: the real bot process, talking HTTP to the fake Bot API in this process."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from fake_telegram import FakeBotApi
from storage.migrate import upgrade
from tests.support import Db, fresh_database_url

TOKEN = "424242:fake-token-used-only-by-the-tests"
CLINIC_CHAT = -1001000000001
STAFF = 1001
OTHER_STAFF = 1002
NOT_STAFF = 1003  # in the clinic group, but not on the staff list
REPO = Path(__file__).resolve().parents[2]


class BotProcess:
    """``recovery-bot run`` as a subprocess, pointed at the fake API."""

    def __init__(self, api: FakeBotApi, db_url: str, workdir: Path, **env: str) -> None:
        self.api = api
        self.workdir = workdir
        self.clock_file = workdir / "clock.txt"
        self.log_path = workdir / "bot.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)},
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": db_url,
            "CLINIC_CHAT_ID": str(CLINIC_CHAT),
            "CLINIC_STAFF_IDS": f"{STAFF},{OTHER_STAFF}",
            "CLINIC_NAME": "Riverside Physio",
            "CLOCK_FILE": str(self.clock_file),
            "TICK_SECONDS": "0.3",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.proc: subprocess.Popen | None = None

    def set_clock(self, when: datetime) -> None:
        # Atomic: the bot must never read a half-written (empty) clock file.
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(when.astimezone(UTC).isoformat())
        os.replace(tmp, self.clock_file)

    async def start(self) -> None:
        polls_before = self._polls()
        log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log = log
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run"],
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        # Ready when it polls for updates (up to 30 s: a loaded machine starts slowly).
        for _ in range(600):
            if self._polls() > polls_before:
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"bot exited at start:\n{self.log()}")
            await asyncio.sleep(0.05)
        # Never leave it running: on its own clock it would go on working in the database
        # the next test uses.
        self.proc.kill()
        self.proc.wait()
        raise AssertionError(f"bot did not start polling:\n{self.log()}")

    def _polls(self) -> int:
        return sum(1 for method, _ in self.api.requests() if method.lower() == "getupdates")

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            for _ in range(200):
                if self.proc.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
async def api():
    fake = FakeBotApi(TOKEN)
    await fake.start()
    fake.add_user(STAFF, "Dana", username="dana_physio")
    fake.add_user(OTHER_STAFF, "Lee")
    fake.add_user(NOT_STAFF, "Visitor")
    fake.add_group(CLINIC_CHAT, "Riverside Physio staff", members=[STAFF, OTHER_STAFF, NOT_STAFF])
    yield fake
    await fake.stop()


@pytest.fixture
async def db_url(backend, tmp_path):
    url = await fresh_database_url(backend, tmp_path)
    await asyncio.to_thread(upgrade, url)
    return url


@pytest.fixture
async def db(db_url):
    d = Db(db_url)
    yield d
    await d.close()


@pytest.fixture
async def bot(api, db_url, tmp_path):
    proc = BotProcess(api, db_url, tmp_path)
    try:
        await proc.start()
        yield proc
    finally:
        await proc.stop()
    # Shown by pytest only when the test failed.
    print("---- bot log (tail) ----\n" + "\n".join(proc.log().splitlines()[-60:]))
