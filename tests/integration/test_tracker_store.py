"""The append-only conversation store against a real Redis: what Rasa saves is what it loads,
only new events are written, secrets never reach Redis, and older data is still read."""

from __future__ import annotations

import json
import secrets

import pytest
import redis
from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.rasa_plugins.tracker_store import RedactingRedisTrackerStore
from recoverydesk.ops.stack import RedisLocation
from recoverydesk.settings import ROOT
from tests.support.servers import RedisServer

TOKEN = "Zq8" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def _store(redis_server: RedisServer, domain: Domain, **options: object) -> RedactingRedisTrackerStore:
    where = RedisLocation.from_url(redis_server.url)
    return RedactingRedisTrackerStore(
        domain, host=where.host, port=where.port, db=where.db, key_prefix="rdtracker", record_exp=3600, **options
    )


def _raw(redis_server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(redis_server.url)


def _session_start() -> list:
    return [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]


def _turn(text: str, reply: str) -> list:
    return [
        UserUttered(text, {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
        BotUttered(reply),
        ActionExecuted(ACTION_LISTEN_NAME),
    ]


def _add_events(tracker: DialogueStateTracker, events: list) -> DialogueStateTracker:
    """The tracker, updated with the events in order (as Rasa updates it turn by turn)."""
    for event in events:
        tracker.update(event)
    return tracker


def _conversation_id() -> str:
    return secrets.token_urlsafe(32)


async def test_a_save_appends_only_the_events_the_tracker_gained(redis_server, domain):
    store, raw, sender = _store(redis_server, domain), _raw(redis_server), _conversation_id()
    tracker = _add_events(store.init_tracker(sender), _session_start() + _turn("hello", "Hi!"))
    await store.save(tracker)
    assert raw.llen(f"rdtracker:events:{sender}") == 7

    loaded = await store.retrieve(sender)
    _add_events(loaded, _turn("hello again", "Hi again!"))
    await store.save(loaded)
    await store.save(loaded)  # nothing new: nothing written

    stored = [json.loads(line) for line in raw.lrange(f"rdtracker:events:{sender}", 0, -1)]
    assert len(stored) == 11
    assert [e["event"] for e in stored[-4:]] == ["user", "action", "bot", "action"]
    again = await store.retrieve(sender)
    assert [e.as_dict() for e in again.events] == [e.as_dict() for e in loaded.events]
    assert again.latest_message.text == "hello again"


async def test_link_tokens_and_codes_never_reach_redis(redis_server, domain):
    store, raw, sender = _store(redis_server, domain), _raw(redis_server), _conversation_id()
    turn = _turn("my code is 493 817", f"Open http://x.test/secure/password/{TOKEN}")
    tracker = _add_events(store.init_tracker(sender), _session_start() + turn)
    await store.save(tracker)
    dump = b"".join(raw.lrange(f"rdtracker:events:{sender}", 0, -1))
    assert TOKEN.encode() not in dump
    assert b"493 817" not in dump and b"493817" not in dump
    assert b"/secure/password/" in dump


async def test_loading_gives_the_current_session_and_the_full_tracker_gives_all(redis_server, domain):
    store, sender = _store(redis_server, domain), _conversation_id()
    two_sessions = _session_start() + _turn("first", "One") + _session_start() + _turn("second", "Two")
    tracker = _add_events(store.init_tracker(sender), two_sessions)
    await store.save(tracker)

    current = await store.retrieve(sender)
    assert [e.text for e in current.events if isinstance(e, UserUttered)] == ["second"]
    assert isinstance(current.events[0], ActionExecuted) and current.events[0].action_name == ACTION_SESSION_START_NAME
    full = await store.retrieve_full_tracker(sender)
    assert [e.text for e in full.events if isinstance(e, UserUttered)] == ["first", "second"]

    current.update(SlotSet("triage_priority", "high"))
    await store.save(current)
    assert (await store.retrieve_full_tracker(sender)).get_slot("triage_priority") == "high"
    assert len((await store.retrieve_full_tracker(sender)).events) == len(full.events) + 1


async def test_a_tracker_the_store_did_not_load_is_merged_without_duplicates(redis_server, domain):
    store, sender = _store(redis_server, domain), _conversation_id()
    events = _session_start() + _turn("hello", "Hi!")
    first = _add_events(store.init_tracker(sender), events)
    await store.save(first)

    # as Rasa's HTTP API builds one from posted events
    rebuilt = _add_events(store.init_tracker(sender), events + [SlotSet("triage_category", "other")])
    await store.save(rebuilt)

    loaded = await store.retrieve(sender)
    assert len(loaded.events) == len(events) + 1
    assert loaded.get_slot("triage_category") == "other"


async def test_a_writer_that_lost_a_race_keeps_both_writers_events(redis_server, domain):
    store, sender = _store(redis_server, domain), _conversation_id()
    tracker = _add_events(store.init_tracker(sender), _session_start())
    await store.save(tracker)
    one, two = await store.retrieve(sender), await store.retrieve(sender)
    one.update(SlotSet("triage_category", "other"))
    await store.save(one)
    two.update(SlotSet("triage_priority", "low"))
    await store.save(two)

    loaded = await store.retrieve(sender)
    assert loaded.get_slot("triage_category") == "other"
    assert loaded.get_slot("triage_priority") == "low"
    assert len(loaded.events) == 5


async def test_a_conversation_saved_by_rasas_redis_store_is_read_and_moved(redis_server, domain):
    where = RedisLocation.from_url(redis_server.url)
    rasa_store = RedisTrackerStore(domain, host=where.host, port=where.port, db=where.db, key_prefix="rdtracker")
    store, raw, sender = _store(redis_server, domain), _raw(redis_server), _conversation_id()
    old = _add_events(rasa_store.init_tracker(sender), _session_start() + _turn("hello", "Hi!"))
    await rasa_store.save(old)

    loaded = await store.retrieve(sender)
    assert [e.as_dict() for e in loaded.events] == [e.as_dict() for e in old.events]
    loaded.update(SlotSet("triage_category", "other"))
    await store.save(loaded)
    assert raw.llen(f"rdtracker:events:{sender}") == len(old.events) + 1
    assert not raw.exists(f"rdtracker:tracker:{sender}")
    assert sender in await store.keys()


async def test_history_is_bounded_to_the_newest_events(redis_server, domain):
    store, raw, sender = _store(redis_server, domain, max_events=10), _raw(redis_server), _conversation_id()
    tracker = _add_events(store.init_tracker(sender), _session_start())
    await store.save(tracker)
    for number in range(5):
        _add_events(tracker, _turn(f"message {number}", "ok"))
        await store.save(tracker)
    assert raw.llen(f"rdtracker:events:{sender}") == 10
    loaded = await store.retrieve(sender)
    assert loaded.latest_message.text == "message 4"
    assert raw.ttl(f"rdtracker:events:{sender}") > 0


async def test_a_reused_tracker_never_holds_a_secret_that_redis_does_not(redis_server, domain):
    store, sender = _store(redis_server, domain), _conversation_id()
    tracker = _add_events(store.init_tracker(sender), _session_start())
    await store.save(tracker)
    loaded = await store.retrieve(sender)
    assert await store.retrieve(sender) is loaded  # unchanged in Redis: the same tracker is reused
    _add_events(loaded, _turn("reset my password", f"Open http://x.test/secure/password/{TOKEN}"))
    await store.save(loaded)

    again = await store.retrieve(sender)
    assert again is not loaded
    assert all(TOKEN not in (event.as_dict().get("text") or "") for event in again.events)
    assert "/secure/password/" in again.events[-2].text
