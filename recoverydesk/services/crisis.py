"""Crisis mode in the bot: the active incident's approved answer, incident and need tags, and the
contact record every conversation leaves for the daily report.

Also home of ``Conversation``, the plain facts of a chat that every bot service reads (what a
rasa_sdk ``Tracker`` holds, without rasa_sdk), because the contact record is made of them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional, Protocol

from redis.exceptions import RedisError

from recoverydesk.adapters.verification_store import Verification
from recoverydesk.domain.contacts import Contact, contact_for, verification_outcome
from recoverydesk.domain.conversation import Conversation
from recoverydesk.domain.incidents import Incident
from recoverydesk.domain.needs import needs_in

log = logging.getLogger("recoverydesk.crisis")


@dataclass(frozen=True)
class IncidentAnswer:
    """The approved answer for the customer's needs, under the incident's title."""

    title: str
    answer: str


class IncidentReader(Protocol):
    async def active(self) -> list[Incident]: ...


class ContactWriter(Protocol):
    async def save(self, contact: Contact, started_ts: float) -> None: ...


class VerificationReader(Protocol):
    async def get(self, conversation_id: str) -> Verification: ...


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def with_incident(tags: list[str], incident: Optional[Incident], category: Optional[str] = None) -> list[str]:
    """Adds ``incident:<id>`` when the conversation is about the active incident."""
    if incident is not None and (incident.touches(tags) or category == "breach_question"):
        return sorted(set(tags) | {incident.tag})
    return sorted(set(tags))


def conversation_start(events: list[dict[str, Any]], now: Optional[float] = None) -> float:
    """When the customer first wrote in this session (``now``, if there is no user event)."""
    first: Optional[float] = None
    for event in events:
        if event.get("event") == "session_started":
            first = None
        elif event.get("event") == "user" and first is None and isinstance(event.get("timestamp"), (int, float)):
            first = float(event["timestamp"])
    if first is not None:
        return first
    return now if now is not None else datetime.now(timezone.utc).timestamp()


@dataclass
class CrisisService:
    incidents: IncidentReader
    contacts: ContactWriter
    verifications: VerificationReader

    async def active_incident(self) -> Optional[Incident]:
        """The most recently started active incident; none when Redis cannot say."""
        try:
            found = await self.incidents.active()
        except RedisError as exc:
            log.warning("crisis.incident_lookup_failed", extra={"kind": type(exc).__name__})
            return None
        return found[0] if found else None

    async def incident_answer(self, tags: list[str]) -> Optional[IncidentAnswer]:
        """The active incident's answer for the needs in ``tags``; None once the incident is closed."""
        incident = await self.active_incident()
        if incident is None:
            return None
        return IncidentAnswer(incident.title, incident.answer_for(needs_in(tags)))

    async def record_contact(
        self,
        conversation: Conversation,
        category: Optional[str] = None,
        priority: Optional[str] = None,
        tags: Optional[list[str]] = None,
        ticket_id: Optional[str] = None,
        closed: bool = False,
    ) -> None:
        """Writes the conversation's contact record; a Redis failure never breaks the conversation."""
        try:
            verified = await self.verifications.get(conversation.id)
            started = conversation_start(conversation.events)
            contact = contact_for(
                conversation_id=conversation.id,
                started_at=_iso(started),
                now=_iso(datetime.now(timezone.utc).timestamp()),
                channel=conversation.channel,
                category=category or conversation.slot("triage_category") or "other",
                priority=priority or conversation.slot("triage_priority") or "low",
                tags=tags if tags is not None else (conversation.slot("conversation_tags") or []),
                verification=verification_outcome(verified.level, conversation.slot("verify_step")),
                ticket_id=ticket_id or conversation.slot("ticket_id"),
                closed=closed,
                language=conversation.language,
            )
            await self.contacts.save(contact, started)
        except RedisError as exc:
            log.warning("crisis.contact_not_recorded", extra={"kind": type(exc).__name__})
