"""Engine and session factory. One ``AsyncSession`` per unit of work, never shared."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

#: The session factory the bot passes around (one session per unit of work).
SessionMaker = async_sessionmaker

# Connections kept open: a chat's update, the poller and the outbox lanes each hold one at a
# time, and more of them at once than the default 5 meant opening (PostgreSQL: with TLS
# negotiation; SQLite: a thread) and closing a connection for nearly every update.
POOL = {"pool_size": 24, "max_overflow": 16}


def make_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **POOL)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # Let SQLAlchemy, not the driver, start transactions (see the "begin" hook), so
            # that SAVEPOINTs work and every transaction takes the write lock up front.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # WAL lets the bot and a reader (tests, export) work at once; FKs are off by default.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn):
            # IMMEDIATE: a transaction that reads then writes cannot be refused half way with
            # "database is locked"; competing writers queue on busy_timeout instead. SQLite has
            # no SKIP LOCKED, so this is also what makes the outbox claim safe there.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # Pre-ping costs a round trip per checkout (6% of the bot's CPU per button press, py-spy)
    # and is kept: without it the first statement after a restart of PostgreSQL fails, and
    # where that statement records what was already sent (the outbox's attempts) the
    # messages would go out twice.
    return create_async_engine(url, pool_pre_ping=True, **POOL)


class SerialisedSession(AsyncSession):
    """A session of the SQLite engine. SQLite lets one transaction write at a time; each of
    ours takes the write lock at its first statement (``BEGIN IMMEDIATE``). Transactions of
    this process queue on an asyncio lock, woken in order the moment the previous one ends,
    instead of SQLite's busy handler, which sleeps and polls (up to 100 ms a try): under
    load that sleeping, not the work, made the tail of the button-press latency.
    Another process (the test suite, an export) still waits on ``busy_timeout``."""

    _holding = False

    async def _enter(self) -> None:
        if not self._holding:
            await self.info["writer_lock"].acquire()
            self._holding = True

    def _leave(self) -> None:
        if self._holding:
            self._holding = False
            self.info["writer_lock"].release()

    async def commit(self) -> None:
        if not self._holding and (self.new or self.dirty or self.deleted):
            await self._enter()  # the commit flushes: it writes
        try:
            await super().commit()
        finally:
            self._leave()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self._leave()

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            self._leave()


def _after_lock(name: str):
    async def call(self: SerialisedSession, *args: Any, **kw: Any) -> Any:
        await self._enter()
        return await getattr(AsyncSession, name)(self, *args, **kw)

    call.__name__ = name
    return call


# Every call that may run a statement (and so begin the transaction) queues first.
for _name in (
    "execute",
    "scalar",
    "scalars",
    "get",
    "get_one",
    "merge",
    "flush",
    "refresh",
    "delete",
    "run_sync",
    "connection",
    "stream",
    "stream_scalars",
):
    setattr(SerialisedSession, _name, _after_lock(_name))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    if engine.dialect.name == "sqlite":
        return async_sessionmaker(
            engine,
            class_=SerialisedSession,
            expire_on_commit=False,
            info={"writer_lock": asyncio.Lock()},
        )
    return async_sessionmaker(engine, expire_on_commit=False)


def shown_url(url: str) -> str:
    """A database URL as it may be shown: ``postgresql+asyncpg://user:***@host/db``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(a DATABASE_URL that cannot be read)"


def url_password(url: str) -> str | None:
    try:
        return make_url(url).password
    except ArgumentError:
        return None


def connection_lost(exc: BaseException | None) -> bool:
    """The database could not be reached, or the connection broke under the statement."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def driver_error(exc: BaseException) -> BaseException:
    """The driver's own exception under SQLAlchemy's wrapper (or ``exc`` itself)."""
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
