"""Runs the application: its resources, the inbox (poll, store, handle) and the outbox ticks.

``run_polling`` is not used: PTB's Updater confirms updates to Telegram before they are
handled. Here each batch is stored first (:mod:`bot.delivery.inbox`), and the application
handles updates from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

from telegram.ext import Application

from bot.delivery.inbox import Inbox

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def running(app: Application, hold_file: str | None = None) -> AsyncIterator[Inbox]:
    """The application started, polling into the inbox and handling from it, until the block
    ends; then a clean stop (updates in hand are finished, unsent batches handed back)."""
    try:
        await app.initialize()
    except Exception:
        # PTB's shutdown skips an application whose initialize failed, leaving the bot's
        # HTTP sessions open (and a warning about each on stderr): close them here.
        await app.bot.shutdown()
        raise
    async with app:
        await app.post_init(app)
        await app.start()
        services = app.bot_data["services"]
        hold = (lambda: os.path.exists(hold_file)) if hold_file else (lambda: False)
        inbox = Inbox(app, services, services.settings.inbox_concurrency, hold)
        app.bot_data["inbox"] = inbox
        handling = asyncio.create_task(inbox.dispatch_forever(), name="inbox-handle")
        polling = asyncio.create_task(inbox.poll_forever(), name="inbox-poll")
        try:
            yield inbox
        finally:
            inbox.stop()
            polling.cancel()  # an unconfirmed batch is delivered again by Telegram
            await asyncio.gather(polling, return_exceptions=True)
            await handling
            await app.stop()
            await app.post_shutdown(app)


async def serve(app: Application, hold_file: str | None = None) -> None:
    """``recovery-bot run``: until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with running(app, hold_file):
        log.info("bot running (polling into the inbox)")
        await stop.wait()
        log.info("stopping")
