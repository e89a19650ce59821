import pytest

from actions.triage import CATEGORIES, DEFAULT_PRIORITY, Evidence, category_for_intent, priority_for


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


def test_ongoing_access_or_changed_contacts_raise_to_at_least_high():
    assert priority_for("unrecognized_login", Evidence(access_ongoing=True)) == "high"
    assert priority_for("phishing_report", Evidence(contacts_changed=True)) == "high"


def test_evidence_never_lowers_priority():
    assert priority_for("unauthorized_transaction", Evidence(money_moved=False, access_ongoing=False)) == "urgent"
    assert priority_for("credential_change", Evidence(access_ongoing=True)) == "high"


def test_unknown_category_is_rejected():
    with pytest.raises(ValueError):
        priority_for("lost_cat")


def test_report_intents_map_to_categories():
    assert category_for_intent("report_unrecognized_login") == "unrecognized_login"
    assert category_for_intent("ask_breach") == "breach_question"
    assert category_for_intent("greet") is None
    assert category_for_intent(None) is None
