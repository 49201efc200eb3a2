"""What the operator sees when ``recovery-bot run`` cannot start safely: one line, then exit."""

from __future__ import annotations

import asyncio
import shutil
import sys

from bot.content import PACKAGE_DIR
from tests.e2e.conftest import REPO, BotProcess
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
    assert line.startswith("content error: faq.yaml, line 27 (entries[0].answer)")
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
