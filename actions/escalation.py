"""Actions that triage the report, gather evidence and hand the case to the security team."""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.crisis import active_incident, record_contact, with_incident
from recoverydesk.adapters.traffic_limits import OverLimit
from recoverydesk.domain.conversation import escalation_key, transcript
from recoverydesk.domain.needs import LANGUAGE, needs_for, needs_in
from recoverydesk.domain.triage import Evidence, category_for_intent, next_step, priority_for, summary
from recoverydesk.services import bootstrap as services
from recoverydesk.services.notices import support_phone

EVIDENCE_SLOTS = ("money_moved", "access_ongoing", "contacts_changed")


def evidence_from(tracker: Tracker) -> Evidence:
    return Evidence(*(tracker.get_slot(name) for name in EVIDENCE_SLOTS))


class ActionTriageReport(Action):
    """Category and priority from the customer's words; the evidence questions start afresh."""

    def name(self) -> Text:
        return "action_triage_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        category = category_for_intent(tracker.latest_message.get("intent", {}).get("name")) or "other"
        priority = priority_for(category)
        needs = needs_for(category, tracker.latest_message.get("text"))
        incident = await active_incident()
        tags = with_incident((tracker.get_slot("conversation_tags") or []) + needs, incident, category)
        step = next_step(category, priority, evidence_asked=False)
        if step == "breach_answer" and incident is not None:
            step = "incident_answer"
        await record_contact(tracker, category, priority, tags)
        return [
            SlotSet("triage_category", category),
            SlotSet("triage_priority", priority),
            SlotSet("triage_next", step),
            SlotSet("conversation_tags", tags),
            *(SlotSet(name, None) for name in EVIDENCE_SLOTS),
        ]


class ActionAssessEvidence(Action):
    """Evidence may raise the priority, never lower it; urgent cases go to the team at once."""

    def name(self) -> Text:
        return "action_assess_evidence"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        category = tracker.get_slot("triage_category") or "other"
        priority = priority_for(category, evidence_from(tracker))
        return [
            SlotSet("triage_priority", priority),
            SlotSet("triage_next", next_step(category, priority, evidence_asked=True)),
        ]


def _second_factor_trouble(tracker: Tracker) -> bool:
    return (
        tracker.latest_message.get("intent", {}).get("name") == "report_lost_device"
        or tracker.get_slot("factor_step") == "offer_person"
    )


class ActionCreateTicket(Action):
    def name(self) -> Text:
        return "action_create_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        category = tracker.get_slot("triage_category") or "other"
        priority = tracker.get_slot("triage_priority") or priority_for(category)
        channel = tracker.get_latest_input_channel() or "webchat"
        tags = with_incident(tracker.get_slot("conversation_tags") or [], await active_incident())
        tags = sorted(set(tags + [f"channel:{channel}", f"lang:{LANGUAGE}"]))
        if _second_factor_trouble(tracker):  # a lost phone or failed codes: the authenticator needs resetting
            tags = sorted(set(tags + ["need:mfa_reset"]))
        if not needs_in(tags):  # asked for a person before saying what happened
            tags = sorted(set(tags + needs_for(category)))
        s = services.current()
        verified = await s.verification.get(tracker.sender_id)
        account = await s.directory.store.get(verified.account_ref) if verified.account_ref else None
        taken = []
        if tracker.get_slot("sessions_revoked") is not None:
            taken.append(f"Signed out {int(tracker.get_slot('sessions_revoked'))} other sessions")
        payload = {
            "category": category,
            "priority": priority,
            "channel": channel,
            "conversation_id": tracker.sender_id,
            "customer": {
                "account_ref": account.ref if account else "",
                "display_name_masked": account.display_name_masked() if account else "",
                "verification": verified.for_ticket(),
            },
            "summary": summary(category, evidence_from(tracker)),
            "tags": sorted(set(tags + [f"verified:{verified.level}"])),
            "reported_activity": tracker.get_slot("reported_activity") or [],
            "suspicious_ips": tracker.get_slot("suspicious_ips") or [],
            "actions_taken": taken,
            "transcript": transcript(tracker.events),
        }
        key = escalation_key(tracker.sender_id, tracker.events)
        if await s.tickets.outbox.state(key) is None:  # a retried action is not a new escalation
            try:
                await s.limits.take("tickets", tracker.sender_id)
            except OverLimit as limited:
                dispatcher.utter_message(
                    response=f"utter_too_many_tickets_{limited.scope}",
                    minutes=str(limited.minutes),
                    support_phone=support_phone(),
                )
                return []
        escalation = await s.tickets.escalate(key, payload)
        if escalation.delivered:
            dispatcher.utter_message(response="utter_ticket_created", ticket_id=escalation.ticket_id)
        else:  # the plugin is down or slow: the ticket waits in the outbox under this number
            dispatcher.utter_message(
                response="utter_ticket_queued", ticket_id=escalation.ticket_id, support_phone=support_phone()
            )
        await record_contact(tracker, category, priority, tags, ticket_id=escalation.ticket_id)
        return [
            SlotSet("ticket_id", escalation.ticket_id),
            SlotSet("triage_category", category),
            SlotSet("triage_priority", priority),
        ]


class ActionCountMisunderstanding(Action):
    """After two misunderstandings in a row the bot offers a person instead of looping."""

    def name(self) -> Text:
        return "action_count_misunderstanding"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        in_a_row = 0
        for event in reversed(tracker.events):
            if event.get("event") != "user":
                continue
            if (event.get("parse_data") or {}).get("intent", {}).get("name") != "nlu_fallback":
                break
            in_a_row += 1
        return [SlotSet("misunderstood", "twice" if in_a_row >= 2 else "once")]


class ActionCloseConversation(Action):
    """Closing: what was done in this conversation, then how to stay safe."""

    def name(self) -> Text:
        return "action_close_conversation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ticket_id: Optional[str] = tracker.get_slot("ticket_id")
        if ticket_id:
            dispatcher.utter_message(response="utter_summary_ticket", ticket_id=ticket_id)
        elif tracker.get_slot("triage_category"):
            dispatcher.utter_message(response="utter_summary_no_ticket")
        dispatcher.utter_message(response="utter_safety_tips")
        if tracker.get_slot("triage_category"):
            await record_contact(tracker, closed=True)
        return []
