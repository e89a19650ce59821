"""Which web chat messages the server already has: the page re-sends a message it has no
acknowledgement for after a reconnect, with the same id, and this answers "seen" so that the
message causes one turn only, whichever Rasa worker or instance the page reaches."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from redis.exceptions import RedisError

from recoverydesk.adapters import keys

log = logging.getLogger("recoverydesk.webchat")

REMEMBER_SECONDS = 24 * 3600  # longer than any page keeps a message waiting


class WebchatDeliveries:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def first_time(self, session_id: str, message_id: str) -> bool:
        """True the first time this message id arrives for this session, False for every re-send.
        Without Redis it cannot tell, and says True: a message is never dropped for want of a receipt
        (the turn then meets the outage and the customer is told)."""
        try:
            first = await self._redis.set(
                keys.webchat_delivery(session_id, message_id), 1, nx=True, ex=REMEMBER_SECONDS
            )
        except RedisError as exc:
            log.warning("webchat.delivery_unchecked", extra={"kind": type(exc).__name__})
            return True
        return bool(first)
