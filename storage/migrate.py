"""Alembic migrations, applied by ``recovery-bot db upgrade`` and at start.

Alembic's async ``env.py`` runs its own event loop, so call :func:`upgrade` before the bot's
loop starts (or from a worker thread), never from inside a running loop.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # Keep the URL out of the ini parser's interpolation (a password may contain '%').
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
