"""Tickets for the helpdesk: intake of a ticket the action server signed, the queue, one ticket
with the live lines said since its intake, its audit trail, and the changes agents watch."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.keys import conversation_stream
from recoverydesk.adapters.live_feed import CHANGES_STREAM, LiveFeed, field_text, line_from_stream
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.ticket_store import TicketNumberTaken, TicketStore
from recoverydesk.domain.agents import AgentSession
from recoverydesk.domain.errors import Conflict, InvalidRequest, NotFound, Unauthenticated
from recoverydesk.domain.languages import SUPPORTED as LANGUAGES
from recoverydesk.domain.signing import SignatureError, verify
from recoverydesk.domain.tickets import (
    MAX_TRANSCRIPT,
    PRIORITIES,
    STATUSES,
    Ticket,
    add_bot_progress,
    is_ticket_id,
    new_ticket,
    utc_now,
)
from recoverydesk.services.messengers import MessengerDesk

_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,200}$")
KEEPALIVE_MS = 15_000
Event = Optional[tuple[str, Any]]  # (kind, data) or None when nothing happened for a while


@dataclass
class Intake:
    """What the intake answers: ``created`` and the stored ticket's JSON, or only its id for a repeat
    whose ticket is no longer stored."""

    created: bool
    ticket_id: str
    stored: str


@dataclass
class TicketDesk:
    tickets: TicketStore
    audit: AuditLog
    feed: LiveFeed
    metrics: Metrics
    signing_key: bytes
    windows: Optional[MessengerDesk] = None  # messenger reply windows, for the ticket view

    async def intake(self, headers: Mapping[str, str], body: bytes, payload_of: Callable[[], dict[str, Any]]) -> Intake:
        """Files the ticket the action server signed, once per Idempotency-Key.

        ``payload_of`` parses the body once the signature holds (the face owns its JSON errors)."""
        try:
            verify(self.signing_key, headers, body)
        except SignatureError as exc:
            raise Unauthenticated(str(exc)) from None
        idempotency_key = headers.get("idempotency-key", "")
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise InvalidRequest("An Idempotency-Key header of 8-200 safe characters is required.")
        payload = payload_of()
        if payload.get("idempotency_key", idempotency_key) != idempotency_key:
            raise Unauthenticated("The signed request was made for another Idempotency-Key.")
        reserved = payload.get("id")  # the number the action server already gave the customer
        if reserved is not None and not (isinstance(reserved, str) and is_ticket_id(reserved)):
            raise InvalidRequest("'id' must be a ticket number like RD-000123.")
        ticket = new_ticket("", payload, utc_now())  # the id is set when it is stored
        try:
            created, ticket_id, stored = await self.tickets.intake(
                ticket, idempotency_key, time.time(), reserved_id=reserved
            )
        except TicketNumberTaken:
            raise Conflict(f"Ticket number {reserved} belongs to another conversation.") from None
        if created:
            # The ticket is in Redis and its creation in SQL: two writes until tickets move to SQL (#17).
            await self.audit.record("ticket.created", "bot", ticket_id, priority=ticket.priority)
            self.metrics.count("recoverydesk_tickets_created_total", {"priority": ticket.priority})
        return Intake(created, ticket_id, stored)

    async def add_progress(
        self, ticket_id: str, headers: Mapping[str, str], body: bytes, payload_of: Callable[[], dict[str, Any]]
    ) -> Ticket:
        """Adds what the bot did after filing (signed by the action server) to the open ticket; the change
        is announced on the live feed, so the console shows it at once, and audited."""
        try:
            verify(self.signing_key, headers, body)
        except SignatureError as exc:
            raise Unauthenticated(str(exc)) from None
        progress = payload_of()
        if progress.get("ticket_id") != ticket_id:  # signed for this ticket, not replayed onto another
            raise Unauthenticated("The signed request was made for another ticket.")
        await self.get(ticket_id)
        ticket = await self.tickets.update(ticket_id, lambda t: add_bot_progress(t, progress))
        await self.audit.record("ticket.bot_progress", "bot", ticket_id)
        return ticket

    async def queue(
        self, status: Optional[str], queue: Optional[str], priority: Optional[str], language: Optional[str] = None
    ) -> list[Ticket]:
        if status is not None and status not in STATUSES:
            raise InvalidRequest(f"'status' must be one of: {', '.join(STATUSES)}.")
        if priority is not None and priority not in PRIORITIES:
            raise InvalidRequest(f"'priority' must be one of: {', '.join(PRIORITIES)}.")
        if language is not None and language not in LANGUAGES:
            raise InvalidRequest(f"'language' must be one of: {', '.join(LANGUAGES)}.")
        return await self.tickets.list(status, queue, priority, language=language)

    async def get(self, ticket_id: str) -> Ticket:
        ticket = await self.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"No ticket {ticket_id}.")
        return ticket

    async def read(self, agent: AgentSession, ticket_id: str) -> dict[str, Any]:
        """One ticket as an agent sees it, with its live lines; the reading is audited."""
        ticket = await self.get(ticket_id)
        await self.audit.record("ticket.read", agent.username, ticket.id)
        return await self.view(ticket)

    async def audit_trail(self, agent: AgentSession, ticket_id: str) -> list[dict[str, Any]]:
        await self.get(ticket_id)
        entries = await self.audit.for_ticket(ticket_id)
        await self.audit.record("audit.read", agent.username, ticket_id)
        return entries

    async def notes(self, ticket_id: str) -> list[dict[str, str]]:
        await self.get(ticket_id)
        return await self.tickets.notes(ticket_id)

    async def view(self, ticket: Ticket) -> dict[str, Any]:
        """The ticket with what was said since its intake transcript ends."""
        view = ticket.to_dict()
        view["transcript"] += [
            {"role": ln["role"], "text": ln["text"], "at": ln["at"]} for ln in await self.live_lines(ticket)
        ]
        view["reply_window"] = await self.windows.reply_window(ticket.conversation_id) if self.windows else None
        return view

    async def live_lines(self, ticket: Ticket) -> list[dict[str, Any]]:
        """What was said after the intake transcript ends, from the conversation's stream."""
        last = ticket.transcript[-1]["at"] if ticket.transcript and ticket.transcript[-1]["at"] else ticket.created_at
        since = datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp()
        lines = await self.feed.lines(ticket.conversation_id)
        # The intake transcript holds whole seconds: skip what it already has from its last second.
        held = {(line["role"], line["text"]) for line in ticket.transcript if line["at"] == last}
        fresh = [
            line
            for line in lines
            if line["ts"] >= since + 1 or (line["ts"] >= since and (line["role"], line["text"]) not in held)
        ]
        return fresh[-MAX_TRANSCRIPT:]

    async def watch_ticket(self, ticket: Ticket) -> AsyncIterator[Event]:
        """("message", line) for each new line, ("ticket", view) after each change, None while quiet."""
        lines = conversation_stream(ticket.conversation_id)
        cursor = {lines: "$", CHANGES_STREAM: "$"}
        while True:
            entries = await self.feed.wait(cursor, KEEPALIVE_MS)
            if not entries:
                yield None
            for stream, _entry_id, fields in entries:
                if stream == lines:
                    line = line_from_stream(fields)
                    yield "message", {k: line[k] for k in ("role", "text", "at")}
                elif field_text(fields, "ticket_id") == ticket.id:
                    yield "ticket", await self.view(await self.get(ticket.id))

    async def watch_queue(self) -> AsyncIterator[Event]:
        """("queue", {"id": ...}) for each changed ticket, None while quiet."""
        cursor = {CHANGES_STREAM: "$"}
        while True:
            entries = await self.feed.wait(cursor, KEEPALIVE_MS)
            if not entries:
                yield None
            for _stream, _entry_id, fields in entries:
                yield "queue", {"id": field_text(fields, "ticket_id")}
