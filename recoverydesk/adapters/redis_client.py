"""The Rasa process's async Redis clients: after Redis restarts, a pooled connection is stale
and its first command fails with "connection closed"; one fresh try hides that from customers."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError

RECONNECT_ONCE: dict[str, Any] = {"retry": Retry(NoBackoff(), 1), "retry_on_error": [ConnectionError]}


def connect(url: str) -> Redis:
    return Redis.from_url(url, **RECONNECT_ONCE)
