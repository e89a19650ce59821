"""Wraps a channel's message handler so no secret reaches Rasa from any channel (PII-1).

The text is redacted before Rasa parses, stores, logs or broadcasts it; a typed code is
handed to the checking action through the sealed ``CodeInbox``."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional

from rasa.core.channels.channel import UserMessage

from bot.channels.input_limits import InputGuard
from recoverydesk.adapters.code_inbox import CodeInbox
from recoverydesk.domain.redaction import redact

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


def redacting(on_new_message: MessageHandler, inbox: CodeInbox, guard: Optional[InputGuard] = None) -> MessageHandler:
    """Redaction inside the input guard (``bot/channels/input_limits.py``): size, RL-4 and Redis-down first."""

    async def handle(message: UserMessage) -> Any:
        cleaned = redact(message.text or "")
        if cleaned.code:
            await inbox.put(message.sender_id, cleaned.code)
        if cleaned.recovery_code:
            await inbox.put(message.sender_id, cleaned.recovery_code, kind="recovery_code")
        message.text = cleaned.text
        if cleaned.changed:  # metadata on every message would cost Rasa a slow tracker merge per save
            message.metadata = {**(message.metadata or {}), "redacted": True}
        return await on_new_message(message)

    return (guard or InputGuard.from_environment()).wrap(handle)
