"""The one way to open the system of record: an async SQLAlchemy engine for SQLite or PostgreSQL.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL`` (a committed row
survives a power cut) and foreign keys on; its transactions begin explicitly so that a read and
the write that follows it are one transaction. Both databases get bounded pools and timeouts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool

IMMEDIATE = "recoverydesk_immediate"
"""Execution option: on SQLite, begin the transaction holding the write lock (``BEGIN IMMEDIATE``)."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file a SQLite URL names, or None for an in-memory database or another backend."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_engine(url: str, pool_size: int = 10, timeout_seconds: int = 10) -> AsyncEngine:
    """An engine with at most ``pool_size`` connections, each waited for at most ``timeout_seconds``."""
    pool: dict[str, Any] = {"pool_size": pool_size, "max_overflow": 0, "pool_timeout": timeout_seconds}
    if not is_sqlite(url):
        return create_async_engine(
            url,
            pool_pre_ping=True,
            connect_args={"timeout": timeout_seconds, "command_timeout": timeout_seconds},
            **pool,
        )
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url, poolclass=AsyncAdaptedQueuePool, connect_args={"timeout": timeout_seconds}, **pool
    )
    busy_ms = timeout_seconds * 1000

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not the driver, begins transactions
        cursor = dbapi_connection.cursor()
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", f"busy_timeout={busy_ms}"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(IMMEDIATE)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
