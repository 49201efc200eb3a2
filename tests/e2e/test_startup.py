"""What the operator sees when ``recovery-bot run`` cannot start safely: one line, then exit."""

from __future__ import annotations

import asyncio
import re
import shutil
import socket
import sys

from bot.content import PACKAGE_DIR
from tests.e2e.conftest import REPO, TOKEN, BotProcess
from tests.e2e.helpers import say

STRANGER = 8080


async def run_until_exit(env: dict[str, str], cwd, timeout: float = 60) -> tuple[int, str]:
    """``recovery-bot run`` to its end: exit code and stderr (the fake API keeps serving)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "run",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise AssertionError(f"recovery-bot run did not stop within {timeout} s") from None
    return proc.returncode, err.decode(errors="replace")


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{stderr}"
    assert "Traceback" not in stderr
    return lines[0]


def copy_content(tmp_path):
    folder = tmp_path / "content"
    shutil.copytree(PACKAGE_DIR, folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return folder


async def test_an_empty_staff_list_stops_the_start_naming_the_setting(api, db_url, tmp_path):
    env = BotProcess(api, db_url, tmp_path, CLINIC_STAFF_IDS="").env
    code, stderr = await run_until_exit(env, tmp_path)
    assert code != 0
    line = one_line(stderr)
    assert "CLINIC_STAFF_IDS" in line and "acknowledge" in line
    assert api.requests() == []  # refused before it said a word to Telegram


async def test_a_content_file_that_fails_its_schema_stops_the_start_naming_it(
    api, db_url, tmp_path
):
    content = copy_content(tmp_path)
    faq = content / "faq.yaml"
    faq.write_text(faq.read_text().replace("    answer: |", "    answr: |", 1))
    env = BotProcess(api, db_url, tmp_path, CONTENT_DIR=str(content)).env
    code, stderr = await run_until_exit(env, tmp_path)
    assert code != 0
    line = one_line(stderr)
    assert line.startswith("content error: faq.yaml, line 30 (entries[0].answer)")
    assert api.requests() == []


async def test_a_content_file_that_does_not_parse_stops_the_start_naming_it(api, db_url, tmp_path):
    content = copy_content(tmp_path)
    rules = content / "red_flags.yaml"
    rules.write_text(rules.read_text() + "\nkinds: [unclosed\n")
    env = BotProcess(api, db_url, tmp_path, CONTENT_DIR=str(content)).env
    code, stderr = await run_until_exit(env, tmp_path)
    assert code != 0
    line = one_line(stderr)
    assert line.startswith("content error: red_flags.yaml, line ")
    assert "not valid YAML" in line


async def test_the_bot_speaks_from_the_content_directory_it_is_given(api, db_url, tmp_path):
    content = copy_content(tmp_path)
    messages = content / "messages.yaml"
    original = messages.read_text()
    assert "I am the recovery diary of {clinic}" in original
    messages.write_text(original.replace("I am the recovery diary of {clinic}", "We are {clinic}"))
    bot = BotProcess(api, db_url, tmp_path, CONTENT_DIR=str(content))
    await bot.start()
    try:
        api.add_user(STRANGER, "Kim")
        reply = await say(api, STRANGER, "/start")
        assert "We are Riverside Physio" in reply["text"]
    finally:
        await bot.stop()
    # The shipped file is untouched.
    assert "I am the recovery diary of {clinic}" in (REPO / "bot/content/messages.yaml").read_text()


def closed_port() -> int:
    """A local port nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_telegram_out_of_reach_is_one_line_naming_the_url(api, db_url, tmp_path):
    url = f"http://127.0.0.1:{closed_port()}/bot"
    env = BotProcess(
        api, db_url, tmp_path, TELEGRAM_API_BASE_URL=url, STARTUP_BACKOFF_SECONDS="0.1"
    ).env
    code, stderr = await run_until_exit(env, tmp_path, timeout=30)
    assert code != 0
    line = one_line(stderr)
    assert re.fullmatch(
        rf"cannot reach Telegram at {re.escape(url)}: connection refused \(3 tries over [\d.]+ s\)",
        line,
    ), line
    assert TOKEN not in stderr


async def test_a_token_telegram_refuses_is_one_line_at_once(api, db_url, tmp_path):
    # A refused token is not worth another try: with 60 s between tries, a retry would
    # overrun the 45 s this test allows (a start on a busy 2-core machine, four test workers
    # and the bot loading its content, took over 20 s).
    env = BotProcess(
        api,
        db_url,
        tmp_path,
        TELEGRAM_BOT_TOKEN="424242:not-the-token-the-fake-api-knows",
        STARTUP_BACKOFF_SECONDS="60",
    ).env
    code, stderr = await run_until_exit(env, tmp_path, timeout=45)
    assert code != 0
    line = one_line(stderr)
    assert line.startswith(f"Telegram at {api.base_url} refused the bot token")
    assert "not-the-token" not in stderr


async def test_a_database_out_of_reach_is_one_line_without_its_password(api, tmp_path):
    port = closed_port()
    url = f"postgresql+asyncpg://recovery:pa55-w0rd@127.0.0.1:{port}/recovery"
    env = BotProcess(api, url, tmp_path, STARTUP_BACKOFF_SECONDS="0.1").env
    code, stderr = await run_until_exit(env, tmp_path, timeout=30)
    assert code != 0
    line = one_line(stderr)
    shown = f"postgresql+asyncpg://recovery:***@127.0.0.1:{port}/recovery"
    assert re.fullmatch(
        rf"cannot reach the database at {re.escape(shown)}: connection refused "
        r"\(3 tries over [\d.]+ s\)",
        line,
    ), line
    assert "pa55-w0rd" not in stderr
    assert api.requests() == []  # the database comes first


async def test_debug_logging_shows_the_traceback_behind_the_line(api, tmp_path):
    url = f"postgresql+asyncpg://recovery:pa55-w0rd@127.0.0.1:{closed_port()}/recovery"
    env = BotProcess(api, url, tmp_path, STARTUP_TRIES="1", LOG_LEVEL="DEBUG").env
    code, stderr = await run_until_exit(env, tmp_path, timeout=30)
    assert code != 0
    assert "Traceback" in stderr and "ConnectionRefusedError" in stderr
    assert stderr.strip().splitlines()[-1].startswith("cannot reach the database at ")
    assert "pa55-w0rd" not in stderr
