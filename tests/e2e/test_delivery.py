"""The inbox and the outbox under failure and load: the real bot process, the strict fake API."""

from __future__ import annotations

import asyncio
import signal
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from sqlalchemy import text

from tests.e2e.conftest import CLINIC_CHAT, STAFF, BotProcess
from tests.e2e.helpers import checkin, eventually, join, last_id, press, say
from tests.support import PG_URL

PATIENT, OTHER = 4242, 4343
ADVICE = "urgent medical help"
RED_FLAG = "I can't feel when I need to pee"


def advice_messages(api, chat: int) -> list[dict]:
    return [m for m in api.messages(chat) if ADVICE in m["text"]]


def urgent_alerts(api) -> list[dict]:
    return [m for m in api.messages(CLINIC_CHAT) if "URGENT" in m["text"]]


async def sent(db, kind: str) -> int:
    return await db.scalar(f"SELECT count(*) FROM outbox WHERE kind = '{kind}' AND status = 'sent'")


def seed_patients_sql() -> str:
    return (
        "INSERT INTO patients (telegram_user_id, chat_id, name, status, consented_at,"
        " checkin_time, timezone, enrolled_on, unreachable, exercise_times,"
        " exercise_times_chosen, created_at) VALUES (:u, :u, :n, 'active', :t, '13:00',"
        " 'UTC', '2026-05-01', false, '', false, :t)"
    )


async def test_a_red_flag_fetched_but_not_handled_before_kill_9_is_handled_once_after_restart(
    api, db_url, db, tmp_path
):
    hold = tmp_path / "hold"
    bot = BotProcess(api, db_url, tmp_path, INBOX_HOLD_FILE=str(hold))
    await bot.start()
    try:
        await join(api, PATIENT, "Sam Taylor")
        await say(api, PATIENT, "/cancel")
        hold.touch()  # from now on updates are stored, not handled: the crash window
        await api.send_text(PATIENT, RED_FLAG)
        await eventually(
            lambda: db.scalar("SELECT count(*) FROM inbox WHERE status = 'pending'"),
            what="the update stored in the inbox",
        )
        # Telegram has been told it arrived: it will never deliver it again.
        await eventually(lambda: api.pending_update_count == 0, what="the update confirmed")
        assert advice_messages(api, PATIENT) == [] and urgent_alerts(api) == []
        await bot.stop(signal.SIGKILL)
        hold.unlink()
        await bot.start()
        await api.wait_for_message(PATIENT, lambda m: ADVICE in m["text"], timeout=30)
        await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"], timeout=30)
        await eventually(lambda: sent(db, "urgent_advice"), what="the advice recorded as sent")
    finally:
        await bot.stop()
    assert len(advice_messages(api, PATIENT)) == 1
    assert len(urgent_alerts(api)) == 1
    assert await db.scalar("SELECT count(*) FROM outbox WHERE kind = 'urgent_advice'") == 1
    assert await db.scalar("SELECT count(*) FROM inbox WHERE status <> 'done'") == 0


class PostgresOutage:
    """A TCP relay between the bot and PostgreSQL that can cut every connection and refuse
    new ones, as a database restart or a network failure would."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.up = True
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def _client(self, reader, writer) -> None:
        if not self.up:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pipe(src, dst) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        self.up = False
        for w in self._writers:
            w.close()
        self._writers.clear()

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


async def test_a_red_flag_typed_while_postgresql_is_down_is_acted_on_once_it_is_back(
    api, db_url, db, tmp_path, backend
):
    if backend != "postgresql":
        pytest.skip("a database server that goes away: PostgreSQL")
    parts = urlsplit(PG_URL)
    outage = PostgresOutage(parts.hostname or "127.0.0.1", parts.port or 5432)
    port = await outage.start()
    netloc = parts.netloc.rsplit("@", 1)
    via_relay = urlunsplit(parts._replace(netloc=f"{netloc[0]}@127.0.0.1:{port}"))
    bot = BotProcess(api, via_relay, tmp_path)
    await bot.start()
    try:
        await join(api, PATIENT, "Sam Taylor")
        await say(api, PATIENT, "/cancel")
        outage.cut()
        await api.send_text(PATIENT, RED_FLAG)
        await asyncio.sleep(10)  # the database stays away for 10 s
        outage.up = True
        await api.wait_for_message(PATIENT, lambda m: ADVICE in m["text"], timeout=60)
        await api.wait_for_message(CLINIC_CHAT, lambda m: "URGENT" in m["text"], timeout=60)
        await eventually(lambda: sent(db, "alert"), what="the alert recorded as sent")
    finally:
        await bot.stop()
        await outage.stop()
    assert len(advice_messages(api, PATIENT)) == 1
    assert len(urgent_alerts(api)) == 1
    assert await db.scalar("SELECT count(*) FROM inbox WHERE status <> 'done'") == 0


class RunningClock:
    """The bot's clock file, moving with real time from a chosen instant (retries and
    back-offs need time to pass); ``jump`` moves it on."""

    def __init__(self, bot, start: datetime) -> None:
        self.bot = bot
        self.jump(start)
        self._task = asyncio.create_task(self._run())

    def jump(self, to: datetime) -> None:
        self.base, self.t0 = to, time.monotonic()
        self.bot.set_clock(to)

    async def _run(self) -> None:
        while True:
            self.bot.set_clock(self.base + timedelta(seconds=time.monotonic() - self.t0))
            await asyncio.sleep(0.1)

    def stop(self) -> None:
        self._task.cancel()


async def test_urgent_advice_survives_429_then_502_and_arrives_before_a_prompt_due_with_it(
    api, bot, db
):
    start = datetime(2026, 6, 10, 7, 50, tzinfo=UTC)  # 08:50 in London
    clock = RunningClock(bot, start)
    await join(api, PATIENT, "Sam Taylor")  # check-in prompt at 09:00 London
    await say(api, PATIENT, "/cancel")
    api.fail_next("sendMessage", 1, error_code=429, retry_after=1, chat_id=PATIENT)
    api.fail_next("sendMessage", 1, error_code=502, chat_id=PATIENT)
    after = last_id(api, PATIENT)
    await api.send_text(PATIENT, RED_FLAG)
    first_failure = (
        "SELECT count(*) FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox_id"
        " WHERE o.kind = 'urgent_advice'"
    )
    await eventually(lambda: db.scalar(first_failure), what="the advice's first attempt")
    clock.jump(start + timedelta(minutes=10))  # the check-in prompt falls due now
    try:
        advice = await api.wait_for_message(
            PATIENT, lambda m: ADVICE in m["text"], after=after, timeout=20
        )
        prompt = await api.wait_for_message(
            PATIENT, lambda m: "check-in" in m["text"].lower(), after=after, timeout=30
        )
    finally:
        clock.stop()
    assert advice["message_id"] < prompt["message_id"]
    outcomes = [
        r["outcome"]
        for r in await db.rows(
            "SELECT a.outcome FROM delivery_attempts a JOIN outbox o ON o.id = a.outbox_id"
            " WHERE o.kind = 'urgent_advice' ORDER BY a.id"
        )
    ]
    assert outcomes == ["retry", "retry", "sent"]
    assert len(advice_messages(api, PATIENT)) == 1


async def test_with_the_staff_group_window_full_a_red_flag_gets_its_advice_at_once(
    api, db_url, db, tmp_path
):
    api.set_rate_limit(per_second=30, per_group_per_minute=20)
    bot = BotProcess(api, db_url, tmp_path)
    await bot.start()
    try:
        await join(api, OTHER, "Robin Lee")
        await say(api, OTHER, "/cancel")
        before = len(api.messages(CLINIC_CHAT))
        for _ in range(25):
            await api.send_text(STAFF, "/alerts", chat_id=CLINIC_CHAT)
        # The group's 20 a minute are used up; the rest of the replies wait for the window.
        await eventually(lambda: len(api.messages(CLINIC_CHAT)) >= before + 19, what="replies")
        started = time.monotonic()
        await api.send_text(OTHER, RED_FLAG)
        await api.wait_for_message(OTHER, lambda m: ADVICE in m["text"], timeout=2)
        assert time.monotonic() - started < 2
        # The clinic's alert waits for the group's window; it is queued, not lost.
        assert await db.scalar("SELECT count(*) FROM outbox WHERE kind = 'alert'") == 1
    finally:
        await bot.stop()


async def test_check_in_presses_are_all_answered_during_a_fan_out_at_30_a_second(
    api, db_url, db, tmp_path
):
    api.set_rate_limit(per_second=30, per_group_per_minute=20)
    bot = BotProcess(api, db_url, tmp_path)
    due = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    bot.set_clock(due - timedelta(hours=1))
    await bot.start()
    try:
        question = await join(api, PATIENT, "Sam Taylor")
        n = 2000
        for i in range(n):
            api.add_user(20000 + i, f"P{i}", started=True)
        async with db.engine.begin() as conn:
            await conn.execute(
                text(seed_patients_sql()),
                [{"u": 20000 + i, "n": f"P{i}", "t": due} for i in range(n)],
            )
            await conn.execute(
                text(
                    "INSERT INTO reminders (patient_id, kind, local_time, next_at)"
                    " SELECT id, 'checkin', '12:00', :t FROM patients WHERE telegram_user_id"
                    " >= 20000"
                ),
                {"t": due},
            )
        bot.set_clock(due)
        await eventually(lambda: sent(db, "checkin"), what="the fan-out under way")
        closing = await checkin(api, PATIENT, question, leg=4, back=3)
        prompts_meanwhile = await sent(db, "checkin")
    finally:
        await bot.stop()
    assert "saved" in closing["text"].lower()
    assert 0 < prompts_meanwhile < n  # the presses were answered while the fan-out went on
    entry = (await db.rows("SELECT leg_pain, back_pain FROM checkin_entries"))[0]
    assert (entry["leg_pain"], entry["back_pain"]) == (4, 3)


async def test_two_bot_processes_handle_every_update_once_and_in_order(
    api, db_url, db, tmp_path, backend
):
    if backend != "postgresql":
        pytest.skip("two processes claiming with SKIP LOCKED: PostgreSQL")
    now = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
    users = [30000 + i for i in range(10)]
    for uid in users:
        api.add_user(uid, f"P{uid}", started=True)
        await db.execute(seed_patients_sql(), u=uid, n=f"P{uid}", t=now)
    hold = tmp_path / "hold"
    hold.touch()  # both processes store and wait: then both claim from the shared inbox
    procs = [
        BotProcess(api, db_url, tmp_path / name, INBOX_HOLD_FILE=str(hold))
        for name in ("one", "two")
    ]
    for proc in procs:
        proc.workdir.mkdir()
        proc.clock_file = tmp_path / "clock.txt"
        proc.env["CLOCK_FILE"] = str(proc.clock_file)
    procs[0].set_clock(now)
    try:
        for proc in procs:
            await proc.start()
        for uid in users:
            for command in ("/help", "/exercises", "/checkin"):
                await api.send_text(uid, command)
        await eventually(
            lambda: db.scalar("SELECT count(*) FROM inbox"), equals=3 * len(users), what="stored"
        )
        hold.unlink()
        for uid in users:
            await api.wait_for_message(uid, lambda m: "leg" in m["text"].lower(), timeout=30)
        await eventually(
            lambda: db.scalar("SELECT count(*) FROM inbox WHERE status = 'done'"),
            equals=3 * len(users),
            what="every update done",
        )
    finally:
        for proc in procs:
            await proc.stop()
    for uid in users:
        replies = [m["text"] for m in api.messages(uid) if m["from"]["is_bot"]]
        assert len(replies) == 3, replies
        assert "What I can do" in replies[0]
        assert "exercise plan" in replies[1]
        assert "leg" in replies[2].lower()
    assert await db.scalar("SELECT max(attempts) FROM inbox") == 1


async def test_a_press_made_while_the_bot_is_down_is_answered_after_it_starts(api, bot, db):
    question = await join(api, PATIENT, "Sam Taylor")
    await bot.stop()
    pressing = asyncio.create_task(
        press(api, PATIENT, question, "5", contains="lower back", timeout=60)  # start-up included
    )
    await bot.start()
    m = await pressing
    assert m["message_id"] == question["message_id"]  # the same message, edited
    await press(api, PATIENT, m, "2", contains="numbness")
    draft = (await db.rows("SELECT leg_pain, back_pain FROM checkin_drafts"))[0]
    assert (draft["leg_pain"], draft["back_pain"]) == (5, 2)
