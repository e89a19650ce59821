"""TOTP seeds and recovery codes in Redis: sealed at rest, replay-safe and single-use by atomic scripts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.adapters.account_store import AccountStore
from recoverydesk.adapters.directory import totp_context
from recoverydesk.domain import totp
from recoverydesk.domain.crypto import DecryptionError, SecretBox

PENDING_TTL_SECONDS = 10 * 60  # TOTP-4

# Activates the pending seed only if it is still the one the code was checked against: of two
# concurrent submissions, exactly one finds it.
_ACTIVATE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[3])
redis.call('HSET', KEYS[2], 'totp_seed', ARGV[2], 'totp_last_step', ARGV[3])
return 1
"""
# Accepts a time step only if it is later than the last accepted one (TOTP-3).
_ACCEPT_STEP = """
local last = tonumber(redis.call('HGET', KEYS[1], 'totp_last_step') or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'totp_last_step', ARGV[1])
return 1
"""


class Enrollment(enum.Enum):
    ACTIVATED = "activated"
    WRONG_CODE = "wrong_code"
    NOT_PENDING = "not_pending"  # never started, expired, or already activated


def _pending_context(ref: str) -> str:
    return f"account:{ref}:totp_pending"


class TotpStore:
    def __init__(self, redis: Redis, box: SecretBox, recovery_key: bytes) -> None:
        self._redis = redis
        self._box = box
        self._recovery_key = recovery_key
        self._activate = redis.register_script(_ACTIVATE)
        self._accept_step = redis.register_script(_ACCEPT_STEP)

    @staticmethod
    def _key(ref: str, part: str) -> str:
        return keys.account(ref, part)

    async def start_enrollment(self, ref: str) -> str:
        """A fresh seed, pending for ten minutes; it replaces any earlier pending one."""
        seed = totp.new_seed()
        sealed = self._box.seal(seed, _pending_context(ref))
        await self._redis.set(self._key(ref, "totp_pending"), sealed, ex=PENDING_TTL_SECONDS)
        return seed

    async def has_pending(self, ref: str) -> bool:
        return bool(await self._redis.exists(self._key(ref, "totp_pending")))

    async def activate(self, ref: str, code: str, at: Optional[datetime] = None) -> Enrollment:
        """The first valid code activates the pending seed; the previous seed and recovery codes stop working."""
        sealed = await self._redis.get(self._key(ref, "totp_pending"))
        if sealed is None:
            return Enrollment.NOT_PENDING
        try:
            seed = self._box.open(sealed.decode(), _pending_context(ref))
        except DecryptionError:
            return Enrollment.NOT_PENDING
        step = totp.matching_step(seed, code, at)
        if step is None:
            return Enrollment.WRONG_CODE
        keys = [self._key(ref, "totp_pending"), self._key(ref, "secrets"), self._key(ref, "recovery_codes")]
        active = self._box.seal(seed, totp_context(ref))
        if not await self._activate(keys=keys, args=[sealed, active, step]):
            return Enrollment.NOT_PENDING
        await AccountStore(self._redis).set_has_totp(ref, True)
        return Enrollment.ACTIVATED

    async def verify(self, ref: str, code: str, at: Optional[datetime] = None) -> bool:
        """The bound factor's current code, accepted once (step-up, IDV-2)."""
        secrets_key = self._key(ref, "secrets")
        sealed, last = await self._redis.hmget(secrets_key, "totp_seed", "totp_last_step")
        if sealed is None:
            return False
        try:
            seed = self._box.open(sealed.decode(), totp_context(ref))
        except DecryptionError:
            return False
        step = totp.matching_step(seed, code, at, after_step=int(last) if last is not None else -1)
        return step is not None and bool(await self._accept_step(keys=[secrets_key], args=[step]))

    async def issue_recovery_codes(self, ref: str) -> list[str]:
        """Ten new codes, replacing any earlier set; only their keyed hashes are kept (TOTP-5)."""
        codes = totp.new_recovery_codes()
        key = self._key(ref, "recovery_codes")
        pipe = self._redis.pipeline(transaction=True)
        pipe.delete(key)
        pipe.sadd(key, *(totp.recovery_code_hash(self._recovery_key, c) for c in codes))
        await pipe.execute()
        return codes

    async def use_recovery_code(self, ref: str, code: str) -> bool:
        """True exactly once per code."""
        if not totp.looks_like_recovery_code(code):
            return False
        digest = totp.recovery_code_hash(self._recovery_key, code)
        return bool(await self._redis.srem(self._key(ref, "recovery_codes"), digest))

    async def recovery_codes_left(self, ref: str) -> int:
        return int(await self._redis.scard(self._key(ref, "recovery_codes")))
