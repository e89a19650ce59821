"""Crisis mode for supervisors: declaring and closing incidents, tagging tickets in bulk, one
approved answer broadcast to every open chat of an incident, and contacts' corrected tags."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.contact_log import ContactLog
from recoverydesk.adapters.incident_store import IncidentStore
from recoverydesk.adapters.rasa_client import ConversationUnavailable, RasaConversations
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain import incidents as incident_rules
from recoverydesk.domain.agents import AgentSession
from recoverydesk.domain.contacts import Contact
from recoverydesk.domain.errors import InvalidRequest, NotFound
from recoverydesk.domain.incidents import Incident
from recoverydesk.domain.tickets import Ticket, change_tags, check_agent_tag_change, utc_now, validate_tags

MAX_BULK = 1000
_INCIDENT_ID = re.compile(r"^INC-[0-9]{4,}$")
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


def tag_change(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The tags to add (validated) and to remove from a request; verification tags stay the bot's."""
    add, remove = body.get("add", []), body.get("remove", [])
    if not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in (add, remove)):
        raise InvalidRequest("'add' and 'remove' must be lists of tags.")
    check_agent_tag_change(add, remove)
    return validate_tags(add), list(remove)


def ticket_ids(body: dict[str, Any]) -> list[str]:
    """The distinct ticket ids of a bulk request, in their order, at most ``MAX_BULK``."""
    ids = body.get("ticket_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and len(i) <= 40 for i in ids):
        raise InvalidRequest("'ticket_ids' must be a non-empty list of ticket ids.")
    if len(ids) > MAX_BULK:
        raise InvalidRequest(f"At most {MAX_BULK} tickets at a time.")
    return list(dict.fromkeys(ids))


@dataclass
class IncidentDesk:
    incidents: IncidentStore
    tickets: TicketStore
    contacts: ContactLog
    audit: AuditLog
    conversations: RasaConversations

    async def declare(self, agent: AgentSession, body: dict[str, Any]) -> Incident:
        incident = incident_rules.declare(await self.incidents.next_id(), body, agent.username, utc_now())
        started = incident_rules.parse_time(incident.started_at).timestamp()
        await self.incidents.save_new(incident, started)
        await self.audit.record("incident.declared", agent.username, incident=incident.id)
        return incident

    async def all(self) -> list[Incident]:
        return await self.incidents.list()

    async def get(self, incident_id: str) -> Incident:
        found = await self.incidents.get(incident_id) if _INCIDENT_ID.match(incident_id) else None
        if found is None:
            raise NotFound(f"No incident {incident_id}.")
        return found

    async def close(self, agent: AgentSession, incident_id: str) -> Incident:
        await self.get(incident_id)
        closed = await self.incidents.update(incident_id, lambda i: incident_rules.close(i, utc_now()))
        await self.audit.record("incident.closed", agent.username, incident=incident_id)
        return closed

    async def retag(
        self, agent: AgentSession, ids: list[str], add: list[str], remove: list[str]
    ) -> dict[str, list[str]]:
        """Changes each ticket's tags; ids with no ticket are reported, not fatal."""
        changed, missing = [], []
        for ticket_id in ids:
            before: list[str] = []

            def change(ticket: Ticket, before: list[str] = before) -> None:
                before[:] = ticket.tags  # the update may run again on a conflict: the last run is kept
                change_tags(ticket, add, remove)

            try:
                ticket = await self.tickets.update(ticket_id, change)
            except NotFound:
                missing.append(ticket_id)
                continue
            await self.audit.record(
                "ticket.tags_changed",
                agent.username,
                ticket_id,
                before={"tags": before},
                after={"tags": list(ticket.tags)},
                via="bulk",
            )
            changed.append(ticket_id)
        return {"changed": changed, "not_found": missing}

    async def link(self, agent: AgentSession, incident_id: str, ids: list[str]) -> dict[str, list[str]]:
        """Tags the tickets with the incident's tag, which is how the bot and reports find them."""
        incident = await self.get(incident_id)
        result = await self.retag(agent, ids, [incident.tag], [])
        await self.audit.record(
            "incident.tickets_linked", agent.username, incident=incident.id, count=str(len(result["changed"]))
        )
        return result

    async def broadcast(self, agent: AgentSession, incident_id: str, answer: Any) -> dict[str, list[str]]:
        """An approved answer to every open ticket of the incident, in each customer's chat."""
        incident = await self.get(incident_id)
        if answer not in incident.answers:
            raise InvalidRequest(
                f"'answer' must name one of the incident's approved texts: {', '.join(incident.answers)}."
            )
        text = messages.text(
            "utter_incident_update", incident_title=incident.title, incident_answer=incident.answers[answer]
        )
        tickets = [t for t in await self.tickets.list(limit=1_000_000) if incident.tag in t.tags]
        sent, failed = [], []
        for ticket in tickets:
            try:
                await self.conversations.say_as_agent(ticket.conversation_id, agent.username, text)
            except ConversationUnavailable:
                failed.append(ticket.id)
                continue
            await self.audit.record(
                "ticket.broadcast_sent", agent.username, ticket.id, incident=incident.id, answer=answer
            )
            sent.append(ticket.id)
        await self.audit.record(
            "incident.broadcast",
            agent.username,
            incident=incident.id,
            answer=answer,
            sent=str(len(sent)),
            failed=str(len(failed)),
        )
        return {"sent": sent, "failed": failed}

    async def contact(self, conversation_id: str) -> Contact:
        found = await self.contacts.get(conversation_id) if _CONVERSATION_ID.match(conversation_id) else None
        if found is None:
            raise NotFound("No contact for this conversation.")
        return found

    async def edit_contact_tags(
        self, agent: AgentSession, conversation_id: str, add: list[str], remove: list[str]
    ) -> dict[str, Any]:
        """An agent's correction of a contact's tags, kept apart from what the bot saves."""
        await self.contact(conversation_id)
        contact = await self.contacts.edit_tags(conversation_id, add, remove)
        await self.audit.record("contact.tags_changed", agent.username)
        return contact.to_dict() if contact else {}
