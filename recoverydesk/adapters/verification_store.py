"""Who the customer has proven to be, held server-side and bound to the conversation (IDV-2).

No slot or message can grant a level: only the actions that checked a factor write here."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.domain.messenger_identity import is_messenger_conversation

LEVELS = ("none", "basic", "strong")
VERIFIED_TTL_SECONDS = 30 * 60
PENDING_TTL_SECONDS = 10 * 60


def _by_account(account_ref: str) -> str:
    """The conversations holding a grant or a pending code for an account, so a recovery can revoke them."""
    return keys.verification_by_account(account_ref)


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
    def __init__(self, redis: Redis, messenger_ttl_seconds: Optional[int] = None) -> None:
        self._redis = redis
        # A messenger chat id never changes (a lost or shared phone keeps it): a grant on one lasts
        # MESSENGER_VERIFICATION_MINUTES, never the web chat's 30 minutes.
        self._messenger_ttl = messenger_ttl_seconds

    def _ttl(self, conversation_id: str) -> int:
        if self._messenger_ttl and is_messenger_conversation(conversation_id):
            return min(self._messenger_ttl, VERIFIED_TTL_SECONDS)
        return VERIFIED_TTL_SECONDS

    async def get(self, conversation_id: str) -> Verification:
        raw = await self._redis.get(keys.verification(conversation_id))
        return Verification(**json.loads(raw)) if raw else Verification()

    async def grant(self, conversation_id: str, account_ref: str, level: str, method: str) -> Verification:
        current = await self.get(conversation_id)
        methods = current.methods if current.account_ref == account_ref else []
        granted = Verification(account_ref, level, sorted(set(methods + [method])))
        pipe = self._redis.pipeline(transaction=True)
        ttl = self._ttl(conversation_id)
        pipe.set(keys.verification(conversation_id), json.dumps(asdict(granted)), ex=ttl)
        pipe.sadd(_by_account(account_ref), conversation_id)
        pipe.expire(_by_account(account_ref), VERIFIED_TTL_SECONDS)
        await pipe.execute()
        return granted

    async def set_pending(self, conversation_id: str, account_ref: Optional[str]) -> None:
        """The account a code was (or, for an unknown address, was not) sent to."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(keys.verification_pending(conversation_id), account_ref or "", ex=PENDING_TTL_SECONDS)
        if account_ref:
            pipe.sadd(_by_account(account_ref), conversation_id)
            pipe.expire(_by_account(account_ref), VERIFIED_TTL_SECONDS)  # outlives every grant and pending code
        await pipe.execute()

    async def pending(self, conversation_id: str) -> Optional[str]:
        raw = await self._redis.get(keys.verification_pending(conversation_id))
        return None if raw is None else raw.decode()

    async def revoke_others(self, account_ref: str, keep_conversation: str) -> int:
        """PWD-4: after a recovery, no other conversation stays verified or can finish a pending code."""
        index = _by_account(account_ref)
        others = [c.decode() for c in await self._redis.smembers(index) if c.decode() != keep_conversation]
        if not others:
            return 0
        grants = await self._redis.mget([keys.verification(c) for c in others])
        pendings = await self._redis.mget([keys.verification_pending(c) for c in others])
        doomed = []
        for conversation, grant, pending in zip(others, grants, pendings, strict=True):
            if grant and json.loads(grant).get("account_ref") == account_ref:
                doomed.append(keys.verification(conversation))
            if pending and pending.decode() == account_ref:
                doomed.append(keys.verification_pending(conversation))
        pipe = self._redis.pipeline(transaction=True)
        if doomed:
            pipe.delete(*doomed)
        pipe.srem(index, *others)
        await pipe.execute()
        return len(doomed)
