"""Alembic environment: async engines, SQLite in batch mode."""

import asyncio

from alembic import context

from storage.db import make_engine
from storage.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    return config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    engine = make_engine(_url())
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # Batch mode rebuilds a table to change it; with foreign keys enforced,
                # dropping the old patients table would cascade-delete every diary entry.
                # Alembic's advice: off while migrating. A PRAGMA is ignored inside a
                # transaction, so it goes to the driver before SQLAlchemy begins one.
                raw = await conn.get_raw_connection()
                await raw.driver_connection.execute("PRAGMA foreign_keys=OFF")
            await conn.run_sync(_run)
            await conn.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_async())
