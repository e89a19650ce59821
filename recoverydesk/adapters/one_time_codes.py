"""One-time codes mailed to a registered address (IDV-5): 6 digits from ``secrets``, single use,
10-minute expiry; a resend replaces the code and keeps the failure count. Only an HMAC is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import Enum
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys

CODE_TTL_SECONDS = 600


class CodeCheck(Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    EXPIRED = "expired"  # no live code: never sent, used, or older than 10 minutes


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


class OneTimeCodes:
    def __init__(self, redis: Redis, key: bytes) -> None:
        self._redis = redis
        self._key = key

    def _digest(self, account_ref: str, conversation_id: str, code: str) -> str:
        message = f"{account_ref}:{conversation_id}:{code}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _slot(self, account_ref: str, conversation_id: str) -> str:
        return keys.one_time_code(account_ref, conversation_id)

    async def issue(self, account_ref: str, conversation_id: str) -> str:
        """A fresh code for this account in this conversation; any earlier one stops working."""
        code = new_code()
        await self._redis.set(
            self._slot(account_ref, conversation_id),
            self._digest(account_ref, conversation_id, code),
            ex=CODE_TTL_SECONDS,
        )
        return code

    async def check(self, account_ref: str, conversation_id: str, code: Optional[str]) -> CodeCheck:
        slot = self._slot(account_ref, conversation_id)
        stored = await self._redis.get(slot)
        if stored is None:
            return CodeCheck.EXPIRED
        if code is None or not hmac.compare_digest(stored.decode(), self._digest(account_ref, conversation_id, code)):
            return CodeCheck.WRONG
        # Single use: only the caller that deletes the code wins.
        return CodeCheck.ACCEPTED if await self._redis.delete(slot) == 1 else CodeCheck.EXPIRED
