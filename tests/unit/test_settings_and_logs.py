import logging
import subprocess
import sys

import pytest

from bot.runtime.logs import RedactingFormatter
from bot.settings import SettingsError, load_settings

TOKEN = "987654:secret-token-value-for-the-test"


def test_defaults_follow_the_design(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("DATABASE_URL", "CLINIC_TIMEZONE", "ALERT_RENOTIFY_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings()
    assert s.database_url == "sqlite+aiosqlite:///recovery.db"
    assert s.telegram_api_base_url == "https://api.telegram.org/bot"
    assert s.clinic_timezone == "Europe/London"
    assert s.alert_renotify_minutes == 15
    assert s.clinic_staff_ids == frozenset()


def test_staff_ids_are_parsed(monkeypatch):
    monkeypatch.setenv("CLINIC_STAFF_IDS", " 11, 22 ,33")
    assert load_settings().clinic_staff_ids == {11, 22, 33}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CLINIC_STAFF_IDS", "11,abc"),
        ("CLINIC_TIMEZONE", "Mars/Olympus"),
        ("ALERT_RENOTIFY_MINUTES", "soon"),
        ("CLINIC_CHAT_ID", "the-staff-group"),
        ("DATABASE_URL", "mysql://x"),
        ("SEVERE_PAIN", "11"),
    ],
)
def test_a_malformed_setting_is_named_in_one_line(monkeypatch, name, value):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    message = str(err.value)
    assert message.startswith(f"configuration error: {name}")
    assert "\n" not in message and TOKEN not in message


def test_missing_required_settings_stop_the_program_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    res = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert res.stderr.strip() == "configuration error: TELEGRAM_BOT_TOKEN is required"


def test_the_token_is_scrubbed_from_log_lines_and_tracebacks():
    fmt = RedactingFormatter([TOKEN])
    try:
        raise RuntimeError(f"POST https://api.telegram.org/bot{TOKEN}/getMe failed")
    except RuntimeError:
        record = logging.LogRecord(
            "httpx",
            logging.ERROR,
            __file__,
            1,
            "HTTP Request: POST %s",
            (f"/bot{TOKEN}/x",),
            sys.exc_info(),
        )
    line = fmt.format(record)
    assert TOKEN not in line and "secret-token" not in line
    assert "[REDACTED]" in line


def test_readme_documents_every_setting():
    from pathlib import Path

    from bot.settings import Settings

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme[readme.index("## Settings") :]
    table = table[: table.index("\n## ", 1)]
    missing = [n.upper() for n in Settings.model_fields if f"`{n.upper()}`" not in table]
    assert missing == []


def test_the_red_flag_question_must_time_out_before_on_call_escalation():
    import pytest

    from bot.settings import SettingsError, load_settings

    assert load_settings(red_flag_confirm_minutes=10, alert_escalate_minutes=30)
    with pytest.raises(SettingsError) as err:
        load_settings(red_flag_confirm_minutes=45, alert_escalate_minutes=30)
    assert "RED_FLAG_CONFIRM_MINUTES: must be less than ALERT_ESCALATE_MINUTES" in str(err.value)
