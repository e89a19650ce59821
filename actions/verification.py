"""Who the customer has proven to be, held server-side and bound to the conversation (IDV-2).

No slot or message can grant a level: only the actions that checked a factor write here."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Optional

from redis.asyncio import Redis

LEVELS = ("none", "basic", "strong")
VERIFIED_TTL_SECONDS = 30 * 60
PENDING_TTL_SECONDS = 10 * 60
_PREFIX = "rd:verification:"


@dataclass
class Verification:
    account_ref: Optional[str] = None
    level: str = "none"
    methods: list[str] = field(default_factory=list)

    def at_least(self, level: str) -> bool:
        return LEVELS.index(self.level) >= LEVELS.index(level)

    def for_ticket(self) -> dict:
        """The result, never its evidence (PII-2)."""
        return {"level": self.level, "methods": list(self.methods)}


class VerificationStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def get(self, conversation_id: str) -> Verification:
        raw = await self._redis.get(_PREFIX + conversation_id)
        return Verification(**json.loads(raw)) if raw else Verification()

    async def grant(self, conversation_id: str, account_ref: str, level: str, method: str) -> Verification:
        current = await self.get(conversation_id)
        methods = current.methods if current.account_ref == account_ref else []
        granted = Verification(account_ref, level, sorted(set(methods + [method])))
        await self._redis.set(_PREFIX + conversation_id, json.dumps(asdict(granted)), ex=VERIFIED_TTL_SECONDS)
        return granted

    async def set_pending(self, conversation_id: str, account_ref: Optional[str]) -> None:
        """The account a code was (or, for an unknown address, was not) sent to."""
        await self._redis.set(
            f"{_PREFIX}{conversation_id}:pending", account_ref or "", ex=PENDING_TTL_SECONDS
        )

    async def pending(self, conversation_id: str) -> Optional[str]:
        raw = await self._redis.get(f"{_PREFIX}{conversation_id}:pending")
        return None if raw is None else raw.decode()
