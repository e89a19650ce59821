"""The incident answer action frames the active incident's approved answer, or the standing one."""

from __future__ import annotations

from actions.crisis import ActionAnswerIncident
from recoverydesk.services.crisis import IncidentAnswer
from tests.unit.actions.conftest import Answers, Fakes, run, tracker


async def test_the_active_incidents_answer_for_the_conversations_needs(fakes: Fakes) -> None:
    fakes.crisis.incident_answer = Answers(IncidentAnswer("Card data leak", "Your card numbers were not exposed."))
    tags = ["need:what_data", "incident:INC-0001"]
    done = await run(ActionAnswerIncident(), tracker(slots={"conversation_tags": tags}))
    assert fakes.crisis.incident_answer.calls == [(tags,)]
    message = done.said("utter_incident_answer")
    assert (message["incident_title"], message["incident_answer"]) == (
        "Card data leak",
        "Your card numbers were not exposed.",
    )
    assert done.events == []


async def test_the_standing_breach_answer_once_the_incident_is_closed(fakes: Fakes) -> None:
    fakes.crisis.incident_answer = Answers(None)
    done = await run(ActionAnswerIncident(), tracker())
    assert fakes.crisis.incident_answer.calls == [([],)]
    assert done.responses == ["utter_breach_answer"]
    assert done.events == []
