"""Per-conversation locks in Redis that never block the event loop and are atomic across processes.

Rasa's ``redis`` lock store reads, changes and writes a JSON ticket lock with about seven blocking
round trips per message, and two processes can both read the lock before either writes it back.
Here a conversation's lock is a Redis list of waiting holders, ``token|deadline``, in arrival
order: joining and taking the lock is one Lua script, releasing is one LREM. A holder whose
deadline has passed (a crashed or frozen process) is dropped by the next one to look, so a
conversation is never stuck for longer than the lock lifetime. Messages of one conversation are
handled in the order they arrived, whichever Rasa process or Sanic worker took them.

Configured in endpoints as ``lock_store: {type: bot.rasa_plugins.lock_store.AsyncRedisLockStore, ...}`` with
the keys of Rasa's ``redis`` lock store."""

from __future__ import annotations

import asyncio
import secrets
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore
from rasa.utils.endpoints import EndpointConfig
from redis.asyncio import Redis
from redis.exceptions import RedisError

from recoverydesk.adapters import keys, redis_client
from recoverydesk.settings import RedisLocation

DEFAULT_KEY_PREFIX = keys.LOCK_PREFIX
FIRST_WAIT_SECONDS = 0.002  # a waiter polls, doubling up to MAX_WAIT_SECONDS
MAX_WAIT_SECONDS = 0.05

# KEYS[1] the queue; ARGV: token, now (ms), deadline (ms), join ("1" on the first call).
# Drops expired holders at the head; returns 1 when the token is at the head, 0 when it waits,
# -1 when it is no longer queued (it was dropped as expired, or the key expired meanwhile).
_TAKE = """
local now = tonumber(ARGV[2])
if ARGV[4] == '1' then
  redis.call('RPUSH', KEYS[1], ARGV[1] .. '|' .. ARGV[3])
  redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[3]) + 1000)  -- the newest holder's deadline is the latest
end
while true do
  local head = redis.call('LINDEX', KEYS[1], 0)
  if not head then return -1 end
  local token, deadline = string.match(head, '^(.*)|(%d+)$')
  if token == ARGV[1] then return 1 end
  if tonumber(deadline) > now then return 0 end
  redis.call('LPOP', KEYS[1])
end
"""


class AsyncRedisLockStore(LockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, redis: Optional[Redis] = None) -> None:
        config = endpoint_config.kwargs if endpoint_config else {}
        if redis is None:
            url = endpoint_config.url if endpoint_config else None
            where = (
                RedisLocation.from_url(url)  # a whole redis:// URL (url: ${REDIS_URL} in deploy/endpoints.yml)
                if url and "://" in url
                else RedisLocation(
                    host=url or "localhost",
                    port=int(config.get("port", 6379)),
                    db=int(config.get("db", 0)),
                    username=config.get("username"),
                    password=config.get("password"),
                    use_ssl=bool(config.get("use_ssl", False)),
                )
            )
            # Reconnects once: both commands are safe to repeat (a repeated join is the same token; LREM removes all).
            redis = redis_client.redis_at(where, socket_timeout=float(config.get("socket_timeout", 10)))
        self.redis = redis
        prefix = config.get("key_prefix")
        self.key_prefix = f"{prefix if isinstance(prefix, str) and prefix.isalnum() else DEFAULT_KEY_PREFIX}:"
        self._take = self.redis.register_script(_TAKE)

    def _key(self, conversation_id: Text) -> str:
        return f"{self.key_prefix}{conversation_id}"

    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = 1
    ) -> AsyncIterator[TicketLock]:
        """Waits for the conversation's earlier holders (at most ``lock_lifetime``), then holds
        it until the block ends. ``wait_time_in_seconds`` is Rasa's polling interval; this store
        polls much sooner and backs off to ``MAX_WAIT_SECONDS``."""
        key = self._key(conversation_id)
        token = secrets.token_hex(8)
        deadline_ms = int((time.time() + lock_lifetime) * 1000)
        entry = f"{token}|{deadline_ms}"
        try:
            await self._wait_for_turn(key, token, deadline_ms)
        except (RedisError, OSError) as exc:
            await self._leave(key, entry)
            raise LockError(f"Redis did not answer for a conversation lock ({type(exc).__name__}).") from exc
        except BaseException:
            await self._leave(key, entry)
            raise
        try:
            yield TicketLock(conversation_id)
        finally:
            await self._leave(key, entry)

    async def _wait_for_turn(self, key: str, token: str, deadline_ms: int) -> None:
        wait = FIRST_WAIT_SECONDS
        join = "1"
        while True:
            now_ms = int(time.time() * 1000)
            taken = await self._take(keys=[key], args=[token, now_ms, deadline_ms, join])
            join = "0"
            if taken == 1:
                return
            if now_ms >= deadline_ms:
                raise LockError("Waited the whole lock lifetime for a conversation.")
            if taken == -1:
                join = "1"  # the queue expired under a crashed holder: queue again
                continue
            await asyncio.sleep(wait)
            wait = min(wait * 2, MAX_WAIT_SECONDS)

    async def _leave(self, key: str, entry: str) -> None:
        try:
            await asyncio.shield(self.redis.lrem(key, 0, entry))
        except (RedisError, OSError):
            pass  # the entry expires with its deadline; the next holder drops it

    # Rasa's synchronous ticket-lock interface: nothing in Rasa 3.6 calls it outside ``lock``.
    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        raise NotImplementedError("AsyncRedisLockStore is used through lock() only.")

    def delete_lock(self, conversation_id: Text) -> None:
        raise NotImplementedError("AsyncRedisLockStore is used through lock() only.")

    def save_lock(self, lock: Any) -> None:
        raise NotImplementedError("AsyncRedisLockStore is used through lock() only.")
