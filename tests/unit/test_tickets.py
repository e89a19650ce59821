from datetime import datetime, timezone

import pytest

from recoverydesk.domain.errors import Conflict, InvalidRequest
from recoverydesk.domain.tickets import (
    add_bot_progress,
    customer_reachable_by_email,
    mask_email,
    new_ticket,
    queue_score,
    resolve,
)

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


def progress(**overrides):
    payload = {"conversation_id": "c" * 40, "actions_taken": ["Signed out 2 other sessions"]}
    payload.update(overrides)
    return payload


VERIFIED = {
    "account_ref": "acc-1",
    "display_name_masked": "A*** L***",
    "verification": {"level": "basic", "methods": ["email_code"]},
}


def test_bot_progress_adds_the_verified_account_activity_and_actions_once():
    ticket = new_ticket("RD-1", intake(tags=["verified:none"]), NOW)
    assert not customer_reachable_by_email(ticket)
    update = progress(
        customer=VERIFIED, reported_activity=[{"id": "ev-1", "kind": "login"}], suspicious_ips=["203.0.113.9"]
    )
    add_bot_progress(ticket, update)
    add_bot_progress(ticket, update)  # a retried request adds nothing twice
    assert ticket.customer["account_ref"] == "acc-1" and ticket.customer["verification"]["level"] == "basic"
    assert ticket.tags == ["verified:basic"]
    assert ticket.reported_activity == [{"id": "ev-1", "kind": "login"}]
    assert ticket.suspicious_ips == ["203.0.113.9"]
    assert ticket.actions_taken == ["Signed out 2 other sessions"]
    assert customer_reachable_by_email(ticket)


def test_bot_progress_never_lowers_a_verification():
    ticket = new_ticket(
        "RD-1", intake(customer={**VERIFIED, "verification": {"level": "strong", "methods": ["totp"]}}), NOW
    )
    add_bot_progress(ticket, progress(customer=VERIFIED))
    assert ticket.customer["verification"]["level"] == "strong"


def test_bot_progress_is_refused_for_another_conversation_or_a_resolved_ticket():
    ticket = new_ticket("RD-1", intake(), NOW)
    with pytest.raises(Conflict):
        add_bot_progress(ticket, progress(conversation_id="d" * 40, customer=VERIFIED))
    assert ticket.customer["account_ref"] is None
    resolve(ticket, "sec", "done")
    with pytest.raises(Conflict):
        add_bot_progress(ticket, progress())
