"""Whether the Rasa process's conversation state (Redis: trackers, locks) answers, for ``/chat/ready``."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.exceptions import RedisError


class Readiness:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def redis_answers(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False
