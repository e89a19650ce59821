"""Whether the Rasa process's conversation state (Redis: trackers, locks) answers, for ``/chat/ready``."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError


@dataclass
class Readiness:
    redis: Redis

    async def redis_answers(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except (RedisError, OSError):
            return False
