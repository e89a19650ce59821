"""What the messenger channels keep in Redis per conversation: the platform address to reply to
(sealed: it may be a phone number), the customer's last inbound time (Meta's 24-hour reply window),
the last failed send, once-only notices, and the platform message ids already handled (replay guard)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.adapters.redis_client import as_text
from recoverydesk.domain.crypto import SecretBox

CONVERSATION_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class MessengerConversation:
    channel: str
    address: str
    last_inbound: Optional[float]
    last_failure: Optional[str]  # "<kind> <epoch seconds>"


class MessengerStore:
    def __init__(self, redis: Redis, box: SecretBox) -> None:
        self._redis = redis
        self._box = box

    async def first_sighting(self, channel: str, message_digest: str, retry_window_seconds: int) -> bool:
        """True once per platform message id within the platform's retry window."""
        return bool(
            await self._redis.set(keys.messenger_seen(channel, message_digest), "1", nx=True, ex=retry_window_seconds)
        )

    async def inbound(self, conversation_id: str, channel: str, address: str, at: Optional[float] = None) -> None:
        """The customer wrote from ``address`` at ``at`` (now): replies go there, and the window reopens."""
        key = keys.messenger_conversation(conversation_id)
        pipe = self._redis.pipeline(transaction=True)
        pipe.hset(
            key,
            mapping={
                "channel": channel,
                "address": self._box.seal(address, f"messenger:{conversation_id}"),
                "last_inbound": repr(at if at is not None else time.time()),
            },
        )
        pipe.hdel(key, "last_failure")
        pipe.expire(key, CONVERSATION_TTL_SECONDS)
        await pipe.execute()

    async def get(self, conversation_id: str) -> Optional[MessengerConversation]:
        raw = {
            as_text(k): as_text(v)
            for k, v in (await self._redis.hgetall(keys.messenger_conversation(conversation_id))).items()
        }
        if "address" not in raw:
            return None
        return MessengerConversation(
            channel=raw.get("channel", ""),
            address=self._box.open(raw["address"], f"messenger:{conversation_id}"),
            last_inbound=float(raw["last_inbound"]) if raw.get("last_inbound") else None,
            last_failure=raw.get("last_failure"),
        )

    async def send_failed(self, conversation_id: str, kind: str, at: Optional[float] = None) -> None:
        """Keeps the last failed send's kind, for the agent's console."""
        key = keys.messenger_conversation(conversation_id)
        if await self._redis.exists(key):
            await self._redis.hset(key, "last_failure", f"{kind} {int(at if at is not None else time.time())}")

    async def notice_once(self, conversation_id: str, notice: str) -> bool:
        """True the first time ``notice`` is to be given in this conversation."""
        return bool(
            await self._redis.set(
                keys.messenger_notice_given(conversation_id, notice), "1", nx=True, ex=CONVERSATION_TTL_SECONDS
            )
        )
