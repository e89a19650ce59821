"""Agents in Redis: their records, sessions, failure counts and lockouts (AGT-1, AGT-2).

The rules (roles, usernames, the password and TOTP check) are in ``domain/agents.py``; this
module only stores and fetches."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.domain import passwords, totp
from recoverydesk.domain.agents import (
    LOCKOUT_SECONDS,
    MAX_FAILURES,
    SESSION_IDLE_SECONDS,
    AgentCredentials,
    AgentSession,
    check_new_agent,
    valid_username,
)
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.errors import AgentNotCreated

# The operator's command line catches this name.
AgentError = AgentNotCreated


def _key(*parts: str) -> str:
    return keys.helpdesk(*parts)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _context(username: str) -> str:
    return f"agent:{username}"


class AgentDirectory:
    def __init__(self, redis: Redis, box: SecretBox, idle_seconds: int = SESSION_IDLE_SECONDS) -> None:
        self._redis = redis
        self._box = box
        self.idle_seconds = idle_seconds

    async def add(self, username: str, password: str, role: str) -> str:
        """Creates the agent and returns their TOTP secret, to be shown once."""
        check_new_agent(username, password, role)
        seed = totp.new_seed()
        created = await self._redis.hsetnx(_key("agent", username), "role", role)
        if not created:
            raise AgentNotCreated(f"An agent named {username} already exists.")
        await self._redis.hset(
            _key("agent", username),
            mapping={
                "password_hash": passwords.hash_password(password),
                "totp_seed": self._box.seal(seed, _context(username)),
                "last_totp_step": "-1",
            },
        )
        return seed

    async def credentials(self, username: str) -> tuple[Optional[AgentCredentials], bool]:
        """The agent's stored credentials (None if unknown) and whether they are locked out."""
        if not valid_username(username):
            return None, bool(await self._redis.exists(_key("lock", username)))
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(_key("agent", username))
        pipe.exists(_key("lock", username))
        raw, locked = await pipe.execute()
        record = {k.decode(): v.decode() for k, v in raw.items()}
        if not {"role", "password_hash", "totp_seed"} <= record.keys():
            return None, bool(locked)
        return (
            AgentCredentials(
                role=record["role"],
                password_hash=record["password_hash"],
                totp_seed=self._box.open(record["totp_seed"], _context(username)),
                last_totp_step=int(record.get("last_totp_step", "-1")),
            ),
            bool(locked),
        )

    async def advance_totp_step(self, username: str, step: int) -> bool:
        """Replay-safe: only a step newer than the last accepted one is taken, set atomically."""
        return bool(await self._redis.eval(_ADVANCE_STEP, 1, _key("agent", username), step))

    async def count_failure(self, username: str) -> None:
        failures = await self._redis.incr(_key("failures", username))
        await self._redis.expire(_key("failures", username), LOCKOUT_SECONDS)
        if failures >= MAX_FAILURES:
            await self._redis.set(_key("lock", username), "1", ex=LOCKOUT_SECONDS)

    async def clear_failures(self, username: str) -> None:
        await self._redis.delete(_key("failures", username))

    async def open_session(self, username: str, role: str, now: float) -> tuple[str, AgentSession]:
        token = secrets.token_urlsafe(32)
        session = AgentSession(username, role, secrets.token_urlsafe(24), now + self.idle_seconds)
        await self._redis.set(
            _key("session", _digest(token)),
            f"{session.username}\n{session.role}\n{session.csrf_token}",
            ex=self.idle_seconds,
        )
        return token, session

    async def session(self, token: str) -> Optional[AgentSession]:
        """The live session for a token, sliding its idle expiry forward."""
        if not token:
            return None
        key = _key("session", _digest(token))
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(key)
        pipe.expire(key, self.idle_seconds)
        raw, _ = await pipe.execute()
        if not raw:
            return None
        username, role, csrf = raw.decode().split("\n")
        return AgentSession(username, role, csrf, time.time() + self.idle_seconds)

    async def sign_out(self, token: str) -> None:
        await self._redis.delete(_key("session", _digest(token)))


_ADVANCE_STEP = """
local last = tonumber(redis.call('HGET', KEYS[1], 'last_totp_step') or '-1')
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'last_totp_step', ARGV[1])
return 1
"""
