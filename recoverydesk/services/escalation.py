"""Triage, evidence and the hand-off: what the bot makes of a report, and the ticket it files for
the security team through the durable outbox, within the traffic limits (RL-4)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, Protocol

from recoverydesk.adapters.ticket_outbox import Escalation, TicketOutbox
from recoverydesk.adapters.traffic_limits import OverLimit
from recoverydesk.domain.accounts import Account
from recoverydesk.domain.conversation import Conversation, escalation_key, transcript
from recoverydesk.domain.needs import LANGUAGE, needs_for, needs_in
from recoverydesk.domain.triage import Evidence, category_for_intent, next_step, priority_for, summary
from recoverydesk.services.crisis import CrisisService, with_incident
from recoverydesk.services.verification import Accounts, Verification, Verifications

__all__ = [
    "EVIDENCE_SLOTS",
    "Assessment",
    "Closing",
    "EscalationService",
    "Filing",
    "TicketFiling",
    "TicketsThroughOutbox",
    "Triage",
]

EVIDENCE_SLOTS = ("money_moved", "access_ongoing", "contacts_changed")


def evidence_from(conversation: Conversation) -> Evidence:
    return Evidence(*(conversation.slot(name) for name in EVIDENCE_SLOTS))


@dataclass(frozen=True)
class Triage:
    category: str
    priority: str
    next_step: str  # the ``triage_next`` slot
    tags: list[str]


@dataclass(frozen=True)
class Assessment:
    priority: str
    next_step: str


class Filing(Enum):
    CREATED = "created"  # the helpdesk has the ticket
    QUEUED = "queued"  # the plugin is down or slow: the ticket waits in the outbox under this number
    TOO_MANY = "too_many"  # RL-4: ``scope`` is ``session`` or ``global``


@dataclass(frozen=True)
class TicketFiling:
    result: Filing
    ticket_id: str = ""
    category: str = ""
    priority: str = ""
    scope: str = ""
    minutes: str = ""
    support_phone: str = ""


@dataclass(frozen=True)
class Closing:
    ticket_id: Optional[str]
    triaged: bool  # whether the conversation was about a report at all


class Tickets(Protocol):
    async def filed_before(self, key: str) -> bool: ...
    async def escalate(self, key: str, payload: dict[str, Any]) -> Escalation: ...


class TrafficLimit(Protocol):
    async def take(self, kind: str, session_id: str) -> None: ...


@dataclass
class TicketsThroughOutbox:
    """``Tickets`` over the adapter's outbox: whether a key was escalated, and the escalation itself."""

    tickets: TicketOutbox

    async def filed_before(self, key: str) -> bool:
        return await self.tickets.outbox.state(key) is not None

    async def escalate(self, key: str, payload: dict[str, Any]) -> Escalation:
        return await self.tickets.escalate(key, payload)


def _second_factor_trouble(conversation: Conversation) -> bool:
    return conversation.intent == "report_lost_device" or conversation.slot("factor_step") == "offer_person"


def ticket_tags(conversation: Conversation, category: str, incident_tags: list[str]) -> list[str]:
    """The tags the bot files: needs, incident, channel and language (the verified: tag comes last)."""
    tags = sorted(set(incident_tags + [f"channel:{conversation.channel}", f"lang:{LANGUAGE}"]))
    if _second_factor_trouble(conversation):  # a lost phone or failed codes: the authenticator needs resetting
        tags = sorted(set(tags + ["need:mfa_reset"]))
    if not needs_in(tags):  # asked for a person before saying what happened
        tags = sorted(set(tags + needs_for(category)))
    return tags


def bot_ticket(
    conversation: Conversation,
    category: str,
    priority: str,
    tags: list[str],
    verified: Verification,
    account: Optional[Account],
) -> dict[str, Any]:
    """The ticket the bot files: the verification's result (never its evidence) and a redacted transcript."""
    taken = []
    revoked = conversation.slot("sessions_revoked")
    if revoked is not None:
        taken.append(f"Signed out {int(revoked)} other sessions")
    return {
        "category": category,
        "priority": priority,
        "channel": conversation.channel,
        "conversation_id": conversation.id,
        "customer": {
            "account_ref": account.ref if account else "",
            "display_name_masked": account.display_name_masked() if account else "",
            "verification": verified.for_ticket(),
        },
        "summary": summary(category, evidence_from(conversation)),
        "tags": sorted(set(tags + [f"verified:{verified.level}"])),
        "reported_activity": conversation.slot("reported_activity") or [],
        "suspicious_ips": conversation.slot("suspicious_ips") or [],
        "actions_taken": taken,
        "transcript": transcript(conversation.events),
    }


def misunderstood(events: list[dict[str, Any]]) -> str:
    """``twice`` after two misunderstandings in a row (the bot then offers a person), else ``once``."""
    in_a_row = 0
    for event in reversed(events):
        if event.get("event") != "user":
            continue
        if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
            break
        in_a_row += 1
    return "twice" if in_a_row >= 2 else "once"


@dataclass(kw_only=True)
class EscalationService:
    accounts: Accounts
    verifications: Verifications
    tickets: Tickets
    limits: TrafficLimit
    crisis: CrisisService
    support_phone: str

    async def triage(self, conversation: Conversation) -> Triage:
        """Category and priority from the customer's words; recorded as the conversation's contact."""
        category = category_for_intent(conversation.intent) or "other"
        priority = priority_for(category)
        needs = needs_for(category, conversation.text)
        incident = await self.crisis.active_incident()
        tags = with_incident((conversation.slot("conversation_tags") or []) + needs, incident, category)
        step = next_step(category, priority, evidence_asked=False)
        if step == "breach_answer" and incident is not None:
            step = "incident_answer"
        await self.crisis.record_contact(conversation, category, priority, tags)
        return Triage(category, priority, step, tags)

    @staticmethod
    def assess(conversation: Conversation) -> Assessment:
        """Evidence may raise the priority, never lower it; urgent cases go to the team at once."""
        category = conversation.slot("triage_category") or "other"
        priority = priority_for(category, evidence_from(conversation))
        return Assessment(priority, next_step(category, priority, evidence_asked=True))

    @staticmethod
    def misunderstood(conversation: Conversation) -> str:
        return misunderstood(conversation.events)

    async def file_ticket(self, conversation: Conversation) -> TicketFiling:
        """Files the ticket once per customer turn (a retried action is not a new escalation)."""
        category = conversation.slot("triage_category") or "other"
        priority = conversation.slot("triage_priority") or priority_for(category)
        incident = await self.crisis.active_incident()
        incident_tags = with_incident(conversation.slot("conversation_tags") or [], incident)
        tags = ticket_tags(conversation, category, incident_tags)
        verified = await self.verifications.get(conversation.id)
        account = await self.accounts.get(verified.account_ref) if verified.account_ref else None
        payload = bot_ticket(conversation, category, priority, tags, verified, account)
        key = escalation_key(conversation.id, conversation.events)
        if not await self.tickets.filed_before(key):
            try:
                await self.limits.take("tickets", conversation.id)
            except OverLimit as limited:
                return TicketFiling(
                    Filing.TOO_MANY,
                    scope=limited.scope,
                    minutes=str(limited.minutes),
                    support_phone=self.support_phone,
                )
        escalation = await self.tickets.escalate(key, payload)
        await self.crisis.record_contact(conversation, category, priority, tags, ticket_id=escalation.ticket_id)
        if escalation.delivered:
            return TicketFiling(Filing.CREATED, escalation.ticket_id, category, priority)
        return TicketFiling(Filing.QUEUED, escalation.ticket_id, category, priority, support_phone=self.support_phone)

    async def close(self, conversation: Conversation) -> Closing:
        """What the closing summary names; a triaged conversation's contact is marked closed."""
        triaged = bool(conversation.slot("triage_category"))
        if triaged:
            await self.crisis.record_contact(conversation, closed=True)
        return Closing(conversation.slot("ticket_id") or None, triaged)
