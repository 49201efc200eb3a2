"""The recovery-bot command: run the bot, migrate the database, create invites, try the demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from bot.content import ContentError
from bot.runtime.logs import setup_logging
from bot.runtime.startup import StartupError, url_password
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger("recovery_bot")

DESCRIPTION = """\
The recovery diary: a Telegram bot that a physiotherapy clinic gives to its patients
recovering from sciatica and low back pain.

Settings come from environment variables, or from a .env file in the folder you run the
command from (see .env.example). Each command's --help names the settings it needs;
README.md lists them all.
"""
SETTINGS_NOTE = "Settings are environment variables, or lines NAME=value in a .env file here."
RUN_EPILOG = f"""\
{SETTINGS_NOTE}

Needs:
  TELEGRAM_BOT_TOKEN      the bot's token, from @BotFather
  CLINIC_CHAT_ID          the staff group chat that receives alerts (a negative number)
  CLINIC_STAFF_IDS        Telegram user ids of the clinicians, separated by commas; at least
                          one, so that someone can acknowledge an alert
  DATABASE_URL            where the diary is kept (default sqlite+aiosqlite:///recovery.db;
                          in production postgresql+asyncpg://USER:PASSWORD@HOST/DB)

Often set:
  TELEGRAM_API_BASE_URL   another Bot API server (default https://api.telegram.org/bot)
  CLINIC_NAME             how the bot names the clinic to patients
  CLINIC_TIMEZONE         the clinic's time zone (default Europe/London)
  CONTENT_DIR             a clinic's reviewed copy of the content (default: bot/content)
  STARTUP_TRIES           tries to reach the database and Telegram at start (default 3)
  LOG_LEVEL               DEBUG shows the traceback behind an error (default INFO)

At start the content is checked, then the database and Telegram are reached (a refused
connection or a timeout is tried again), then the database is migrated. Anything wrong
stops the start with one line saying what, and a non-zero exit code.
"""
DB_EPILOG = f"""\
{SETTINGS_NOTE}

Needs:
  DATABASE_URL            the database to migrate (default sqlite+aiosqlite:///recovery.db)
"""
INVITE_EPILOG = f"""\
{SETTINGS_NOTE}

Needs:
  TELEGRAM_BOT_TOKEN      to ask Telegram for the bot's username, which the
                          https://t.me/<username>?start=<code> link is made of
  DATABASE_URL            where the invite is stored (default sqlite+aiosqlite:///recovery.db)

Also:
  INVITE_VALID_DAYS       how long the link works (default 14)

Example:
  recovery-bot invite Sam Taylor --phone "+44 7700 900123" --ref RB-1042
"""
EXPORT_EPILOG = f"""\
{SETTINGS_NOTE}

Needs:
  DATABASE_URL            the diary's database (default sqlite+aiosqlite:///recovery.db)
"""
DEMO_EPILOG = """\
Needs no settings, no token and no Telegram account: a stand-in for Telegram runs inside
the demo, and the diary is kept in a temporary SQLite database.
"""


def _settings(require_running: bool = True) -> Settings:
    settings = load_settings()
    if require_running:
        settings.require_for_running()
    return settings


def _secrets(settings: Settings) -> list[str]:
    """What no log line may show: the token, and the database password."""
    secrets = [url_password(settings.database_url) or ""]
    if settings.telegram_bot_token:
        secrets.append(settings.telegram_bot_token.get_secret_value())
    return [s for s in secrets if s]


def _logging(settings: Settings, quiet: bool = False) -> None:
    level = getattr(logging, settings.log_level)
    if quiet and level > logging.DEBUG:
        level = logging.WARNING
    setup_logging(_secrets(settings), level=level)


def cmd_run(args: argparse.Namespace) -> None:
    import uvloop

    from bot.app import build_application, load_content
    from bot.delivery.runner import serve
    from bot.runtime.startup import preflight
    from storage.migrate import upgrade

    settings = _settings()
    _logging(settings)
    # Content first: a broken file stops the start before anything is touched.
    load_content(settings.content_dir)
    asyncio.run(preflight(settings))
    # Alembic runs its own event loop: migrate before the bot's loop starts.
    upgrade(settings.database_url)
    app = build_application(settings)
    # uvloop: the event loop's own overhead was a fifth of the bot's CPU per button press
    # (py-spy, bench/latency.py); it is a drop-in loop that PTB, aiohttp and asyncpg support.
    uvloop.run(serve(app, hold_file=settings.inbox_hold_file))


def cmd_db(args: argparse.Namespace) -> None:
    from bot.runtime.startup import preflight
    from storage.migrate import upgrade

    settings = _settings(require_running=False)
    _logging(settings)
    asyncio.run(preflight(settings, telegram=False))
    upgrade(settings.database_url)
    print("database is up to date")


def _with_database(settings: Settings, work):
    """Run ``await work(uow, now)`` in one unit of work on the settings' database (migrated
    first) and return what it returns: the operator commands' shared start."""
    from bot.runtime.clock import make_clock
    from storage.db import make_engine, make_sessionmaker
    from storage.migrate import upgrade
    from storage.uow import UnitOfWork

    upgrade(settings.database_url)

    async def go():
        engine = make_engine(settings.database_url)
        try:
            async with UnitOfWork(make_sessionmaker(engine)) as uow:
                return await work(uow, make_clock(settings.clock_file).now())
        finally:
            await engine.dispose()

    return asyncio.run(go())


def cmd_invite(args: argparse.Namespace) -> None:
    from bot.content import text
    from bot.content.render import plain
    from bot.runtime.startup import preflight
    from bot.services.invites import InviteError, create_invite, deep_link

    settings = _settings(require_running=False)
    settings.token  # noqa: B018 - raises SettingsError when missing
    _logging(settings, quiet=True)
    username = asyncio.run(preflight(settings))

    async def work(uow, now):
        try:
            inv = await create_invite(
                uow,
                " ".join(args.name),
                created_by=None,
                now=now,
                valid_days=settings.invite_valid_days,
                actor="operator",
                phone=args.phone,
                clinic_ref=args.ref,
            )
        except InviteError as exc:  # one plain line, as for any other bad input
            raise ValueError(plain(text(exc.key))) from None
        await uow.commit()
        return inv

    print(deep_link(username, _with_database(settings, work).code))


def cmd_export(args: argparse.Namespace) -> None:
    from pathlib import Path

    from tqdm import tqdm

    from bot.services.export import export

    settings = _settings(require_running=False)
    _logging(settings, quiet=True)
    # A progress bar on a terminal only (not in a pipe, a log or a cron mail).
    bar = tqdm(desc="patients", unit="", disable=not sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    files = _with_database(
        settings, lambda uow, now: export(uow, args.format, args.patient, now, progress)
    )
    bar.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (out / name).write_text(body, encoding="utf-8")
    print(f"wrote {len(files)} file(s) to {out}")


def cmd_report(args: argparse.Namespace) -> None:
    from pathlib import Path

    from bot.services.export import discharge_report

    settings = _settings(require_running=False)
    _logging(settings, quiet=True)
    made = _with_database(
        settings,
        lambda uow, now: discharge_report(uow, args.patient, "operator", None, settings, now),
    )
    if made is None:
        raise ValueError(f"no patient with ID {args.patient}")
    out = Path(args.out or f"discharge-report-{args.patient}.pdf")
    out.write_bytes(made[1])
    print(f"wrote {out}")


def cmd_demo(args: argparse.Namespace) -> None:
    from bot.runtime.demo import run_demo

    asyncio.run(run_demo(script=args.script, keep=args.keep))


def parser() -> argparse.ArgumentParser:
    plain = argparse.RawDescriptionHelpFormatter
    top = argparse.ArgumentParser(
        prog="recovery-bot", description=DESCRIPTION, formatter_class=plain
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = sub.add_parser(
        "run",
        help="run the bot (long polling)",
        description="Run the bot: poll Telegram for updates until stopped (Ctrl-C or SIGTERM).",
        epilog=RUN_EPILOG,
        formatter_class=plain,
    )
    run.set_defaults(func=cmd_run)
    db = sub.add_parser(
        "db",
        help="database tasks (upgrade: apply the migrations)",
        description="Bring the database up to date (recovery-bot run does this at every start).",
        epilog=DB_EPILOG,
        formatter_class=plain,
    )
    db.add_argument("action", choices=["upgrade"], help="upgrade: apply every migration")
    db.set_defaults(func=cmd_db)
    inv = sub.add_parser(
        "invite",
        help="create an invite link for a patient",
        description="Create a one-time invite link for a patient and print it.",
        epilog=INVITE_EPILOG,
        formatter_class=plain,
    )
    inv.add_argument("name", nargs="+", help="the patient's name, as the clinic knows them")
    inv.add_argument("--phone", help="the patient's phone number, shown to staff with alerts")
    inv.add_argument("--ref", help="the clinic's own reference for the patient, e.g. RB-1042")
    inv.set_defaults(func=cmd_invite)
    exp = sub.add_parser(
        "export",
        help="export patients' records for the clinic (CSV tables or FHIR R4)",
        description="Write patients' records into a directory: CSV tables (patients, entries,"
        " proms, alerts) or a FHIR R4 Bundle per patient. Every export is audited.",
        epilog=EXPORT_EPILOG,
        formatter_class=plain,
    )
    exp.add_argument("--format", choices=["csv", "fhir"], required=True)
    exp.add_argument("--out", required=True, help="directory to write the files into")
    exp.add_argument("--patient", type=int, help="one patient's ID (default: everyone)")
    exp.set_defaults(func=cmd_export)
    rep = sub.add_parser(
        "report",
        help="write a patient's discharge report (PDF)",
        description="Write a patient's discharge report: the progress chart, the change in"
        " figures, the questionnaires and the alerts. Audited.",
        epilog=EXPORT_EPILOG,
        formatter_class=plain,
    )
    rep.add_argument("patient", type=int, help="the patient's ID (see /patients)")
    rep.add_argument("--out", help="the PDF file (default: discharge-report-ID.pdf)")
    rep.set_defaults(func=cmd_report)
    demo = sub.add_parser(
        "demo",
        help="chat with the bot in this terminal (no token needed)",
        description=_demo_description(),
        epilog=DEMO_EPILOG,
        formatter_class=plain,
    )
    demo.add_argument("--script", help="read the chat from this file instead of the keyboard")
    demo.add_argument(
        "--keep",
        action="store_true",
        help="keep the demo's database and the files the bot sent after it ends (says where)",
    )
    demo.set_defaults(func=cmd_demo)
    return top


def _demo_description() -> str:
    from bot.runtime.demo import HELP

    return "Chat with the real bot in this terminal, as a patient and as a clinician.\n\n" + HELP


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        args.func(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    except ContentError as exc:
        print(exc, file=sys.stderr)
        sys.exit(2)
    except StartupError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
    except ValueError as exc:
        log.debug("the error in full", exc_info=True)
        print(f"error: {_scrub(str(exc))}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last resort: one line, never the token
        log.debug("the error in full", exc_info=True)  # LOG_LEVEL=DEBUG: the traceback, scrubbed
        print(f"error: {type(exc).__name__}: {_scrub(_first_line(exc))}", file=sys.stderr)
        sys.exit(1)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else ""


def _scrub(message: str) -> str:
    import os

    from bot.runtime.logs import TOKEN_SHAPE

    token = os.environ.get("TELEGRAM_BOT_TOKEN", "")
    if token:
        message = message.replace(token, "[REDACTED]")
    password = url_password(os.environ.get("DATABASE_URL", ""))
    if password:
        message = message.replace(password, "***")
    return TOKEN_SHAPE.sub("[REDACTED]", message)


if __name__ == "__main__":
    main()
