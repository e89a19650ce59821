"""Agents signing in and out, and their sessions (AGT-1, AGT-2), for the API and the console."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Optional

from recoverydesk.adapters.agent_store import AgentDirectory
from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.domain.agents import AgentSession, accepted_step
from recoverydesk.domain.errors import SignInFailed

MAX_FIELD = 1024

__all__ = ["AgentAccess", "AgentSession", "SignInFailed"]


@dataclass
class AgentAccess:
    directory: AgentDirectory
    audit: AuditLog
    clock: Callable[[], float] = time.time

    async def sign_in(self, username: str, password: str, code: str, **audit_detail: str) -> tuple[str, AgentSession]:
        """A new session for an agent whose password and code are both right; SignInFailed otherwise.

        Lockout (five failures) and replay protection (a code's step is taken once) hold here."""
        if not all(isinstance(f, str) and 0 < len(f) <= MAX_FIELD for f in (username, password, code)):
            raise SignInFailed()
        now = self.clock()
        credentials, locked = await self.directory.credentials(username)
        step = accepted_step(credentials, password, code, datetime.fromtimestamp(now, timezone.utc), locked)
        if credentials is None or step is None or not await self.directory.advance_totp_step(username, step):
            await self.directory.count_failure(username)
            raise SignInFailed()
        await self.directory.clear_failures(username)
        token, session = await self.directory.open_session(username, credentials.role, now)
        await self.audit.record("agent.signed_in", session.username, **audit_detail)
        return token, session

    async def session(self, token: str) -> Optional[AgentSession]:
        return await self.directory.session(token)

    async def sign_out(self, token: str, session: AgentSession, **audit_detail: str) -> None:
        await self.directory.sign_out(token)
        await self.audit.record("agent.signed_out", session.username, **audit_detail)

    async def end_session(self, token: str) -> None:
        """Drops a session without an audit entry (a previous console session replaced by a new sign-in)."""
        await self.directory.sign_out(token)
