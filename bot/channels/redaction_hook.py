"""Wraps a channel's message handler so no secret reaches Rasa from any channel (PII-1).

The text is redacted before Rasa parses, stores, logs or broadcasts it; a typed code is
handed to the checking action through the sealed code inbox (``services.typed_codes``)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import UserMessage

from bot.channels.input_limits import InputGuard
from recoverydesk.domain.redaction import redact
from recoverydesk.services.typed_codes import TypedCodes

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


def redacting(on_new_message: MessageHandler, codes: TypedCodes, guard: InputGuard) -> MessageHandler:
    """Redaction inside the input guard (``bot/channels/input_limits.py``): size, RL-4 and Redis-down first."""

    async def handle(message: UserMessage) -> Any:
        cleaned = redact(message.text or "")
        await codes.keep(message.sender_id, cleaned)
        message.text = cleaned.text
        if cleaned.changed:  # metadata on every message would cost Rasa a slow tracker merge per save
            message.metadata = {**(message.metadata or {}), "redacted": True}
        return await on_new_message(message)

    return guard.wrap(handle)
