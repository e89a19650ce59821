"""Hands a code the customer typed from the chat channel to the action that checks it.

The channel removes the code from the message before Rasa sees it and leaves it here, sealed
with a key outside Redis, for two minutes; the checking action takes it exactly once."""

from __future__ import annotations

from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.domain.crypto import DecryptionError, SecretBox

INBOX_TTL_SECONDS = 120


KINDS = ("code", "recovery_code")


def _key(conversation_id: str, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown inbox kind {kind!r}")
    return keys.code_inbox(conversation_id, kind)


class CodeInbox:
    def __init__(self, redis: Redis, box: SecretBox) -> None:
        self._redis = redis
        self._box = box

    async def put(self, conversation_id: str, code: str, kind: str = "code") -> None:
        sealed = self._box.seal(code, f"inbox:{conversation_id}:{kind}")
        await self._redis.set(_key(conversation_id, kind), sealed, ex=INBOX_TTL_SECONDS)

    async def take(self, conversation_id: str, kind: str = "code") -> Optional[str]:
        sealed = await self._redis.getdel(_key(conversation_id, kind))
        if sealed is None:
            return None
        try:
            return self._box.open(sealed.decode(), f"inbox:{conversation_id}:{kind}")
        except DecryptionError:
            return None
