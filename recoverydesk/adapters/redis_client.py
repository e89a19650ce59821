"""The one factory of async Redis clients: after Redis restarts, a pooled connection is stale and
its first command fails with "connection closed"; one fresh try hides that from customers."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError

from recoverydesk.settings import RedisLocation

RECONNECT_ONCE: dict[str, Any] = {"retry": Retry(NoBackoff(), 1), "retry_on_error": [ConnectionError]}


def as_text(value: object) -> str:
    """A Redis reply (bytes, since clients are not made with ``decode_responses``) as text."""
    return value.decode() if isinstance(value, bytes) else str(value)


def connect(url: str) -> Redis:
    """A client for the Redis at ``url``, with the reconnect policy."""
    return Redis.from_url(url, **RECONNECT_ONCE)


def redis_at(location: RedisLocation, socket_timeout: float) -> Redis:
    """A client for a Redis that Rasa's endpoints name by host and port (the lock store), with the
    reconnect policy; each command waits at most ``socket_timeout`` seconds."""
    return Redis(
        host=location.host,
        port=location.port,
        db=location.db,
        username=location.username,
        password=location.password,
        ssl=location.use_ssl,
        socket_timeout=socket_timeout,
        **RECONNECT_ONCE,
    )
