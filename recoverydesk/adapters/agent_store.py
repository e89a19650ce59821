"""Agents: sign-in with password and their own TOTP (AGT-1), roles (AGT-2), idle sessions."""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Optional

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.domain.crypto import SecretBox

ROLES = ("agent", "security", "supervisor")
PERMISSIONS = {
    "agent": {"read", "claim", "message", "note", "handback", "tag"},
    "security": {"read", "claim", "message", "note", "handback", "tag", "resolve"},
    "supervisor": {"read", "claim", "message", "note", "handback", "tag", "resolve", "audit", "report", "incidents"},
}
SESSION_IDLE_SECONDS = 15 * 60
MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()
# Verifying against this keeps unknown usernames as slow as known ones.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AgentError(Exception):
    """An agent cannot be created as asked."""


class SignInFailed(Exception):
    """Uniform: wrong username, password or code, or locked out."""


@dataclass(frozen=True)
class AgentSession:
    username: str
    role: str
    csrf_token: str
    expires_at: float

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]


def _key(*parts: str) -> str:
    return keys.helpdesk(*parts)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AgentDirectory:
    def __init__(self, redis: Redis, box: SecretBox, idle_seconds: int = SESSION_IDLE_SECONDS) -> None:
        self._redis = redis
        self._box = box
        self._idle = idle_seconds

    async def add(self, username: str, password: str, role: str) -> str:
        """Creates the agent and returns their TOTP secret, to be shown once."""
        if not _USERNAME.match(username):
            raise AgentError("The username must be 2-64 lowercase letters, digits, dots, dashes or underscores.")
        if role not in ROLES:
            raise AgentError(f"The role must be one of: {', '.join(ROLES)}.")
        if len(password) < 15:
            raise AgentError("An agent password must be at least 15 characters.")
        seed = pyotp.random_base32()
        created = await self._redis.hsetnx(_key("agent", username), "role", role)
        if not created:
            raise AgentError(f"An agent named {username} already exists.")
        await self._redis.hset(
            _key("agent", username),
            mapping={
                "password_hash": _hasher.hash(password),
                "totp_seed": self._box.seal(seed, f"agent:{username}"),
                "last_totp_step": "-1",
            },
        )
        return seed

    async def sign_in(
        self, username: str, password: str, code: str, now: Optional[float] = None
    ) -> tuple[str, AgentSession]:
        now = time.time() if now is None else now
        record = await self._redis.hgetall(_key("agent", username)) if _USERNAME.match(username) else {}
        record = {k.decode(): v.decode() for k, v in record.items()}
        locked = await self._redis.exists(_key("lock", username))
        try:
            _hasher.verify(record.get("password_hash", _DUMMY_HASH), password)
            password_ok = bool(record)
        except (VerificationError, InvalidHashError):
            password_ok = False
        if not password_ok or locked or not await self._accept_totp(username, record, code, now):
            await self._count_failure(username)
            raise SignInFailed()
        await self._redis.delete(_key("failures", username))
        token = secrets.token_urlsafe(32)
        session = AgentSession(username, record["role"], secrets.token_urlsafe(24), now + self._idle)
        await self._redis.set(
            _key("session", _digest(token)), f"{session.username}\n{session.role}\n{session.csrf_token}", ex=self._idle
        )
        return token, session

    async def _accept_totp(self, username: str, record: dict, code: str, now: float) -> bool:
        if not record or not re.fullmatch(r"[0-9]{6}", code or ""):
            return False
        seed = self._box.open(record["totp_seed"], f"agent:{username}")
        totp = pyotp.TOTP(seed)
        step = int(now // 30)
        for candidate in (step - 1, step, step + 1):
            if secrets.compare_digest(totp.at(candidate * 30), code):
                # Replay-safe: only a step newer than the last accepted one, set atomically.
                return bool(await self._redis.eval(_ADVANCE_STEP, 1, _key("agent", username), candidate))
        return False

    async def _count_failure(self, username: str) -> None:
        failures = await self._redis.incr(_key("failures", username))
        await self._redis.expire(_key("failures", username), LOCKOUT_SECONDS)
        if failures >= MAX_FAILURES:
            await self._redis.set(_key("lock", username), "1", ex=LOCKOUT_SECONDS)

    async def session(self, token: str) -> Optional[AgentSession]:
        """The live session for a token, sliding its idle expiry forward."""
        if not token:
            return None
        key = _key("session", _digest(token))
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.expire(key, self._idle)
        raw, _ = await pipe.execute()
        if not raw:
            return None
        username, role, csrf = raw.decode().split("\n")
        return AgentSession(username, role, csrf, time.time() + self._idle)

    async def sign_out(self, token: str) -> None:
        await self._redis.delete(_key("session", _digest(token)))


_ADVANCE_STEP = """
local last = tonumber(redis.call('HGET', KEYS[1], 'last_totp_step') or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'last_totp_step', ARGV[1])
return 1
"""
