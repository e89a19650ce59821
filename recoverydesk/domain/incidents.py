"""Incidents: a breach a supervisor declared, with the answers the company approved (issue #9).

While an incident is active the bot answers breach questions with its approved text, and
every conversation and ticket touching it carries ``incident:<id>``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Mapping, Optional

from recoverydesk.domain.errors import InvalidRequest
from recoverydesk.domain.needs import NEEDS
from recoverydesk.domain.tickets import iso

STATUSES = ("active", "closed")
# Approved answers, by the need they answer; ``am_i_affected`` is required and the fallback.
ANSWER_KEYS = ("am_i_affected", "what_data", "what_to_do", "update")
DEFAULT_NEEDS = ("need:am_i_affected", "need:what_data", "need:phishing_report")
MAX_ANSWER = 1000
MAX_TITLE = 200

# Kinds of personal data a customer may say was exposed, and the words that name them.
DATA_KINDS: dict[str, re.Pattern[str]] = {
    kind: re.compile(pattern, re.IGNORECASE)
    for kind, pattern in {
        "email_address": r"\be-?mail(s| address(es)?)?\b",
        "password": r"\bpass(word|words|code)s?\b",
        "phone_number": r"\b(phone|mobile|cell)( number)?s?\b",
        "postal_address": r"\b(postal|home|street) address(es)?\b|\bpost ?code\b|\bzip ?code\b",
        "date_of_birth": r"\b(date of birth|birth ?date|birthday|dob)\b",
        "card_number": r"\b(card number|card details|credit card|debit card|cvv|cvc)\b",
        "bank_account": r"\b(bank account|account number|iban|sort code|routing number)\b",
        "id_document": r"\b(passport|driv(ing|er'?s) licen[cs]e|id card|identity card)\b",
        "national_id": r"\b(social security|ssn|national insurance|tax id|national id)\b",
        "security_answers": r"\b(security question|security answer|mother'?s maiden name)s?\b",
        "transaction_history": r"\b(transaction history|statements?|payment history)\b",
    }.items()
}


@dataclass
class Incident:
    id: str
    title: str
    started_at: str
    owner: str
    answers: dict[str, str]
    exposed_data: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=lambda: list(DEFAULT_NEEDS))
    status: str = "active"
    declared_by: str = ""
    declared_at: str = ""
    closed_at: Optional[str] = None

    @property
    def tag(self) -> str:
        return f"incident:{self.id}"

    @property
    def active(self) -> bool:
        return self.status == "active"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "tag": self.tag}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Incident":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def touches(self, tags: list[str]) -> bool:
        """A conversation or ticket with one of the incident's needs is about it."""
        return any(tag in self.needs for tag in tags)

    def answer_for(self, needs: list[str]) -> str:
        """The approved text for the first need that has one, else the "am I affected" answer."""
        for need in needs:
            key = need.split(":", 1)[-1]
            if key in self.answers:
                return self.answers[key]
        return self.answers["am_i_affected"]


def _text(body: Mapping[str, Any], name: str, limit: int, required: bool = True) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidRequest(f"'{name}' must be a non-empty string.")
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' is longer than {limit} characters.")
    return value.strip()


def parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise InvalidRequest("'started_at' must be an ISO 8601 time such as 2026-11-23T08:00:00Z.") from None
    if moment.tzinfo is None:
        raise InvalidRequest("'started_at' must include a time zone, such as Z.")
    return moment


def declare(incident_id: str, body: Mapping[str, Any], declared_by: str, now: datetime) -> Incident:
    """An incident from a supervisor's request, rejecting anything malformed."""
    if not isinstance(body, Mapping):
        raise InvalidRequest("The incident must be a JSON object.")
    answers = body.get("answers")
    if not isinstance(answers, dict) or not answers:
        raise InvalidRequest(f"'answers' must be an object with approved texts for: {', '.join(ANSWER_KEYS)}.")
    unknown = sorted(set(answers) - set(ANSWER_KEYS))
    if unknown:
        raise InvalidRequest(f"Unknown answer {unknown[0]!r}; use: {', '.join(ANSWER_KEYS)}.")
    cleaned = {key: _text(answers, key, MAX_ANSWER) for key in ANSWER_KEYS if key in answers}
    if "am_i_affected" not in cleaned:
        raise InvalidRequest("'answers.am_i_affected' is required: it is what the bot says by default.")
    exposed = body.get("exposed_data", [])
    if not isinstance(exposed, list) or any(k not in DATA_KINDS for k in exposed):
        raise InvalidRequest(f"'exposed_data' must list kinds from: {', '.join(DATA_KINDS)}.")
    needs = body.get("needs", list(DEFAULT_NEEDS))
    if not isinstance(needs, list) or not needs or any(n not in NEEDS for n in needs):
        raise InvalidRequest(f"'needs' must list needs from: {', '.join(NEEDS)}.")
    started = body.get("started_at")
    return Incident(
        id=incident_id,
        title=_text(body, "title", MAX_TITLE),
        started_at=iso(parse_time(started)) if started is not None else iso(now),
        owner=_text(body, "owner", 100),
        answers=cleaned,
        exposed_data=sorted(set(exposed)),
        needs=sorted(set(needs)),
        declared_by=declared_by,
        declared_at=iso(now),
    )


def close(incident: Incident, now: datetime) -> None:
    if not incident.active:
        raise InvalidRequest(f"Incident {incident.id} is already closed.")
    incident.status = "closed"
    incident.closed_at = iso(now)


def data_kinds_in(text: str) -> set[str]:
    """The kinds of personal data a text names."""
    return {kind for kind, pattern in DATA_KINDS.items() if pattern.search(text or "")}
