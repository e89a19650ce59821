"""The per-conversation lock against a real Redis: one holder at a time across processes (two
stores with their own connections stand in for two Rasa workers), arrival order kept, a crashed
holder skipped after its lifetime, nothing left behind, and Redis trouble reported as LockError."""

from __future__ import annotations

import asyncio
import secrets
import time

import pytest
from rasa.core.lock_store import LockError
from redis.asyncio import Redis

from bot.rasa_plugins.lock_store import AsyncRedisLockStore
from recoverydesk.ops.stack import free_port


def _store(url: str) -> AsyncRedisLockStore:
    return AsyncRedisLockStore(redis=Redis.from_url(url))


@pytest.fixture
def conversation() -> str:
    return f"lock-test-{secrets.token_hex(6)}"


def _signal_joins(store: AsyncRedisLockStore, joined: asyncio.Event) -> None:
    """Sets ``joined`` once Redis has queued a new holder: that is when a message has arrived."""
    take = store._take

    async def take_and_signal(*, keys: list, args: list) -> object:
        taken = await take(keys=keys, args=args)
        if args[3] == "1":
            joined.set()
        return taken

    store._take = take_and_signal


async def test_two_processes_never_hold_one_conversation_at_once(redis_server, conversation):
    stores = [_store(redis_server.url), _store(redis_server.url)]
    joined = asyncio.Event()
    for store in stores:
        _signal_joins(store, joined)
    holding, overlaps, order = 0, 0, []

    async def message(number: int) -> None:
        nonlocal holding, overlaps
        async with stores[number % 2].lock(conversation):
            holding += 1
            overlaps += holding > 1
            order.append(number)
            await asyncio.sleep(0.01)
            holding -= 1

    tasks = []
    for number in range(12):
        joined.clear()
        tasks.append(asyncio.create_task(message(number)))
        # They arrive one after another, while earlier ones still hold: each is queued in Redis before
        # the next is sent (on a loaded machine a fixed pause alone let a later one overtake).
        await asyncio.wait_for(joined.wait(), 10)
        await asyncio.sleep(0.003)
    await asyncio.gather(*tasks)
    assert overlaps == 0
    assert order == list(range(12)), "messages of one conversation are handled in arrival order"
    assert await stores[0].redis.exists(stores[0]._key(conversation)) == 0, "nothing left behind"


async def test_other_conversations_do_not_wait(redis_server, conversation):
    store = _store(redis_server.url)
    async with store.lock(conversation):
        started = time.monotonic()
        async with store.lock(conversation + "-other"):
            assert time.monotonic() - started < 0.5


async def test_a_crashed_holder_is_skipped_once_its_lifetime_is_over(redis_server, conversation):
    crashed, alive = _store(redis_server.url), _store(redis_server.url)
    key = crashed._key(conversation)
    # A process took the lock with a 0.3 s lifetime and died without releasing it.
    await crashed._take(keys=[key], args=["dead", int(time.time() * 1000), int((time.time() + 0.3) * 1000), "1"])
    started = time.monotonic()
    async with alive.lock(conversation):
        waited = time.monotonic() - started
    assert 0.2 <= waited < 2.0, waited
    assert await alive.redis.exists(key) == 0


async def test_a_waiter_gives_up_after_the_lock_lifetime(redis_server, conversation):
    store = _store(redis_server.url)
    async with store.lock(conversation, lock_lifetime=30):
        with pytest.raises(LockError):
            async with store.lock(conversation, lock_lifetime=0.2):
                pass
    assert await store.redis.llen(store._key(conversation)) == 0, "the waiter that gave up left the queue"


async def test_a_cancelled_waiter_leaves_the_queue(redis_server, conversation):
    store = _store(redis_server.url)
    async with store.lock(conversation):
        waiter = asyncio.create_task(store.lock(conversation).__aenter__())
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        await asyncio.sleep(0.05)
        assert await store.redis.llen(store._key(conversation)) == 1
    async with store.lock(conversation):  # the next message is not held up by the cancelled one
        pass


async def test_redis_down_is_a_lock_error(conversation):
    store = AsyncRedisLockStore(redis=Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=1))
    with pytest.raises(LockError):
        async with store.lock(conversation):
            pass
