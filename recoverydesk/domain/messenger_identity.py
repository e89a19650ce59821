"""The conversation id of a messenger customer: opaque and stable, a keyed hash of the channel
and the platform's user id, so no phone number or platform id is ever a key, a ticket or a log."""

from __future__ import annotations

import hashlib
import hmac
import re

CHANNELS = ("telegram", "whatsapp", "facebook")
_CONVERSATION = re.compile(r"^(telegram|whatsapp|facebook)-[0-9a-f]{40}$")


def conversation_id(key: bytes, channel: str, platform_user_id: str) -> str:
    """``<channel>-<40 hex>``; the same customer on the same channel always gets the same id."""
    digest = hmac.new(key, f"{channel}:{platform_user_id}".encode(), hashlib.sha256).hexdigest()
    return f"{channel}-{digest[:40]}"


def message_digest(key: bytes, channel: str, message_id: str) -> str:
    """A keyed digest of a platform message id, for the replay guard (the id itself is never stored)."""
    return hmac.new(key, f"{channel}:message:{message_id}".encode(), hashlib.sha256).hexdigest()[:32]


def is_messenger_conversation(conversation: str) -> bool:
    """Whether the conversation runs on a messenger's permanent chat id (not a web chat session)."""
    return _CONVERSATION.match(conversation) is not None
