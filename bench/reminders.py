"""Benchmark of scheduled pushes: ``python bench/reminders.py [--patients N]`` from the repo root.

Issue 4, item 5. Everything runs on this machine over loopback: the strict fake Bot API
(``fake_telegram``) in this process, the real bot (``recovery-bot run``) as a subprocess, and
PostgreSQL on 127.0.0.1 (an SQLite file when PostgreSQL cannot be reached; the table says so).

(a) Burst, no rate limit. N patients (default 100,000) each have one check-in reminder due in
    the same minute (2026-06-01 09:00 Europe/London = 08:00 UTC). The fake's flood control is
    off and the bot runs with ``SEND_RATE_PER_SECOND=0``. Measured: prompts per second from the
    first to the last delivered prompt (timestamped by the fake as it stores each message), the
    time from starting the bot to the first prompt, and the bot process's peak memory (VmHWM).
    Targets: >= 1,000 messages a second, < 300 MB.
(b) Rate-limited. A fresh database with 2,000 patients due; the fake enforces 30 messages a
    second (and 20 a minute per group) and answers 429 beyond that; the bot runs with
    ``SEND_RATE_PER_SECOND=30``. Measured over a fixed window after the first prompt: the
    achieved rate and the number of 429 answers. Targets: >= 95 % of 30/s, zero 429.
(c) The obvious alternative, side by side: one PTB JobQueue ``run_daily`` job per patient, in a
    subprocess (this same file, ``--jobqueue-child``): the time to add the N jobs and start the
    scheduler, and that process's peak memory. It then lets all N jobs fall due in the same
    second (their callbacks do nothing) and counts how many ran and how many APScheduler skipped
    as misfired (its default ``misfire_grace_time`` is 1 s).

They run in the order (c), (b), (a): (a) is the long one and gets what is left of the time
budget (``--budget``, 600 s); if it cannot deliver everything by then, the bot is stopped and the
prompts delivered so far are reported. The table also shows where the CPU went while (a) was
sending (bot, fake API, PostgreSQL backends, rest of the machine); ``--profile-bot`` adds a
breakdown of the bot's own CPU by library (``bench/_sampler.py``, a sampling profiler).

It prints one table, exits non-zero when a target is missed (naming it), and stops every process
it started, also on error or Ctrl-C. ``--patients 2000`` makes a quick trial run; ``--only a``
runs one scenario. Logs of each bot run are kept in a fresh temporary folder whose path is
printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import shlex
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from _harness import LoopLag, code_version, proc_cpu_seconds, read_tail, spawn_logged

THIS_FILE = Path(__file__).resolve()
ROOT = THIS_FILE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# --------------------------------------------------------------------------------------------
# Scenario and targets
# --------------------------------------------------------------------------------------------

TOKEN = "424242:bench-token-for-the-fake-api-only"
CLINIC_CHAT_ID = -1001
STAFF_ID = 1
FIRST_USER_ID = 10_000_000  # patient number i (1-based) has Telegram user id FIRST_USER_ID + i
TIMEZONE = "Europe/London"
LOCAL_TIME = "09:00"
DUE_AT = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 09:00 BST
CLOCK_AT = DUE_AT + timedelta(seconds=1)  # the bot's "now" (CLOCK_FILE)
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/bench"

TARGET_RATE = 1000.0  # (a) messages a second
TARGET_PEAK_MB = 300.0  # (a) bot process VmHWM
LIMIT_PER_SECOND = 30  # (b) Telegram's overall limit, enforced by the fake
TARGET_LIMITED_SHARE = 0.95  # (b) achieved / limit
MB = 1024 * 1024
STOP_GRACE = 15.0  # seconds between SIGTERM and SIGKILL when stopping a child


# --------------------------------------------------------------------------------------------
# Small helpers: /proc readings, formatting
# --------------------------------------------------------------------------------------------


def proc_status_kb(pid: int | str, field_name: str) -> int | None:
    """A ``kB`` field of /proc/<pid>/status (VmHWM = peak resident set), or None if gone."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies over all cores since boot, from /proc/stat."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return float(sum(values) - idle), float(sum(values))


@dataclass
class CpuSample:
    at: float  # time.monotonic()
    bot: float  # CPU seconds of the bot process
    bench: float  # CPU seconds of this process (the fake Bot API lives here)
    postgres: float  # CPU seconds of the PostgreSQL processes serving the bench database
    busy: float  # machine busy jiffies
    total: float  # machine jiffies


class PostgresCpu:
    """CPU time of the PostgreSQL server processes that work for the benchmark: the backends
    connected to its database plus the background ones (WAL writer, checkpointer...).

    A backend that goes away keeps the last CPU time seen for it, so the sum never drops.
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: Any = None
        self._seen: dict[int, float] = {}

    async def open(self) -> None:
        if self.db.is_postgres:
            import asyncpg

            self._conn = await asyncpg.connect(self.db._dsn())

    async def seconds(self) -> float:
        if self._conn is None:
            return 0.0
        pids = await self._conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            "AND (datname = current_database() OR backend_type <> 'client backend')"
        )
        for (pid,) in pids:
            cpu = proc_cpu_seconds(pid)
            if cpu is not None:
                self._seen[pid] = max(cpu, self._seen.get(pid, 0.0))
        return sum(self._seen.values())

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


async def cpu_sample(bot_pid: int, pg: PostgresCpu) -> CpuSample:
    postgres = await pg.seconds()
    busy, total = machine_cpu()
    bot = proc_cpu_seconds(bot_pid) or 0.0
    return CpuSample(time.monotonic(), bot, time.process_time(), postgres, busy, total)


@dataclass
class CpuSplit:
    """Cores used on average between two samples."""

    bot: float
    bench: float
    postgres: float | None  # None: SQLite, which works inside the bot process
    other: float  # the rest of the machine (kernel, other programs)

    def __str__(self) -> str:
        db = "SQLite inside the bot" if self.postgres is None else f"PostgreSQL {self.postgres:.2f}"
        return f"bot {self.bot:.2f}, fake API {self.bench:.2f}, {db}, other {self.other:.2f}"


def cpu_split(first: CpuSample, last: CpuSample, postgres: bool) -> CpuSplit | None:
    wall = last.at - first.at
    if wall <= 0 or last.total <= first.total:
        return None
    cores = os.cpu_count() or 1
    machine = (last.busy - first.busy) / (last.total - first.total) * cores
    bot = (last.bot - first.bot) / wall
    bench = (last.bench - first.bench) / wall
    pg = (last.postgres - first.postgres) / wall
    return CpuSplit(bot, bench, pg if postgres else None, max(0.0, machine - bot - bench - pg))


def fmt_int(n: float) -> str:
    return f"{n:,.0f}"


def write_text(path: Path, content: str) -> None:
    path.write_text(content)


def remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


# --------------------------------------------------------------------------------------------
# Child processes: every one is tracked and stopped, whatever happens
# --------------------------------------------------------------------------------------------


class Processes:
    """The processes this benchmark started; :meth:`stop_all` ends each of them by its pid."""

    def __init__(self) -> None:
        self._running: list[asyncio.subprocess.Process] = []

    async def start(
        self, argv: list[str], *, env: dict[str, str], cwd: Path, log_path: Path
    ) -> asyncio.subprocess.Process:
        proc = await spawn_logged(argv, env=env, cwd=cwd, log_path=log_path)
        self._running.append(proc)
        return proc

    async def stop(self, proc: asyncio.subprocess.Process, grace: float = STOP_GRACE) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds. Returns the exit code."""
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), grace)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        if proc in self._running:
            self._running.remove(proc)
        return proc.returncode

    async def stop_all(self) -> None:
        for proc in list(self._running):
            await self.stop(proc, grace=5.0)


# --------------------------------------------------------------------------------------------
# The fake Bot API, with what a benchmark needs on top
# --------------------------------------------------------------------------------------------


def make_fake_api() -> Any:
    from fake_telegram import ApiError, FakeBotApi

    class BenchApi(FakeBotApi):
        """The strict fake, plus a tally of error answers (429s included) and the delivery
        time of every check-in prompt."""

        def __init__(self, token: str) -> None:
            super().__init__(token)
            self.errors: Counter[int] = Counter()  # error answers to any method, by code
            self.send_errors: Counter[int] = Counter()  # error answers to sendMessage
            self.too_many_times: list[float] = []  # time.monotonic() of each 429 answer
            self.prompt_times: list[float] = []  # time.monotonic() when stored, in order
            self.prompt_chats: set[int] = set()
            self.other_messages = 0
            self.on_bot_message(self._delivered)

        def _error(self, error):  # every error answer of _handle_api goes through here
            self.errors[error.error_code] += 1
            if error.error_code == 429:
                self.too_many_times.append(time.monotonic())
            return super()._error(error)

        def _send_message(self, p):
            try:
                return super()._send_message(p)
            except ApiError as error:
                self.send_errors[error.error_code] += 1
                raise

        def _delivered(self, chat_id: int, message: dict[str, Any], edited: bool) -> None:
            markup = message.get("reply_markup") or {}
            data = [
                b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row
            ]
            if not edited and any(d.startswith("ck:") and d.endswith(":go") for d in data):
                self.prompt_times.append(time.monotonic())
                self.prompt_chats.add(chat_id)
            else:
                self.other_messages += 1

        def add_started_user(self, user_id: int, first_name: str) -> None:
            """A user who opened the bot before (an existing patient): the bot may message
            them, without an update per user queued for the bot to process."""
            self.add_user(user_id, first_name, started=True)

        def add_patients(self, n: int) -> None:
            for i in range(1, n + 1):
                self.add_started_user(FIRST_USER_ID + i, f"Patient {i}")

    api = BenchApi(TOKEN)
    return api


async def start_fake_api(n_patients: int, rate_limited: bool) -> Any:
    api = make_fake_api()
    await api.start()
    api.add_started_user(STAFF_ID, "Dana")
    api.add_group(CLINIC_CHAT_ID, "Clinic staff", members=[STAFF_ID])
    api.add_patients(n_patients)
    if rate_limited:
        api.set_rate_limit(per_second=LIMIT_PER_SECOND, per_group_per_minute=20)
    else:
        api.set_rate_limit(None, None)
    return api


# --------------------------------------------------------------------------------------------
# The database: reset, migrate, bulk-load patients with one due check-in reminder each
# --------------------------------------------------------------------------------------------


class Database:
    def __init__(self, url: str, label: str) -> None:
        self.url = url
        self.label = label

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def _dsn(self, database: str | None = None) -> str:
        from sqlalchemy.engine import make_url

        url = make_url(self.url).set(drivername="postgresql")
        if database:
            url = url.set(database=database)
        return url.render_as_string(hide_password=False)

    @classmethod
    async def choose(cls, pg_url: str, workdir: Path) -> Database:
        """PostgreSQL (creating the database if missing); else an SQLite file, said so."""
        import asyncpg
        from sqlalchemy.engine import make_url

        pg = cls(pg_url, "")
        name = make_url(pg_url).database or "bench"
        try:
            conn = await asyncpg.connect(pg._dsn("postgres"), timeout=5)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
            return cls(url, f"SQLite file (PostgreSQL unavailable: {exc.__class__.__name__})")
        try:
            version = await conn.fetchval("SHOW server_version")
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        pg.label = f"PostgreSQL {version.split()[0]}, database {name!r} on 127.0.0.1"
        return pg

    async def reset(self) -> None:
        """Empty schema, then the project's migrations (Alembic runs its own loop: a thread)."""
        from storage.migrate import upgrade

        if self.is_postgres:
            import asyncpg

            conn = await asyncpg.connect(self._dsn())
            try:
                await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
            finally:
                await conn.close()
        else:
            remove_sqlite_files(Path(self.url.split(":///", 1)[1]))
        await asyncio.to_thread(upgrade, self.url)

    async def seed(self, n: int) -> float:
        """N active patients, each with one check-in reminder due at DUE_AT. Returns seconds."""
        started = time.perf_counter()
        enrolled = date(2026, 5, 18)
        consented = datetime(2026, 5, 18, 10, 0, tzinfo=UTC)
        patients = [
            {
                "id": i,
                "telegram_user_id": FIRST_USER_ID + i,
                "chat_id": FIRST_USER_ID + i,
                "name": f"Patient {i}",
                "status": "active",
                "consented_at": consented,
                "checkin_time": LOCAL_TIME,
                "timezone": TIMEZONE,
                "enrolled_on": enrolled,
                "invite_id": None,
                "unreachable": False,
                "created_at": consented,
                "discharged_at": None,
                "plan_id": None,
                "exercise_times": "",
                "exercise_times_chosen": False,
                "paused_until": None,
            }
            for i in range(1, n + 1)
        ]
        reminders = [
            {
                "id": i,
                "patient_id": i,
                "kind": "checkin",
                "local_time": LOCAL_TIME,
                "next_at": DUE_AT,
            }
            for i in range(1, n + 1)
        ]
        # Only the columns the current models have (the schema may have moved on since).
        from storage.models import Patient

        known = set(Patient.__table__.columns.keys())
        patients = [{k: v for k, v in row.items() if k in known} for row in patients]
        if self.is_postgres:
            await self._copy_postgres(patients, reminders)
        else:
            await self._insert_core(patients, reminders)
        return time.perf_counter() - started

    async def _copy_postgres(self, patients: list[dict], reminders: list[dict]) -> None:
        import asyncpg

        conn = await asyncpg.connect(self._dsn())
        try:
            for table, rows in (("patients", patients), ("reminders", reminders)):
                columns = list(rows[0])
                await conn.copy_records_to_table(
                    table, records=[tuple(r[c] for c in columns) for r in rows], columns=columns
                )
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            await conn.execute("ANALYZE")
        finally:
            await conn.close()

    async def _insert_core(self, patients: list[dict], reminders: list[dict]) -> None:
        from sqlalchemy import insert

        from storage.db import make_engine
        from storage.models import Patient, Reminder

        engine = make_engine(self.url)
        try:
            async with engine.begin() as conn:
                await conn.execute(insert(Patient.__table__), patients)
                await conn.execute(insert(Reminder.__table__), reminders)
        finally:
            await engine.dispose()

    async def push_counts(self) -> dict[str, int]:
        """Check-in pushes by status (sent, pending, failed, ...)."""
        from sqlalchemy import text

        from storage.db import make_engine

        engine = make_engine(self.url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text("SELECT status, count(*) FROM outbox WHERE kind = 'checkin' GROUP BY 1")
                )
                return {status: count for status, count in rows}
        finally:
            await engine.dispose()


# --------------------------------------------------------------------------------------------
# Running the bot
# --------------------------------------------------------------------------------------------


def bot_argv(profile_to: Path | None) -> list[str]:
    script = Path(sys.executable).parent / "recovery-bot"
    if profile_to is not None:  # the sampler writes its summary when the bot exits (SIGTERM)
        return [sys.executable, str(THIS_FILE.parent / "_sampler.py"), str(profile_to), "run"]
    if script.exists():
        return [str(script), "run"]
    return [sys.executable, "-m", "bot.cli", "run"]


def bot_env(api: Any, db: Database, clock_file: Path, rate: int, concurrency: int) -> dict:
    drop = {"DATABASE_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "CLOCK_FILE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": api.base_url,
            "DATABASE_URL": db.url,
            "CLINIC_CHAT_ID": str(CLINIC_CHAT_ID),
            "CLINIC_STAFF_IDS": str(STAFF_ID),
            "CLINIC_TIMEZONE": TIMEZONE,
            "CLOCK_FILE": str(clock_file),
            "TICK_SECONDS": "0.2",
            "SEND_RATE_PER_SECOND": str(rate),
            "SEND_CONCURRENCY": str(concurrency),
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


class BotFailed(RuntimeError):
    pass


@dataclass
class Stop:
    """How the bot stopped when the benchmark sent SIGTERM."""

    seconds: float
    code: int | None

    def __str__(self) -> str:
        if self.code == -signal.SIGKILL:
            return f"still running after {STOP_GRACE:.0f} s: killed"
        return f"{self.seconds:.1f} s, " + ("exited" if self.code == 0 else f"exit {self.code}")


async def stop_bot(procs: Processes, proc: asyncio.subprocess.Process) -> Stop:
    stopping = time.monotonic()
    code = await procs.stop(proc)
    return Stop(time.monotonic() - stopping, code)


# --------------------------------------------------------------------------------------------
# (a) burst with no rate limit
# --------------------------------------------------------------------------------------------


@dataclass
class BurstResult:
    patients: int
    delivered: int = 0
    distinct_chats: int = 0
    seed_seconds: float = 0.0
    to_first: float | None = None  # bot start -> first prompt
    span: float | None = None  # first -> last prompt
    rate: float | None = None
    peak_kb: int | None = None
    stop: Stop | None = None
    cpu: CpuSplit | None = None
    pushes: dict[str, int] = field(default_factory=dict)
    errors: dict[int, int] = field(default_factory=dict)
    stopped_because: str = ""
    log: Path | None = None
    profile: Path | None = None


async def run_burst(
    args: argparse.Namespace, db: Database, procs: Processes, workdir: Path, end_by: float
) -> BurstResult:
    """``end_by``: time.monotonic() by which the bot must be stopped (the overall budget)."""
    n = args.patients
    res = BurstResult(n)
    print(f"(a) resetting the database and loading {n:,} patients...", flush=True)
    await db.reset()
    res.seed_seconds = await db.seed(n)
    api = await start_fake_api(n, rate_limited=False)
    clock_file = workdir / "clock-a.txt"
    write_text(clock_file, CLOCK_AT.isoformat())
    res.log = workdir / "bot-a.log"
    res.profile = workdir / "bot-a-profile.json" if args.profile_bot else None
    # What is loaded so far lives to the end: keep the collector from re-scanning it, so the
    # fake API (this process) is not slowed by ever longer collections while it stores messages.
    gc.collect()
    gc.freeze()
    samples: list[CpuSample] = []
    pg_cpu = PostgresCpu(db)
    try:
        await pg_cpu.open()
        env = bot_env(api, db, clock_file, rate=0, concurrency=args.send_concurrency)
        print(f"(a) loaded in {res.seed_seconds:.1f} s; starting the bot (no limits)", flush=True)
        started = time.monotonic()
        proc = await procs.start(bot_argv(res.profile), env=env, cwd=workdir, log_path=res.log)
        deadline = min(end_by, started + args.max_send_seconds)
        last_count, last_progress, next_report = 0, started, started + 10
        while True:
            await asyncio.sleep(0.25)
            now = time.monotonic()
            samples.append(await cpu_sample(proc.pid, pg_cpu))
            peak = proc_status_kb(proc.pid, "VmHWM")
            if peak is not None:
                res.peak_kb = max(res.peak_kb or 0, peak)
            count = len(api.prompt_times)
            if count != last_count:
                last_count, last_progress = count, now
            if count >= n:
                break
            if proc.returncode is not None:
                raise BotFailed(f"the bot exited with {proc.returncode}:\n{read_tail(res.log)}")
            if now > deadline:
                res.stopped_because = f"bot stopped after {now - started:.0f} s (time budget)"
                break
            if now - last_progress > args.stall_seconds:
                res.stopped_because = f"no progress for {args.stall_seconds:.0f} s"
                break
            if now >= next_report:
                print(f"    {now - started:5.0f} s: {count:,} prompts delivered", flush=True)
                next_report += 10
        # The peak is read before the process is stopped (VmHWM only grows).
        peak = proc_status_kb(proc.pid, "VmHWM")
        if peak is not None:
            res.peak_kb = max(res.peak_kb or 0, peak)
        res.stop = await stop_bot(procs, proc)
    finally:
        await api.stop()
        await pg_cpu.close()
        gc.unfreeze()

    times = api.prompt_times
    res.delivered = len(times)
    if res.delivered >= n:  # maybe the last ones went out while the bot was being stopped
        late = ", the last while the bot was stopping" if res.stopped_because else ""
        res.stopped_because = "all delivered" + late
    res.distinct_chats = len(api.prompt_chats)
    res.errors = dict(api.send_errors)
    if times:
        res.to_first = times[0] - started
        res.span = times[-1] - times[0]
        res.rate = (len(times) - 1) / res.span if res.span > 0 else None
        # CPU used while prompts were going out: the samples nearest the first and last.
        inside = [s for s in samples if times[0] <= s.at <= times[-1]]
        if len(inside) >= 2:
            res.cpu = cpu_split(inside[0], inside[-1], db.is_postgres)
    res.pushes = await db.push_counts()
    return res


# --------------------------------------------------------------------------------------------
# (b) with Telegram's 30 messages a second enforced by the fake
# --------------------------------------------------------------------------------------------


@dataclass
class LimitedResult:
    patients: int
    window: float
    in_window: int = 0
    rate: float | None = None
    per_second: list[int] = field(default_factory=list)
    errors_429: int = 0
    times_429: list[float] = field(default_factory=list)  # seconds after the first prompt
    errors: dict[int, int] = field(default_factory=dict)
    to_first: float | None = None
    longest_gap: float = 0.0  # longest pause between two prompts inside the window
    fake_loop_lag: float = 0.0  # worst wake-up delay of the fake API's event loop
    stop: Stop | None = None
    log: Path | None = None


async def run_limited(
    args: argparse.Namespace, db: Database, procs: Processes, workdir: Path
) -> LimitedResult:
    n, window = args.limited_patients, args.limited_window
    res = LimitedResult(n, window)
    print(f"(b) fresh database with {n:,} patients; fake limits 30/s, bot limits 30/s", flush=True)
    await db.reset()
    await db.seed(n)
    api = await start_fake_api(n, rate_limited=True)
    clock_file = workdir / "clock-b.txt"
    write_text(clock_file, CLOCK_AT.isoformat())
    res.log = workdir / "bot-b.log"
    lag = LoopLag(floor=0.002)
    lag.start()
    # A full garbage collection of this process would stall the fake for tens of ms, bunch
    # requests together and could cause 429s that are not the bot's: no GC in this window.
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        env = bot_env(api, db, clock_file, rate=LIMIT_PER_SECOND, concurrency=args.send_concurrency)
        started = time.monotonic()
        proc = await procs.start(bot_argv(None), env=env, cwd=workdir, log_path=res.log)
        while not api.prompt_times:
            await asyncio.sleep(0.05)
            if proc.returncode is not None:
                raise BotFailed(f"the bot exited with {proc.returncode}:\n{read_tail(res.log)}")
            if time.monotonic() - started > 60:
                raise BotFailed(f"(b) no prompt within 60 s:\n{read_tail(res.log)}")
        first = api.prompt_times[0]
        res.to_first = first - started
        # Run on a little past the window so that late answers are counted too.
        while time.monotonic() < first + window + 1.0:
            await asyncio.sleep(0.1)
            if proc.returncode is not None:
                raise BotFailed(f"the bot exited with {proc.returncode}:\n{read_tail(res.log)}")
        res.stop = await stop_bot(procs, proc)
    finally:
        gc.enable()
        gc.unfreeze()
        await lag.stop()
        await api.stop()
    res.fake_loop_lag = lag.worst(first, first + window)
    inside = [t - first for t in api.prompt_times if t - first < window]
    res.in_window = len(inside)
    res.rate = len(inside) / window
    res.longest_gap = max((b - a for a, b in zip(inside, inside[1:], strict=False)), default=0.0)
    res.times_429 = [t - first for t in api.too_many_times]
    bins = Counter(int(t) for t in inside)
    res.per_second = [bins.get(s, 0) for s in range(int(window))]
    res.errors = dict(api.errors)
    res.errors_429 = api.errors.get(429, 0)
    return res


# --------------------------------------------------------------------------------------------
# (c) one PTB JobQueue job per patient (runs in a child process: --jobqueue-child N)
# --------------------------------------------------------------------------------------------


def jobqueue_child(n: int, fire_wait: float) -> None:
    """Add N run_daily jobs to a PTB application's JobQueue, start it, report as JSON.

    The jobs' daily time is chosen so that, once start-up is over, all N fall due in the same
    second (a short pilot run estimates how long start-up takes). Their callback does nothing,
    so what is measured is the scheduler alone; no request reaches any network.
    """
    import logging

    logging.basicConfig(level=logging.WARNING)  # as a bot would log (misfire warnings included)
    t_import = time.perf_counter()
    from zoneinfo import ZoneInfo

    from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED
    from telegram.ext import ApplicationBuilder

    import_seconds = time.perf_counter() - t_import
    tz = ZoneInfo(TIMEZONE)
    ran, missed, executed_at, handled_at = 0, 0, [], []
    all_done = asyncio.Event()  # every job ran or was skipped

    async def remind(context) -> None:  # a real job would send one message here
        nonlocal ran
        ran += 1

    def build():
        # No network: building the application and adding jobs never calls Telegram.
        return ApplicationBuilder().token(TOKEN).build()

    async def startup(app, count: int, at) -> float:
        started = time.perf_counter()
        for i in range(1, count + 1):
            uid = FIRST_USER_ID + i
            app.job_queue.run_daily(
                remind, time=at, chat_id=uid, user_id=uid, name=f"checkin:{uid}", data=i
            )
        await app.job_queue.start()
        return time.perf_counter() - started

    async def main() -> dict[str, Any]:
        nonlocal missed
        # Pilot: 1,000 jobs on a throwaway application, to place the fire time after start-up.
        pilot = build()
        far = (datetime.now(tz) + timedelta(hours=6)).timetz().replace(microsecond=0)
        pilot_seconds = await startup(pilot, 1000, far)
        await pilot.job_queue.stop(wait=False)
        del pilot
        lead = 5.0 + 1.5 * pilot_seconds * n / 1000
        fire_at = (datetime.now(tz) + timedelta(seconds=lead)).replace(microsecond=0)

        app = build()

        def on_event(event) -> None:
            nonlocal missed
            handled_at.append(time.monotonic())
            if event.code == EVENT_JOB_MISSED:
                missed += 1
            else:
                executed_at.append(time.monotonic())
            if missed + len(executed_at) >= n:
                all_done.set()

        app.job_queue.scheduler.add_listener(on_event, EVENT_JOB_MISSED | EVENT_JOB_EXECUTED)
        startup_seconds = await startup(app, n, fire_at.timetz())
        rss_after_start = proc_status_kb("self", "VmRSS")
        peak_after_start = proc_status_kb("self", "VmHWM")
        seconds_left = (fire_at - datetime.now(tz)).total_seconds()
        fire_test = seconds_left > 0
        if fire_test:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_done.wait(), seconds_left + fire_wait)
        due_mono = time.monotonic() - (datetime.now(tz) - fire_at).total_seconds()
        await app.job_queue.stop(wait=False)
        return {
            "jobs": n,
            "import_seconds": import_seconds,
            "startup_seconds": startup_seconds,
            "rss_after_start_kb": rss_after_start,
            "peak_after_start_kb": peak_after_start,
            "peak_kb": proc_status_kb("self", "VmHWM"),
            "fire_test": fire_test,
            "ran": ran,
            "missed": missed,
            "last_ran_after": (max(executed_at) - due_mono) if executed_at else None,
            "all_handled_after": (max(handled_at) - due_mono) if handled_at else None,
            "waited_for_due": max(0.0, seconds_left),
            "fire_wait": fire_wait,
        }

    print("RESULT " + json.dumps(asyncio.run(main())), flush=True)


@dataclass
class JobQueueResult:
    jobs: int
    data: dict[str, Any] = field(default_factory=dict)
    log: Path | None = None


async def run_jobqueue(args: argparse.Namespace, procs: Processes, workdir: Path) -> JobQueueResult:
    n = args.patients
    res = JobQueueResult(n, log=workdir / "jobqueue.log")
    print(f"(c) PTB JobQueue with {n:,} run_daily jobs, in a child process...", flush=True)
    argv = [sys.executable, str(THIS_FILE), "--jobqueue-child", str(n)]
    argv += ["--jobqueue-fire-wait", str(args.jobqueue_fire_wait)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = await procs.start(argv, env=env, cwd=workdir, log_path=res.log)
    try:
        await asyncio.wait_for(proc.wait(), args.jobqueue_timeout)
    except TimeoutError:
        await procs.stop(proc)
        raise BotFailed(f"(c) the JobQueue child ran over {args.jobqueue_timeout:.0f} s") from None
    await procs.stop(proc)
    for line in res.log.read_text(errors="replace").splitlines():
        if line.startswith("RESULT "):
            res.data = json.loads(line[len("RESULT ") :])
    if not res.data:
        raise BotFailed(f"(c) the JobQueue child gave no result:\n{read_tail(res.log)}")
    return res


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "**NO**")


def build_table(
    a: BurstResult | None, b: LimitedResult | None, c: JobQueueResult | None
) -> tuple[list[list[str]], list[str]]:
    rows: list[list[str]] = []
    missed: list[str] = []
    current = [""]  # the scenario of the rows being added

    def row(scenario: str, measure: str, result: str, target: str = "", ok: bool | None = None):
        current[0] = scenario or current[0]
        rows.append([scenario, measure, result, target, verdict(ok)])
        if ok is False:
            missed.append(f"{current[0]}: {measure} = {result} (target {target})")

    if a is not None:
        title = f"(a) no limit, {a.patients:,} due"
        all_once = a.delivered == a.patients and a.distinct_chats == a.delivered
        row(
            title,
            "check-in prompts delivered (distinct chats)",
            f"{a.delivered:,} ({a.distinct_chats:,}); {a.stopped_because}",
            "all, once each",
            all_once,
        )
        rate_ok = a.rate is not None and a.rate >= TARGET_RATE and all_once
        row(
            "",
            "dispatch rate, first to last prompt",
            f"{fmt_int(a.rate)} msg/s over {a.span:.1f} s" if a.rate else "n/a",
            f">= {fmt_int(TARGET_RATE)} msg/s",
            rate_ok,
        )
        row("", "bot start to first prompt", f"{a.to_first:.1f} s" if a.to_first else "n/a")
        if a.stop is not None:
            row("", "bot stop on SIGTERM (at the end of the run)", str(a.stop))
        peak_mb = a.peak_kb / 1024 if a.peak_kb else None
        row(
            "",
            "bot peak memory (VmHWM)",
            f"{peak_mb:.0f} MB" if peak_mb else "n/a",
            f"< {TARGET_PEAK_MB:.0f} MB",
            peak_mb is not None and peak_mb < TARGET_PEAK_MB,
        )
        if a.cpu:
            row("", f"CPU cores used while sending (of {os.cpu_count()})", str(a.cpu))
            if a.rate:
                per_msg = f"{a.cpu.bot / a.rate * 1000:.2f} ms"
                if a.cpu.postgres is not None:
                    per_msg += f" / {a.cpu.postgres / a.rate * 1000:.2f} ms"
                row("", "CPU per prompt: bot / PostgreSQL", per_msg)
        pushes = ", ".join(f"{k} {v:,}" for k, v in sorted(a.pushes.items())) or "none"
        errors = ", ".join(f"{k}: {v:,}" for k, v in sorted(a.errors.items())) or "none"
        row("", "check-in pushes in the database / sendMessage errors", f"{pushes} / {errors}")
    if b is not None:
        title = f"(b) 30/s limit, {b.patients:,} due"
        target = LIMIT_PER_SECOND * TARGET_LIMITED_SHARE
        spread = f"{min(b.per_second)}-{max(b.per_second)}/s" if b.per_second else "n/a"
        row(
            title,
            f"achieved rate, {b.window:.0f} s from first prompt",
            f"{b.rate:.1f} msg/s ({b.in_window:,} sent; each second {spread})",
            f">= {target:.1f} msg/s",
            b.rate is not None and b.rate >= target,
        )
        when = ""
        if b.times_429:
            seconds = sorted({round(t, 1) for t in b.times_429})
            shown = ", ".join(f"{t:+.1f}" for t in seconds[:8]) + (
                " ..." if len(seconds) > 8 else ""
            )
            when = f" (at {shown} s from the first prompt)"
        row("", "429 answers from the fake", f"{b.errors_429:,}{when}", "0", b.errors_429 == 0)
        row(
            "",
            "longest pause between prompts / fake API loop's worst lag",
            f"{b.longest_gap * 1000:.0f} ms / {b.fake_loop_lag * 1000:.0f} ms",
        )
        if b.stop is not None:
            row("", "bot stop on SIGTERM (429s above include this time)", str(b.stop))
    if c is not None:
        d = c.data
        title = f"(c) JobQueue, {c.jobs:,} run_daily jobs"
        row(
            title,
            "start-up: add jobs and start the scheduler",
            f"{d['startup_seconds']:.1f} s (+ {d['import_seconds']:.1f} s imports)",
        )
        row(
            "",
            "memory after start-up (RSS) / peak (VmHWM)",
            f"{d['rss_after_start_kb'] / 1024:.0f} MB / {d['peak_kb'] / 1024:.0f} MB",
        )
        if d["fire_test"]:
            last = d["last_ran_after"]
            ran = f"{d['ran']:,} ran" + (f" (the last {last:.1f} s late)" if last else "")
            done = d["all_handled_after"]
            within = f", all handled {done:.1f} s after the due second" if done else ""
            row(
                "",
                "all due in the same second (misfire_grace_time 1 s)",
                f"{ran}, {d['missed']:,} skipped as misfired{within}",
            )
        else:
            row("", "all due in one second", "not measured: start-up overran the pilot estimate")
    return rows, missed


def render_table(rows: list[list[str]]) -> str:
    header = ["scenario", "measure", "result", "target", "met"]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def print_profile(path: Path) -> None:
    """The bot's CPU profile from bench/_sampler.py: where its CPU time went during (a)."""
    if not path.exists():
        print(f"\n(no profile was written at {path})")
        return
    data = json.loads(path.read_text())
    total = data["samples"] or 1
    print(f"\nWhere the bot's CPU went in (a) ({data['samples']:,} samples, every 5 ms of CPU):")
    print("  by package (innermost non-stdlib frame):")
    for name, count in data["self_by_package"].items():
        print(f"    {count / total:6.1%}  {name}")
    print("  inclusive (the stack passes through):")
    for name, count in data["inclusive"].items():
        print(f"    {count / total:6.1%}  {name}")
    print("  the project's functions, inclusive:")
    for name, count in data.get("project_functions", {}).items():
        print(f"    {count / total:6.1%}  {name}")


async def run(args: argparse.Namespace, command: str, workdir: Path) -> int:
    procs = Processes()
    a = b = c = None
    failure = ""
    t0 = time.monotonic()
    db = await Database.choose(args.database_url, workdir)
    print(f"database: {db.label}; logs in {workdir}", flush=True)
    try:
        # (a) runs last: it is the long one, and gets whatever the time budget leaves.
        if "c" in args.only:
            c = await run_jobqueue(args, procs, workdir)
        if "b" in args.only:
            b = await run_limited(args, db, procs, workdir)
        if "a" in args.only:
            a = await run_burst(args, db, procs, workdir, end_by=t0 + args.budget - 40)
    except BotFailed as exc:
        failure = str(exc)
    finally:
        await procs.stop_all()
    elapsed = time.monotonic() - t0

    rows, missed = build_table(a, b, c)
    print()
    print(
        f"Scheduled pushes: patients due at {DUE_AT:%Y-%m-%d} {LOCAL_TIME} {TIMEZONE} "
        f"({DUE_AT:%H:%M} UTC), bot SEND_CONCURRENCY={args.send_concurrency}, TICK_SECONDS=0.2"
    )
    print(f"command: {command}")
    print(f"bot code: {code_version()}")
    print(f"database: {db.label}; machine: {os.cpu_count()} cores; total {elapsed:.0f} s")
    print()
    print(render_table(rows))
    if a is not None and a.profile is not None:
        print_profile(a.profile)
    if failure:
        print(f"\nFAILED: {failure}")
    for item in missed:
        print(f"TARGET MISSED: {item}")
    if elapsed > args.budget:
        print(f"TARGET MISSED: the benchmark took {elapsed:.0f} s (budget {args.budget:.0f} s)")
        missed.append("duration")
    return 1 if (failure or missed) else 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--patients", type=int, default=100_000, help="patients due in (a) and (c)")
    p.add_argument("--limited-patients", type=int, default=2000, help="patients due in (b)")
    p.add_argument("--limited-window", type=float, default=20.0, help="(b) window, seconds")
    p.add_argument("--database-url", default=DEFAULT_PG_URL, help="PostgreSQL URL to use")
    p.add_argument("--send-concurrency", type=int, default=32, help="the bot's SEND_CONCURRENCY")
    p.add_argument("--budget", type=float, default=600.0, help="whole run, seconds")
    p.add_argument("--max-send-seconds", type=float, default=600.0, help="cap on (a)'s bot run")
    p.add_argument("--stall-seconds", type=float, default=30.0, help="(a) gives up after this")
    p.add_argument("--jobqueue-fire-wait", type=float, default=20.0, help="(c) watch jobs run")
    p.add_argument("--jobqueue-timeout", type=float, default=150.0, help="cap on (c)")
    p.add_argument("--only", default="abc", help="scenarios to run, e.g. 'a' or 'bc'")
    p.add_argument(
        "--profile-bot", action="store_true", help="sample (a)'s bot CPU (bench/_sampler.py)"
    )
    p.add_argument("--workdir", help="where logs go (default: a new temporary folder)")
    p.add_argument("--jobqueue-child", type=int, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.patients < 1 or args.limited_patients < 1:
        p.error("patient counts must be positive")
    return args


def main() -> None:
    args = parse_args()
    if args.jobqueue_child:
        jobqueue_child(args.jobqueue_child, args.jobqueue_fire_wait)
        return
    command = shlex.join([sys.executable, *sys.argv])
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-reminders-"))
    workdir.mkdir(parents=True, exist_ok=True)

    async def guarded() -> int:
        # SIGTERM cancels the run like Ctrl-C does, so the finally blocks stop the children.
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
        return await run(args, command, workdir)

    try:
        code = asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; every process this benchmark started has been stopped")
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
