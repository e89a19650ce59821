"""Crisis mode's plain domain: need tags, incidents, contact records, report arithmetic and page."""

from datetime import date, datetime, timedelta, timezone

import pytest

from recoverydesk.domain.contacts import contact_for, verification_outcome
from recoverydesk.domain.errors import InvalidRequest
from recoverydesk.domain.incidents import close, data_kinds_in, declare
from recoverydesk.domain.needs import NEEDS, needs_for
from recoverydesk.domain.reports import TicketFacts, daily_report, percentile, to_csv
from recoverydesk.domain.tickets import new_ticket, validate_tags
from recoverydesk.services.report_page import bar_chart, report_body

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
INCIDENT = {
    "title": "Card data leak",
    "owner": "ciso",
    "answers": {"am_i_affected": "We will email you.", "what_data": "Names and emails."},
}


@pytest.mark.parametrize(
    "category, text, needs",
    [
        ("breach_question", "was my data part of the breach in the news?", ["need:am_i_affected"]),
        ("breach_question", "what data of mine was leaked?", ["need:what_data"]),
        ("breach_question", "which information did they get", ["need:what_data"]),
        ("credential_change", "someone changed my password", ["need:password_reset"]),
        ("credential_change", "my 2FA was switched off", ["need:mfa_reset"]),
        ("unrecognized_login", "a login from another country, I want my authenticator reset", ["need:mfa_reset"]),
        (
            "unauthorized_transaction",
            "money left my account, this is unacceptable",
            ["need:complaint", "need:unauthorized_transaction"],
        ),
        ("phishing_report", "an sms asked for my card", ["need:phishing_report"]),
        ("account_locked", "I'm locked out", ["need:account_locked"]),
        ("other", None, ["need:other"]),
    ],
)
def test_needs_come_from_the_category_refined_by_the_words(category, text, needs):
    assert needs_for(category, text) == needs
    assert set(needs) <= set(NEEDS)


def test_only_known_needs_and_values_are_accepted_as_tags():
    assert validate_tags(["need:mfa_reset", "incident:INC-0003", "lang:en", "channel:webchat", "verified:basic"])
    for bad in ("need:panic", "verified:totally", "incident:42", "lang:english!"):
        with pytest.raises(InvalidRequest):
            validate_tags([bad])
    with pytest.raises(InvalidRequest):
        new_ticket("RD-1", {"priority": "low", "conversation_id": "c" * 40, "tags": ["need:whatever"]}, NOW)


def test_an_incident_needs_a_default_answer_and_known_fields():
    incident = declare("INC-0001", INCIDENT, "boss", NOW)
    assert incident.tag == "incident:INC-0001" and incident.active and incident.started_at == "2026-11-23T12:00:00Z"
    assert incident.answer_for(["need:what_data"]) == "Names and emails."
    assert incident.answer_for(["need:complaint"]) == "We will email you."
    for bad in (
        {**INCIDENT, "answers": {"what_data": "x"}},
        {**INCIDENT, "answers": {"gossip": "x"}},
        {**INCIDENT, "title": ""},
        {**INCIDENT, "exposed_data": ["souls"]},
        {**INCIDENT, "needs": ["need:x"]},
        {**INCIDENT, "started_at": "yesterday"},
        {**INCIDENT, "started_at": "2026-11-23T08:00:00"},
    ):
        with pytest.raises(InvalidRequest):
            declare("INC-0002", bad, "boss", NOW)
    close(incident, NOW)
    assert not incident.active
    with pytest.raises(InvalidRequest):
        close(incident, NOW)


def test_data_kinds_are_named_from_plain_words():
    assert data_kinds_in("They have my passport and my date of birth") == {"id_document", "date_of_birth"}
    assert data_kinds_in("my social security number and IBAN") == {"national_id", "bank_account"}
    assert data_kinds_in("someone logged in") == set()


def test_a_contact_carries_lang_channel_and_verified_tags_and_no_text():
    contact = contact_for(
        "conv-1",
        "2026-11-23T10:00:00Z",
        "2026-11-23T10:05:00Z",
        "telegram",
        "breach_question",
        "low",
        ["need:am_i_affected", "channel:old"],
        "basic",
        ticket_id="RD-000009",
    )
    assert contact.tags == ["channel:telegram", "lang:en", "need:am_i_affected", "verified:basic"]
    assert contact.outcome == "handed_off"
    assert contact_for("c", "", "", "webchat", "other", "low", [], "not_attempted").needs == ["need:other"]
    assert [
        verification_outcome(level, step)
        for level, step in [
            ("none", None),
            ("none", "code_sent"),
            ("basic", "verified"),
            ("strong", None),
            ("none", "needs_person"),
        ]
    ] == ["not_attempted", "not_completed", "basic", "strong", "sent_to_person"]


def test_percentiles_are_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([5], 90) == 5
    assert percentile(range(1, 11), 50) == 5 and percentile(range(1, 11), 90) == 9
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90) == 10


def _ticket(number: int, priority: str, created: datetime, answered_after=None, resolved_after=None) -> TicketFacts:
    due = created + timedelta(minutes={"urgent": 15, "high": 60, "normal": 480, "low": 1440}[priority])
    return TicketFacts(
        f"RD-{number}",
        priority,
        "open",
        "webchat",
        created,
        due,
        first_response_at=created + answered_after if answered_after else None,
        resolved_at=created + resolved_after if resolved_after else None,
    )


def test_a_late_first_response_is_a_breach_with_how_late():
    day = date(2026, 11, 23)
    start = datetime(2026, 11, 23, tzinfo=timezone.utc)
    tickets = [
        _ticket(1, "urgent", start + timedelta(hours=1), timedelta(minutes=5)),
        _ticket(2, "urgent", start + timedelta(hours=2), timedelta(minutes=20)),
        _ticket(3, "urgent", start + timedelta(hours=3)),
        _ticket(4, "low", start + timedelta(hours=23)),
    ]
    report = daily_report(day, start + timedelta(days=2), [], tickets, [])
    assert report["sla"]["urgent"] == {"met": 1, "breached": 2, "pending": 0, "compliance": 0.3333}
    assert report["sla"]["low"] == {"met": 0, "breached": 0, "pending": 1, "compliance": None}
    assert [(b["ticket_id"], b["late_by_seconds"]) for b in report["breaches"]] == [
        ("RD-2", 300),
        ("RD-3", 20 * 3600 + 45 * 60),
    ]
    assert report["first_response"]["urgent"]["p50_seconds"] == 300
    assert report["backlog"]["total"] == 4 and report["backlog"]["as_of"] == "2026-11-24T00:00:00Z"
    assert "sla,urgent.breached,2" in to_csv(report)


def test_report_page_escapes_every_value_and_draws_svg():
    chart = bar_chart("x", "<b>title</b>", [("<script>alert(1)</script>", 3, "3")])
    assert "<script>" not in chart and "&lt;script&gt;" in chart and "<svg" in chart
    day = date(2026, 11, 23)
    page = report_body(daily_report(day, NOW, [], [], []))
    assert page.count("<svg") == 7 and "<script" not in page and "style=" not in page
