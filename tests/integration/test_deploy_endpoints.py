"""deploy/endpoints.yml, loaded by Rasa as in production (``${REDIS_URL}`` from the environment), builds
our tracker store, lock store and event broker, and they work against a real Redis in the database
the URL names."""

from __future__ import annotations

import secrets

import pytest
import redis
from rasa.core.brokers.broker import EventBroker
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.rasa_plugins.event_broker import RedisStreamEventBroker
from bot.rasa_plugins.lock_store import AsyncRedisLockStore
from bot.rasa_plugins.tracker_store import RedactingRedisTrackerStore
from recoverydesk.adapters.keys import conversation_stream
from recoverydesk.settings import ROOT, RedisLocation
from tests.support.servers import RedisServer

ENDPOINTS = str(ROOT / "deploy" / "endpoints.yml")
DB = 5  # not the default database: the URL's path must reach every store


@pytest.fixture
def redis_url(redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch) -> str:
    where = RedisLocation.from_url(redis_server.url)
    url = f"redis://{where.host}:{where.port}/{DB}"
    monkeypatch.setenv("REDIS_URL", url)  # what Rasa substitutes into ${REDIS_URL}
    return url


async def test_the_committed_endpoints_build_working_stores_from_redis_url(redis_url: str) -> None:
    domain = Domain.load(str(ROOT / "domain.yml"))
    raw = redis.Redis.from_url(redis_url)
    conversation = secrets.token_urlsafe(32)

    tracker_store = TrackerStore.create(read_endpoint_config(ENDPOINTS, "tracker_store"), domain)
    assert isinstance(tracker_store, RedactingRedisTrackerStore)
    tracker = DialogueStateTracker.from_events(
        conversation, [ActionExecuted("action_listen"), UserUttered("hello", {"name": "greet", "confidence": 1.0})]
    )
    await tracker_store.save(tracker)
    loaded = await tracker_store.retrieve(conversation)
    assert loaded is not None and loaded.latest_message.text == "hello"
    assert any(conversation in key.decode() for key in raw.keys("rdtracker:*"))

    lock_store = LockStore.create(read_endpoint_config(ENDPOINTS, "lock_store"))
    assert isinstance(lock_store, AsyncRedisLockStore)
    async with lock_store.lock(conversation):
        assert raw.exists(f"rdlock:{conversation}")

    broker = await EventBroker.create(read_endpoint_config(ENDPOINTS, "event_broker"))
    assert isinstance(broker, RedisStreamEventBroker)
    broker.publish({"event": "user", "sender_id": conversation, "text": "hello", "timestamp": 1.0})
    await broker.close()
    assert raw.xlen(conversation_stream(conversation)) == 1
    raw.close()
