"""Tickets and contact records carry the conversation's language (issue 16): the ``language``
field and the ``lang:<code>`` tag follow the slot, else the channel's hint, else the default."""

from datetime import datetime, timezone

import pytest

from recoverydesk.domain.contacts import contact_for
from recoverydesk.domain.conversation import Conversation
from recoverydesk.domain.errors import InvalidRequest
from recoverydesk.domain.tickets import Ticket, new_ticket
from recoverydesk.services.escalation import ticket_tags

NOW = datetime(2026, 12, 8, 2, 0, tzinfo=timezone.utc)


def test_the_conversation_language_is_the_slot_then_the_hint_then_the_default():
    hinted = [{"event": "user", "text": "ok", "metadata": {"language_hint": "it-IT"}}]
    assert Conversation(id="c", slots={"language": "ru"}, events=hinted).language == "ru"
    assert Conversation(id="c", events=hinted).language == "it"
    assert Conversation(id="c").language == "en"
    assert Conversation(id="c", default_language="es").language == "es"


def test_bot_tickets_are_tagged_with_the_conversation_language():
    tags = ticket_tags(Conversation(id="c", slots={"language": "es"}), "unrecognized_login", [])
    assert "lang:es" in tags and "lang:en" not in tags


def test_a_ticket_keeps_its_language_and_refuses_an_unknown_one():
    assert new_ticket("RD-100001", {"priority": "low", "conversation_id": "c", "language": "ru"}, NOW).language == "ru"
    assert new_ticket("RD-100001", {"priority": "low", "conversation_id": "c"}, NOW).language == "en"
    with pytest.raises(InvalidRequest):
        new_ticket("RD-100001", {"priority": "low", "conversation_id": "c", "language": "fr"}, NOW)
    stored = new_ticket("RD-100001", {"priority": "low", "conversation_id": "c", "language": "it"}, NOW).to_dict()
    assert Ticket.from_dict(stored).language == "it"
    del stored["language"]  # a ticket stored before languages
    assert Ticket.from_dict(stored).language == "en"


def test_a_contact_record_is_tagged_with_its_language():
    record = contact_for("c", "", "", "webchat", "other", "low", [], "not_attempted", language="it")
    assert "lang:it" in record.tags


def test_the_console_shows_a_language_badge_and_filters_by_language():
    from helpdesk_plugin.web import console

    row = console.queue_row({"id": "RD-100001", "language": "ru", "priority": "low", "status": "new"})
    assert '<span class="badge badge--lang-ru">RU</span>' in row
    older = console.queue_row({"id": "RD-100002", "priority": "low", "status": "new"})
    assert "badge--lang-en" in older
    form = console.filter_form(None, None, "it")
    assert '<select name="language">' in form and '<option value="it" selected>it</option>' in form
