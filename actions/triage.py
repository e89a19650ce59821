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
        priority = raise_to(priority, "high")
    if evidence.contacts_changed:
        priority = raise_to(priority, "high")
    return priority


def category_for_intent(intent: Optional[str]) -> Optional[str]:
    return INTENT_CATEGORY.get(intent or "")
