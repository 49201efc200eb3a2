"""``recovery-bot``: run the bot, migrate the database, create invites, try the demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.content import ContentError
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

    from bot.app import build_application, load_content
    from bot.runner import serve
    from storage.migrate import upgrade

    settings = _settings()
    setup_logging(_secrets(settings))
    # Content first: a broken file stops the start before anything is touched.
    load_content(settings.content_dir)
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
    demo = sub.add_parser("demo", help="chat with the bot in this terminal (no token needed)")
    demo.add_argument("--script", help="read the chat from this file instead of the keyboard")
    demo.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    try:
        args.func(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    except ContentError as exc:
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
