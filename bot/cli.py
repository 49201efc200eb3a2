"""``recovery-bot``: run the bot, migrate the database, create invites, try the demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.logs import setup_logging
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("recovery_bot")


def _settings(require_running: bool = True) -> Settings:
    settings = load_settings()
    if require_running:
        settings.require_for_running()
    return settings


def _secrets(settings: Settings) -> list[str]:
    return [settings.telegram_bot_token.get_secret_value()] if settings.telegram_bot_token else []


def cmd_run(args: argparse.Namespace) -> None:
    import uvloop

    from bot.app import build_application
    from bot.runner import serve
    from storage.migrate import upgrade

    settings = _settings()
    setup_logging(_secrets(settings))
    # Alembic runs its own event loop: migrate before the bot's loop starts.
    upgrade(settings.database_url)
    app = build_application(settings)
    # uvloop: the event loop's own overhead was a fifth of the bot's CPU per button press
    # (py-spy, bench/latency.py); it is a drop-in loop that PTB, aiohttp and asyncpg support.
    uvloop.run(serve(app, hold_file=settings.inbox_hold_file))


def cmd_db(args: argparse.Namespace) -> None:
    from storage.migrate import upgrade

    settings = _settings(require_running=False)
    setup_logging(_secrets(settings))
    upgrade(settings.database_url)
    print("database is up to date")


def cmd_invite(args: argparse.Namespace) -> None:
    from telegram import Bot

    from bot.clock import make_clock
    from bot.services.invites import create_invite, deep_link
    from storage.db import make_engine, make_sessionmaker
    from storage.migrate import upgrade
    from storage.uow import UnitOfWork

    settings = _settings(require_running=False)
    token = settings.token
    setup_logging(_secrets(settings), level=logging.WARNING)
    upgrade(settings.database_url)

    async def go() -> None:
        async with Bot(token, base_url=settings.telegram_api_base_url) as bot:
            username = bot.username
        engine = make_engine(settings.database_url)
        try:
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                inv = await create_invite(
                    uow,
                    " ".join(args.name),
                    created_by=None,
                    now=make_clock(settings.clock_file).now(),
                    valid_days=settings.invite_valid_days,
                    actor="operator",
                )
                await uow.commit()
        finally:
            await engine.dispose()
        print(deep_link(username, inv.code))

    asyncio.run(go())


def cmd_export(args: argparse.Namespace) -> None:
    from pathlib import Path

    from tqdm import tqdm

    from bot.clock import make_clock
    from bot.services.export import export
    from storage.db import make_engine, make_sessionmaker
    from storage.migrate import upgrade
    from storage.uow import UnitOfWork

    settings = _settings(require_running=False)
    setup_logging(_secrets(settings), level=logging.WARNING)
    upgrade(settings.database_url)
    # A progress bar on a terminal only (not in a pipe, a log or a cron mail).
    bar = tqdm(desc="patients", unit="", disable=not sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    async def go() -> dict[str, str]:
        engine = make_engine(settings.database_url)
        try:
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                now = make_clock(settings.clock_file).now()
                return await export(uow, args.format, args.patient, now, progress)
        finally:
            await engine.dispose()

    files = asyncio.run(go())
    bar.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (out / name).write_text(body, encoding="utf-8")
    print(f"wrote {len(files)} file(s) to {out}")


def cmd_report(args: argparse.Namespace) -> None:
    from pathlib import Path

    from bot.clock import make_clock
    from bot.services.export import discharge_report
    from storage.db import make_engine, make_sessionmaker
    from storage.migrate import upgrade
    from storage.uow import UnitOfWork

    settings = _settings(require_running=False)
    setup_logging(_secrets(settings), level=logging.WARNING)
    upgrade(settings.database_url)

    async def go():
        engine = make_engine(settings.database_url)
        try:
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                now = make_clock(settings.clock_file).now()
                return await discharge_report(uow, args.patient, "operator", None, settings, now)
        finally:
            await engine.dispose()

    made = asyncio.run(go())
    if made is None:
        raise ValueError(f"no patient with ID {args.patient}")
    out = Path(args.out or f"discharge-report-{args.patient}.pdf")
    out.write_bytes(made[1])
    print(f"wrote {out}")


def cmd_demo(args: argparse.Namespace) -> None:
    from bot.demo import run_demo

    asyncio.run(run_demo(script=args.script))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="recovery-bot", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling)").set_defaults(func=cmd_run)
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(func=cmd_db)
    inv = sub.add_parser("invite", help="create an invite link for a patient")
    inv.add_argument("name", nargs="+")
    inv.set_defaults(func=cmd_invite)
    exp = sub.add_parser(
        "export", help="export patients' records for the clinic (CSV tables or FHIR R4)"
    )
    exp.add_argument("--format", choices=["csv", "fhir"], required=True)
    exp.add_argument("--out", required=True, help="directory to write the files into")
    exp.add_argument("--patient", type=int, help="one patient's ID (default: everyone)")
    exp.set_defaults(func=cmd_export)
    rep = sub.add_parser("report", help="write a patient's discharge report (PDF)")
    rep.add_argument("patient", type=int, help="the patient's ID (see /patients)")
    rep.add_argument("--out", help="the PDF file (default: discharge-report-ID.pdf)")
    rep.set_defaults(func=cmd_report)
    demo = sub.add_parser("demo", help="chat with the bot in this terminal (no token needed)")
    demo.add_argument("--script", help="read the chat from this file instead of the keyboard")
    demo.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    except ValueError as exc:
        print(f"error: {_scrub(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last resort: never print the token
        print(f"error: {type(exc).__name__}: {_scrub(str(exc))}", file=sys.stderr)
        sys.exit(1)


def _scrub(message: str) -> str:
    import os

    from bot.logs import TOKEN_SHAPE

    token = os.environ.get("TELEGRAM_BOT_TOKEN", "")
    if token:
        message = message.replace(token, "[REDACTED]")
    return TOKEN_SHAPE.sub("[REDACTED]", message)


if __name__ == "__main__":
    main()
