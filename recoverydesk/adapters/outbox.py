"""A durable outbox in Redis: deliveries that must happen once, even across crashes and outages.

A caller ``put``s a delivery under an idempotency key (a repeat of the key changes nothing), and
a worker delivers what is due, retrying with exponential backoff until it succeeds, the item
expires or a permanent failure is reported. Each attempt holds a lease, so several workers (the
action server, the helpdesk plugin, a second instance) never deliver the same item at once; a
delivered item is marked done atomically and its payload dropped. Payloads are sealed with a
key outside Redis: a queued code email must not sit readable in Redis (PII-1).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from redis.asyncio import Redis
from redis.exceptions import RedisError

from recoverydesk.adapters import keys
from recoverydesk.adapters.redis_client import as_text
from recoverydesk.domain.crypto import DecryptionError, SecretBox

log = logging.getLogger("recoverydesk.outbox")
DONE_RETENTION_SECONDS = 7 * 24 * 3600
LEASE_SECONDS = 60

# KEYS: item, due. ARGV: sealed payload, now, first due time, expires_at, ref.
_PUT = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  return {0, redis.call('HGET', KEYS[1], 'ref') or '', redis.call('HGET', KEYS[1], 'state') or ''}
end
redis.call('HSET', KEYS[1], 'payload', ARGV[1], 'state', 'pending', 'attempts', 0, 'created', ARGV[2],
           'expires_at', ARGV[4], 'ref', ARGV[5])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[6])
return {1, ARGV[5], 'pending'}
"""

# KEYS: due. ARGV: now, lease until, limit. Takes due items and pushes them past the lease.
_CLAIM_DUE = """
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[3])
for _, key in ipairs(keys) do redis.call('ZADD', KEYS[1], ARGV[2], key) end
return keys
"""

# KEYS: item, due. ARGV: key, final state (delivered | failed), field, value, retention. Only a
# pending item can end, once; its payload (maybe a secret) is dropped and the item kept a while.
_FINISH = """
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2], ARGV[3], ARGV[4])
redis.call('HDEL', KEYS[1], 'payload')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return 1
"""

# KEYS: item, due. ARGV: key, next due time. Counts the attempt and schedules the next one.
_RETRY = """
if redis.call('HGET', KEYS[1], 'state') ~= 'pending' then return -1 end
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return attempts
"""

class PermanentFailure(Exception):
    """The receiver refused the delivery for good (retrying cannot help)."""


@dataclass(frozen=True)
class Queued:
    """The outcome of ``put``: whether the key was new, and the reference stored with it."""

    created: bool
    ref: str
    state: str


@dataclass(frozen=True)
class Delivery:
    key: str
    payload: dict[str, Any]
    attempts: int
    expires_at: float


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter: first, first*2, ... up to ``cap`` seconds."""

    first_seconds: float = 1.0
    cap_seconds: float = 300.0

    def after(self, attempts: int) -> float:
        delay = min(self.first_seconds * 2 ** max(0, attempts - 1), self.cap_seconds)
        return delay * random.uniform(0.8, 1.2)



class Outbox:
    """One named outbox (``mail``, ``tickets``) in Redis."""

    def __init__(self, redis: Redis, name: str, box: SecretBox, backoff: Backoff = Backoff()) -> None:
        self._redis = redis
        self.name = name
        self._box = box
        self.backoff = backoff
        self._due = keys.outbox_due(name)
        self._put = redis.register_script(_PUT)
        self._claim_due = redis.register_script(_CLAIM_DUE)
        self._finish = redis.register_script(_FINISH)
        self._retry = redis.register_script(_RETRY)

    def _item(self, key: str) -> str:
        return keys.outbox_item(self.name, key)

    def _context(self, key: str) -> str:
        return f"outbox:{self.name}:{key}"

    async def put(
        self,
        key: str,
        payload: dict[str, Any],
        ref: str = "",
        ttl_seconds: float = 7 * 24 * 3600,
        hold_seconds: float = 0.0,
        now: Optional[float] = None,
    ) -> Queued:
        """Queues ``payload`` unless ``key`` was queued before; ``hold_seconds`` keeps the worker off it
        while the caller makes the first attempt itself."""
        now = time.time() if now is None else now
        sealed = self._box.seal(json.dumps(payload), self._context(key))
        created, stored_ref, state = await self._put(
            keys=[self._item(key), self._due],
            args=[sealed, now, now + hold_seconds, now + ttl_seconds, ref, key],
        )
        return Queued(bool(created), as_text(stored_ref), as_text(state))

    async def take(self, key: str, now: Optional[float] = None) -> Optional[Delivery]:
        """The pending item ``key`` with its payload, or None (delivered, failed or unknown)."""
        item = await self._redis.hgetall(self._item(key))
        if item.get(b"state") != b"pending" or b"payload" not in item:
            return None
        try:
            payload = json.loads(self._box.open(as_text(item[b"payload"]), self._context(key)))
        except (DecryptionError, ValueError):
            await self.give_up(key, "unreadable")
            return None
        return Delivery(key, payload, int(item.get(b"attempts", 0)), float(item.get(b"expires_at", 0)))

    async def claim_due(self, limit: int = 20, now: Optional[float] = None) -> list[Delivery]:
        now = time.time() if now is None else now
        keys = await self._claim_due(keys=[self._due], args=[now, now + LEASE_SECONDS, limit])
        taken = [await self.take(as_text(key)) for key in keys]
        return [delivery for delivery in taken if delivery is not None]

    async def delivered(self, key: str, result: Optional[dict[str, Any]] = None) -> bool:
        """Marks ``key`` delivered; False if it already was (or was given up)."""
        return await self._end(key, "delivered", "result", json.dumps(result or {}))

    async def retry_later(self, key: str, now: Optional[float] = None) -> float:
        """Counts a failed attempt and schedules the next; returns the delay chosen."""
        now = time.time() if now is None else now
        attempts = int(await self._redis.hget(self._item(key), "attempts") or 0) + 1
        delay = self.backoff.after(attempts)
        await self._retry(keys=[self._item(key), self._due], args=[key, now + delay])
        return delay

    async def give_up(self, key: str, reason: str) -> None:
        await self._end(key, "failed", "reason", reason)

    async def _end(self, key: str, state: str, field: str, value: str) -> bool:
        ended = await self._finish(
            keys=[self._item(key), self._due], args=[key, state, field, value, DONE_RETENTION_SECONDS]
        )
        return bool(ended)

    async def state(self, key: str) -> Optional[str]:
        value = await self._redis.hget(self._item(key), "state")
        return as_text(value) if value is not None else None

    async def result(self, key: str) -> Optional[dict[str, Any]]:
        value = await self._redis.hget(self._item(key), "result")
        return json.loads(value) if value else None

    async def pending(self) -> int:
        return int(await self._redis.zcard(self._due))

    async def all_due_now(self, now: Optional[float] = None) -> None:
        """The receiver is back: what waits for a later retry is due at once."""
        now = time.time() if now is None else now
        keys = await self._redis.zrangebyscore(self._due, now, "+inf")
        if keys:
            await self._redis.zadd(self._due, {key: now for key in keys}, xx=True)


Deliver = Callable[[dict[str, Any]], Awaitable[Optional[dict[str, Any]]]]
Probe = Callable[[], Awaitable[bool]]


class OutboxWorker:
    """Delivers an outbox's due items in the background; ``kick`` makes it look at once.

    After a failed attempt the worker probes the receiver on every poll (``probe``: cheap, sends
    nothing), so a receiver that comes back gets its backlog at once rather than after the backoff."""

    def __init__(
        self, outbox: Outbox, deliver: Deliver, probe: Optional[Probe] = None, poll_seconds: float = 1.0
    ) -> None:
        self.outbox = outbox
        self._deliver = deliver
        self._probe = probe
        self._poll = poll_seconds
        self._wake = asyncio.Event()
        self._task: Optional[asyncio.Task] = None
        self.failing = True  # until a delivery succeeds: a fresh worker flushes any backlog at once

    async def attempt(self, delivery: Delivery, now: Optional[float] = None) -> bool:
        """One delivery attempt; True when the item is now delivered."""
        now = time.time() if now is None else now
        if delivery.expires_at and now > delivery.expires_at:
            await self.outbox.give_up(delivery.key, "expired")
            log.warning("outbox.expired", extra={"outbox": self.outbox.name, "attempts": delivery.attempts})
            return False
        try:
            result = await self._deliver(delivery.payload)
        except PermanentFailure as exc:
            await self.outbox.give_up(delivery.key, str(exc)[:200])
            log.error("outbox.refused", extra={"outbox": self.outbox.name, "kind": type(exc).__name__})
            return False
        except Exception as exc:  # any other failure is transient: retry with backoff
            self.failing = True
            delay = await self.outbox.retry_later(delivery.key, now)
            log.warning(
                "outbox.retry",
                extra={
                    "outbox": self.outbox.name,
                    "kind": type(exc).__name__,
                    "attempts": delivery.attempts + 1,
                    "delay": round(delay, 1),
                },
            )
            return False
        self.failing = False
        await self.outbox.delivered(delivery.key, result)
        return True

    async def attempt_now(self, key: str) -> bool:
        """The caller's own first attempt on an item it just put with a hold."""
        delivery = await self.outbox.take(key)
        return delivery is not None and await self.attempt(delivery)

    async def run_once(self, now: Optional[float] = None) -> int:
        if self.failing and self._probe is not None:
            if not await self.outbox.pending():
                self.failing = False
            elif await self._probe():
                self.failing = False
                await self.outbox.all_due_now(now)
                log.info("outbox.receiver_back", extra={"outbox": self.outbox.name})
        delivered = 0
        for delivery in await self.outbox.claim_due(now=now):
            delivered += await self.attempt(delivery, now)
        return delivered

    def kick(self) -> None:
        self._wake.set()

    async def run_forever(self) -> None:
        while True:
            try:
                await self.run_once()
            except RedisError as exc:  # Redis away: the items are safe there; look again later
                log.warning("outbox.redis_unavailable", extra={"outbox": self.outbox.name, "kind": type(exc).__name__})
            except Exception as exc:
                log.error("outbox.worker_error", extra={"outbox": self.outbox.name, "kind": type(exc).__name__})
            try:
                await asyncio.wait_for(self._wake.wait(), self._poll)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_event_loop().create_task(self.run_forever())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
