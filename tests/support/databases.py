"""Databases of the tests' own: a migrated SQLite file, or a uniquely named PostgreSQL database on the
machine's server (127.0.0.1:5432, user postgres; TEST_POSTGRES_URL overrides) created and dropped
by the test session. Without PostgreSQL its tests skip, except under CI=true, where they fail."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import asyncpg
import pytest

from recoverydesk.adapters.migrator import upgrade
from recoverydesk.domain.signing import derive_key

AUDIT_KEY = derive_key(b"test-root-secret-of-the-audit-chain", "audit-chain")
"""The chain key of audit logs the tests build themselves (a stack derives its own from its secret)."""

POSTGRES = os.environ.get("TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/postgres"


def _with_database(url: str, name: str, user: str | None = None) -> str:
    parsed = urlparse(url)
    netloc = parsed.netloc
    if user is not None:
        netloc = f"{user}@{parsed.hostname}:{parsed.port or 5432}"
    return urlunparse(parsed._replace(netloc=netloc, path=f"/{name}"))


async def _admin(statement: str) -> None:
    connection = await asyncpg.connect(POSTGRES, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def postgres_or_skip() -> None:
    """Skips (fails under CI=true) when PostgreSQL does not answer."""
    try:
        asyncio.run(_admin("SELECT 1"))
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError) as exc:
        reason = f"PostgreSQL does not answer at {POSTGRES} ({type(exc).__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI must test on PostgreSQL.")
        pytest.skip(reason)


class PostgresDatabase:
    """A fresh database of the test's own; ``url`` is its owner's (postgres), ``app_url`` the
    application role's (recoverydesk_app, given LOGIN here as a deployment would)."""

    def __init__(self) -> None:
        self.name = f"rd_test_{secrets.token_hex(6)}"
        self.url = _with_database(POSTGRES, self.name)
        self.app_url = _with_database(POSTGRES, self.name, user="recoverydesk_app")

    def create(self) -> "PostgresDatabase":
        asyncio.run(_admin(f'CREATE DATABASE "{self.name}"'))
        try:
            asyncio.run(upgrade(sqlalchemy_url(self.url)))
            asyncio.run(_admin("ALTER ROLE recoverydesk_app LOGIN"))
        except BaseException:
            self.drop()  # a failed set-up leaves no database behind
            raise
        return self

    def drop(self) -> None:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def sqlite_database(folder: Path) -> str:
    """A migrated SQLite file in ``folder``: its URL."""
    url = f"sqlite:///{folder / 'recoverydesk.sqlite3'}"
    asyncio.run(upgrade(sqlalchemy_url(url)))
    return url


def sqlalchemy_url(url: str) -> str:
    """The async driver's URL, as the settings map DATABASE_URL."""
    scheme, _, rest = url.partition("://")
    return f"{'sqlite+aiosqlite' if scheme == 'sqlite' else 'postgresql+asyncpg'}://{rest}"
