"""Benchmark of button-press latency: ``python bench/latency.py [--patients N]`` from the repo root.

Everything runs on this machine over loopback: the strict fake Bot API (``fake_telegram``) in
this process with its flood control off, the real bot (``python -m bot.cli run``) as a
subprocess with its own limiter off (``SEND_RATE_PER_SECOND=0``), and the database (a fresh
SQLite file by default, or PostgreSQL with ``--database postgresql``).

N patients (default 30) are seeded straight into the database (no onboarding), each sends
``/checkin`` through the fake, and then they press through their check-ins: pain 2 and 1, No,
No, No, exercises Yes, No note. A "press" is a tap on a button of the patient's current check-in
message through the fake's public ``press`` helper (so the callback data is exactly what the bot
produced). Its latency runs from the moment the benchmark hands the tap to the fake to the
moment the bot's ``editMessageText`` of that message reaches the fake. When a check-in closes
(the last press's edit is the closing message) the patient sends ``/checkin`` again (a second
check-in on the same day replaces the first), so the load stays steady; only presses answered
by an edit count, the ``/checkin`` round trips do not (their bot CPU is counted, though).

Phases, one after the other, after a short unreported warm-up:

* open loop at each rate of ``--rates`` (default 20, 50, 100 presses a second) for
  ``--seconds``: a press is due every 1/rate s whatever the bot does; it goes to the patient who
  has waited longest among those whose check-in message is answered (a real person does not tap
  a message the bot has not updated yet). When none is free the due press is not sent and
  counted as "skipped": the bot is not keeping up with that rate for N patients.
* closed loop for ``--closed-seconds``: each patient presses as soon as the bot has answered
  their previous press (the bot's throughput for N patients).

After each phase's sending window the benchmark waits up to ``--grace`` seconds for the
outstanding answers; what is still unanswered then is reported as such. For each phase: presses
sent and answered, p50/p95/p99 latency, achieved presses a second (answered / time from the
phase's start to its last answer) and the bot's CPU time per answered press (utime + stime of the
bot process from /proc over the phase, divided by the presses answered). ``--profile-bot`` runs
the bot under ``bench/_sampler.py`` and prints where its CPU went (the whole run, start-up
included).

``--fanout N`` (default 0: off) runs another scenario instead of those phases: a press and a
red flag during a morning fan-out. Its claim: "a morning of 100,000 reminders must not delay an
urgent alert or a patient's answer by more than a second". N more patients (bulk SQL, as in
bench/reminders.py; users of the fake who opened the bot before) each have a check-in reminder
due at the same instant, one minute after the bot's clock (``FANOUT_AT``). Pacing is
production-like: the fake's flood control is on (30 messages a second, 20 a minute per group,
429 beyond) and the bot runs with ``SEND_RATE_PER_SECOND=30`` (``--fanout-unlimited``: both off).
After the warm-up, one red flag is typed before the fan-out (the baseline, off the clock), then
the bot's clock is moved to ``FANOUT_AT``; once the first prompt has been delivered, for
``--seconds``:

* (a) the benchmark's patients press through check-ins in an open loop at
  ``--fanout-press-rate`` (default 5) a second; latency from the tap to the bot's edit;
* (b) every ``--fanout-red-flag-every`` seconds (default 2) another patient of the benchmark
  (one who is not in a check-in) types a red flag ("I can't feel when I need to pee"); measured
  from sending it to the urgent advice in their chat ("urgent medical help") and to the URGENT
  alert in the clinic chat. Nobody acknowledges. The clinic group takes 20 messages a minute, so
  with more than about 20 red flags in a minute the later alerts wait for the group's window
  (that is Telegram's limit, not the fan-out's doing): the claim is about the advice to the
  patient and the first alert, and the output says how many alerts were beyond the budget;
* (c) the fan-out's own progress: prompts delivered in the window and their rate, and the 429
  answers the fake gave (to any method).

The window covers only the first seconds of the fan-out (100,000 prompts at 30/s take about an
hour); the rest is abandoned when the bot is stopped. The fake API runs in this process, so its
event-loop lag during the window is reported too (a stall there would add to every latency).

It stops by itself (each wait is bounded, ``--max-seconds`` caps the whole run), stops the bot
with SIGTERM (then SIGKILL), prints the tail of the bot's log when the bot fails, and exits
non-zero on failure. Logs are kept in a fresh temporary folder whose path is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import re
import shlex
import signal
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _harness import (
    LoopLag,
    code_version,
    proc_cpu_seconds,
    read_tail,
    run_quiet,
    spawn_logged,
)

THIS_FILE = Path(__file__).resolve()
ROOT = THIS_FILE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOKEN = "424242:bench-token-for-the-fake-api-only"
CLINIC_CHAT_ID = -1001
STAFF_ID = 1
FIRST_USER_ID = 20_000_000  # patient number i (1-based) has Telegram user id FIRST_USER_ID + i
TIMEZONE = "Europe/London"
# The bot's "now" (CLOCK_FILE): mid-day, so every check-in of the run falls on the same day.
CLOCK_AT = datetime(2026, 6, 1, 11, 0, tzinfo=UTC)  # 12:00 in London
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL when stopping the bot

# --fanout: N more patients, each with a check-in reminder due at FANOUT_AT (the bot's clock is
# moved there once the benchmark's own patients are ready), Telegram user ids FANOUT_FIRST + i.
FANOUT_FIRST = 30_000_000
FANOUT_AT = CLOCK_AT + timedelta(minutes=1)  # 12:01 in London
FANOUT_LOCAL = "12:01"
FANOUT_RATE = 30  # Telegram's overall limit: the fake enforces it, the bot paces itself to it
GROUP_PER_MINUTE = 20  # Telegram's limit per group chat (the clinic chat)
RED_FLAG_TEXT = "I can't feel when I need to pee"  # bot/content/red_flags.yaml: bladder_bowel
ADVICE_MARK = "urgent medical help"  # in the urgent advice to the patient
ALERT_NAME = re.compile(r"URGENT: (.+?) \(patient ID")  # the first line of an urgent alert
CLAIM = 1.0  # seconds: "must not delay an urgent alert or a patient's answer by more than a second"

# The answer given at each check-in step (the step code and value of the callback data
# ``ci:<nonce>:<step>:<value>``): low, steady pain and no red flags, so that no alert is raised
# and every check-in costs the bot the same work.
ANSWERS = {
    "lp": "2",  # leg pain
    "bp": "1",  # back pain
    "nb": "n",  # numbness
    "wk": "n",  # weakness
    "ww": "n",  # weakness getting worse (not asked after "No")
    "rf": "n",  # red flags
    "ex": "yes",  # exercises done
    "nt": "skip",  # no note
}


class BenchFailed(RuntimeError):
    pass


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def machine() -> str:
    cores = run_quiet(["nproc"]) or str(os.cpu_count())
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"nproc {cores}" + (f", {model}" if model else "")


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest-rank percentile of an ascending list (None when empty)."""
    if not ordered:
        return None
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ms(seconds: float | None, digits: int = 1) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.{digits}f}"


# --------------------------------------------------------------------------------------------
# The database: empty schema, migrations, patients seeded directly
# --------------------------------------------------------------------------------------------


class Database:
    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        if kind == "sqlite":
            self.path: Path | None = workdir / "latency.db"
            self.url = f"sqlite+aiosqlite:///{self.path}"
        else:
            self.path = None
            self.url = os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG_URL
        self.label = kind

    async def reset(self) -> None:
        """An empty database, then the project's migrations (Alembic runs its own loop)."""
        from sqlalchemy import text
        from sqlalchemy.engine import make_url

        from storage.db import make_engine
        from storage.migrate import upgrade

        if self.path is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)  # noqa: ASYNC240
            self.label = f"SQLite file {self.path}"
        else:
            engine = make_engine(self.url)
            try:
                async with engine.begin() as conn:
                    version = (await conn.execute(text("SHOW server_version"))).scalar()
                    await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                    await conn.execute(text("CREATE SCHEMA public"))
            except Exception as exc:
                raise BenchFailed(f"PostgreSQL at {self._safe_url()} is not usable: {exc}") from exc
            finally:
                await engine.dispose()
            url = make_url(self.url)
            self.label = (
                f"PostgreSQL {str(version).split()[0]}, database {url.database!r} "
                f"on {url.host}:{url.port or 5432}"
            )
        try:
            await asyncio.to_thread(upgrade, self.url)
        except Exception as exc:  # e.g. a migration being written: say so in one paragraph
            raise BenchFailed(
                f"migrating the fresh database failed: {exc.__class__.__name__}: "
                + str(exc).strip().splitlines()[0][:300]
            ) from exc

    def _safe_url(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    async def seed(self, n: int) -> None:
        """N active, consented patients; no reminders (so the bot pushes nothing on its own)."""
        from sqlalchemy import insert

        from storage.db import make_engine
        from storage.models import Patient

        at = CLOCK_AT.replace(hour=9)
        rows = [
            {
                "telegram_user_id": FIRST_USER_ID + i,
                "chat_id": FIRST_USER_ID + i,
                "name": f"Patient {i}",
                "status": "active",
                "consented_at": at,
                "checkin_time": "09:00",
                "timezone": TIMEZONE,
                "enrolled_on": CLOCK_AT.date(),
                "invite_id": None,
                "unreachable": False,
                "created_at": at,
                "discharged_at": None,
                "plan_id": None,
                "exercise_times": "",
                "exercise_times_chosen": False,
                "paused_until": None,
            }
            for i in range(1, n + 1)
        ]
        # Only the columns the current model has (the schema may have moved on since).
        known = set(Patient.__table__.columns.keys())
        rows = [{k: v for k, v in row.items() if k in known} for row in rows]
        engine = make_engine(self.url)
        try:
            async with engine.begin() as conn:
                await conn.execute(insert(Patient.__table__), rows)
        finally:
            await engine.dispose()

    async def seed_fanout(self, n: int) -> float:
        """N more active patients (user ids FANOUT_FIRST + i), each with one check-in reminder
        due at FANOUT_AT: bulk SQL as in bench/reminders.py (COPY on PostgreSQL), then one
        INSERT ... SELECT for the reminders. Returns the seconds taken."""
        from sqlalchemy import bindparam, insert, text

        from storage.db import make_engine
        from storage.models import Patient, UTCDateTime

        started = time.perf_counter()
        at = CLOCK_AT.replace(hour=8)
        rows = [
            {
                "telegram_user_id": FANOUT_FIRST + i,
                "chat_id": FANOUT_FIRST + i,
                "name": f"Fan-out {i}",
                "status": "active",
                "consented_at": at,
                "checkin_time": FANOUT_LOCAL,
                "timezone": TIMEZONE,
                "enrolled_on": CLOCK_AT.date(),
                "invite_id": None,
                "unreachable": False,
                "created_at": at,
                "discharged_at": None,
                "plan_id": None,
                "exercise_times": "",
                "exercise_times_chosen": False,
                "paused_until": None,
            }
            for i in range(1, n + 1)
        ]
        known = set(Patient.__table__.columns.keys())
        rows = [{k: v for k, v in row.items() if k in known} for row in rows]
        reminders = (
            "INSERT INTO reminders (patient_id, kind, local_time, next_at) "
            "SELECT id, 'checkin', :local, :at FROM patients WHERE telegram_user_id > :first"
        )
        params = {"local": FANOUT_LOCAL, "at": FANOUT_AT, "first": FANOUT_FIRST}
        if self.path is None:  # PostgreSQL: COPY, as bench/reminders.py does
            import asyncpg
            from sqlalchemy.engine import make_url

            dsn = make_url(self.url).set(drivername="postgresql")
            conn = await asyncpg.connect(dsn.render_as_string(hide_password=False))
            try:
                columns = list(rows[0])
                await conn.copy_records_to_table(
                    "patients",
                    records=[tuple(r[c] for c in columns) for r in rows],
                    columns=columns,
                )
                await conn.execute(
                    "INSERT INTO reminders (patient_id, kind, local_time, next_at) "
                    "SELECT id, 'checkin', $1, $2 FROM patients WHERE telegram_user_id > $3",
                    FANOUT_LOCAL,
                    FANOUT_AT,
                    FANOUT_FIRST,
                )
                await conn.execute("ANALYZE")
            finally:
                await conn.close()
        else:
            engine = make_engine(self.url)
            try:
                async with engine.begin() as conn:
                    await conn.execute(insert(Patient.__table__), rows)
                    # Typed, so that SQLite gets the column's own (naive UTC) text form.
                    typed = text(reminders).bindparams(bindparam("at", type_=UTCDateTime()))
                    await conn.execute(typed, params)
            finally:
                await engine.dispose()
        return time.perf_counter() - started

    async def prompts_sent(self) -> int | None:
        """Check-in prompts the outbox recorded as sent (a cross-check of the fake's count)."""
        from sqlalchemy import text

        from storage.db import make_engine

        engine = make_engine(self.url)
        try:
            async with engine.connect() as conn:
                return (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM outbox WHERE kind = 'checkin' AND status = 'sent'"
                        )
                    )
                ).scalar()
        except Exception:  # noqa: BLE001 - a sanity check only
            return None
        finally:
            await engine.dispose()

    async def counts(self) -> dict[str, int]:
        """Rows the run left behind, as a sanity check (check-ins saved, alerts raised)."""
        from sqlalchemy import text

        from storage.db import make_engine

        out: dict[str, int] = {}
        engine = make_engine(self.url)
        try:
            async with engine.connect() as conn:
                for table in ("checkin_entries", "alerts"):
                    with contextlib.suppress(Exception):
                        out[table] = (
                            await conn.execute(text(f"SELECT count(*) FROM {table}"))
                        ).scalar()
        finally:
            await engine.dispose()
        return out


# --------------------------------------------------------------------------------------------
# The bot process
# --------------------------------------------------------------------------------------------


class Bot:
    def __init__(self, api: Any, db: Database, workdir: Path, profile_to: Path | None) -> None:
        self.api = api
        self.db = db
        self.workdir = workdir
        self.log = workdir / "bot.log"
        self.clock_file = workdir / "clock.txt"
        self.profile_to = profile_to
        self.proc: asyncio.subprocess.Process | None = None
        self.stop_seconds: float | None = None
        self.exit_code: int | None = None
        self.send_rate = 0  # SEND_RATE_PER_SECOND (0: the bot's limiter off)

    def argv(self) -> list[str]:
        if self.profile_to is not None:  # the sampler writes its summary when the bot exits
            return [
                sys.executable,
                str(THIS_FILE.parent / "_sampler.py"),
                str(self.profile_to),
                "run",
            ]
        return [sys.executable, "-m", "bot.cli", "run"]

    def env(self) -> dict[str, str]:
        drop = {"DATABASE_URL", "TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "CLOCK_FILE"}
        env = {k: v for k, v in os.environ.items() if k not in drop}
        env.update(
            {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": self.api.base_url,
                "DATABASE_URL": self.db.url,
                "CLINIC_CHAT_ID": str(CLINIC_CHAT_ID),
                "CLINIC_STAFF_IDS": str(STAFF_ID),
                "CLINIC_TIMEZONE": TIMEZONE,
                "CLOCK_FILE": str(self.clock_file),
                "SEND_RATE_PER_SECOND": str(self.send_rate),
                "DIGEST_TIME": "23:30",  # no staff digest during the run
                "PYTHONUNBUFFERED": "1",
                "PYTHONPATH": str(ROOT),
            }
        )
        return env

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def move_clock(self, to: datetime) -> None:
        """The bot reads CLOCK_FILE on every look at the time: its "now" is there."""
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(to.isoformat())
        tmp.replace(self.clock_file)  # never a half-written file

    def cpu(self) -> float:
        cpu = proc_cpu_seconds(self.pid)
        if cpu is None:
            self.check_alive()
            raise BenchFailed("cannot read the bot's CPU time from /proc")
        return cpu

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            raise BenchFailed(
                f"the bot exited with code {self.proc.returncode}; the tail of {self.log}:\n"
                + read_tail(self.log)
            )

    async def start(self, limit: float) -> float:
        """Start the bot; return once it polls the fake for updates (seconds taken)."""
        self.clock_file.write_text(CLOCK_AT.isoformat())
        started = time.monotonic()
        self.proc = await spawn_logged(
            self.argv(), env=self.env(), cwd=self.workdir, log_path=self.log
        )
        while not self.api.requests("getUpdates"):
            await asyncio.sleep(0.05)
            self.check_alive()
            if time.monotonic() - started > limit:
                raise BenchFailed(
                    f"the bot did not poll for updates within {limit:.0f} s; "
                    f"the tail of {self.log}:\n{read_tail(self.log)}"
                )
        return time.monotonic() - started

    async def stop(self) -> None:
        """SIGTERM, then SIGKILL after STOP_GRACE seconds."""
        proc = self.proc
        if proc is None:
            return
        stopping = time.monotonic()
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), STOP_GRACE)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
            self.stop_seconds = time.monotonic() - stopping
        self.exit_code = proc.returncode


# --------------------------------------------------------------------------------------------
# Patients pressing through check-ins
# --------------------------------------------------------------------------------------------

OPENING, IDLE, PRESSED, RESTARTING = "opening", "idle", "pressed", "restarting"


@dataclass
class Phase:
    name: str
    offered: float | None  # presses a second (None: closed loop)
    window: float  # seconds of sending
    report: bool = True
    title: str = ""  # the label, when not derived from the rate
    sent: int = 0
    answered: int = 0
    skipped: int = 0  # open loop: a press was due but every patient was waiting for the bot
    press_errors: int = 0  # the fake refused the tap (the message had no such button)
    restarts: int = 0  # /checkin sent after a closing message
    latencies: list[float] = field(default_factory=list)
    start: float = 0.0
    last_answer: float | None = None
    end: float = 0.0  # when the grace period ended (or all were answered)
    bot_cpu: float = 0.0  # seconds over [start, end]
    harness_cpu: float = 0.0  # this process (fake API + load) over [start, end]
    cpu_at_start: float = 0.0  # the bot's CPU seconds when the phase began
    harness_at_start: float = 0.0

    @property
    def unanswered(self) -> int:
        return self.sent - self.answered - self.press_errors

    @property
    def achieved(self) -> float | None:
        if self.last_answer is None or self.last_answer <= self.start:
            return None
        return self.answered / (self.last_answer - self.start)

    @property
    def cpu_per_press(self) -> float | None:
        return self.bot_cpu / self.answered if self.answered else None

    def pct(self, q: float) -> float | None:
        return percentile(sorted(self.latencies), q)

    @property
    def label(self) -> str:
        if self.title:
            return self.title
        return f"open {self.offered:g}/s" if self.offered is not None else "closed loop"


class Patient:
    __slots__ = (
        "uid",
        "msg_id",
        "buttons",
        "state",
        "press_at",
        "phase",
        "ready",
        "since",
    )

    def __init__(self, uid: int) -> None:
        self.uid = uid
        self.msg_id = 0
        self.buttons: list[tuple[str, str]] = []  # (text, callback_data) of the check-in keyboard
        self.state = OPENING
        self.press_at = 0.0
        self.phase: Phase | None = None
        self.ready = asyncio.Event()
        self.since = time.monotonic()  # when the state last changed


def checkin_buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [
        (b.get("text", ""), b["callback_data"])
        for row in markup.get("inline_keyboard", [])
        for b in row
        if str(b.get("callback_data", "")).startswith("ci:")
    ]


class Load:
    """The patients, driven through the fake; answers are seen by the fake's message listener."""

    def __init__(self, api: Any, bot: Bot, n: int) -> None:
        self.api = api
        self.bot = bot
        self.patients = {FIRST_USER_ID + i: Patient(FIRST_USER_ID + i) for i in range(1, n + 1)}
        self.idle: deque[Patient] = deque()  # the longest-waiting free patient first
        self.phase: Phase | None = None
        self.recovered = 0  # unanswered presses whose patient was given a fresh /checkin
        self._tasks: set[asyncio.Task] = set()
        api.on_bot_message(self._on_bot_message)

    # -- what the bot does -------------------------------------------------------------------

    def _on_bot_message(self, chat_id: int, message: dict[str, Any], edited: bool) -> None:
        p = self.patients.get(chat_id)
        if p is None or message.get("deleted"):
            return
        now = time.monotonic()
        buttons = checkin_buttons(message)
        if edited:
            if p.state != PRESSED or message["message_id"] != p.msg_id:
                return
            phase = p.phase
            if phase is not None:
                phase.answered += 1
                phase.latencies.append(now - p.press_at)
                phase.last_answer = now
            p.phase = None
            if buttons:
                self._set_idle(p, message["message_id"], buttons)
            else:  # the closing message: the check-in is saved, start another one
                self._restart(p)
        elif buttons and p.state != PRESSED:  # a new check-in question message
            self._set_idle(p, message["message_id"], buttons)

    def _set_idle(self, p: Patient, msg_id: int, buttons: list[tuple[str, str]]) -> None:
        p.state, p.msg_id, p.buttons, p.since = IDLE, msg_id, buttons, time.monotonic()
        self.idle.append(p)
        p.ready.set()

    def _restart(self, p: Patient) -> None:
        p.state, p.since = RESTARTING, time.monotonic()
        p.ready.clear()
        if self.phase is not None:
            self.phase.restarts += 1
        self._send_checkin(p)

    def _send_checkin(self, p: Patient) -> None:
        task = asyncio.get_running_loop().create_task(self.api.send_text(p.uid, "/checkin"))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- pressing ----------------------------------------------------------------------------

    @staticmethod
    def choose(p: Patient) -> str:
        """The label of the button to tap on the patient's current check-in question."""
        step = ""
        for text, data in p.buttons:
            parts = data.split(":")
            step = parts[2] if len(parts) > 2 else ""
            if step not in ANSWERS:
                break
            if len(parts) > 3 and parts[3] == ANSWERS[step]:
                return text
        raise BenchFailed(
            f"patient {p.uid}: do not know which button to press on check-in step {step!r}; "
            f"the keyboard is {p.buttons}"
        )

    async def press(self, p: Patient, phase: Phase) -> None:
        label = self.choose(p)
        p.state, p.phase, p.since = PRESSED, phase, time.monotonic()
        p.ready.clear()
        phase.sent += 1
        p.press_at = time.monotonic()
        try:
            await self.api.press(p.uid, p.msg_id, label)
        except ValueError:  # the message or button is gone: start over
            phase.press_errors += 1
            p.phase = None
            self._restart(p)

    def take_idle(self) -> Patient | None:
        while self.idle:
            p = self.idle.popleft()
            if p.state == IDLE:
                return p
        return None

    # -- phases ------------------------------------------------------------------------------

    async def open_checkins(self, limit: float) -> float:
        """Every patient sends /checkin; returns once every one has a question to answer."""
        started = time.monotonic()
        for p in self.patients.values():
            self._send_checkin(p)
        while any(p.state != IDLE for p in self.patients.values()):
            await asyncio.sleep(0.02)
            self.bot.check_alive()
            if time.monotonic() - started > limit:
                waiting = [p for p in self.patients.values() if p.state != IDLE]
                raise BenchFailed(
                    f"{len(waiting)} of {len(self.patients)} patients got no check-in question "
                    f"within {limit:.0f} s of /checkin. The first one's chat:\n"
                    f"{self.api.describe_chat(waiting[0].uid)}\n"
                    f"The tail of {self.bot.log}:\n{read_tail(self.bot.log)}"
                )
        return time.monotonic() - started

    async def settle(self, limit: float) -> None:
        """Before a phase: let restarting patients get their question (bounded)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if all(p.state == IDLE for p in self.patients.values()):
                return
            await asyncio.sleep(0.02)

    def _begin(self, phase: Phase) -> None:
        self.bot.check_alive()
        self.phase = phase
        # Rebuild the free list: the closed loop never takes from it.
        self.idle = deque(
            sorted((p for p in self.patients.values() if p.state == IDLE), key=lambda p: p.since)
        )
        phase.start = time.monotonic()
        phase.cpu_at_start = self.bot.cpu()
        phase.harness_at_start = time.process_time()

    async def _finish(self, phase: Phase, grace: float) -> None:
        deadline = time.monotonic() + grace
        while phase.unanswered > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
            self.bot.check_alive()
        phase.end = time.monotonic()
        phase.bot_cpu = self.bot.cpu() - phase.cpu_at_start
        phase.harness_cpu = time.process_time() - phase.harness_at_start
        self.phase = None
        # Presses left unanswered: give those patients a fresh /checkin (it resumes the draft).
        now = time.monotonic()
        for p in self.patients.values():
            if p.state == PRESSED and p.phase is phase:
                p.phase = None
                self.recovered += 1
                self._restart(p)
            elif p.state in (RESTARTING, OPENING) and now - p.since > grace:
                p.since = now
                self._send_checkin(p)

    async def run_open(self, phase: Phase, grace: float) -> None:
        assert phase.offered
        interval = 1.0 / phase.offered
        self._begin(phase)
        end = phase.start + phase.window
        k = 0
        while True:
            due = phase.start + k * interval
            if due >= end:
                break
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            p = self.take_idle()
            if p is None:
                phase.skipped += 1
            else:
                await self.press(p, phase)
            k += 1
            if k % 64 == 0:
                self.bot.check_alive()
        await self._finish(phase, grace)

    async def run_closed(self, phase: Phase, grace: float) -> None:
        self._begin(phase)
        end = phase.start + phase.window

        async def patient_loop(p: Patient) -> None:
            while True:
                remaining = end - time.monotonic()
                if remaining <= 0:
                    return
                if p.state != IDLE:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(p.ready.wait(), remaining)
                    continue
                await self.press(p, phase)

        async def watch() -> None:
            while time.monotonic() < end:
                await asyncio.sleep(0.2)
                self.bot.check_alive()

        loop = asyncio.get_running_loop()
        tasks = [loop.create_task(watch())]
        tasks += [loop.create_task(patient_loop(p)) for p in self.patients.values()]
        try:
            await asyncio.gather(*tasks)
        finally:  # the bot died (or the run was cancelled): no patient keeps pressing
            for task in tasks:
                task.cancel()
        await self._finish(phase, grace)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task


# --------------------------------------------------------------------------------------------
# --fanout: presses and red flags while a morning's prompts go out
# --------------------------------------------------------------------------------------------


@dataclass
class RedFlag:
    uid: int
    name: str
    sent_at: float
    in_budget: bool  # fewer than 20 messages were in (or ahead of) the clinic chat's minute
    advice_at: float | None = None  # the urgent advice reached the patient's chat
    alert_at: float | None = None  # the URGENT alert naming the patient reached the clinic chat

    @property
    def advice(self) -> float | None:
        return None if self.advice_at is None else self.advice_at - self.sent_at

    @property
    def alert(self) -> float | None:
        return None if self.alert_at is None else self.alert_at - self.sent_at


class RedFlags:
    """Patients of the benchmark who are not in a check-in type a red flag, one patient each
    (so every one raises a new urgent alert); the fake's listener times the answers."""

    def __init__(self, api: Any, numbers: range) -> None:
        self.api = api
        self.free = deque((FIRST_USER_ID + i, f"Patient {i}") for i in numbers)
        self.by_uid: dict[int, RedFlag] = {}
        self.by_name: dict[str, RedFlag] = {}
        self.clinic_times: list[float] = []  # every message the bot sent to the clinic chat
        api.on_bot_message(self._on_bot_message)

    def _on_bot_message(self, chat_id: int, message: dict[str, Any], edited: bool) -> None:
        if edited or message.get("deleted"):
            return
        now = time.monotonic()
        text = message.get("text") or ""
        if chat_id == CLINIC_CHAT_ID:
            self.clinic_times.append(now)
            m = ALERT_NAME.search(text)
            rf = self.by_name.get(m.group(1)) if m else None
            if rf is not None and rf.alert_at is None:
                rf.alert_at = now
        else:
            rf = self.by_uid.get(chat_id)
            if rf is not None and rf.advice_at is None and ADVICE_MARK in text.lower():
                rf.advice_at = now

    async def send(self) -> RedFlag:
        if not self.free:
            raise BenchFailed("no patient left to type a red flag (a bug in the benchmark)")
        uid, name = self.free.popleft()
        now = time.monotonic()
        # The clinic chat's minute: what reached it in the last 60 s, and alerts still to come.
        ahead = sum(1 for t in self.clinic_times if now - t < 60.0)
        ahead += sum(1 for rf in self.by_uid.values() if rf.alert_at is None)
        rf = RedFlag(uid, name, now, in_budget=ahead < GROUP_PER_MINUTE)
        self.by_uid[uid] = self.by_name[name] = rf
        rf.sent_at = time.monotonic()
        await self.api.send_text(uid, RED_FLAG_TEXT)
        return rf

    @staticmethod
    async def wait(flags: list[RedFlag], limit: float, bot: Bot) -> None:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if all(rf.advice_at is not None and rf.alert_at is not None for rf in flags):
                return
            await asyncio.sleep(0.005)
            bot.check_alive()


@dataclass
class Fanout:
    n: int
    limited: bool
    press_rate: float
    red_flag_every: float
    seed_seconds: float = 0.0
    presses: Phase | None = None
    baseline: RedFlag | None = None  # a red flag typed before the fan-out began
    flags: list[RedFlag] = field(default_factory=list)  # typed during the window
    to_first: float | None = None  # clock moved -> first prompt delivered
    window_start: float = 0.0
    window: float = 0.0
    prompt_times: list[float] = field(default_factory=list)
    too_many_times: list[float] = field(default_factory=list)
    errors: dict[int, int] = field(default_factory=dict)
    error_kinds: Counter[str] = field(default_factory=Counter)  # the answers other than 429
    recorded_sent: int | None = None  # check-in prompts the outbox recorded as sent
    loop_lag: float = 0.0  # the fake's event loop, worst wake-up delay in the window
    flags_grace: float = 0.0

    @property
    def pacing(self) -> str:
        return f"{FANOUT_RATE}/s" if self.limited else "unlimited"

    def in_window(self, times: list[float]) -> int:
        end = self.window_start + self.window
        return sum(1 for t in times if self.window_start <= t <= end)

    @property
    def prompts_in_window(self) -> int:
        return self.in_window(self.prompt_times)

    @property
    def prompt_rate(self) -> float:
        return self.prompts_in_window / self.window if self.window else 0.0

    def advice(self) -> list[float]:
        return sorted(rf.advice for rf in self.flags if rf.advice is not None)

    def alerts(self, only_in_budget: bool = False) -> list[float]:
        return sorted(
            rf.alert
            for rf in self.flags
            if rf.alert is not None and (rf.in_budget or not only_in_budget)
        )

    @property
    def first_alert(self) -> float | None:
        return self.flags[0].alert if self.flags else None


def red_flags_in_window(seconds: float, every: float) -> int:
    """Red flags typed at every/2, 3*every/2, ... before the window's end."""
    return max(0, math.ceil(seconds / every - 0.5))


async def run_fanout(
    args: argparse.Namespace, api: Any, bot: Bot, load: Load, flags: RedFlags, res: Fanout
) -> None:
    """The baseline red flag, the clock moved to FANOUT_AT, then the window once the first
    prompt is out: presses (open loop) and red flags side by side."""
    await load.settle(args.grace)
    res.baseline = await flags.send()
    await flags.wait([res.baseline], args.grace, bot)
    bot.move_clock(FANOUT_AT)
    moved = time.monotonic()
    while not api.prompt_times:  # the bot's next tick finds the reminders due
        await asyncio.sleep(0.005)
        bot.check_alive()
        if time.monotonic() - moved > args.start_timeout:
            raise BenchFailed(
                f"no check-in prompt of the fan-out within {args.start_timeout:.0f} s of moving "
                f"the bot's clock to {FANOUT_AT.isoformat()}; the tail of {bot.log}:\n"
                + read_tail(bot.log)
            )
    res.to_first = api.prompt_times[0] - moved
    print(f"fan-out: first prompt {res.to_first:.1f} s after the clock moved", flush=True)
    phase = Phase("fan-out", res.press_rate, args.seconds, title=f"fan-out {res.press_rate:g}/s")
    res.presses = phase
    # Beyond 20 alerts a minute the clinic chat's window holds the rest (up to a minute more).
    n_flags = red_flags_in_window(args.seconds, res.red_flag_every)
    over = res.limited and n_flags + 1 > GROUP_PER_MINUTE
    res.flags_grace = args.grace + (60.0 if over else 0.0)

    async def red_flags() -> None:
        start = time.monotonic()
        for k in range(n_flags):  # at every/2, 3*every/2, ... into the window
            due = start + (k + 0.5) * res.red_flag_every
            if due >= start + args.seconds:
                break
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            res.flags.append(await flags.send())
        await flags.wait(res.flags, res.flags_grace, bot)

    lag = LoopLag()
    lag.start()
    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(load.run_open(phase, args.grace)), loop.create_task(red_flags())]
    try:
        await asyncio.gather(*tasks)
    finally:  # the bot died (or the run was cancelled): neither side goes on
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await lag.stop()
    res.window_start, res.window = phase.start, args.seconds
    res.loop_lag = lag.worst(phase.start, phase.start + args.seconds)


def fanout_lines(res: Fanout) -> list[str]:
    lines = []
    if res.presses is not None:
        lines.append(phase_line(res.presses))
    b = res.baseline
    advice, alerts = res.advice(), res.alerts()
    no_advice = sum(1 for rf in res.flags if rf.advice is None)
    no_alert = sum(1 for rf in res.flags if rf.alert is None)
    beyond = [rf for rf in res.flags if not rf.in_budget]
    in_budget = res.alerts(only_in_budget=True)
    lines.append(
        f"  {'red flags':<12} before the fan-out: advice {ms(b.advice if b else None)} ms, "
        f"alert {ms(b.alert if b else None)} ms; during it: {len(res.flags)} typed (one every "
        f"{res.red_flag_every:g} s), urgent advice p50 {ms(percentile(advice, 0.5))} / max "
        f"{ms(max(advice, default=None))} ms ({no_advice} not received); URGENT alert in the "
        f"clinic chat: first {ms(res.first_alert)} ms, p50 {ms(percentile(alerts, 0.5))} / max "
        f"{ms(max(alerts, default=None))} ms ({no_alert} not received within "
        f"{res.flags_grace:g} s)"
        + (
            f"; {len(beyond)} typed when the clinic chat's {GROUP_PER_MINUTE} messages a minute "
            f"were used up (those wait for the group's window, Telegram's limit): alerts within "
            f"the budget max {ms(max(in_budget, default=None))} ms"
            if beyond
            else f"; all within the clinic chat's {GROUP_PER_MINUTE} messages a minute"
        )
    )
    window_429 = res.in_window(res.too_many_times)
    errors = ", ".join(f"{code}: {count:,}" for code, count in sorted(res.errors.items()))
    if res.error_kinds:
        kinds = "; ".join(f"{k[:80]} ({n:,})" for k, n in res.error_kinds.most_common(3))
        errors += f" ({kinds})"
    recorded = "n/a" if res.recorded_sent is None else f"{res.recorded_sent:,}"
    lines.append(
        f"  {'fan-out':<12} {res.n:,} prompts due at once ({res.pacing}); first prompt "
        f"{res.to_first or 0:.1f} s after the clock moved; {res.prompts_in_window:,} prompts "
        f"delivered in the {res.window:g} s window ({res.prompt_rate:.1f}/s); "
        f"{len(res.prompt_times):,} by the time the bot was stopped (outbox recorded {recorded} "
        f"sent)"
        + (", all of them" if len(res.prompt_times) >= res.n else ", the rest abandoned")
        + f"; 429 answers: {window_429:,} in the window, "
        f"{len(res.too_many_times):,} in all; error answers by code: {errors or 'none'}; the "
        f"fake's event loop woke up to {ms(res.loop_lag)} ms late in the window"
    )
    return lines


FANOUT_HEADER = [
    "fan-out",
    "pacing",
    "window s",
    "presses/s",
    "sent",
    "answered",
    "unanswered",
    "press p50 ms",
    "press p95 ms",
    "press max ms",
    "red flags",
    "advice p50 ms",
    "advice max ms",
    "first alert ms",
    "alert max ms",
    "prompts in window",
    "prompts/s",
    "429s in window",
]


def fanout_row(res: Fanout) -> list[str]:
    ph = res.presses
    assert ph is not None
    advice, alerts = res.advice(), res.alerts()
    return [
        f"{res.n:,}",
        res.pacing,
        f"{res.window:g}",
        f"{res.press_rate:g}",
        f"{ph.sent:,}",
        f"{ph.answered:,}",
        f"{ph.unanswered:,}",
        ms(ph.pct(0.50)),
        ms(ph.pct(0.95)),
        ms(max(ph.latencies, default=None)),
        f"{len(res.flags)}",
        ms(percentile(advice, 0.5)),
        ms(max(advice, default=None)),
        ms(res.first_alert),
        ms(max(alerts, default=None)),
        f"{res.prompts_in_window:,}",
        f"{res.prompt_rate:.1f}",
        f"{res.in_window(res.too_many_times):,}",
    ]


def claim_lines(res: Fanout) -> list[str]:
    """The claim: neither an urgent alert nor a patient's answer delayed by more than 1 s."""
    ph = res.presses
    assert ph is not None

    def verdict(worst: float | None, missing: int) -> str:
        if missing or worst is None:
            return f"NOT met ({missing} never answered)" if missing else "not measured"
        return "met" if worst <= CLAIM else "NOT met"

    press_max = max(ph.latencies, default=None)
    advice = res.advice()
    no_advice = sum(1 for rf in res.flags if rf.advice is None)
    first = res.first_alert
    in_budget = res.alerts(only_in_budget=True)
    lost = sum(1 for rf in res.flags if rf.in_budget and rf.alert is None)
    return [
        f"Claim: during a fan-out of {res.n:,} prompts ({res.pacing}), an urgent alert or a "
        f"patient's answer is not delayed by more than {CLAIM:g} s:",
        f"  answers to presses: max {ms(press_max)} ms over {ph.answered:,} answered -> "
        + verdict(press_max, ph.unanswered),
        f"  urgent advice to the patient: max {ms(max(advice, default=None))} ms over "
        f"{len(advice)} -> " + verdict(max(advice, default=None), no_advice),
        f"  the first URGENT alert in the clinic chat: {ms(first)} ms -> "
        + verdict(first, 1 if res.flags and first is None else 0),
        f"  (not the claim: every alert within the clinic chat's {GROUP_PER_MINUTE} a minute, "
        f"max {ms(max(in_budget, default=None))} ms"
        + (f", {lost} not received" if lost else "")
        + "; alerts beyond that budget wait for the group's window by Telegram's rules)",
    ]


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------

HEADER = [
    "phase",
    "offered/s",
    "sent",
    "answered",
    "unanswered",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "achieved/s",
    "bot CPU ms/press",
]


def table_row(ph: Phase) -> list[str]:
    return [
        ph.label,
        f"{ph.offered:g}" if ph.offered is not None else "as answered",
        f"{ph.sent:,}",
        f"{ph.answered:,}",
        f"{ph.unanswered:,}",
        ms(ph.pct(0.50)),
        ms(ph.pct(0.95)),
        ms(ph.pct(0.99)),
        f"{ph.achieved:.1f}" if ph.achieved is not None else "n/a",
        ms(ph.cpu_per_press, 2),
    ]


def phase_line(ph: Phase) -> str:
    extra = []
    if ph.skipped:
        extra.append(f"{ph.skipped:,} due presses skipped (every patient waiting for the bot)")
    if ph.press_errors:
        extra.append(f"{ph.press_errors:,} taps refused by the fake")
    per_press = ph.harness_cpu / ph.answered * 1000 if ph.answered else None
    return (
        f"  {ph.label:<12} sent {ph.sent:,}, answered {ph.answered:,}, unanswered "
        f"{ph.unanswered:,}; p50 {ms(ph.pct(0.5))} / p95 {ms(ph.pct(0.95))} / p99 "
        f"{ms(ph.pct(0.99))} ms (max {ms(max(ph.latencies, default=None))}); achieved "
        f"{ph.achieved or 0:.1f}/s; bot CPU {ms(ph.cpu_per_press, 2)} ms/press "
        f"({ph.bot_cpu / max(ph.end - ph.start, 1e-9):.2f} cores); fake+load CPU "
        f"{'n/a' if per_press is None else f'{per_press:.2f}'} ms/press; "
        f"{ph.restarts} check-ins restarted" + ("; " + "; ".join(extra) if extra else "")
    )


def render_markdown(rows: list[list[str]], header: list[str] = HEADER) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(header), sep, *(line(r) for r in rows)])


def print_profile(path: Path) -> None:
    """The bot's CPU profile from bench/_sampler.py (the whole run, start-up included)."""
    if not path.exists():
        print(f"\n(no profile was written at {path})")
        return
    data = json.loads(path.read_text())
    total = data["samples"] or 1
    print(
        f"\nWhere the bot's CPU went, whole run ({data['samples']:,} samples, "
        f"every {data.get('interval', 0.005) * 1000:g} ms of CPU):"
    )
    print("  by package (innermost non-stdlib frame):")
    for name, count in list(data["self_by_package"].items())[:10]:
        print(f"    {count / total:6.1%}  {name}")
    print("  inclusive (the stack passes through):")
    for name, count in data["inclusive"].items():
        if count:
            print(f"    {count / total:6.1%}  {name}")
    print("  the project's functions, inclusive:")
    for name, count in list(data.get("project_functions", {}).items())[:10]:
        print(f"    {count / total:6.1%}  {name}")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def make_fake_api() -> Any:
    from fake_telegram import FakeBotApi

    class BenchApi(FakeBotApi):
        """The strict fake, plus a tally of its error answers (429s included), as in
        bench/reminders.py, and the delivery time of every check-in prompt of the fan-out."""

        def __init__(self, token: str) -> None:
            super().__init__(token)
            self.errors: Counter[int] = Counter()  # error answers to any method, by code
            self.error_kinds: Counter[str] = Counter()  # "method code: description"
            self.too_many_times: list[float] = []  # time.monotonic() of each 429 answer
            self.prompt_times: list[float] = []  # time.monotonic() when stored, in order
            self.on_bot_message(self._delivered)

        def _error(self, error):  # every error answer of _handle_api goes through here
            self.errors[error.error_code] += 1
            if error.error_code == 429:
                self.too_many_times.append(time.monotonic())
            else:  # the request it answers was recorded just before (429s are counted apart)
                method = self._requests[-1][0] if self._requests else "?"
                self.error_kinds[f"{method} {error.error_code}: {error.description}"] += 1
            return super()._error(error)

        def _delivered(self, chat_id: int, message: dict[str, Any], edited: bool) -> None:
            if edited or chat_id <= FANOUT_FIRST:
                return
            markup = message.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for b in row:
                    data = b.get("callback_data", "")
                    if data.startswith("ck:") and data.endswith(":go"):
                        self.prompt_times.append(time.monotonic())
                        return

    return BenchApi(TOKEN)


async def start_fake_api(n: int, fanout: int = 0, limited: bool = False) -> Any:
    api = make_fake_api()
    await api.start()
    api.add_user(STAFF_ID, "Dana", started=True)
    api.add_group(CLINIC_CHAT_ID, "Clinic staff", members=[STAFF_ID])
    for i in range(1, n + 1):
        api.add_user(FIRST_USER_ID + i, f"Patient {i}", started=True)
    for i in range(1, fanout + 1):  # patients who opened the bot before: it may message them
        api.add_user(FANOUT_FIRST + i, f"Fan-out {i}", started=True)
    if limited:  # Telegram's limits: 429 with retry_after beyond them
        api.set_rate_limit(per_second=FANOUT_RATE, per_group_per_minute=GROUP_PER_MINUTE)
    else:
        api.set_rate_limit(None, None)  # flood control off
    return api


async def run(args: argparse.Namespace, workdir: Path) -> tuple[list[Phase], Fanout | None, str]:
    """Runs the phases (or the fan-out scenario); returns them and a failure message ('' when
    all went well)."""
    phases: list[Phase] = []
    fanout: Fanout | None = None
    db = Database(args.database, workdir)
    # --fanout: patients who type a red flag (one each), numbered after the pressing ones.
    n_flags = (
        1 + red_flags_in_window(args.seconds, args.fanout_red_flag_every) if args.fanout else 0
    )
    print(f"database: resetting and migrating ({db.kind}); logs in {workdir}", flush=True)
    try:
        await db.reset()
        await db.seed(args.patients + n_flags)
        if args.fanout:
            fanout = Fanout(
                args.fanout,
                limited=not args.fanout_unlimited,
                press_rate=args.fanout_press_rate,
                red_flag_every=args.fanout_red_flag_every,
            )
            fanout.seed_seconds = await db.seed_fanout(args.fanout)
    except BenchFailed as exc:
        return phases, fanout, str(exc)
    print(
        f"database: {db.label}; {args.patients} patients seeded"
        + (
            f" (+{n_flags} to type red flags); {args.fanout:,} fan-out patients with a check-in "
            f"reminder due at {FANOUT_AT:%H:%M} UTC seeded in {fanout.seed_seconds:.1f} s"
            if fanout
            else ""
        ),
        flush=True,
    )
    api = await start_fake_api(
        args.patients + n_flags, args.fanout, limited=bool(fanout and fanout.limited)
    )
    profile = workdir / "bot-profile.json" if args.profile_bot else None
    bot = Bot(api, db, workdir, profile)
    if fanout is not None and fanout.limited:
        bot.send_rate = FANOUT_RATE
    load: Load | None = None
    failure = ""
    frozen = False
    try:
        took = await bot.start(args.start_timeout)
        print(f"bot: pid {bot.pid}, polling after {took:.1f} s", flush=True)
        load = Load(api, bot, args.patients)
        flags = RedFlags(api, range(args.patients + 1, args.patients + n_flags + 1))
        took = await load.open_checkins(args.start_timeout)
        print(f"check-ins open for all {args.patients} patients after {took:.1f} s", flush=True)
        if args.warmup_seconds > 0:
            warm = Phase("warm-up", None, args.warmup_seconds, report=False)
            await load.run_closed(warm, args.grace)
            print(f"warm-up: {warm.answered:,} presses answered in {args.warmup_seconds:g} s")
        if fanout is not None:
            # What is loaded so far (the fake's 100,000 users) lives to the end: keep the
            # collector from re-scanning it, so the fake is not stalled while it times answers.
            gc.collect()
            gc.freeze()
            frozen = True
            await run_fanout(args, api, bot, load, flags, fanout)
        plan = [Phase(f"open {r:g}/s", r, args.seconds) for r in args.rates]
        if args.closed_seconds > 0:
            plan.append(Phase("closed loop", None, args.closed_seconds))
        for ph in plan if fanout is None else []:
            await load.settle(args.grace)
            if ph.offered is not None:
                await load.run_open(ph, args.grace)
            else:
                await load.run_closed(ph, args.grace)
            phases.append(ph)
            print(phase_line(ph), flush=True)
    except BenchFailed as exc:
        failure = str(exc)
    finally:
        if load is not None:
            await load.close()
        await bot.stop()
        await api.stop()
        if frozen:
            gc.unfreeze()
    if fanout is not None:
        fanout.prompt_times = list(api.prompt_times)
        fanout.too_many_times = list(api.too_many_times)
        fanout.errors = dict(api.errors)
        fanout.error_kinds = Counter(api.error_kinds)
        fanout.recorded_sent = await db.prompts_sent()
        if fanout.presses is not None:
            for line in fanout_lines(fanout):
                print(line, flush=True)
    if bot.stop_seconds is not None:
        how = "killed" if bot.exit_code == -signal.SIGKILL else f"exit code {bot.exit_code}"
        print(f"bot stopped on SIGTERM in {bot.stop_seconds:.1f} s ({how})")
    if not failure:
        stale = sum(1 for a in api.callback_answers() if a.get("show_alert"))
        counts = await db.counts()
        print(
            f"bot answers with an alert (stale/refused taps): {stale}; rows left: "
            + ", ".join(f"{k} {v:,}" for k, v in counts.items())
            + (f"; unanswered presses recovered with /checkin: {load.recovered}" if load else "")
        )
        errors = [
            line
            for line in bot.log.read_text(errors="replace").splitlines()
            if " ERROR " in line or "Traceback" in line
        ]
        if errors:
            print(f"bot log has {len(errors)} error lines, e.g.: {errors[0][:200]}")
    if profile is not None:
        print_profile(profile)
    return phases, fanout, failure


def parse_rates(raw: str) -> list[float]:
    try:
        rates = [float(r) for r in raw.split(",") if r.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {raw!r}") from None
    if any(r <= 0 for r in rates):
        raise argparse.ArgumentTypeError("rates must be positive")
    return rates


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--patients", type=int, default=30, help="patients pressing (default 30)")
    p.add_argument(
        "--rates", type=parse_rates, default=[20.0, 50.0, 100.0],
        help="open-loop rates, presses a second (default 20,50,100)",
    )  # fmt: skip
    p.add_argument("--seconds", type=float, default=10.0, help="each open-loop phase, seconds")
    p.add_argument("--closed-seconds", type=float, default=10.0, help="closed-loop phase (0: none)")
    p.add_argument("--warmup-seconds", type=float, default=2.0, help="unreported warm-up")
    p.add_argument("--grace", type=float, default=5.0, help="wait for late answers, seconds")
    p.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument(
        "--profile-bot", action="store_true", help="sample the bot's CPU (bench/_sampler.py)"
    )
    p.add_argument("--start-timeout", type=float, default=60.0, help="bot start-up, seconds")
    p.add_argument("--max-seconds", type=float, default=0.0, help="cap on the run (0: derived)")
    p.add_argument("--workdir", help="where logs go (default: a new temporary folder)")
    p.add_argument(
        "--fanout", type=int, default=0,
        help="instead of the phases: N more patients' check-in prompts due at once, with "
        "presses and red flags measured for --seconds once they go out (default 0: off)",
    )  # fmt: skip
    p.add_argument(
        "--fanout-unlimited", action="store_true",
        help="--fanout with the fake's flood control and the bot's limiter off "
        f"(default: both at {FANOUT_RATE}/s, {GROUP_PER_MINUTE}/min per group)",
    )  # fmt: skip
    p.add_argument(
        "--fanout-press-rate", type=float, default=5.0,
        help="--fanout: presses a second by the benchmark's patients (open loop, default 5)",
    )  # fmt: skip
    p.add_argument(
        "--fanout-red-flag-every", type=float, default=2.0,
        help="--fanout: seconds between red flags typed by the benchmark's patients (default 2)",
    )  # fmt: skip
    args = p.parse_args(argv)
    if args.patients < 1:
        p.error("--patients must be positive")
    if args.seconds <= 0 or args.grace < 0:
        p.error("--seconds must be positive and --grace not negative")
    if args.fanout < 0 or args.fanout_press_rate <= 0 or args.fanout_red_flag_every <= 0:
        p.error("--fanout must not be negative, its press rate and red-flag spacing positive")
    if not args.max_seconds:
        if args.fanout:
            # Seeding (PostgreSQL COPY or SQLite inserts), the baseline red flag, the first
            # prompt (the next tick), the window, late answers, a minute more for alerts held by
            # the clinic chat's window, stopping the bot.
            phases = args.fanout / 2000 + 3 * args.grace + args.start_timeout + args.seconds
            phases += 60 + STOP_GRACE
        else:
            phases = len(args.rates) * (args.seconds + 2 * args.grace)
            phases += args.closed_seconds + 2 * args.grace
        args.max_seconds = 2 * args.start_timeout + args.warmup_seconds + phases + 60
    return args


def main() -> None:
    args = parse_args()
    command = shlex.join([sys.executable, *sys.argv])
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="bench-latency-"))
    workdir.mkdir(parents=True, exist_ok=True)
    print("Button-press latency: the real bot against the in-process fake Bot API")
    print(f"command: {command}")
    print(f"bot code: {code_version()}")
    print(f"machine: {machine()}")
    if args.fanout:
        limits = (
            "fake's flood control off, SEND_RATE_PER_SECOND=0"
            if args.fanout_unlimited
            else f"fake's flood control {FANOUT_RATE}/s and {GROUP_PER_MINUTE}/min per group, "
            f"SEND_RATE_PER_SECOND={FANOUT_RATE}"
        )
        print(
            f"setup: fan-out of {args.fanout:,} check-in prompts due at once, {args.database}, "
            f"{limits}; {args.patients} patients pressing at {args.fanout_press_rate:g}/s and a "
            f"red flag every {args.fanout_red_flag_every:g} s for {args.seconds:g} s once the "
            f"prompts go out, grace {args.grace:g} s",
            flush=True,
        )
    else:
        print(
            f"setup: {args.patients} patients, {args.database}, fake's flood control off, "
            f"SEND_RATE_PER_SECOND=0; open loop {', '.join(f'{r:g}' for r in args.rates)}/s for "
            f"{args.seconds:g} s each, closed loop {args.closed_seconds:g} s, grace "
            f"{args.grace:g} s",
            flush=True,
        )
    t0 = time.monotonic()

    async def guarded() -> tuple[list[Phase], Fanout | None, str]:
        # SIGTERM cancels the run like Ctrl-C does, so the finally blocks stop the bot.
        task = asyncio.current_task()
        if task is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        try:
            return await asyncio.wait_for(run(args, workdir), args.max_seconds)
        except TimeoutError:
            msg = f"the run went over --max-seconds {args.max_seconds:.0f} and was stopped"
            return [], None, msg

    try:
        phases, fanout, failure = asyncio.run(guarded())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted; the bot this benchmark started has been stopped")
        sys.exit(130)
    elapsed = time.monotonic() - t0
    if fanout is not None and fanout.presses is not None and not failure:
        print()
        print(
            f"Presses and red flags during a fan-out of {fanout.n:,} prompts ({fanout.pacing}), "
            f"{args.patients} patients pressing, {args.database}, commit {code_version()}, "
            f"{machine()} (total {elapsed:.0f} s):"
        )
        print()
        print(render_markdown([fanout_row(fanout)], FANOUT_HEADER))
        print()
        print("\n".join(claim_lines(fanout)))

    reported = [ph for ph in phases if ph.report]
    if reported:
        print()
        print(
            f"Button-press latency, {args.patients} patients, {args.database}, commit "
            f"{code_version()}, {machine()} (total {elapsed:.0f} s):"
        )
        print()
        print(render_markdown([table_row(ph) for ph in reported]))
        skipped = [f"{ph.label}: {ph.skipped:,}" for ph in reported if ph.skipped]
        if skipped:
            print(
                "\nDue presses not sent because every patient was still waiting for the bot: "
                + ", ".join(skipped)
            )
    if failure:
        print(f"\nFAILED: {failure}")
        sys.exit(1)


if __name__ == "__main__":
    main()
