"""Hands a code the customer typed from the chat channel to the action that checks it.

The channel removes the code from the message before Rasa sees it and leaves it here, sealed
with a key outside Redis, for two minutes; the checking action takes it exactly once."""
from __future__ import annotations

from typing import Optional

from redis.asyncio import Redis

from .crypto import DecryptionError, SecretBox

INBOX_TTL_SECONDS = 120


def _key(conversation_id: str) -> str:
    return f"rd:code_inbox:{conversation_id}"


class CodeInbox:
    def __init__(self, redis: Redis, box: SecretBox) -> None:
        self._redis = redis
        self._box = box

    @classmethod
    def from_environment(cls) -> "CodeInbox":
        """For the channels, which Rasa builds from credentials.yml without our settings."""
        from bot.settings import Settings

        settings = Settings.from_env()
        return cls(Redis.from_url(settings.require_redis_url()), SecretBox(settings.secret_key))

    async def put(self, conversation_id: str, code: str) -> None:
        sealed = self._box.seal(code, f"inbox:{conversation_id}")
        await self._redis.set(_key(conversation_id), sealed, ex=INBOX_TTL_SECONDS)

    async def take(self, conversation_id: str) -> Optional[str]:
        sealed = await self._redis.getdel(_key(conversation_id))
        if sealed is None:
            return None
        try:
            return self._box.open(sealed.decode(), f"inbox:{conversation_id}")
        except DecryptionError:
            return None
