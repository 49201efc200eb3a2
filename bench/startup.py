"""Start-up time of the bot: ``python bench/startup.py [--runs N]`` from the repository root.

Starts ``recovery-bot run`` (SQLite in a temporary folder, migrated by the bot itself at its
first start) against the fake Bot API, N times, and prints how long each took from the
process starting to its first ``getUpdates``, and the CPU it used by then (from /proc), with
the minimum, median and maximum. Every end-to-end test starts the bot at least once, so this
is most of the suite's time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _harness import code_version, proc_cpu_seconds, read_tail, spawn_logged  # noqa: E402

from fake_telegram.server import FakeBotApi  # noqa: E402

TOKEN = "123456:STARTUP-bench-token"
CLINIC_CHAT_ID = -1001000000001
STAFF_ID = 1001


async def one_start(api: FakeBotApi, workdir: Path) -> tuple[float, float]:
    """Seconds from exec to the first getUpdates, and the bot's CPU seconds by then."""
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'bot.db'}",
        "CLINIC_CHAT_ID": str(CLINIC_CHAT_ID),
        "CLINIC_STAFF_IDS": str(STAFF_ID),
        "CLINIC_TIMEZONE": "Europe/London",
        "PYTHONPATH": str(ROOT),
    }
    log_path = workdir / "bot.log"
    polls_before = len(api.requests("getUpdates"))
    started = time.monotonic()
    argv = [sys.executable, "-m", "bot.cli", "run"]
    proc = await spawn_logged(argv, env=env, cwd=workdir, log_path=log_path)
    try:
        while len(api.requests("getUpdates")) == polls_before:
            if proc.returncode is not None:
                raise SystemExit(f"the bot exited at start:\n{read_tail(log_path)}")
            if time.monotonic() - started > 120:
                raise SystemExit(f"the bot did not poll within 120 s:\n{read_tail(log_path)}")
            await asyncio.sleep(0.01)
        took = time.monotonic() - started
        cpu = proc_cpu_seconds(proc.pid) or 0.0
    finally:
        proc.terminate()
        await proc.wait()
    return took, cpu


async def main(runs: int) -> None:
    api = FakeBotApi(TOKEN)
    await api.start()
    wall: list[float] = []
    cpu: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
            for i in range(runs):
                # The first start migrates a new database; the later ones find it migrated.
                took, used = await one_start(api, Path(tmp))
                wall.append(took)
                cpu.append(used)
                print(f"  start {i + 1}: polling after {took:.2f} s, {used:.2f} s of CPU")
    finally:
        await api.stop()
    print(f"\nStart-up of the bot, commit {code_version()}, nproc {os.cpu_count()}:")
    for name, xs in (("to first getUpdates", wall), ("CPU by then", cpu)):
        print(
            f"  {name:<20} min {min(xs):.2f} s, median {statistics.median(xs):.2f} s, "
            f"max {max(xs):.2f} s ({len(xs)} runs)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
