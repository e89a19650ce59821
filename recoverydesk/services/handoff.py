"""The live handoff: an agent claims a conversation from the bot, talks to the customer as
themselves, keeps notes and tags, and hands it back or resolves it, and the customer is told.

The transitions are the ticket's (``domain/tickets.py``); this module adds their side effects:
pausing and resuming the bot, the audit trail, metrics and the resolution email (NOT-1)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional

from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.account_store import AccountStore
from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.mail_outbox import MailOutbox
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.rasa_client import ConversationUnavailable, RasaConversations
from recoverydesk.adapters.responses import channel_name
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.agents import AgentSession
from recoverydesk.domain.errors import ConversationUnreachable, NotFound
from recoverydesk.domain.tickets import (
    Ticket,
    change_tags,
    claim,
    customer_reachable_by_email,
    hand_back,
    require_holder,
    resolve,
)
from recoverydesk.services.messengers import MessengerDesk

log = logging.getLogger("recoverydesk.helpdesk")


def release_claim(ticket: Ticket) -> None:
    """Undoes a claim whose pause never reached the bot: the ticket waits for an agent again."""
    ticket.control = {"owner": "pending_agent", "agent": None}


@dataclass
class Handoff:
    tickets: TicketStore
    audit: AuditLog
    conversations: RasaConversations
    accounts: AccountStore
    mail: MailOutbox
    metrics: Metrics
    windows: Optional[MessengerDesk] = None  # messenger reply windows: a closed one refuses the message

    async def claim(self, agent: AgentSession, ticket_id: str) -> Ticket:
        """One owner at a time; the bot is paused, or the claim is undone and the agent told to retry."""
        ticket = await self.tickets.update(ticket_id, lambda t: claim(t, agent.username))
        try:
            await self.conversations.pause(ticket.conversation_id)
        except ConversationUnavailable:
            await self.tickets.update(ticket_id, release_claim)
            raise ConversationUnreachable("The conversation could not be paused; try again.") from None
        self.metrics.count("recoverydesk_handoffs_total")
        await self.audit.record("ticket.claimed", agent.username, ticket.id)
        return ticket

    async def message(self, agent: AgentSession, ticket_id: str, text: str) -> None:
        """Says ``text`` in the customer's chat as the agent who holds the ticket."""
        ticket = await self._load(ticket_id)
        require_holder(ticket, agent.username)
        window = await self.windows.reply_window(ticket.conversation_id) if self.windows else None
        if window is not None and not window["agent_open"]:
            await self.audit.record("ticket.message_not_sent", agent.username, ticket.id)
            raise ConversationUnreachable(f"The message was not sent: {window['agent_reason']}")
        try:
            await self.conversations.say_as_agent(ticket.conversation_id, agent.username, text)
        except ConversationUnavailable:
            raise ConversationUnreachable("The message could not be delivered; try again.") from None
        await self.audit.record("ticket.message_sent", agent.username, ticket.id)

    async def add_note(self, agent: AgentSession, ticket_id: str, text: str) -> dict[str, str]:
        """An internal note, never shown to the customer; the ticket's change is announced."""
        await self._load(ticket_id)
        note = await self.tickets.add_note(ticket_id, agent.username, text)
        await self.audit.record("ticket.note_added", agent.username, ticket_id)
        await self.tickets.update(ticket_id, lambda t: None)
        return note

    async def change_tags(self, agent: AgentSession, ticket_id: str, add: list[str], remove: list[str]) -> Ticket:
        before: list[str] = []

        def change(ticket: Ticket) -> None:
            before[:] = ticket.tags  # the update may run again on a conflict: the last run is the one kept
            change_tags(ticket, add, remove)

        ticket = await self.tickets.update(ticket_id, change)
        await self.audit.record(
            "ticket.tags_changed", agent.username, ticket_id, before={"tags": before}, after={"tags": list(ticket.tags)}
        )
        return ticket

    async def hand_back(self, agent: AgentSession, ticket_id: str, summary: str) -> Ticket:
        """The bot takes the conversation back, knowing the agent's summary."""
        ticket = await self.tickets.update(ticket_id, lambda t: hand_back(t, agent.username, summary))
        await self._give_back_to_bot(ticket, "EXTERNAL_agent_handback", {"agent_summary": summary})
        await self.audit.record("ticket.handed_back", agent.username, ticket.id)
        return ticket

    async def resolve(self, agent: AgentSession, ticket_id: str, resolution: str) -> Ticket:
        """Closes the case: the bot tells the customer in chat, and their verified address by email."""
        ticket = await self.tickets.update(ticket_id, lambda t: resolve(t, agent.username, resolution))
        await self._give_back_to_bot(ticket, "EXTERNAL_ticket_resolved", {"ticket_resolution": resolution})
        await self.audit.record("ticket.resolved", agent.username, ticket.id)
        await self._notify_resolved(ticket, resolution)
        return ticket

    async def _load(self, ticket_id: str) -> Ticket:
        ticket = await self.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"No ticket {ticket_id}.")
        return ticket

    async def _give_back_to_bot(self, ticket: Ticket, intent: str, slots: dict[str, str]) -> None:
        """The bot resumes and tells the customer; the ticket change stands even if the chat is unreachable."""
        try:
            await self.conversations.resume_with(ticket.conversation_id, intent, slots)
        except ConversationUnavailable:
            log.warning("helpdesk.chat_not_told", extra={"ticket": ticket.id, "intent": intent})

    async def _notify_resolved(self, ticket: Ticket, resolution: str) -> None:
        """NOT-1: a verified customer's account address hears of the outcome, with no secret and no link
        that grants access; a never-verified customer is told only in the chat (the console says so)."""
        if not customer_reachable_by_email(ticket):
            log.info("helpdesk.resolution_chat_only", extra={"ticket": ticket.id})
            return
        account = await self.accounts.get(ticket.customer["account_ref"])
        if account is None:
            return
        values = {
            "ticket_id": ticket.id,
            "resolution": resolution,
            "channel": channel_name(ticket.channel, ticket.language),
            "when": messages.when(datetime.now(timezone.utc), ticket.language),
        }
        # Through the durable outbox: retried while the mail server is down, sent once per ticket.
        await self.mail.queue(
            account.notify_addresses(),
            messages.text("utter_email_resolved_subject", language=ticket.language, **values),
            messages.text("utter_email_resolved_body", language=ticket.language, **values),
            key=f"resolved-{ticket.id}",
        )
