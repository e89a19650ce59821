"""Codes the customer typed into a chat, handed from the channel to the action that checks them (PII-1).

The channel removes a code from the message before Rasa sees it (``domain.redaction``) and
leaves it here, sealed, for the checking action to take exactly once."""

from __future__ import annotations

from dataclasses import dataclass

from recoverydesk.adapters.code_inbox import CodeInbox
from recoverydesk.domain.redaction import Redacted


@dataclass
class TypedCodes:
    inbox: CodeInbox

    async def keep(self, conversation_id: str, redacted: Redacted) -> None:
        """Leaves the one code (and the one recovery code) the message carried, if any."""
        if redacted.code:
            await self.inbox.put(conversation_id, redacted.code)
        if redacted.recovery_code:
            await self.inbox.put(conversation_id, redacted.recovery_code, kind="recovery_code")
