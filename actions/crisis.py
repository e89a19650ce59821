"""Crisis mode in the bot: the approved incident answer, incident and need tags, contact records."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from redis.exceptions import RedisError

from recoverydesk.adapters.contact_log import ContactLog
from recoverydesk.adapters.incident_store import IncidentStore
from recoverydesk.domain.contacts import contact_for, verification_outcome
from recoverydesk.domain.incidents import Incident
from recoverydesk.domain.needs import needs_in
from recoverydesk.services import bootstrap as services

log = logging.getLogger("recoverydesk.crisis")


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


async def active_incident() -> Optional[Incident]:
    """The most recently started active incident; none when Redis cannot say."""
    try:
        found = await IncidentStore(services.current().redis).active()
    except RedisError as exc:
        log.warning("crisis.incident_lookup_failed", extra={"kind": type(exc).__name__})
        return None
    return found[0] if found else None


def with_incident(tags: list[str], incident: Optional[Incident], category: Optional[str] = None) -> list[str]:
    """Adds ``incident:<id>`` when the conversation is about the active incident."""
    if incident is not None and (incident.touches(tags) or category == "breach_question"):
        return sorted(set(tags) | {incident.tag})
    return sorted(set(tags))


def conversation_start(tracker: Tracker) -> float:
    """When the customer first wrote in this session (now, if the tracker has no user event)."""
    first: Optional[float] = None
    for event in tracker.events:
        if event.get("event") == "session_started":
            first = None
        elif event.get("event") == "user" and first is None and isinstance(event.get("timestamp"), (int, float)):
            first = float(event["timestamp"])
    return first if first is not None else datetime.now(timezone.utc).timestamp()


async def record_contact(
    tracker: Tracker,
    category: Optional[str] = None,
    priority: Optional[str] = None,
    tags: Optional[list[str]] = None,
    ticket_id: Optional[str] = None,
    closed: bool = False,
) -> None:
    """Writes the conversation's contact record; a Redis failure never breaks the conversation."""
    s = services.current()
    try:
        verified = await s.verification.get(tracker.sender_id)
        started = conversation_start(tracker)
        contact = contact_for(
            conversation_id=tracker.sender_id,
            started_at=_iso(started),
            now=_iso(datetime.now(timezone.utc).timestamp()),
            channel=tracker.get_latest_input_channel() or "webchat",
            category=category or tracker.get_slot("triage_category") or "other",
            priority=priority or tracker.get_slot("triage_priority") or "low",
            tags=tags if tags is not None else (tracker.get_slot("conversation_tags") or []),
            verification=verification_outcome(verified.level, tracker.get_slot("verify_step")),
            ticket_id=ticket_id or tracker.get_slot("ticket_id"),
            closed=closed,
        )
        await ContactLog(s.redis).save(contact, started)
    except RedisError as exc:
        log.warning("crisis.contact_not_recorded", extra={"kind": type(exc).__name__})


class ActionAnswerIncident(Action):
    """The approved answer of the active incident, framed by a domain response."""

    def name(self) -> Text:
        return "action_answer_incident"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        incident = await active_incident()
        if incident is None:  # closed since triage: the standing answer still holds
            dispatcher.utter_message(response="utter_breach_answer")
            return []
        needs = needs_in(tracker.get_slot("conversation_tags") or [])
        answer = incident.answer_for(needs)
        dispatcher.utter_message(
            response="utter_incident_answer", incident_title=incident.title, incident_answer=answer
        )
        return []
