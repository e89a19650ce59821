"""CrisisService with in-memory fakes: the active incident's answer, incident tags, contact records."""

from __future__ import annotations

from redis.exceptions import ConnectionError as RedisConnectionError

from recoverydesk.domain.conversation import Conversation
from recoverydesk.domain.incidents import Incident
from recoverydesk.services.crisis import CrisisService, conversation_start, with_incident
from tests.unit.services.fakes import FakeContacts, FakeIncidents, FakeVerifications

ANSWERS = {"am_i_affected": "Perhaps.", "what_data": "Names and card numbers."}
LEAK = Incident("INC-0007", "Card data leak", "2024-03-01T00:00:00Z", "sec-lead", ANSWERS)
OLDER = Incident("INC-0003", "Older leak", "2024-01-01T00:00:00Z", "sec-lead", {"am_i_affected": "No."})


def crisis(incidents: FakeIncidents, contacts: FakeContacts | None = None) -> CrisisService:
    return CrisisService(incidents, contacts or FakeContacts(), FakeVerifications())


async def test_the_answer_follows_the_conversations_needs_from_the_most_recent_incident() -> None:
    service = crisis(FakeIncidents(LEAK, OLDER))
    answer = await service.incident_answer(["incident:INC-0007", "need:what_data"])
    assert answer is not None and (answer.title, answer.answer) == ("Card data leak", "Names and card numbers.")
    general = await service.incident_answer([])
    assert general is not None and general.answer == "Perhaps."


async def test_no_incident_when_none_is_active_or_redis_cannot_say() -> None:
    assert await crisis(FakeIncidents()).incident_answer(["need:what_data"]) is None
    assert await crisis(FakeIncidents(LEAK, fails=RedisConnectionError("down"))).active_incident() is None


def test_incident_tags_join_only_conversations_about_it() -> None:
    assert with_incident(["need:what_data"], LEAK) == ["incident:INC-0007", "need:what_data"]
    assert with_incident(["need:password_reset"], LEAK) == ["need:password_reset"]
    assert with_incident([], LEAK, "breach_question") == ["incident:INC-0007"]
    assert with_incident(["need:what_data"], None) == ["need:what_data"]


def test_the_conversation_starts_at_the_first_user_message_of_the_session() -> None:
    events = [
        {"event": "user", "timestamp": 10.0},
        {"event": "session_started"},
        {"event": "bot", "timestamp": 20.0},
        {"event": "user", "timestamp": 30.0},
        {"event": "user", "timestamp": 40.0},
    ]
    assert conversation_start(events) == 30.0
    assert conversation_start([{"event": "bot", "timestamp": 1.0}], now=99.0) == 99.0


async def test_a_contact_record_is_made_from_the_conversations_slots() -> None:
    contacts = FakeContacts()
    conversation = Conversation(
        "c-1",
        events=[{"event": "user", "timestamp": 1_700_000_000.0}],
        slots={"triage_category": "phishing_report", "verify_step": "code_sent", "conversation_tags": ["need:other"]},
        channel="telegram",
    )
    await crisis(FakeIncidents(), contacts).record_contact(conversation, priority="low")
    ((contact, started),) = contacts.saved
    assert started == 1_700_000_000.0
    assert (contact.channel, contact.category, contact.priority) == ("telegram", "phishing_report", "low")
    assert contact.verification == "not_completed"
    assert contact.started_at == "2023-11-14T22:13:20Z"
    assert contact.tags == ["channel:telegram", "lang:en", "need:other", "verified:none"]
    assert (contact.outcome, contact.closed) == ("contained", False)


async def test_a_contact_that_cannot_be_saved_does_not_break_the_conversation() -> None:
    contacts = FakeContacts(fails=RedisConnectionError("down"))
    await crisis(FakeIncidents(), contacts).record_contact(Conversation("c-1"))
    assert contacts.saved == []
