import pytest

from recoverydesk.domain.triage import (
    CATEGORIES,
    DEFAULT_PRIORITY,
    UNSURE,
    Evidence,
    ambiguous_change,
    category_for_intent,
    next_step,
    priority_for,
    summary,
)


@pytest.mark.parametrize(
    "category, expected",
    [
        ("unauthorized_transaction", "urgent"),
        ("credential_change", "high"),
        ("data_change", "high"),
        ("unrecognized_login", "normal"),
        ("account_locked", "normal"),
        ("phishing_report", "low"),
        ("breach_question", "low"),
        ("other", "low"),
    ],
)
def test_default_priority_follows_the_contract(category, expected):
    assert priority_for(category) == expected


def test_every_category_has_a_default_priority():
    assert set(DEFAULT_PRIORITY) == set(CATEGORIES)


def test_money_moved_raises_any_category_to_urgent():
    for category in CATEGORIES:
        assert priority_for(category, Evidence(money_moved=True)) == "urgent"


def test_ongoing_access_is_urgent_and_changed_contacts_at_least_high():
    assert priority_for("unrecognized_login", Evidence(access_ongoing=True)) == "urgent"
    assert priority_for("phishing_report", Evidence(contacts_changed=True)) == "high"
    assert priority_for("unrecognized_login", Evidence(False, False, False)) == "normal"


def test_evidence_never_lowers_priority():
    assert priority_for("unauthorized_transaction", Evidence(money_moved=False, access_ongoing=False)) == "urgent"
    assert priority_for("credential_change", Evidence(contacts_changed=False)) == "high"


def test_unknown_category_is_rejected():
    with pytest.raises(ValueError):
        priority_for("lost_cat")


def test_report_intents_map_to_categories():
    assert category_for_intent("report_unrecognized_login") == "unrecognized_login"
    assert category_for_intent("ask_breach") == "breach_question"
    assert category_for_intent("greet") is None
    assert category_for_intent(None) is None


def test_next_step_acts_first_on_urgent_cases():
    assert next_step("unauthorized_transaction", "urgent", evidence_asked=False) == "escalate_now"
    assert next_step("unrecognized_login", "normal", evidence_asked=False) == "ask_evidence"
    assert next_step("unrecognized_login", "urgent", evidence_asked=True) == "escalate_now"
    assert next_step("unrecognized_login", "normal", evidence_asked=True) == "offer_team"
    assert next_step("phishing_report", "low", evidence_asked=False) == "phishing_advice"
    assert next_step("breach_question", "low", evidence_asked=False) == "breach_answer"


def test_summary_states_the_evidence():
    text = summary("unrecognized_login", Evidence(money_moved=False, access_ongoing=True))
    assert "sign-in they do not recognise" in text
    assert "Money moved: no." in text and "Access still ongoing: yes." in text and "Contact" not in text


def test_an_unsure_answer_counts_as_yes_for_the_priority_and_is_stated_as_unsure():
    assert priority_for("unrecognized_login", Evidence(access_ongoing=UNSURE)) == "urgent"
    assert priority_for("phishing_report", Evidence(money_moved=UNSURE)) == "urgent"
    assert priority_for("breach_question", Evidence(contacts_changed=UNSURE)) == "high"
    text = summary("unrecognized_login", Evidence(False, UNSURE, None))
    assert "Access still ongoing: unsure." in text and "Money moved: no." in text


def test_a_vague_report_is_asked_what_happened_before_the_evidence():
    assert next_step("other", "low", evidence_asked=False) == "ask_what_happened"
    assert next_step("other", "low", evidence_asked=True) == "offer_team"
    assert next_step("other", "urgent", evidence_asked=True) == "escalate_now"


def test_a_how_to_close_to_a_change_report_is_ambiguous_and_names_the_change():
    assert ambiguous_change([("ask_how_to", 0.55), ("report_data_change", 0.40)]) == "data_change"
    assert ambiguous_change([("report_credential_change", 0.6), ("ask_how_to", 0.3)]) == "credential_change"


def test_a_clear_how_to_or_a_clear_report_is_not_ambiguous():
    assert ambiguous_change([("ask_how_to", 0.97), ("report_data_change", 0.02)]) is None
    assert ambiguous_change([("report_data_change", 0.95), ("ask_how_to", 0.03)]) is None
    assert ambiguous_change([("report_data_change", 0.5), ("report_credential_change", 0.45)]) is None
    assert ambiguous_change([("ask_how_to", 1.0)]) is None
