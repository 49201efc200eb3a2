"""The inbox: updates are stored before Telegram is told they arrived, then handled from the
database, in order within a chat and in parallel across chats.

Polling: a batch from ``getUpdates`` is committed to the ``inbox`` table before the next call
moves the offset past it, so an update fetched just before a crash is handled after the restart.
A second process polling the same bot gets 409 from Telegram and stands by, still handling
updates from the shared inbox. (Webhook mode stores the update before its HTTP answer.)

Handling: the process that stores an update claims it in the same transaction (unless the chat
has older updates pending elsewhere) and hands it to that chat's worker: one chat's updates are
handled one after another, different chats at once (``INBOX_CONCURRENCY``). Claims are leases,
renewed while held, so a crashed process's updates are taken over within ``LEASE``; a repeating
claim also picks up anything left pending. python-telegram-bot routes each update
(``Application.process_update``). The first commit of a unit of work in the handler marks the
update done in the same transaction as its effects (:data:`storage.uow.current_update`).
A handler that fails because the database is unreachable is run again once it is back; a
handler with a bug is marked failed (the patient is told kindly by the error handler) and never
blocks the chat's later updates.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import Conflict, NetworkError, RetryAfter
from telegram.ext import Application
from telegram.warnings import PTBUserWarning

from bot.delivery.transport import retry_after_seconds
from bot.language.text import normalise
from bot.services.context import Services
from storage.db import connection_lost
from storage.uow import HandledUpdate, UnitOfWork, current_update


@dataclass(frozen=True)
class _Row:
    update_id: int
    chat_id: int
    payload: dict[str, Any]
    attempts: int


log = logging.getLogger(__name__)
# The raw JSON of each update is what the inbox stores, so getUpdates is called through the
# public do_api_request (which answers dicts) rather than get_updates (which builds objects).
warnings.filterwarnings("ignore", message=r".*Bot\.get_updates.*", category=PTBUserWarning)

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
LEASE = timedelta(seconds=20)
RENEW_EVERY = 5.0  # seconds between renewals of the leases this process holds
POLL_TIMEOUT = 10  # seconds of long polling
STANDBY_SECONDS = 5.0  # another process is polling: look again after this
MAX_BACKOFF = 10.0
_CHAT_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post", "my_chat_member")


def chat_of(raw: dict[str, Any]) -> int:
    """The chat an update belongs to (its order is kept within the chat); 0 if none."""
    query = raw.get("callback_query")
    if query is not None:
        message = query.get("message") or {}
        return int(message.get("chat", {}).get("id") or query["from"]["id"])
    for key in _CHAT_KEYS:
        if key in raw:
            return int(raw[key]["chat"]["id"])
    return 0


_TEXT_FIELDS = ("text", "caption")
_NAME_FIELDS = ("first_name", "last_name", "title")


def normalise_update(raw: dict[str, Any]) -> dict[str, Any]:
    """The update as the handlers see it: what people typed (texts, captions, names)
    normalised once, here (``bot.language.text``). The inbox keeps the raw update as received."""

    def walk(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if isinstance(value, str) and key in _TEXT_FIELDS + _NAME_FIELDS:
            return normalise(value)
        return value

    return walk(raw)


def is_transient(exc: BaseException | None) -> bool:
    """The database (or the network under it) was unreachable: try the update again."""
    if isinstance(exc, ConnectionError | TimeoutError) or connection_lost(exc):
        return True
    if isinstance(exc, OSError):
        return True
    cause = exc.__cause__ if exc is not None else None
    return cause is not None and cause is not exc and is_transient(cause)


class Inbox:
    def __init__(
        self, app: Application, services: Services, concurrency: int = 16, hold=lambda: False
    ) -> None:
        self.app = app
        self.s = services
        self._hold = hold  # tests only: while true, updates are stored but not handled
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._running = True
        self._chats: dict[int, deque[Any]] = {}  # chats with a worker in this process
        self._held: set[int] = set()  # update ids this process has claimed
        self._active: set[int] = set()  # ... and is handling right now
        self._workers: set[asyncio.Task] = set()

    # -- receiving ------------------------------------------------------------------------

    async def store(self, raw_updates: list[dict[str, Any]]) -> None:
        """Commit a batch of raw updates (re-deliveries ignored), claiming those this process
        can handle in order, and hand them to their chats' workers."""
        now = self.s.now()
        # The same update twice in one batch is one update (the database would keep one row
        # either way; handing it to a worker twice would handle it twice).
        unique = {u["update_id"]: u for u in reversed(raw_updates)}
        rows = [
            {"update_id": u["update_id"], "chat_id": chat_of(u), "payload": u, "received_at": now}
            for u in raw_updates
            if unique.pop(u["update_id"], None) is not None
        ]
        hold = self._hold()
        async with UnitOfWork(self.s.sessionmaker) as uow:
            chats = {r["chat_id"] for r in rows} - self._chats.keys()
            busy = await uow.inbox.chats_with_pending(chats) if chats and not hold else set()
            for r in rows:
                # Claimed at once unless older updates of the chat wait elsewhere (a crashed
                # or another process): then the claim loop takes it in its turn.
                if not hold and r["chat_id"] not in busy:
                    r["claimed_until"] = now + LEASE
            stored = await uow.inbox.store(rows)
            await uow.session.commit()
        mine = [r for r in rows if r.get("claimed_until") and r["update_id"] in stored]
        for r in mine:
            self._enqueue(_Row(r["update_id"], r["chat_id"], r["payload"], 1))
        if len(mine) < len(stored):
            self.kick()

    async def poll_forever(self) -> None:
        offset: int | None = None
        failures = 0
        while self._running:
            try:
                batch = await self.app.bot.do_api_request(
                    "get_updates",
                    api_kwargs={
                        "offset": offset,
                        "timeout": POLL_TIMEOUT,
                        "allowed_updates": ALLOWED_UPDATES,
                    },
                    read_timeout=POLL_TIMEOUT + 5,
                )
            except Conflict:
                # Another process is polling: it receives; this one handles from the inbox.
                await asyncio.sleep(STANDBY_SECONDS)
                continue
            except RetryAfter as exc:
                await asyncio.sleep(retry_after_seconds(exc))
                continue
            except NetworkError as exc:
                failures += 1
                log.warning("getUpdates failed (%s); trying again", exc.message)
                await asyncio.sleep(min(0.5 * 2**failures, MAX_BACKOFF))
                continue
            failures = 0
            if not batch:
                continue
            # Stored before the next getUpdates confirms them to Telegram: kept until it works.
            while True:
                try:
                    await self.store(batch)
                    break
                except Exception as exc:  # noqa: BLE001 - the database is down: hold the batch
                    failures += 1
                    log.warning("could not store %d updates (%s); retrying", len(batch), exc)
                    await asyncio.sleep(min(0.5 * 2**failures, MAX_BACKOFF))
            failures = 0
            offset = max(u["update_id"] for u in batch) + 1

    # -- handling -------------------------------------------------------------------------

    def kick(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._running = False
        self._wake.set()

    def _enqueue(self, row: Any) -> None:
        self._held.add(row.update_id)
        queue = self._chats.get(row.chat_id)
        if queue is not None:
            queue.append(row)
            return
        self._chats[row.chat_id] = deque([row])
        task = asyncio.create_task(self._chat_worker(row.chat_id))
        self._workers.add(task)
        task.add_done_callback(self._workers.discard)

    async def _chat_worker(self, chat_id: int) -> None:
        """One chat's updates, in order; at most ``concurrency`` chats at once."""
        queue = self._chats[chat_id]
        async with self._slots:
            while queue and self._running:
                row = queue.popleft()
                self._active.add(row.update_id)
                try:
                    await self._handle(row)
                except Exception as exc:  # noqa: BLE001 - one odd update must not stop the chat
                    log.exception("update %s could not be handled", row.update_id)
                    await self._outcome(row.update_id, exc)
                finally:
                    self._active.discard(row.update_id)
                    self._held.discard(row.update_id)
        # Stopping: what is left is handed back (dispatch_forever) for the next process.
        del self._chats[chat_id]

    async def dispatch_forever(self) -> None:
        """Claim what is pending (left by a crash, or waiting behind another process's
        updates of the same chat), and renew the leases held, until stopped."""
        renewed = asyncio.get_running_loop().time()
        while self._running:
            self._wake.clear()
            try:
                if not self._hold():
                    await self._claim_pending()
                if asyncio.get_running_loop().time() - renewed > RENEW_EVERY and self._held:
                    async with UnitOfWork(self.s.sessionmaker) as uow:
                        await uow.inbox.renew(self._held, self.s.now() + LEASE)
                        await uow.session.commit()
                    renewed = asyncio.get_running_loop().time()
            except Exception as exc:  # noqa: BLE001 - the database is down: look again
                log.warning("inbox: could not claim or renew (%s)", exc)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.s.settings.tick_seconds)
            except TimeoutError:
                pass
        if self._workers:
            await asyncio.wait(self._workers, timeout=10)
        if self._held:  # a clean stop hands back what it had not started, for the next process
            try:
                async with UnitOfWork(self.s.sessionmaker) as uow:
                    await uow.inbox.release(self._held - self._active)
                    await uow.session.commit()
            except Exception as exc:  # noqa: BLE001 - then the leases simply run out
                log.warning("inbox: claims not handed back (%s)", exc)

    async def _claim_pending(self) -> None:
        while True:
            async with UnitOfWork(self.s.sessionmaker) as uow:
                claimed = await uow.inbox.claim(self.s.now(), LEASE, 100)
                await uow.session.commit()
            for row in claimed:
                self._enqueue(row)
            if len(claimed) < 100:
                return

    async def _handle(self, row: Any) -> None:
        handled = HandledUpdate(row.update_id)
        token = current_update.set(handled)
        delay = 0.5
        try:
            while True:
                handled.error = None
                update = Update.de_json(normalise_update(row.payload), self.app.bot)
                await self.app.process_update(update)
                if handled.error is None or handled.marked:
                    break
                if not is_transient(handled.error) or not self._running:
                    break
                # The database went away mid-update: nothing was committed; do it again.
                log.warning("update %s: database unavailable, retrying", row.update_id)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF)
        finally:
            current_update.reset(token)
        if not handled.marked:
            await self._outcome(row.update_id, handled.error)

    async def _outcome(self, update_id: int, error: BaseException | None) -> None:
        """Done, failed (never blocks the chat's later updates) or, if the database was
        unreachable while stopping, left for the next process."""
        try:
            async with UnitOfWork(self.s.sessionmaker) as uow:
                if error is None:
                    await uow.inbox.mark_done(update_id, self.s.now())
                elif is_transient(error):  # stopping: the next process takes it
                    await uow.inbox.retry_later(update_id, self.s.now(), repr(error))
                else:
                    await uow.inbox.fail(update_id, self.s.now(), repr(error))
                await uow.session.commit()
        except Exception as exc:  # noqa: BLE001 - its claim runs out and it is handled again
            log.warning("update %s: outcome not stored (%s)", update_id, exc)


def report_error(error: BaseException | None) -> bool:
    """Called by the error handler: remember the failure for the inbox. True if the update
    will be handled again (so the person need not be told something went wrong)."""
    handled = current_update.get()
    if handled is None:
        return False
    handled.error = error
    return is_transient(error) and not handled.marked
