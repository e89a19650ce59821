"""Crisis mode in the bot: the active incident's approved answer, framed by a domain response."""

from __future__ import annotations

from typing import List

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.named_action import NamedAction
from recoverydesk.services import bootstrap as services


class ActionAnswerIncident(NamedAction, action_name="action_answer_incident"):
    """The approved answer of the active incident, framed by a domain response."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        answer = await services.current().crisis.incident_answer(tracker.get_slot("conversation_tags") or [])
        if answer is None:  # closed since triage: the standing answer still holds
            dispatcher.utter_message(response="utter_breach_answer")
            return []
        dispatcher.utter_message(
            response="utter_incident_answer", incident_title=answer.title, incident_answer=answer.answer
        )
        return []
