"""Agents' rules (AGT-1, AGT-2): roles and what each may do, usernames, and the sign-in check.

The sign-in check always verifies both the password and the TOTP code, for unknown usernames
too (against a placeholder hash and seed), so neither the answer nor its timing tells which
one was wrong. Storage (records, sessions, lockouts, the last accepted step) is in the adapter."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Optional

from recoverydesk.domain import passwords, totp
from recoverydesk.domain.errors import AgentNotCreated

ROLES = ("agent", "security", "supervisor")
PERMISSIONS = {
    "agent": frozenset({"read", "claim", "message", "note", "handback", "tag"}),
    "security": frozenset({"read", "claim", "message", "note", "handback", "tag", "resolve"}),
    "supervisor": frozenset(
        {"read", "claim", "message", "note", "handback", "tag", "resolve", "audit", "report", "incidents"}
    ),
}
SESSION_IDLE_SECONDS = 15 * 60
MAX_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60
MIN_PASSWORD_LENGTH = 15
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


@dataclass(frozen=True)
class AgentSession:
    username: str
    role: str
    csrf_token: str
    expires_at: float

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS[self.role]


@dataclass(frozen=True)
class AgentCredentials:
    """What sign-in compares against: the stored hash, the (opened) TOTP seed, the last accepted step."""

    role: str
    password_hash: str
    totp_seed: str
    last_totp_step: int


def valid_username(username: str) -> bool:
    return bool(_USERNAME.match(username))


def check_new_agent(username: str, password: str, role: str) -> None:
    """Raises AgentNotCreated with the sentence an operator reads."""
    if not valid_username(username):
        raise AgentNotCreated("The username must be 2-64 lowercase letters, digits, dots, dashes or underscores.")
    if role not in ROLES:
        raise AgentNotCreated(f"The role must be one of: {', '.join(ROLES)}.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AgentNotCreated(f"An agent password must be at least {MIN_PASSWORD_LENGTH} characters.")


@lru_cache(maxsize=1)
def _placeholder() -> AgentCredentials:
    """Checked for unknown usernames, so they cost the same work as known ones."""
    return AgentCredentials("agent", passwords.placeholder_hash(), totp.new_seed(), -1)


def accepted_step(
    credentials: Optional[AgentCredentials], password: str, code: str, at: datetime, locked: bool
) -> Optional[int]:
    """The TOTP step to claim if the password and the code are both right and the agent may sign in.

    Both checks always run and their results are combined only at the end (no early return)."""
    stored = credentials or _placeholder()
    password_ok = passwords.verify_password(stored.password_hash, password)
    step = totp.matching_step(stored.totp_seed, code, at, after_step=stored.last_totp_step)
    if credentials is None or locked or not password_ok or step is None:
        return None
    return step
