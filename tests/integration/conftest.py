"""Fixtures of the adapter tests: a client of the session's test Redis, a fresh database of a test's
own on SQLite and on PostgreSQL, and, for modules that start their own helpdesk plugin as a
``helpdesk`` fixture, its address and a supervisor's token."""

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from redis.asyncio import Redis

from recoverydesk.settings import ROOT, Settings
from tests.support.databases import PostgresDatabase, postgres_or_skip, sqlite_database


@pytest.fixture
async def redis(redis_server):
    client = Redis.from_url(redis_server.url)
    yield client
    await client.close()


@pytest.fixture(scope="module")
def plugin(helpdesk):
    return helpdesk.url, helpdesk.redis_url


@pytest.fixture(scope="module")
def token(helpdesk):
    return helpdesk.sign_in()


@dataclass
class FreshDatabase:
    """A migrated database of one test's own: ``owner_url`` migrates and purges, ``app_url`` is what the
    application connects as (on PostgreSQL the role with only INSERT/SELECT on audit rows)."""

    backend: str
    owner_url: str
    app_url: str
    env: dict[str, str]

    def settings(self) -> Settings:
        return Settings.from_env(self.env, ROOT)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FreshDatabase]:
    """A new migrated database on each backend, and the environment a process would run with."""
    postgres = None
    if request.param == "sqlite":
        owner_url = app_url = sqlite_database(tmp_path)
    else:
        postgres_or_skip()
        postgres = PostgresDatabase().create()
        owner_url, app_url = postgres.url, postgres.app_url
    env = {
        **os.environ,
        "DATABASE_URL": app_url,
        "DATABASE_MIGRATION_URL": owner_url,
        "RECOVERYDESK_SECRET_KEY": secrets.token_urlsafe(48),
        "RECOVERYDESK_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    try:
        yield FreshDatabase(request.param, owner_url, app_url, env)
    finally:
        if postgres is not None:
            postgres.drop()
