"""Triage: from what the customer reported to a category and a priority (CONTRACT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Union

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


UNSURE = "unsure"  # the customer could not say: recorded as such, and treated as the safer answer (yes)
Answer = Union[bool, str, None]

# A how-to question about the customer's own settings: answered, never triaged as a report.
HOW_TO_INTENT = "ask_how_to"
# Reports of a change that could also be a question about making it: the bot asks which.
CHANGE_REPORT_INTENTS = {"report_data_change": "data_change", "report_credential_change": "credential_change"}
# A how-to and a change report this close in the classifier's ranking could be either.
AMBIGUITY_MARGIN = 0.5


@dataclass(frozen=True)
class Evidence:
    """Answers to the follow-up questions: True, False, ``UNSURE``, or None (not asked or not answered)."""

    money_moved: Answer = None
    access_ongoing: Answer = None
    contacts_changed: Answer = None


def counts_as_yes(answer: Answer) -> bool:
    """An unsure answer is treated as the safer of the two: as if it happened."""
    return answer is True or answer == UNSURE


def answer_word(answer: Answer) -> str:
    """How the ticket summary states an answer: yes, no or unsure."""
    if answer == UNSURE:
        return UNSURE
    return "yes" if answer else "no"


def raise_to(priority: str, floor: str) -> str:
    """The more urgent of two priorities."""
    return min(priority, floor, key=PRIORITIES.index)


def priority_for(category: str, evidence: Evidence = Evidence()) -> str:
    """Default priority for the category; evidence may raise it, never lower it."""
    if category not in DEFAULT_PRIORITY:
        raise ValueError(f"unknown triage category: {category}")
    priority = DEFAULT_PRIORITY[category]
    if counts_as_yes(evidence.money_moved):
        priority = raise_to(priority, "urgent")
    if counts_as_yes(evidence.access_ongoing):
        priority = raise_to(priority, "urgent")  # an attacker still inside acts first
    if counts_as_yes(evidence.contacts_changed):
        priority = raise_to(priority, "high")
    return priority


def category_for_intent(intent: Optional[str]) -> Optional[str]:
    return INTENT_CATEGORY.get(intent or "")


def ambiguous_change(ranking: list[tuple[str, float]]) -> Optional[str]:
    """The change category when the top two intents are a how-to and a change report close together.

    "change my email address" could be a question or a report: the bot then asks whether the change
    happened without the customer, rather than filing a how-to as a ticket or a report as a how-to."""
    if len(ranking) < 2:
        return None
    (first, first_score), (second, second_score) = ranking[0], ranking[1]
    if {first, second} & {HOW_TO_INTENT} and {first, second} & set(CHANGE_REPORT_INTENTS):
        if first_score - second_score <= AMBIGUITY_MARGIN:
            change = first if first in CHANGE_REPORT_INTENTS else second
            return CHANGE_REPORT_INTENTS[change]
    return None


def next_step(category: str, priority: str, evidence_asked: bool) -> str:
    """What the bot does after triage: the value of the ``triage_next`` slot."""
    if category == "other" and not evidence_asked:
        return "ask_what_happened"  # a vague report: one question with choices sets the category
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
    answered = [f"{name}: {answer_word(value)}." for name, value in facts.items() if value is not None]
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
