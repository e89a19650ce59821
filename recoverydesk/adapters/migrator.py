"""Applies the schema migrations (recoverydesk/adapters/migrations) to a database: `recoverydesk db
upgrade` and `recoverydesk up` call ``upgrade``; it is safe to run again and again."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Optional

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from recoverydesk.adapters.database import IMMEDIATE, create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class MigrationFailed(Exception):
    """The database could not be reached or migrated; the message is one sentence for the operator."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> Optional[str]:
    """The newest revision this code knows."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _upgrade(connection: Any) -> Optional[str]:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")
    return MigrationContext.configure(connection).get_current_revision()


def _current(connection: Any) -> Optional[str]:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(url: str, timeout_seconds: int = 10) -> Optional[str]:
    """Brings the database to the newest revision in one transaction; returns that revision."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per step is noise for an operator
    engine = create_engine(url, pool_size=1, timeout_seconds=timeout_seconds)
    try:
        # BEGIN IMMEDIATE on SQLite: two processes migrating one file at once take turns
        async with engine.execution_options(**{IMMEDIATE: True}).begin() as connection:
            return await connection.run_sync(_upgrade)
    except (SQLAlchemyError, OSError, asyncio.TimeoutError) as exc:
        raise MigrationFailed(f"The database could not be migrated ({_kind(exc)}); check DATABASE_URL.") from None
    finally:
        await engine.dispose()


async def current(url: str, timeout_seconds: int = 10) -> Optional[str]:
    """The database's revision, or None when it was never migrated."""
    engine = create_engine(url, pool_size=1, timeout_seconds=timeout_seconds)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        await engine.dispose()


def _kind(exc: BaseException) -> str:
    """The driver's error class (never its message, which may carry a URL with a password)."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return type(exc.orig).__name__
    return type(exc).__name__
