"""Shared test helpers: which database to use, and direct access to it."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine, make_sessionmaker
from storage.uow import UnitOfWork

PG_URL = os.environ.get("TEST_DATABASE_URL", "")


def backends() -> list[str]:
    """SQLite always; PostgreSQL when TEST_DATABASE_URL points at one."""
    return ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


async def fresh_database_url(kind: str, tmp_path: Path) -> str:
    """An empty database of that kind (migrations are up to the caller or the bot)."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    engine = make_engine(PG_URL)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    return PG_URL


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
