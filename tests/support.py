"""Shared test helpers: which database to use, and direct access to it."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from storage.db import make_engine, make_sessionmaker
from storage.uow import UnitOfWork


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database (``<db>_gw0``...),
    created on first use: the tests drop and recreate its ``public`` schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    base = make_url(url)
    return base.set(database=f"{base.database}_{worker}").render_as_string(hide_password=False)


BASE_PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PG_URL = _worker_database(BASE_PG_URL)


def backends() -> list[str]:
    """SQLite always; PostgreSQL when TEST_DATABASE_URL points at one."""
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


async def fresh_database_url(kind: str, tmp_path: Path) -> str:
    """An empty database of that kind (migrations are up to the caller or the bot)."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    if PG_URL != BASE_PG_URL:
        await _create_database(PG_URL)
    engine = make_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return PG_URL


async def _create_database(url: str) -> None:
    name = make_url(url).database
    admin = create_async_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()


class Db:
    """The test's own view of the database the bot uses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker = make_sessionmaker(self.engine)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessionmaker)

    async def scalar(self, sql: str, **params):
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar()

    async def rows(self, sql: str, **params):
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).mappings().all()

    async def execute(self, sql: str, **params) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(text(sql), params)

    async def close(self) -> None:
        await self.engine.dispose()
