"""Accounts in Redis: profile, secrets (hash and sealed seed kept apart), activity, sessions."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.domain.accounts import Account, AccountError, ActivityEvent, normalise_email, parse_time

MAX_EVENTS = 1000


def _key(*parts: str) -> str:
    return keys.account(*parts)


class AccountStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, account: Account, password_hash: str, sealed_totp_seed: Optional[str] = None) -> None:
        email = normalise_email(account.email)
        if not await self._redis.set(_key("email", email), account.ref, nx=True):
            raise AccountError(f"An account with email {account.email} already exists.")
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(_key(account.ref, "profile"), json.dumps(account.public()))
        secrets_ = {"password_hash": password_hash}
        if sealed_totp_seed:
            secrets_["totp_seed"] = sealed_totp_seed
        pipe.hset(_key(account.ref, "secrets"), mapping=secrets_)
        await pipe.execute()

    async def ref_for_email(self, email: str) -> Optional[str]:
        ref = await self._redis.get(_key("email", normalise_email(email)))
        return ref.decode() if isinstance(ref, bytes) else ref

    async def get(self, ref: str) -> Optional[Account]:
        raw = await self._redis.get(_key(ref, "profile"))
        return Account(**json.loads(raw)) if raw else None

    async def by_email(self, email: str) -> Optional[Account]:
        ref = await self.ref_for_email(email)
        return await self.get(ref) if ref else None

    async def save_profile(self, account: Account) -> None:
        await self._redis.set(_key(account.ref, "profile"), json.dumps(account.public()))

    async def change_email(self, account: Account, previous_email: str) -> None:
        """Saves ``account`` under its new address, claimed first so that two accounts never share one."""
        if not await self._redis.set(_key("email", normalise_email(account.email)), account.ref, nx=True):
            raise AccountError(f"An account with email {account.email} already exists.")
        await self._redis.delete(_key("email", normalise_email(previous_email)))
        await self.save_profile(account)

    async def hold_risky_changes(self, ref: str, seconds: int) -> None:
        until = time.time() + seconds
        await self._redis.set(_key(ref, "risky_change_hold"), str(until), ex=seconds)

    async def risky_changes_held_until(self, ref: str) -> Optional[datetime]:
        raw = await self._redis.get(_key(ref, "risky_change_hold"))
        return datetime.fromtimestamp(float(raw), timezone.utc) if raw else None

    async def clear_second_factor(self, ref: str) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.hdel(_key(ref, "secrets"), "totp_seed", "totp_last_step")
        pipe.delete(_key(ref, "recovery_codes"), _key(ref, "totp_pending"))
        await pipe.execute()
        await self.set_has_totp(ref, False)

    async def set_has_totp(self, ref: str, has_totp: bool) -> None:
        account = await self.get(ref)
        if account is not None:
            account.has_totp = has_totp
            await self._redis.set(_key(ref, "profile"), json.dumps(account.public()))

    async def set_secret(self, ref: str, name: str, value: str) -> None:
        await self._redis.hset(_key(ref, "secrets"), name, value)

    async def secret(self, ref: str, name: str) -> Optional[str]:
        value = await self._redis.hget(_key(ref, "secrets"), name)
        return value.decode() if isinstance(value, bytes) else value

    async def add_event(self, ref: str, event: ActivityEvent) -> None:
        key = _key(ref, "events")
        pipe = self._redis.pipeline(transaction=True)
        pipe.zadd(key, {json.dumps(event.to_dict()): parse_time(event.at).timestamp()})
        pipe.zremrangebyrank(key, 0, -MAX_EVENTS - 1)
        await pipe.execute()

    async def events(self, ref: str, since: Optional[datetime] = None, limit: int = 50) -> list[ActivityEvent]:
        """Newest first."""
        low = since.timestamp() if since else "-inf"
        raws = await self._redis.zrevrangebyscore(_key(ref, "events"), "+inf", low, start=0, num=limit)
        return [ActivityEvent(**json.loads(r)) for r in raws]


class SessionStore:
    """The account's signed-in sessions and tokens; revoking them is PWD-4's first step."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def add(self, ref: str, session_id: str, description: dict) -> None:
        await self._redis.hset(_key(ref, "sessions"), session_id, json.dumps(description))

    async def count(self, ref: str) -> int:
        return int(await self._redis.hlen(_key(ref, "sessions")))

    async def revoke_all(self, ref: str) -> int:
        """Removes every session at once and returns how many there were."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.hlen(_key(ref, "sessions"))
        pipe.delete(_key(ref, "sessions"))
        count, _ = await pipe.execute()
        return int(count)
