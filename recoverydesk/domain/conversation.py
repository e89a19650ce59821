"""A conversation as the core sees it, and what a ticket carries from it: the transcript and the reported facts."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Optional

from recoverydesk.domain.languages import SUPPORTED, conversation_language
from recoverydesk.domain.redaction import mask_email, redact_text

MAX_TRANSCRIPT_ENTRIES = 200


def _at(event: dict[str, Any]) -> str:
    stamp = event.get("timestamp")
    if not isinstance(stamp, (int, float)):
        return ""
    return datetime.fromtimestamp(stamp, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def transcript(events: Iterable[dict[str, Any]]) -> list[dict[str, str]]:
    """Customer and bot lines, oldest first, redacted again in case a channel missed a secret."""
    lines = []
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not text:
            continue
        from_agent = ((event.get("data") or {}).get("custom") or {}).get("agent")
        role = "customer" if kind == "user" else ("agent" if from_agent else "bot")
        lines.append({"role": role, "text": mask_email(redact_text(text)), "at": _at(event)})
    return lines[-MAX_TRANSCRIPT_ENTRIES:]


def escalation_key(conversation_id: str, events: Iterable[dict[str, Any]]) -> str:
    """Same conversation and same customer turn → same key, so a retried action makes no second ticket."""
    last_user = 0.0
    for event in events:
        if event.get("event") == "user":
            last_user = event.get("timestamp") or 0.0
    digest = hashlib.sha256(f"{conversation_id}:{last_user}".encode()).hexdigest()
    return f"esc-{digest[:40]}"


@dataclass(frozen=True)
class Conversation:
    """One chat as the services see it: its id, events (oldest first), slots and latest message."""

    id: str
    events: list[dict[str, Any]] = field(default_factory=list)
    slots: Mapping[str, Any] = field(default_factory=dict)
    channel: str = "webchat"
    intent: Optional[str] = None
    text: str = ""
    intent_ranking: tuple[tuple[str, float], ...] = ()  # the classifier's best guesses, best first
    languages: tuple[str, ...] = SUPPORTED  # LANGUAGES
    default_language: str = "en"  # DEFAULT_LANGUAGE


    @property
    def language(self) -> str:
        """The conversation's language: the ``language`` slot, else the channel's newest hint
        (``language_hint`` metadata), else the default (as the chat's NLG decides it)."""
        users = [event for event in reversed(self.events) if event.get("event") == "user"]
        guesses = [
            entity.get("value")
            for event in users
            for entity in (event.get("parse_data") or {}).get("entities") or []
            if entity.get("entity") == "language_guess"
        ]
        hints = guesses + [(event.get("metadata") or {}).get("language_hint") for event in users]
        return conversation_language(self.slot("language"), hints, self.languages, self.default_language)

    def slot(self, name: str) -> Any:
        return self.slots.get(name)
