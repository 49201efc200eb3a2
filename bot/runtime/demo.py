"""``recovery-bot demo``: the real application and handlers, on SQLite, chatted with in the
terminal. An embedded fake Bot API stands in for Telegram, so no account or token is needed.

You are the patient; lines starting with ``staff:`` are typed by a clinician in the clinic's
staff chat, and ``staff: reply: TEXT`` answers the latest question relayed to the clinic (as a
clinician does in Telegram, by replying to that message). Type a button's label (or ``#2`` for
the second button) to press it. Files the bot sends (``/mydata``) are saved in the demo's
folder; the folder, database included, is removed at the end unless ``--keep`` is given.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fake_telegram import FakeBotApi

DEMO_TOKEN = "100000:demo-token-not-a-real-one"
PATIENT, STAFF, CLINIC_CHAT = 424242, 777, -100777
HELP = """\
You are Alex, a patient. Type messages as you would in Telegram, e.g. /checkin, /mydata or a
question. Buttons are shown like [I agree] [No thanks]: type the label, or #1, #2... to press one.

Lines starting with "staff:" are typed by a clinician in the clinic's staff chat:
  staff: /patients    a staff command
  staff: #1           press the first button of the latest staff message (e.g. Acknowledge)
  staff: reply: TEXT  answer the latest question the bot passed to the clinic (in Telegram,
                      a clinician replies to that message)

Files the bot sends you (/mydata) are saved in the demo's folder, and the path is shown.
Type :quit (or Ctrl-D) to end. The demo's folder and database are then removed, unless the
demo was started with --keep.
"""


def _opener(path: Path, data: bytes) -> str:
    """What opens a file the bot sent: a chart is a PNG, a report a PDF, /mydata JSON."""
    if data.startswith(b"\x89PNG") or path.suffix == ".png":
        return "an image viewer or a web browser"
    if data.startswith(b"%PDF"):
        return "a PDF reader or a web browser"
    return "a text editor or a web browser"


def _size(n: int) -> str:
    return f"{n} bytes" if n < 1024 else f"{n / 1024:.1f} KB"


def _relay_prefix() -> str:
    """How a question relayed to the staff chat starts, as Telegram shows it (no markup)."""
    from bot.content import messages

    template = messages()["relay_to_staff"].split("{", 1)[0]
    return re.sub(r"<[^>]*>", "", template)


class Terminal:
    def __init__(self, api: FakeBotApi, files: Path, out=sys.stdout) -> None:
        self.api = api
        self.out = out
        self.files = files
        self.last_activity = time.monotonic()
        self.keyboards: dict[int, dict] = {}
        self.relay_prefix = _relay_prefix()
        api.on_bot_message(self.show)

    def say(self, line: str) -> None:
        print(line, file=self.out)
        self.out.flush()

    def show(self, chat_id: int, message: dict, edited: bool) -> None:
        self.last_activity = time.monotonic()
        who = "to the staff chat" if chat_id == CLINIC_CHAT else "to you"
        mark = " (updated)" if edited else ""
        print(f"\n── bot {who}{mark} ──", file=self.out)
        if "file_bytes" in message and not edited:
            self.show_file(message)
        else:
            print(message.get("text", ""), file=self.out)
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if rows:
            labels = [b["text"] for row in rows for b in row]
            print("   " + " ".join(f"[{t}]" for t in labels), file=self.out)
            self.keyboards[chat_id] = message
        if chat_id == CLINIC_CHAT and self.is_relayed_question(message):
            print("   (answer it with: staff: reply: YOUR ANSWER)", file=self.out)
        self.out.flush()

    def show_file(self, message: dict) -> None:
        """A file the bot sent: its name, size and where the demo saved it, to open it."""
        data: bytes = message["file_bytes"]
        name = Path(message.get("filename") or "file").name
        path = self.files / name
        n = 2
        while path.exists():
            path = self.files / f"{Path(name).stem}-{n}{Path(name).suffix}"
            n += 1
        self.files.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        print(f"📎 {name} ({_size(len(data))})", file=self.out)
        if message.get("caption"):
            print(message["caption"], file=self.out)
        print(f"   saved as {path}", file=self.out)
        print(f"   (open it in {_opener(path, data)})", file=self.out)

    def is_relayed_question(self, message: dict) -> bool:
        return bool(self.relay_prefix) and message.get("text", "").startswith(self.relay_prefix)

    def latest_relayed_question(self) -> dict | None:
        relayed = [m for m in self.api.messages(CLINIC_CHAT) if self.is_relayed_question(m)]
        return relayed[-1] if relayed else None

    async def settle(self, quiet: float = 0.4, limit: float = 6.0) -> None:
        """Wait until the bot has been quiet for a moment."""
        start = time.monotonic()
        await asyncio.sleep(0.05)
        while time.monotonic() - start < limit:
            if time.monotonic() - self.last_activity >= quiet:
                return
            await asyncio.sleep(0.05)

    async def type(self, line: str) -> None:
        user, chat = PATIENT, PATIENT
        if line.lower().startswith("staff:"):
            user, chat, line = STAFF, CLINIC_CHAT, line[6:].strip()
        if not line:
            return
        self.last_activity = time.monotonic()
        if chat == CLINIC_CHAT and line.lower().startswith("reply:"):
            await self.staff_reply(line[6:].strip())
            return
        message = self.keyboards.get(chat)
        labels = []
        if message is not None:
            current = next(
                (m for m in self.api.messages(chat) if m["message_id"] == message["message_id"]),
                message,
            )
            rows = (current.get("reply_markup") or {}).get("inline_keyboard") or []
            labels = [b["text"] for row in rows for b in row]
        if line.startswith("#") and line[1:].isdigit() and 0 < int(line[1:]) <= len(labels):
            line = labels[int(line[1:]) - 1]
        if line in labels:
            await self.api.press(user, current, line, chat_id=None if chat > 0 else chat)
        else:
            await self.api.send_text(user, line, chat_id=None if chat > 0 else chat)

    async def staff_reply(self, answer: str) -> None:
        """The clinician replies, in the staff chat, to the latest relayed question."""
        question = self.latest_relayed_question()
        if question is None:
            self.say(
                "\n(No question has been passed to the clinic yet. As Alex, ask something the"
                ' bot cannot answer, e.g. "is the car park free?", and press [Ask the clinic].)'
            )
            return
        if not answer:
            self.say("\n(Type the answer after it, e.g. staff: reply: Yes, it is free.)")
            return
        await self.api.send_text(
            STAFF, answer, chat_id=CLINIC_CHAT, reply_to_message_id=question["message_id"]
        )


async def run_demo(script: str | None = None, out=sys.stdout, keep: bool = False) -> None:
    from bot.app import build_application
    from bot.delivery.runner import running
    from bot.runtime.logs import setup_logging
    from bot.settings import load_settings
    from fake_telegram import FakeBotApi
    from storage.migrate import upgrade

    setup_logging([DEMO_TOKEN], level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="recovery-demo-"))
    database = workdir / "demo.db"
    db_url = f"sqlite+aiosqlite:///{database}"
    try:
        await asyncio.to_thread(upgrade, db_url)
        api = FakeBotApi(DEMO_TOKEN)
        await api.start()
        api.add_user(STAFF, "Dana")
        api.add_user(PATIENT, "Alex")
        api.add_group(CLINIC_CHAT, "Clinic staff", members=[STAFF])
        settings = load_settings(
            telegram_bot_token=DEMO_TOKEN,
            telegram_api_base_url=api.base_url,
            database_url=db_url,
            clinic_chat_id=CLINIC_CHAT,
            clinic_staff_ids=str(STAFF),
            clinic_name="Riverside Physio (demo)",
            tick_seconds=1.0,
            clock_file=None,
        )
        app = build_application(settings)
        term = Terminal(api, workdir / "files", out)
        lines = (await asyncio.to_thread(Path(script).read_text)).splitlines() if script else None
        kept = f"kept in {workdir}" if keep else "removed at the end; --keep keeps it"
        print(f"Recovery diary demo (its database and files: {kept})\n\n{HELP}", file=out)
        async with running(app):
            try:
                await _chat(api, term, lines, out)
            finally:
                await api.stop()
    finally:
        if keep:
            print(f"\nDemo finished. Its database is kept: {database}", file=out)
            if (workdir / "files").exists():
                print(f"The files the bot sent are kept in {workdir / 'files'}", file=out)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            print(
                "\nDemo finished. Its database and files were removed"
                " (start it with --keep to keep them).",
                file=out,
            )


async def _chat(api: FakeBotApi, term: Terminal, lines: list[str] | None, out) -> None:
    # The clinic invites Alex, and Alex opens the link.
    await term.type("staff: /invite Alex Morgan")
    await term.settle()
    link = api.messages(CLINIC_CHAT)[-1]["text"]
    code = link.split("?start=")[1].split()[0]
    print(f"\n(Alex opens the invite link: /start {code})", file=out)
    await term.type(f"/start {code}")
    await term.settle()
    while True:
        if lines is not None:
            if not lines:
                break
            line = lines.pop(0)
            print(f"\n> {line}", file=out)
        else:
            print("\n> ", end="", file=out, flush=True)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                break
        line = line.strip()
        if line in (":quit", ":q"):
            break
        await term.type(line)
        await term.settle()
