"""``recovery-bot demo``: the real application and handlers, on SQLite, chatted with in the
terminal. An embedded fake Bot API stands in for Telegram, so no account or token is needed.

You are the patient; lines starting with ``staff:`` are typed by a clinician in the clinic's
staff chat. Type a button's label (or ``#2`` for the second button) to press it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

from fake_telegram import FakeBotApi

DEMO_TOKEN = "100000:demo-token-not-a-real-one"
PATIENT, STAFF, CLINIC_CHAT = 424242, 777, -100777
HELP = """\
You are Alex, a patient. Type messages as you would in Telegram, e.g. /checkin or a question.
Buttons are shown like [I agree] [No thanks]: type the label, or #1, #2... to press one.
Lines starting with "staff:" are typed by a clinician in the staff chat (e.g. staff: /patients,
staff: #1 to press the first button of the latest staff message). Type :quit (or Ctrl-D) to end.
"""


class Terminal:
    def __init__(self, api: FakeBotApi, out=sys.stdout) -> None:
        self.api = api
        self.out = out
        self.last_activity = time.monotonic()
        self.keyboards: dict[int, dict] = {}
        api.on_bot_message(self.show)

    def show(self, chat_id: int, message: dict, edited: bool) -> None:
        self.last_activity = time.monotonic()
        who = "to the staff chat" if chat_id == CLINIC_CHAT else "to you"
        mark = " (updated)" if edited else ""
        print(f"\n── bot {who}{mark} ──", file=self.out)
        print(message.get("text", ""), file=self.out)
        rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
        if rows:
            labels = [b["text"] for row in rows for b in row]
            print("   " + " ".join(f"[{t}]" for t in labels), file=self.out)
            self.keyboards[chat_id] = message
        self.out.flush()

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


async def run_demo(script: str | None = None, out=sys.stdout) -> None:
    from bot.app import build_application
    from bot.logs import setup_logging
    from bot.runner import running
    from bot.settings import load_settings
    from storage.migrate import upgrade

    setup_logging([DEMO_TOKEN], level=logging.WARNING)
    workdir = Path(tempfile.mkdtemp(prefix="recovery-demo-"))
    db_url = f"sqlite+aiosqlite:///{workdir / 'demo.db'}"
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
    term = Terminal(api, out)
    lines = (await asyncio.to_thread(Path(script).read_text)).splitlines() if script else None
    print(f"Recovery diary demo (database: {workdir / 'demo.db'})\n{HELP}", file=out)
    async with running(app):
        try:
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
        finally:
            await api.stop()
    print("\nDemo finished.", file=out)
