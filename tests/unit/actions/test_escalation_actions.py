"""The triage and hand-off actions set what ``EscalationService`` decided and say the ticket's fate."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.escalation import (
    ActionAssessEvidence,
    ActionCloseConversation,
    ActionCountMisunderstanding,
    ActionCreateTicket,
    ActionSecureWhileTeamJoins,
    ActionTriageReport,
)
from recoverydesk.services.escalation import Assessment, Closing, Filing, TicketFiling, Triage
from tests.unit.actions.conftest import Answers, Fakes, run, tracker


async def test_triage_sets_category_priority_step_and_tags_and_clears_the_evidence(fakes: Fakes) -> None:
    fakes.escalation.triage = Answers(Triage("unrecognized_login", "high", "ask_evidence", ["need:password_reset"]))
    done = await run(
        ActionTriageReport(),
        tracker("someone logged in from Lagos", intent="report_unrecognized_login", slots={"money_moved": True}),
    )
    (conversation,) = fakes.escalation.triage.calls[0]
    assert (conversation.intent, conversation.text) == ("report_unrecognized_login", "someone logged in from Lagos")
    assert done.messages == []
    assert done.events == [
        SlotSet("triage_category", "unrecognized_login"),
        SlotSet("triage_priority", "high"),
        SlotSet("triage_next", "ask_evidence"),
        SlotSet("conversation_tags", ["need:password_reset"]),
        SlotSet("money_moved", None),
        SlotSet("access_ongoing", None),
        SlotSet("contacts_changed", None),
        SlotSet("possible_change", None),
    ]


async def test_assess_evidence_sets_the_raised_priority_and_the_next_step(fakes: Fakes) -> None:
    fakes.escalation.assess = Answers(Assessment("urgent", "escalate")).sync
    done = await run(ActionAssessEvidence(), tracker(slots={"triage_category": "unrecognized_login"}))
    assert done.events == [SlotSet("triage_priority", "urgent"), SlotSet("triage_next", "escalate")]
    assert done.messages == []


async def test_create_ticket_says_the_ticket_number_when_the_helpdesk_has_it(fakes: Fakes) -> None:
    fakes.escalation.file_ticket = Answers(TicketFiling(Filing.CREATED, "RD-000042", "unrecognized_login", "urgent"))
    done = await run(ActionCreateTicket(), tracker(slots={"triage_category": "unrecognized_login"}))
    assert done.responses == ["utter_ticket_created"]
    assert done.said("utter_ticket_created")["ticket_id"] == "RD-000042"
    assert done.events == [
        SlotSet("ticket_id", "RD-000042"),
        SlotSet("triage_category", "unrecognized_login"),
        SlotSet("triage_priority", "urgent"),
    ]


async def test_create_ticket_tells_a_queued_ticket_with_the_phone_number(fakes: Fakes) -> None:
    filing = TicketFiling(Filing.QUEUED, "RD-000043", "other", "low", support_phone="+1 555 0100")
    fakes.escalation.file_ticket = Answers(filing)
    done = await run(ActionCreateTicket(), tracker())
    message = done.said("utter_ticket_queued")
    assert (message["ticket_id"], message["support_phone"]) == ("RD-000043", "+1 555 0100")
    assert done.slots() == {"ticket_id": "RD-000043", "triage_category": "other", "triage_priority": "low"}


async def test_create_ticket_over_the_limit_files_nothing_and_says_the_scope_and_wait(fakes: Fakes) -> None:
    for scope in ("session", "global"):
        filing = TicketFiling(Filing.TOO_MANY, scope=scope, minutes="7", support_phone="+1 555 0100")
        fakes.escalation.file_ticket = Answers(filing)
        done = await run(ActionCreateTicket(), tracker())
        message = done.said(f"utter_too_many_tickets_{scope}")
        assert (message["minutes"], message["support_phone"]) == ("7", "+1 555 0100")
        assert done.events == []


async def test_count_misunderstanding_sets_what_the_service_counted(fakes: Fakes) -> None:
    counted = Answers("twice")
    fakes.escalation.misunderstood = counted.sync
    fallback = {"event": "user", "text": "?", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    done = await run(ActionCountMisunderstanding(), tracker(events=[fallback, fallback]))
    assert counted.calls[0][0].events == [fallback, fallback]
    assert done.events == [SlotSet("misunderstood", "twice")]


async def test_close_conversation_with_a_ticket_names_it_then_gives_safety_tips(fakes: Fakes) -> None:
    fakes.escalation.close = Answers(Closing("RD-000042", triaged=True))
    done = await run(ActionCloseConversation(), tracker())
    assert done.responses == ["utter_summary_ticket", "utter_safety_tips"]
    assert done.said("utter_summary_ticket")["ticket_id"] == "RD-000042"
    assert done.events == []


async def test_close_conversation_without_a_ticket(fakes: Fakes) -> None:
    fakes.escalation.close = Answers(Closing(None, triaged=True))
    done = await run(ActionCloseConversation(), tracker())
    assert done.responses == ["utter_summary_no_ticket", "utter_safety_tips"]
    fakes.escalation.close = Answers(Closing(None, triaged=False))
    done = await run(ActionCloseConversation(), tracker())
    assert done.responses == ["utter_safety_tips"]


async def test_triage_of_a_how_to_question_sets_only_the_next_step_and_keeps_the_category(fakes: Fakes) -> None:
    fakes.escalation.triage = Answers(Triage(None, None, "confirm_unwanted", [], possible_change="data_change"))
    slots = {"triage_category": "unrecognized_login", "triage_priority": "normal"}
    done = await run(ActionTriageReport(), tracker("change my address", intent="ask_how_to", slots=slots))
    assert done.events == [SlotSet("triage_next", "confirm_unwanted"), SlotSet("possible_change", "data_change")]
    assert done.messages == []


async def test_after_an_urgent_ticket_the_bot_secures_the_account_or_waits_for_the_team(fakes: Fakes) -> None:
    for step in ("secure_now", "team_joining"):
        fakes.escalation.while_team_joins = Answers(step)
        done = await run(ActionSecureWhileTeamJoins(), tracker(slots={"ticket_id": "RD-000044"}))
        ((conversation,),) = fakes.escalation.while_team_joins.calls
        assert conversation.slot("ticket_id") == "RD-000044"
        assert done.events == [SlotSet("triage_next", step)] and done.messages == []
