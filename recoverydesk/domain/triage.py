"""Triage: from what the customer reported to a category and a priority (CONTRACT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

CATEGORIES = (
    "unauthorized_transaction",
    "credential_change",
    "data_change",
    "unrecognized_login",
    "phishing_report",
    "breach_question",
    "account_locked",
    "other",
)
PRIORITIES = ("urgent", "high", "normal", "low")

DEFAULT_PRIORITY = {
    "unauthorized_transaction": "urgent",
    "credential_change": "high",
    "data_change": "high",
    "unrecognized_login": "normal",
    "account_locked": "normal",
    "phishing_report": "low",
    "breach_question": "low",
    "other": "low",
}

INTENT_CATEGORY = {
    "report_unauthorized_transaction": "unauthorized_transaction",
    "report_credential_change": "credential_change",
    "report_data_change": "data_change",
    "report_unrecognized_login": "unrecognized_login",
    "report_phishing": "phishing_report",
    "ask_breach": "breach_question",
    "report_account_locked": "account_locked",
    "report_other": "other",
}


@dataclass(frozen=True)
class Evidence:
    """Answers to the follow-up questions; None means not asked or not answered."""

    money_moved: Optional[bool] = None
    access_ongoing: Optional[bool] = None
    contacts_changed: Optional[bool] = None


def raise_to(priority: str, floor: str) -> str:
    """The more urgent of two priorities."""
    return min(priority, floor, key=PRIORITIES.index)


def priority_for(category: str, evidence: Evidence = Evidence()) -> str:
    """Default priority for the category; evidence may raise it, never lower it."""
    if category not in DEFAULT_PRIORITY:
        raise ValueError(f"unknown triage category: {category}")
    priority = DEFAULT_PRIORITY[category]
    if evidence.money_moved:
        priority = raise_to(priority, "urgent")
    if evidence.access_ongoing:
        priority = raise_to(priority, "urgent")  # an attacker still inside acts first
    if evidence.contacts_changed:
        priority = raise_to(priority, "high")
    return priority


def category_for_intent(intent: Optional[str]) -> Optional[str]:
    return INTENT_CATEGORY.get(intent or "")


def next_step(category: str, priority: str, evidence_asked: bool) -> str:
    """What the bot does after triage: the value of the ``triage_next`` slot."""
    if category == "phishing_report":
        return "phishing_advice"
    if category == "breach_question":
        return "breach_answer"
    if priority == "urgent":
        return "escalate_now"
    return "offer_team" if evidence_asked else "ask_evidence"


def need_tag(category: str) -> str:
    """The reporting tag (``need:``) for a triage category."""
    return {
        "unauthorized_transaction": "need:unauthorized_transaction",
        "credential_change": "need:password_reset",
        "data_change": "need:other",
        "unrecognized_login": "need:password_reset",
        "phishing_report": "need:phishing_report",
        "breach_question": "need:am_i_affected",
        "account_locked": "need:account_locked",
        "other": "need:other",
    }[category]


def summary(category: str, evidence: Evidence) -> str:
    """The one-paragraph summary the bot writes for the security team."""
    facts = {
        "Money moved": evidence.money_moved,
        "Access still ongoing": evidence.access_ongoing,
        "Contact details or 2FA changed": evidence.contacts_changed,
    }
    answered = [f"{name}: {'yes' if value else 'no'}." for name, value in facts.items() if value is not None]
    return " ".join([SUMMARIES[category], *answered])


SUMMARIES = {
    "unauthorized_transaction": "Customer reports a transaction they did not make.",
    "credential_change": "Customer reports a password, email, phone or 2FA change they did not make.",
    "data_change": "Customer reports profile details changed without them.",
    "unrecognized_login": "Customer reports a sign-in they do not recognise.",
    "phishing_report": "Customer reports a phishing attempt.",
    "breach_question": "Customer asks whether the breach affects them.",
    "account_locked": "Customer cannot get in: account locked.",
    "other": "Customer reports unusual activity.",
}
