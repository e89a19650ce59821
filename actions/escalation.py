"""Actions that triage the report, gather evidence and hand the case to the security team:
each asks ``EscalationService`` and says its outcome."""

from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.conversation import conversation_of
from actions.named_action import NamedAction
from recoverydesk.services import bootstrap as services
from recoverydesk.services.escalation import EVIDENCE_SLOTS, Filing


class ActionTriageReport(NamedAction, action_name="action_triage_report"):
    """Category and priority from the customer's words; the evidence questions start afresh."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        triage = await services.current().escalation.triage(conversation_of(tracker))
        if triage.category is None:  # a how-to question, or not yet known whether it is a report
            return [SlotSet("triage_next", triage.next_step), SlotSet("possible_change", triage.possible_change)]
        return [
            SlotSet("triage_category", triage.category),
            SlotSet("triage_priority", triage.priority),
            SlotSet("triage_next", triage.next_step),
            SlotSet("conversation_tags", triage.tags),
            *(SlotSet(name, None) for name in EVIDENCE_SLOTS),
            SlotSet("possible_change", None),
        ]


class ActionAssessEvidence(NamedAction, action_name="action_assess_evidence"):
    """Evidence may raise the priority, never lower it; urgent cases go to the team at once."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        assessment = services.current().escalation.assess(conversation_of(tracker))
        return [
            SlotSet("triage_priority", assessment.priority),
            SlotSet("triage_next", assessment.next_step),
        ]


class ActionCreateTicket(NamedAction, action_name="action_create_ticket"):
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        filing = await services.current().escalation.file_ticket(conversation_of(tracker))
        if filing.result is Filing.TOO_MANY:
            dispatcher.utter_message(
                response=f"utter_too_many_tickets_{filing.scope}",
                minutes=filing.minutes,
                support_phone=filing.support_phone,
            )
            return []
        if filing.result is Filing.CREATED:
            dispatcher.utter_message(response="utter_ticket_created", ticket_id=filing.ticket_id)
        else:  # the plugin is down or slow: the ticket waits in the outbox under this number
            dispatcher.utter_message(
                response="utter_ticket_queued", ticket_id=filing.ticket_id, support_phone=filing.support_phone
            )
        return [
            SlotSet("ticket_id", filing.ticket_id),
            SlotSet("triage_category", filing.category),
            SlotSet("triage_priority", filing.priority),
        ]


class ActionSecureWhileTeamJoins(NamedAction, action_name="action_secure_while_team_joins"):
    """After an urgent ticket: ``secure_now`` (verify, sign out, freeze the card) or ``team_joining`` (wait)."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        step = await services.current().escalation.while_team_joins(conversation_of(tracker))
        return [SlotSet("triage_next", step)]


class ActionCountMisunderstanding(NamedAction, action_name="action_count_misunderstanding"):
    """After two misunderstandings in a row the bot offers a person instead of looping."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SlotSet("misunderstood", services.current().escalation.misunderstood(conversation_of(tracker)))]


class ActionCloseConversation(NamedAction, action_name="action_close_conversation"):
    """Closing: what was done in this conversation, then how to stay safe."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        closing = await services.current().escalation.close(conversation_of(tracker))
        if closing.ticket_id:
            dispatcher.utter_message(response="utter_summary_ticket", ticket_id=closing.ticket_id)
        elif closing.triaged:
            dispatcher.utter_message(response="utter_summary_no_ticket")
        dispatcher.utter_message(response="utter_safety_tips")
        return []
