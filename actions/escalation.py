"""Actions that triage the report and hand the case to the security team."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from . import services
from .conversation import escalation_key, transcript
from .helpdesk_client import HelpdeskUnavailable
from .triage import category_for_intent, priority_for

SUMMARIES = {
    "unauthorized_transaction": "Customer reports a transaction they did not make.",
    "credential_change": "Customer reports a password, email, phone or 2FA change they did not make.",
    "data_change": "Customer reports profile details changed without them.",
    "unrecognized_login": "Customer reports a sign-in they do not recognise.",
    "phishing_report": "Customer reports a phishing attempt.",
    "breach_question": "Customer asks whether the breach affects them.",
    "account_locked": "Customer cannot get in: account locked.",
    "other": "Customer reports unusual activity.",
}


class ActionTriageReport(Action):
    def name(self) -> Text:
        return "action_triage_report"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        category = category_for_intent(tracker.latest_message.get("intent", {}).get("name")) or "other"
        return [SlotSet("triage_category", category), SlotSet("triage_priority", priority_for(category))]


class ActionCreateTicket(Action):
    def name(self) -> Text:
        return "action_create_ticket"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        category = tracker.get_slot("triage_category") or "other"
        priority = tracker.get_slot("triage_priority") or priority_for(category)
        channel = tracker.get_latest_input_channel() or "webchat"
        payload = {
            "category": category,
            "priority": priority,
            "channel": channel,
            "conversation_id": tracker.sender_id,
            "customer": {"verification": {"level": "none", "methods": []}},
            "summary": SUMMARIES.get(category, SUMMARIES["other"]),
            "tags": [f"channel:{channel}"],
            "transcript": transcript(tracker.events),
        }
        try:
            ticket = await services.current().helpdesk.create_ticket(
                payload, escalation_key(tracker.sender_id, tracker.events)
            )
        except HelpdeskUnavailable:
            dispatcher.utter_message(response="utter_ticket_failed")
            return []
        dispatcher.utter_message(response="utter_ticket_created", ticket_id=ticket["id"])
        return [SlotSet("ticket_id", ticket["id"])]
