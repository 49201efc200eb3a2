"""``recovery-bot demo --script``: the whole product in a terminal, end to end."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

JOIN_AND_CHECK_IN = """\
I agree
09:00
#1
3
2
No
No
No
Yes
No note
"""


def demo(tmp_path: Path, script: str, *options: str) -> str:
    """Run the demo on ``script``; its temporary folder is made under ``tmp_path / "tmp"``
    (the home folder is apart: matplotlib keeps its font cache there)."""
    path = tmp_path / "script.txt"
    path.write_text(script)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    (tmp_path / "home").mkdir(exist_ok=True)
    res = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--script", str(path), *options],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path / "home"),
            "TMPDIR": str(tmp_path / "tmp"),
        },
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    return res.stdout


def after(output: str, typed: str) -> str:
    """What the demo printed after the line ``> typed``, up to the next typed line."""
    return output.split(f"\n> {typed}\n", 1)[1].split("\n> ", 1)[0]


def test_mydata_shows_the_file_and_where_it_was_saved_and_keep_keeps_it(tmp_path):
    out = demo(tmp_path, JOIN_AND_CHECK_IN + "/mydata\n", "--keep")
    shown = after(out, "/mydata")
    m = re.search(r"📎 (\S+) \(([\d.]+) KB\)\n.*\n\s+saved as (\S+)\n", shown)
    assert m, shown
    name, size, saved = m.group(1), float(m.group(2)), Path(m.group(3))
    assert name == "my-recovery-diary.json" and saved.name == name
    assert "open it in a text editor" in shown
    # Kept: the file is there, the size shown is its size, and it is the patient's data.
    data = saved.read_bytes()
    assert abs(len(data) / 1024 - size) < 0.1
    assert "Alex Morgan" in json.dumps(json.loads(data))
    database = Path(re.search(r"Its database is kept: (\S+)", out).group(1))
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT name FROM patients").fetchall() == [("Alex Morgan",)]


def test_staff_reply_answers_the_latest_relayed_question(tmp_path):
    script = (
        "staff: reply: too early\n"
        + JOIN_AND_CHECK_IN
        + "is the car park behind the clinic free on saturdays\n"
        + "Ask the clinic\n"
        + "staff: reply: Yes, it is free at weekends.\n"
    )
    out = demo(tmp_path, script, "--keep")
    assert "No question has been passed to the clinic yet" in after(out, "staff: reply: too early")
    relayed = after(out, "Ask the clinic")
    assert "Question from Alex Morgan" in relayed and "staff: reply:" in relayed
    answer = after(out, "staff: reply: Yes, it is free at weekends.")
    assert "── bot to you ──\n💬 Reply from Riverside Physio (demo)" in answer
    assert "Yes, it is free at weekends." in answer
    database = Path(re.search(r"Its database is kept: (\S+)", out).group(1))
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT question, answer FROM relayed_questions").fetchall()
    assert rows == [
        ("is the car park behind the clinic free on saturdays", "Yes, it is free at weekends.")
    ]


def test_without_keep_the_demo_removes_its_database_and_files(tmp_path):
    out = demo(tmp_path, JOIN_AND_CHECK_IN + "/mydata\n")
    saved = Path(re.search(r"saved as (\S+)", out).group(1))
    assert saved.is_relative_to(tmp_path)
    assert "Its database and files were removed" in out
    assert not saved.exists()
    assert list((tmp_path / "tmp").iterdir()) == []


def test_demo_help_says_how_staff_reply_and_how_to_keep_the_database():
    res = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 0
    assert "staff: reply: TEXT" in res.stdout
    assert "--keep" in res.stdout and "``" not in res.stdout
