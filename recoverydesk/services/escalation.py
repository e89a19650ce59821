"""Triage, evidence and the hand-off: what the bot makes of a report, and the ticket it files for
the security team through the durable outbox, within the traffic limits (RL-4)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional, Protocol

from recoverydesk.adapters.helpdesk_client import HelpdeskUnavailable, TicketRejected
from recoverydesk.adapters.ticket_outbox import Escalation, TicketOutbox
from recoverydesk.adapters.traffic_limits import OverLimit
from recoverydesk.domain.accounts import Account
from recoverydesk.domain.conversation import Conversation, escalation_key, transcript
from recoverydesk.domain.needs import needs_for, needs_in
from recoverydesk.domain.triage import (
    HOW_TO_INTENT,
    Evidence,
    ambiguous_change,
    category_for_intent,
    counts_as_yes,
    next_step,
    priority_for,
    summary,
)
from recoverydesk.services.crisis import CrisisService, with_incident
from recoverydesk.services.verification import Accounts, MarkedActivity, Verification, Verifications, verified_account

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

log = logging.getLogger("recoverydesk.escalation")
EVIDENCE_SLOTS = ("money_moved", "access_ongoing", "contacts_changed")


def evidence_from(conversation: Conversation) -> Evidence:
    return Evidence(*(conversation.slot(name) for name in EVIDENCE_SLOTS))


@dataclass(frozen=True)
class Triage:
    category: Optional[str]  # None: not a report (a how-to question, or not yet known which)
    priority: Optional[str]
    next_step: str  # the ``triage_next`` slot
    tags: list[str]
    possible_change: Optional[str] = None  # the change category the bot asks about ("without you?")


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
    async def add_progress(self, ticket_id: str, progress: dict[str, Any]) -> None: ...


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

    async def add_progress(self, ticket_id: str, progress: dict[str, Any]) -> None:
        await self.tickets.helpdesk.add_progress(ticket_id, progress)


def _second_factor_trouble(conversation: Conversation) -> bool:
    return conversation.intent == "report_lost_device" or conversation.slot("factor_step") == "offer_person"


def ticket_tags(conversation: Conversation, category: str, incident_tags: list[str]) -> list[str]:
    """The tags the bot files: needs, incident, channel and language (the verified: tag comes last)."""
    tags = sorted(set(incident_tags + [f"channel:{conversation.channel}", f"lang:{conversation.language}"]))
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
    securing: bool = False,
) -> dict[str, Any]:
    """The ticket the bot files: the verification's result (never its evidence) and a redacted transcript."""
    taken = []
    revoked = conversation.slot("sessions_revoked")
    if revoked is not None:
        taken.append(f"Signed out {int(revoked)} other sessions")
    if securing and (category == "unauthorized_transaction" or counts_as_yes(conversation.slot("money_moved"))):
        taken.append(FREEZE_ADVICE)  # said with the securing step, right after the ticket
    return {
        "category": category,
        "priority": priority,
        "channel": conversation.channel,
        "language": conversation.language,
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


def _secures_while_team_joins(conversation: Conversation, priority: str, verified: Verification) -> bool:
    """An urgent case whose customer has not started verifying: the bot secures the account meanwhile."""
    if priority != "urgent" or verified.at_least("basic") or _second_factor_trouble(conversation):
        return False
    return not conversation.slot("verify_step")


FREEZE_ADVICE = "Advised the customer to freeze their card in the app"


def progress_of(
    conversation: Conversation,
    verified: Verification,
    account: Optional[Account],
    marked: Optional[MarkedActivity],
    sessions_revoked: Optional[int],
) -> dict[str, Any]:
    """What the bot adds to the open ticket as it secures the account: who the customer proved to be
    (the result, never its evidence), the activity they marked and what was done."""
    progress: dict[str, Any] = {"conversation_id": conversation.id, "actions_taken": []}
    if account is not None:
        progress["customer"] = {
            "account_ref": account.ref,
            "display_name_masked": account.display_name_masked(),
            "verification": verified.for_ticket(),
        }
        progress["actions_taken"].append(f"Customer verified ({verified.level}: {', '.join(verified.methods)})")
    if marked is not None:
        progress["reported_activity"] = marked.events
        progress["suspicious_ips"] = marked.ips
        progress["actions_taken"].append(f"Customer marked {len(marked.events)} activity item(s) as not them")
    if sessions_revoked is not None:
        progress["actions_taken"].append(f"Signed out {sessions_revoked} other sessions")
    return progress


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
        """Category and priority from the customer's words; recorded as the conversation's contact.

        A how-to question is answered, not triaged; one that could also be a report of a change
        made without the customer is asked about first ("did this change happen without you?")."""
        tags = list(conversation.slot("conversation_tags") or [])
        possible = ambiguous_change(list(conversation.intent_ranking))
        if possible is not None and conversation.intent != "affirm":
            return Triage(None, None, "confirm_unwanted", tags, possible_change=possible)
        if conversation.intent == HOW_TO_INTENT:
            return Triage(None, None, "how_to", tags)
        confirmed = conversation.slot("possible_change") if conversation.intent == "affirm" else None
        category = confirmed or category_for_intent(conversation.intent) or "other"
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
        securing = _secures_while_team_joins(conversation, priority, verified)
        payload = bot_ticket(conversation, category, priority, tags, verified, account, securing=securing)
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

    async def while_team_joins(self, conversation: Conversation) -> str:
        """After the ticket: ``secure_now`` when the case is urgent and the customer has not started
        verifying (the bot verifies, signs out and advises while the team joins), else ``team_joining``."""
        verified = await self.verifications.get(conversation.id)
        priority = conversation.slot("triage_priority") or ""
        filed = bool(conversation.slot("ticket_id"))
        return "secure_now" if filed and _secures_while_team_joins(conversation, priority, verified) else "team_joining"

    async def add_to_ticket(
        self,
        conversation: Conversation,
        marked: Optional[MarkedActivity] = None,
        sessions_revoked: Optional[int] = None,
    ) -> bool:
        """Adds the verified account, the marked activity and what was done to the conversation's open
        ticket, if it has one; the console shows it live. Whether the helpdesk took it."""
        ticket_id = conversation.slot("ticket_id")
        if not ticket_id:
            return False
        account, verified = await verified_account(self.verifications, self.accounts, conversation.id)
        progress = progress_of(conversation, verified, account, marked, sessions_revoked)
        try:
            await self.tickets.add_progress(ticket_id, progress)
        except (HelpdeskUnavailable, TicketRejected) as exc:  # the chat goes on; the team sees it in the transcript
            log.warning("escalation.progress_not_added", extra={"ticket": ticket_id, "kind": type(exc).__name__})
            return False
        return True

    async def close(self, conversation: Conversation) -> Closing:
        """What the closing summary names; a triaged conversation's contact is marked closed."""
        triaged = bool(conversation.slot("triage_category"))
        if triaged:
            await self.crisis.record_contact(conversation, closed=True)
        return Closing(conversation.slot("ticket_id") or None, triaged)
