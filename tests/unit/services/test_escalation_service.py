"""EscalationService with in-memory fakes: triage, evidence, the ticket the bot files, RL-4 limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pytest

from recoverydesk.adapters.helpdesk_client import HelpdeskUnavailable
from recoverydesk.adapters.ticket_outbox import Escalation
from recoverydesk.adapters.traffic_limits import OverLimit
from recoverydesk.domain.accounts import Account
from recoverydesk.domain.conversation import Conversation
from recoverydesk.domain.incidents import Incident
from recoverydesk.services.escalation import EscalationService, Filing
from recoverydesk.services.verification import MarkedActivity
from tests.unit.services.fakes import FakeAccounts, FakeDesk

ANA = Account(ref="acc-ana", email="ana@example.test", name="Ana Lima")
LEAK = Incident("INC-0007", "Card data leak", "2024-03-01T00:00:00Z", "sec-lead", {"am_i_affected": "Maybe."})
USER_TURN = {"event": "user", "timestamp": 1_700_000_100.0, "text": "my mail ana@example.test", "input_channel": "rest"}


class FakeTickets:
    def __init__(self, delivered: bool = True) -> None:
        self.delivered = delivered
        self.filed: dict[str, dict[str, Any]] = {}
        self.progress: list[tuple[str, dict[str, Any]]] = []
        self.refuse: Optional[Exception] = None

    async def add_progress(self, ticket_id: str, progress: dict[str, Any]) -> None:
        if self.refuse is not None:
            raise self.refuse
        self.progress.append((ticket_id, progress))

    async def filed_before(self, key: str) -> bool:
        return key in self.filed

    async def escalate(self, key: str, payload: dict[str, Any]) -> Escalation:
        new = key not in self.filed
        self.filed.setdefault(key, payload)
        return Escalation(f"RD-{list(self.filed).index(key) + 1:06d}", self.delivered, new)


class FakeTrafficLimit:
    def __init__(self, refuse: str = "") -> None:
        self.refuse = refuse
        self.taken: list[tuple[str, str]] = []

    async def take(self, kind: str, session_id: str) -> None:
        if self.refuse:
            raise OverLimit(kind, self.refuse, 125)
        self.taken.append((kind, session_id))


@dataclass
class Desk(FakeDesk):
    accounts: FakeAccounts = field(default_factory=lambda: FakeAccounts(ANA))
    tickets: FakeTickets = field(default_factory=FakeTickets)
    limits: FakeTrafficLimit = field(default_factory=FakeTrafficLimit)

    def service(self) -> EscalationService:
        return self.wire(EscalationService, support_phone="+1 555 0100")


@pytest.fixture
def desk() -> Desk:
    return Desk()


def chat(**slots: Any) -> Conversation:
    return Conversation("c-1", events=[USER_TURN], slots=slots, channel="rest")


async def test_triage_takes_the_category_from_the_intent_and_records_the_contact(desk: Desk) -> None:
    conversation = Conversation("c-1", events=[USER_TURN], intent="report_unauthorized_transaction", text="money")
    triage = await desk.service().triage(conversation)
    assert (triage.category, triage.priority) == ("unauthorized_transaction", "urgent")
    assert triage.next_step == "escalate_now"
    assert triage.tags == ["need:unauthorized_transaction"]
    ((contact, started),) = desk.contacts.saved
    assert (contact.category, contact.priority, started) == ("unauthorized_transaction", "urgent", 1_700_000_100.0)


async def test_a_breach_question_during_an_incident_gets_the_incident_answer_and_tag(desk: Desk) -> None:
    desk.incidents.incidents = [LEAK]
    triage = await desk.service().triage(Conversation("c-1", intent="ask_breach", text="was I hacked?"))
    assert triage.next_step == "incident_answer"
    assert "incident:INC-0007" in triage.tags
    desk.incidents.incidents = []
    assert (await desk.service().triage(Conversation("c-1", intent="ask_breach"))).next_step == "breach_answer"


async def test_an_unknown_intent_is_triaged_as_other_and_asked_what_happened(desk: Desk) -> None:
    triage = await desk.service().triage(Conversation("c-1", intent="greet"))
    assert (triage.category, triage.priority, triage.next_step) == ("other", "low", "ask_what_happened")


def test_evidence_raises_the_priority_and_offers_the_team(desk: Desk) -> None:
    service = desk.service()
    calm = service.assess(chat(triage_category="unrecognized_login"))
    assert (calm.priority, calm.next_step) == ("normal", "offer_team")
    ongoing = service.assess(chat(triage_category="unrecognized_login", access_ongoing=True))
    assert (ongoing.priority, ongoing.next_step) == ("urgent", "escalate_now")


async def test_the_ticket_the_bot_files_carries_the_verification_result_not_its_evidence(desk: Desk) -> None:
    await desk.verifications.grant("c-1", "acc-ana", "basic", "email_code")
    filing = await desk.service().file_ticket(
        chat(
            triage_category="unrecognized_login",
            triage_priority="normal",
            conversation_tags=["need:password_reset"],
            sessions_revoked=3.0,
            suspicious_ips=["203.0.113.9"],
        )
    )
    assert (filing.result, filing.ticket_id, filing.category, filing.priority) == (
        Filing.CREATED,
        "RD-000001",
        "unrecognized_login",
        "normal",
    )
    (payload,) = desk.tickets.filed.values()
    assert payload["customer"] == {
        "account_ref": "acc-ana",
        "display_name_masked": "A*** L***",
        "verification": {"level": "basic", "methods": ["email_code"]},
    }
    assert payload["tags"] == ["channel:rest", "lang:en", "need:password_reset", "verified:basic"]
    assert payload["actions_taken"] == ["Signed out 3 other sessions"]
    assert payload["suspicious_ips"] == ["203.0.113.9"]
    assert "ana@example.test" not in str(payload["transcript"])  # redacted again for the ticket
    assert desk.limits.taken == [("tickets", "c-1")]
    contact = desk.contacts.saved[-1][0]
    assert (contact.ticket_id, contact.outcome) == ("RD-000001", "handed_off")


async def test_a_lost_device_adds_the_mfa_reset_need_and_no_need_falls_back_to_the_category(desk: Desk) -> None:
    lost = Conversation("c-1", events=[USER_TURN], intent="report_lost_device", channel="rest")
    await desk.service().file_ticket(lost)
    (payload,) = desk.tickets.filed.values()
    assert payload["tags"] == ["channel:rest", "lang:en", "need:mfa_reset", "verified:none"]
    assert payload["customer"]["account_ref"] == ""
    desk.tickets.filed.clear()
    await desk.service().file_ticket(chat(triage_category="account_locked"))
    (payload,) = desk.tickets.filed.values()
    assert "need:account_locked" in payload["tags"] and payload["priority"] == "normal"


async def test_a_ticket_the_plugin_has_not_taken_yet_is_queued_with_the_phone_number(desk: Desk) -> None:
    desk.tickets.delivered = False
    filing = await desk.service().file_ticket(chat(triage_category="other"))
    assert (filing.result, filing.ticket_id, filing.support_phone) == (Filing.QUEUED, "RD-000001", "+1 555 0100")


async def test_over_the_ticket_limit_nothing_is_filed_or_recorded(desk: Desk) -> None:
    desk.limits.refuse = "global"
    filing = await desk.service().file_ticket(chat(triage_category="other"))
    assert (filing.result, filing.scope, filing.minutes, filing.support_phone) == (
        Filing.TOO_MANY,
        "global",
        "3",
        "+1 555 0100",
    )
    assert desk.tickets.filed == {} and desk.contacts.saved == []


async def test_a_retried_action_files_no_second_ticket_and_is_not_counted_again(desk: Desk) -> None:
    service = desk.service()
    first = await service.file_ticket(chat(triage_category="other"))
    desk.limits.refuse = "session"  # would refuse a new escalation, not the same one again
    again = await service.file_ticket(chat(triage_category="other"))
    assert (again.result, again.ticket_id) == (Filing.CREATED, first.ticket_id)
    assert len(desk.tickets.filed) == 1 and desk.limits.taken == [("tickets", "c-1")]


def test_two_misunderstandings_in_a_row_count_as_twice(desk: Desk) -> None:
    fallback = {"event": "user", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    understood = {"event": "user", "parse_data": {"intent": {"name": "greet"}}}
    bot = {"event": "bot", "text": "Sorry?"}
    service = desk.service()
    assert service.misunderstood(Conversation("c", events=[fallback, bot, fallback, bot])) == "twice"
    assert service.misunderstood(Conversation("c", events=[fallback, understood, fallback])) == "once"


async def test_closing_marks_a_triaged_conversations_contact_closed(desk: Desk) -> None:
    service = desk.service()
    closing = await service.close(chat(triage_category="other", ticket_id="RD-000009"))
    assert (closing.ticket_id, closing.triaged) == ("RD-000009", True)
    assert desk.contacts.saved[0][0].closed is True
    untriaged = await service.close(chat())
    assert (untriaged.ticket_id, untriaged.triaged) == (None, False)
    assert len(desk.contacts.saved) == 1


async def test_a_how_to_question_is_answered_not_triaged_or_recorded(desk: Desk) -> None:
    ranking = (("ask_how_to", 0.96), ("out_of_scope", 0.02))
    triage = await desk.service().triage(Conversation("c-1", intent="ask_how_to", intent_ranking=ranking))
    assert (triage.category, triage.priority, triage.next_step) == (None, None, "how_to")
    assert desk.contacts.saved == []


async def test_a_message_that_could_be_a_how_to_or_a_change_report_is_asked_about_first(desk: Desk) -> None:
    ranking = (("report_credential_change", 0.5), ("ask_how_to", 0.42))
    triage = await desk.service().triage(Conversation("c-1", intent="report_credential_change", intent_ranking=ranking))
    assert (triage.category, triage.next_step, triage.possible_change) == (
        None,
        "confirm_unwanted",
        "credential_change",
    )
    confirmed = await desk.service().triage(
        Conversation("c-1", intent="affirm", slots={"possible_change": "credential_change"})
    )
    assert (confirmed.category, confirmed.priority, confirmed.next_step) == (
        "credential_change",
        "high",
        "ask_evidence",
    )


def test_an_unsure_answer_is_treated_as_yes_and_the_ticket_says_unsure(desk: Desk) -> None:
    unsure = desk.service().assess(chat(triage_category="unrecognized_login", access_ongoing="unsure"))
    assert (unsure.priority, unsure.next_step) == ("urgent", "escalate_now")


async def test_an_urgent_ticket_says_unsure_and_the_bot_secures_the_account_while_the_team_joins(desk: Desk) -> None:
    service = desk.service()
    urgent = chat(triage_category="unrecognized_login", triage_priority="urgent", money_moved="unsure")
    filing = await service.file_ticket(chat(**urgent.slots, access_ongoing=True))
    assert (filing.result, filing.priority) == (Filing.CREATED, "urgent")
    (payload,) = desk.tickets.filed.values()
    assert "Money moved: unsure." in payload["summary"] and "Access still ongoing: yes." in payload["summary"]
    assert payload["actions_taken"] == ["Advised the customer to freeze their card in the app"]
    assert await service.while_team_joins(chat(**urgent.slots, ticket_id=filing.ticket_id)) == "secure_now"


async def test_the_team_joins_without_a_securing_step_when_not_urgent_verifying_or_sent_to_a_person(
    desk: Desk,
) -> None:
    service = desk.service()
    filed = {"ticket_id": "RD-000001", "triage_category": "unauthorized_transaction"}
    assert await service.while_team_joins(chat(**filed, triage_priority="normal")) == "team_joining"
    assert await service.while_team_joins(chat(triage_priority="urgent")) == "team_joining"  # no ticket filed
    person = chat(**filed, triage_priority="urgent", verify_step="needs_person")
    assert await service.while_team_joins(person) == "team_joining"
    await desk.verifications.grant("c-1", "acc-ana", "basic", "email_code")
    assert await service.while_team_joins(chat(**filed, triage_priority="urgent")) == "team_joining"


async def test_the_open_ticket_gets_the_verified_account_marked_activity_and_actions(desk: Desk) -> None:
    service = desk.service()
    assert await service.add_to_ticket(chat()) is False  # no ticket in this conversation: nothing is sent
    assert desk.tickets.progress == []
    await desk.verifications.grant("c-1", "acc-ana", "basic", "email_code")
    marked = MarkedActivity([{"id": "ev-2", "kind": "login", "ip": "203.0.113.9"}], ["203.0.113.9"])
    assert await service.add_to_ticket(chat(ticket_id="RD-000009"), marked=marked, sessions_revoked=2)
    ((ticket_id, progress),) = desk.tickets.progress
    assert ticket_id == "RD-000009" and progress["conversation_id"] == "c-1"
    assert progress["customer"] == {
        "account_ref": "acc-ana",
        "display_name_masked": "A*** L***",
        "verification": {"level": "basic", "methods": ["email_code"]},
    }
    assert progress["reported_activity"] == marked.events and progress["suspicious_ips"] == ["203.0.113.9"]
    assert progress["actions_taken"] == [
        "Customer verified (basic: email_code)",
        "Customer marked 1 activity item(s) as not them",
        "Signed out 2 other sessions",
    ]


async def test_a_helpdesk_that_cannot_take_the_progress_does_not_stop_the_chat(desk: Desk) -> None:
    desk.tickets.refuse = HelpdeskUnavailable("down")
    assert await desk.service().add_to_ticket(chat(ticket_id="RD-000009"), sessions_revoked=1) is False
