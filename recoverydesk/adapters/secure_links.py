"""Single-use, expiring links to the secure pages (CONTRACT: ≤ 15 minutes). Only a hash is stored."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys

LINK_TTL_SECONDS = {"password": 15 * 60, "totp": 10 * 60, "recovery-codes": 10 * 60}


@dataclass(frozen=True)
class LinkGrant:
    account_ref: str
    conversation_id: str
    purpose: str
    language: str = "en"  # the conversation's language when the link was sent: the page speaks it


def _key(token: str) -> str:
    return keys.secure_link(hashlib.sha256(token.encode()).hexdigest())


def _by_account(account_ref: str) -> str:
    return keys.secure_links_of_account(account_ref)


class SecureLinks:
    def __init__(self, redis: Redis, public_base_url: str) -> None:
        self._redis = redis
        self._base = public_base_url.rstrip("/")

    async def issue(self, account_ref: str, conversation_id: str, purpose: str, language: str = "en") -> str:
        token = secrets.token_urlsafe(32)
        grant = {"account_ref": account_ref, "conversation_id": conversation_id, "purpose": purpose}
        grant["language"] = language
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(_key(token), json.dumps(grant), ex=LINK_TTL_SECONDS[purpose])
        pipe.sadd(_by_account(account_ref), _key(token))
        pipe.expire(_by_account(account_ref), max(LINK_TTL_SECONDS.values()))
        await pipe.execute()
        return f"{self._base}/secure/{purpose}/{token}"

    async def peek(self, token: str, purpose: str) -> Optional[LinkGrant]:
        raw = await self._redis.get(_key(token))
        grant = LinkGrant(**json.loads(raw)) if raw else None
        return grant if grant and grant.purpose == purpose else None

    async def language_of(self, token: str) -> Optional[str]:
        """The language a link was sent in (any purpose), without using it up; None for a dead link."""
        raw = await self._redis.get(_key(token))
        return LinkGrant(**json.loads(raw)).language if raw else None

    async def consume(self, token: str, purpose: str) -> Optional[LinkGrant]:
        """The grant, exactly once."""
        raw = await self._redis.getdel(_key(token))
        grant = LinkGrant(**json.loads(raw)) if raw else None
        return grant if grant and grant.purpose == purpose else None

    async def revoke_all(self, account_ref: str) -> int:
        """PWD-4: every link still open for the account stops working."""
        index = _by_account(account_ref)
        keys = list(await self._redis.smembers(index))
        removed = int(await self._redis.delete(*keys)) if keys else 0
        await self._redis.delete(index)
        return removed
