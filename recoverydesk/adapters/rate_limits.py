"""Failure counters and sending limits shared by every conversation and channel (RL-1..RL-3)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys

FREE_FAILURES = 5
FIRST_DELAY_SECONDS = 30
MAX_DELAY_SECONDS = 3600
HARD_LIMIT = 100


@dataclass(frozen=True)
class RateLimited(Exception):
    """Try again after ``retry_after`` seconds (None: a person must unlock it)."""

    retry_after: Optional[int]


def delay_after(failures: int) -> int:
    """No delay for the first 5 failures in a row, then 30 s doubling up to an hour (RL-2)."""
    if failures < FREE_FAILURES:
        return 0
    return min(FIRST_DELAY_SECONDS * 2 ** (failures - FREE_FAILURES), MAX_DELAY_SECONDS)


class FailureCounter:
    """Per account and factor (``email_code``, ``totp``, ...), whatever the conversation."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    def _key(self, factor: str, account_ref: str) -> str:
        return keys.failures(factor, account_ref)

    async def check(self, factor: str, account_ref: str, now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        state = await self._redis.hgetall(self._key(factor, account_ref))
        failures = int(state.get(b"count", 0))
        if failures >= HARD_LIMIT:
            raise RateLimited(None)
        locked_until = float(state.get(b"locked_until", 0))
        if locked_until > now:
            raise RateLimited(int(locked_until - now) + 1)

    async def failed(self, factor: str, account_ref: str, now: Optional[float] = None) -> int:
        now = time.time() if now is None else now
        key = self._key(factor, account_ref)
        failures = await self._redis.hincrby(key, "count", 1)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(key, "locked_until", now + delay_after(failures))
        pipe.expire(key, 24 * 3600)
        await pipe.execute()
        return failures

    async def succeeded(self, factor: str, account_ref: str) -> None:
        await self._redis.delete(self._key(factor, account_ref))


# RL-3's window in one step. Invariant: the sorted set never holds more than ARGV[3] sends younger
# than the window, because the trim, the count and the add run as one script no other client can
# interleave with (a read-then-write let every concurrent request see room). Scores arrive as
# strings from Python: a Lua number would be rounded to 14 digits when handed back to Redis.
_TAKE_SEND = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[2])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
    local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
    return {0, oldest[2] or false}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {1}
"""


class SendingLimit:
    """At most ``limit`` sends per ``window`` for a subject (an account or a conversation) (RL-3)."""

    def __init__(self, redis: Redis, name: str, limit: int, window_seconds: int = 3600) -> None:
        self._redis = redis
        self._name = name
        self._limit = limit
        self._window = window_seconds
        self._take_send = redis.register_script(_TAKE_SEND)

    async def take(self, subject: str, now: Optional[float] = None) -> None:
        now = time.time() if now is None else now
        # each send its own member, so two sends at the same instant count twice
        member = f"{now!r}:{secrets.token_hex(4)}"
        reply = await self._take_send(
            keys=[keys.sends(self._name, subject)],
            args=[repr(now), repr(now - self._window), self._limit, member, self._window],
        )
        if int(reply[0]) == 1:
            return
        oldest = float(reply[1]) if len(reply) > 1 and reply[1] is not None else None
        raise RateLimited(int(oldest + self._window - now) + 1 if oldest is not None else self._window)
