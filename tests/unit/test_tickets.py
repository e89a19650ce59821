from datetime import datetime, timezone

import pytest

from recoverydesk.domain.errors import InvalidRequest
from recoverydesk.domain.tickets import mask_email, new_ticket, queue_score

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def intake(**overrides):
    payload = {"category": "unrecognized_login", "priority": "normal", "conversation_id": "c" * 40}
    payload.update(overrides)
    return payload


def test_sla_due_time_follows_priority():
    assert new_ticket("RD-1", intake(priority="urgent"), NOW).sla_due_at == "2026-11-23T12:15:00Z"
    assert new_ticket("RD-1", intake(priority="low"), NOW).sla_due_at == "2026-11-24T12:00:00Z"


def test_queue_orders_by_priority_then_due_time():
    urgent = new_ticket("RD-1", intake(priority="urgent"), NOW)
    normal_early = new_ticket("RD-2", intake(priority="normal"), NOW)
    normal_late = new_ticket("RD-3", intake(priority="normal"), NOW.replace(hour=13))
    assert sorted([normal_late, urgent, normal_early], key=queue_score) == [urgent, normal_early, normal_late]


def test_transcript_is_redacted_again_on_intake():
    ticket = new_ticket("RD-1", intake(transcript=[{"role": "customer", "text": "code 123456", "at": ""}]), NOW)
    assert "123456" not in ticket.transcript[0]["text"]


@pytest.mark.parametrize(
    "bad",
    [
        {"priority": "whenever"},
        {"category": "lost_cat"},
        {"tags": "not-a-list"},
        {"tags": ["Bad Tag!"]},
        {"transcript": [{"role": "hacker", "text": "x"}]},
        {"summary": 5},
        {"customer": {"verification": {"level": "super"}}},
        {"conversation_id": None},
    ],
)
def test_malformed_intake_is_rejected_with_a_reason(bad):
    with pytest.raises(InvalidRequest) as error:
        new_ticket("RD-1", intake(**bad), NOW)
    assert error.value.message


def test_emails_are_masked():
    assert mask_email("jane.doe@example.com") == "j***@example.com"
    assert mask_email("nonsense") == "***"
