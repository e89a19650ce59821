"""Fixtures: our own Redis and SMTP servers, and the whole stack on free ports."""
from __future__ import annotations

import os
import secrets
from typing import Iterator

import pytest

from bot.settings import ROOT, Settings
from bot.stack import Stack, free_port
from bot.training import ensure_model

from .support import RedisServer, SmtpServer


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
def stack_env(redis_server: RedisServer, smtp_server: SmtpServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    rasa_port = free_port()
    return {
        **os.environ,
        "REDIS_URL": redis_server.url,
        "RASA_PORT": str(rasa_port),
        "ACTIONS_PORT": str(free_port()),
        "HELPDESK_PORT": str(free_port()),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_server.port),
        "SMTP_TLS": "off",
        "RASA_TOKEN": secrets.token_urlsafe(24),
        "RECOVERYDESK_SECRET_KEY": secrets.token_urlsafe(48),
        "RECOVERYDESK_VAR_DIR": str(tmp_path_factory.mktemp("var")),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{rasa_port}",
    }


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

