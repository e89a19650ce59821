"""Fixtures: our own Redis and SMTP servers, databases (SQLite, and PostgreSQL when it answers), and
the whole stack on free ports."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.database import create_engine
from recoverydesk.ops.stack import Stack, loopback_environment
from recoverydesk.ops.training import ensure_model
from recoverydesk.settings import ROOT, Settings
from tests.support.databases import AUDIT_KEY, PostgresDatabase, postgres_or_skip, sqlalchemy_url, sqlite_database
from tests.support.fake_platform import FakePlatform
from tests.support.messengers import channel_environment
from tests.support.servers import RedisServer, SmtpServer
from tests.support.web_tokens import Website


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def website() -> Website:
    """The bank's logged-in website: it signs web-session JWTs with its own EC key; the stack holds the public key."""
    return Website()


@pytest.fixture(scope="session")
def fake_platform() -> Iterator[FakePlatform]:
    """The messenger platforms' APIs (Telegram, WhatsApp, Messenger) on loopback, recording every call."""
    server = FakePlatform().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file of this test session (a DATABASE_URL)."""
    return sqlite_database(tmp_path_factory.mktemp("sql"))


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[PostgresDatabase]:
    """A migrated PostgreSQL database of this test session, dropped at its end."""
    postgres_or_skip()
    database = PostgresDatabase().create()
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The session's database on each backend, as its owner (a DATABASE_URL)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_database").url


@pytest.fixture
async def sqlite_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the session's SQLite file, for this test's event loop."""
    engine = create_engine(sqlalchemy_url(sqlite_url))
    yield engine
    await engine.dispose()


@pytest.fixture
def audit_log(sqlite_engine: AsyncEngine) -> AuditLog:
    """The audit trail on the session's SQLite file."""
    return AuditLog(sqlite_engine, AUDIT_KEY)


@pytest.fixture
async def fresh_audit_log(tmp_path: Path) -> AsyncIterator[AuditLog]:
    """An audit trail on a SQLite file of this test's own (for tests whose Redis starts empty, so
    that ticket numbers repeat from one test to the next)."""
    engine = create_engine(sqlalchemy_url(await asyncio.to_thread(sqlite_database, tmp_path)))
    yield AuditLog(engine, AUDIT_KEY)
    await engine.dispose()


@pytest.fixture(scope="session")
def stack_env(
    redis_server: RedisServer,
    smtp_server: SmtpServer,
    website: Website,
    fake_platform: FakePlatform,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    return loopback_environment(
        os.environ,
        redis_server.url,
        smtp_server.port,
        tmp_path_factory.mktemp("var"),
        ONCALL_EMAIL="oncall@example.test",
        ALERT_INTERVAL_SECONDS="2",
        WEB_SESSION_KEYS_FILE=str(website.write(tmp_path_factory.mktemp("website") / "web-session-keys.json")),
        **channel_environment(fake_platform.url),
    )


@pytest.fixture(scope="session")
def stack(stack_env: dict) -> Iterator[Stack]:
    """Rasa, the action server and the helpdesk plugin, as `recoverydesk up` runs them."""
    settings = Settings.from_env(stack_env, ROOT)
    model, _ = ensure_model(ROOT)
    running = Stack(settings, model, stack_env)
    try:
        running.start(say=lambda _line: None)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def settings(stack: Stack) -> Settings:
    return stack.settings


@pytest.fixture
def chat_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.rasa_port}"


def pytest_collection_modifyitems(items: list) -> None:
    # The browser tests go last: they need the stack and Chromium, and are the slowest.
    items.sort(key=lambda item: 1 if item.get_closest_marker("browser") else 0)
