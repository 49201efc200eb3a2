"""Reaching the database and Telegram at start: what is tried again, and what the line says;
and the command line's help."""

import errno
import socket
import subprocess
import sys

import pytest
from sqlalchemy.exc import OperationalError
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.runtime.startup import (
    database_transient,
    reason,
    retrying,
    shown_url,
    telegram_transient,
)
from bot.settings import SettingsError, load_settings


class Waits:
    """A stand-in for asyncio.sleep that records the pauses instead of taking them."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def failing(*errors: BaseException, then: str = "ok"):
    """An attempt that raises each error in turn, then returns ``then``; counts its calls."""
    calls = []

    async def attempt():
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return then

    return attempt, calls


async def test_a_transient_failure_is_tried_again_with_a_growing_pause():
    attempt, calls = failing(ConnectionRefusedError(), TimeoutError())
    waits = Waits()
    got = await retrying(attempt, tries=3, backoff=1.0, transient=database_transient, sleep=waits)
    assert got == "ok" and len(calls) == 3 and waits.seconds == [1.0, 2.0]


async def test_the_last_failure_is_raised_after_the_last_try():
    attempt, calls = failing(*[ConnectionRefusedError()] * 5)
    waits = Waits()
    with pytest.raises(ConnectionRefusedError):
        await retrying(attempt, tries=3, backoff=0.5, transient=database_transient, sleep=waits)
    assert len(calls) == 3 and waits.seconds == [0.5, 1.0]


async def test_a_failure_waiting_cannot_fix_is_raised_at_once():
    attempt, calls = failing(InvalidToken("Unauthorized"))
    waits = Waits()
    with pytest.raises(InvalidToken):
        await retrying(attempt, tries=3, backoff=1.0, transient=telegram_transient, sleep=waits)
    assert len(calls) == 1 and waits.seconds == []


def _wrapped_network_error(os_error: OSError) -> NetworkError:
    """As bot.delivery.http raises it: a NetworkError from the connection's OS-level error."""
    try:
        raise NetworkError(f"aiohttp.ClientConnectorError: {os_error}") from os_error
    except NetworkError as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (_wrapped_network_error(ConnectionRefusedError(errno.ECONNREFUSED, "refused")), True),
        (TimedOut(), True),
        (NetworkError("Bad Gateway"), True),
        (RetryAfter(3), True),
        (InvalidToken("Unauthorized"), False),
        (Forbidden("Forbidden"), False),
        (BadRequest("Chat not found"), False),
    ],
)
def test_which_telegram_failures_are_tried_again(error, transient):
    assert telegram_transient(error) is transient


def _sqlalchemy_error(orig: Exception) -> OperationalError:
    return OperationalError("connect", {}, orig)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), True),
        (socket.gaierror(-2, "Name or service not known"), True),
        (TimeoutError(), True),
        (_sqlalchemy_error(ConnectionResetError()), True),
        (_sqlalchemy_error(Exception("unable to open database file")), False),
        (type("InvalidPasswordError", (Exception,), {})("password authentication failed"), False),
        (type("CannotConnectNowError", (Exception,), {})("the database is starting up"), True),
    ],
)
def test_which_database_failures_are_tried_again(error, transient):
    assert database_transient(error) is transient


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (
            _wrapped_network_error(ConnectionRefusedError(errno.ECONNREFUSED, "x")),
            "connection refused",
        ),
        (ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed"), "connection refused"),
        (socket.gaierror(-2, "Name or service not known"), "host name not found"),
        (TimedOut(), "no answer in time"),
        (
            _sqlalchemy_error(Exception("unable to open database file")),
            "unable to open database file",
        ),
        (NetworkError("Bad Gateway"), "Bad Gateway"),
    ],
)
def test_the_reason_is_a_few_plain_words(error, words):
    assert reason(error) == words


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+asyncpg://recovery:s3cret@db.internal:5432/recovery",
            "postgresql+asyncpg://recovery:***@db.internal:5432/recovery",
        ),
        ("postgresql+asyncpg://recovery@db/recovery", "postgresql+asyncpg://recovery@db/recovery"),
        ("sqlite+aiosqlite:///recovery.db", "sqlite+aiosqlite:///recovery.db"),
    ],
)
def test_a_database_url_is_shown_without_its_password(url, shown):
    assert shown_url(url) == shown


# --- help ----------------------------------------------------------------------------------


def help_of(*command: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "bot.cli", *command, "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0 and res.stderr == ""
    return res.stdout


def assert_plain(text: str) -> None:
    for markup in ("``", "<b>", "</", ":func:", "\x1b["):
        assert markup not in text


def test_the_top_help_names_every_command_and_where_settings_come_from():
    text = help_of()
    assert_plain(text)
    for command in ("run", "db", "invite", "demo"):
        assert f"    {command} " in text
    assert ".env" in text and "--help" in text


@pytest.mark.parametrize(
    ("command", "needs", "also"),
    [
        (
            "run",
            ["TELEGRAM_BOT_TOKEN", "DATABASE_URL", "CLINIC_CHAT_ID", "CLINIC_STAFF_IDS"],
            ["TELEGRAM_API_BASE_URL", "CONTENT_DIR", "STARTUP_TRIES", "LOG_LEVEL"],
        ),
        ("db", ["DATABASE_URL"], []),
        ("invite", ["TELEGRAM_BOT_TOKEN", "DATABASE_URL"], ["INVITE_VALID_DAYS"]),
    ],
)
def test_each_command_help_lists_the_settings_it_needs(command, needs, also):
    text = help_of(command)
    assert_plain(text)
    listed = text.split("Needs:")[1].split("\n\n")[0]
    for name in needs:
        assert name in listed, f"{name} not under 'Needs:' in {command} --help"
    for name in also:
        assert name in text


def test_invite_help_says_why_it_needs_telegram():
    text = help_of("invite")
    token_line = next(line for line in text.splitlines() if "TELEGRAM_BOT_TOKEN" in line)
    assert "username" in token_line
    assert "t.me" in text


def test_the_help_keeps_its_columns():
    # Not re-wrapped into one paragraph by argparse: each setting starts its own line.
    text = help_of("run")
    assert "  CLINIC_STAFF_IDS        Telegram user ids of the clinicians" in text


# --- settings that start-up reads ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONTENT_DIR", "/no/such/folder"),
        ("LOG_LEVEL", "loud"),
        ("STARTUP_TRIES", "0"),
        ("STARTUP_BACKOFF_SECONDS", "-1"),
    ],
)
def test_a_malformed_start_up_setting_is_named_in_one_line(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith(f"configuration error: {name}: ")
    assert "\n" not in str(err.value)


def test_log_level_is_read_in_any_case(monkeypatch):
    monkeypatch.setenv("LOG_LEVEL", " debug ")
    assert load_settings().log_level == "DEBUG"


@pytest.mark.parametrize("staff", ["", " , ", ","])
def test_running_without_any_staff_is_refused(staff):
    settings = load_settings(
        telegram_bot_token="123456:abcdefghijklmnopqrstuvwxyz",
        clinic_chat_id=-100,
        clinic_staff_ids=staff,
    )
    with pytest.raises(SettingsError) as err:
        settings.require_for_running()
    assert str(err.value).startswith("configuration error: CLINIC_STAFF_IDS is empty")
