"""Agents: their records in SQL (they survive a Redis loss), their sessions, failure counts and
lockouts in Redis (AGT-1, AGT-2).

The rules (roles, usernames, the password and TOTP check) are in ``domain/agents.py``; this
module only stores and fetches. An agent still held only in Redis (created before agents moved to
SQL) is copied into SQL the first time it is looked up."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Optional

from redis.asyncio import Redis
from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from recoverydesk.adapters import keys
from recoverydesk.adapters.schema import agents
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
from recoverydesk.domain.tickets import iso, utc_now

# The operator's command line catches this name.
AgentError = AgentNotCreated


def _key(*parts: str) -> str:
    return keys.helpdesk(*parts)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _context(username: str) -> str:
    return f"agent:{username}"


class AgentDirectory:
    def __init__(
        self, redis: Redis, box: SecretBox, database: AsyncEngine, idle_seconds: int = SESSION_IDLE_SECONDS
    ) -> None:
        self._redis = redis
        self._box = box
        self._database = database
        self.idle_seconds = idle_seconds

    async def add(self, username: str, password: str, role: str) -> str:
        """Creates the agent and returns their TOTP secret, to be shown once."""
        check_new_agent(username, password, role)
        if await self._record(username) is not None:
            raise AgentNotCreated(f"An agent named {username} already exists.")
        seed = totp.new_seed()
        record = {
            "role": role,
            "password_hash": passwords.hash_password(password),
            "totp_seed": self._box.seal(seed, _context(username)),
            "last_totp_step": -1,
        }
        if not await self._insert(username, record):
            raise AgentNotCreated(f"An agent named {username} already exists.")
        return seed

    async def exists(self, username: str) -> bool:
        return valid_username(username) and await self._record(username) is not None

    async def credentials(self, username: str) -> tuple[Optional[AgentCredentials], bool]:
        """The agent's stored credentials (None if unknown) and whether they are locked out."""
        locked = bool(await self._redis.exists(_key("lock", username)))
        if not valid_username(username):
            return None, locked
        record = await self._record(username)
        if record is None:
            return None, locked
        return (
            AgentCredentials(
                role=record["role"],
                password_hash=record["password_hash"],
                totp_seed=self._box.open(record["totp_seed"], _context(username)),
                last_totp_step=int(record["last_totp_step"]),
            ),
            locked,
        )

    async def advance_totp_step(self, username: str, step: int) -> bool:
        """Replay-safe: only a step newer than the last accepted one is taken, in one conditional UPDATE."""
        async with self._database.begin() as connection:
            result = await connection.execute(
                update(agents)
                .where(and_(agents.c.username == username, agents.c.last_totp_step < step))
                .values(last_totp_step=step)
            )
        return result.rowcount == 1

    async def _record(self, username: str) -> Optional[dict[str, object]]:
        async with self._database.connect() as connection:
            row = (await connection.execute(select(agents).where(agents.c.username == username))).first()
        if row is not None:
            return dict(row._mapping)
        legacy = {k.decode(): v.decode() for k, v in (await self._redis.hgetall(keys.agent(username))).items()}
        if not {"role", "password_hash", "totp_seed"} <= legacy.keys():
            return None
        record = {**legacy, "last_totp_step": int(legacy.get("last_totp_step", "-1"))}
        await self._insert(username, record)  # another process may copy it first: either copy is the same
        return await self._record(username)

    async def _insert(self, username: str, record: dict[str, object]) -> bool:
        """False when an agent of that name is already stored."""
        try:
            async with self._database.begin() as connection:
                await connection.execute(
                    insert(agents).values(
                        username=username,
                        role=record["role"],
                        password_hash=record["password_hash"],
                        totp_seed=record["totp_seed"],
                        last_totp_step=record["last_totp_step"],
                        created_at=iso(utc_now()),
                    )
                )
        except IntegrityError:
            return False
        return True

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
