"""The ticket: what the security team receives when the bot hands a case over (CONTRACT)."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping, Optional

from recoverydesk.domain.errors import Conflict, InvalidRequest
from recoverydesk.domain.languages import SUPPORTED as LANGUAGES
from recoverydesk.domain.needs import UnknownTag, check_tag
from recoverydesk.domain.redaction import redact_text
from recoverydesk.domain.triage import CATEGORIES, PRIORITIES

STATUSES = ("new", "open", "pending", "resolved", "closed")
VERIFICATION_LEVELS = ("none", "basic", "strong")
TRANSCRIPT_ROLES = ("customer", "bot", "agent")
DEFAULT_SLA_MINUTES = {"urgent": 15, "high": 60, "normal": 8 * 60, "low": 24 * 60}
MAX_TEXT = 4000
MAX_TRANSCRIPT = 200
# printf style, so that Python (`%`) and the helpdesk's Lua intake (string.format) share one format
TICKET_NUMBER_FORMAT = "RD-%06d"
# The one ticket id pattern: what TICKET_NUMBER_FORMAT makes for any sequence number below 10**12
TICKET_ID = re.compile(r"RD-[0-9]{6,12}")
TICKET_ID_IN_TEXT = re.compile(rf"\b{TICKET_ID.pattern}\b")  # a ticket id quoted in a sentence
_TAG = re.compile(r"^[a-z0-9_]+(:[A-Za-z0-9_.-]+)?$")


def ticket_number(sequence: int) -> str:
    """The ticket id for a number drawn from the ticket sequence: RD- and at least six digits."""
    return TICKET_NUMBER_FORMAT % sequence


def is_ticket_id(value: object) -> bool:
    """True for a whole ticket id (a string matching TICKET_ID end to end, no trailing newline)."""
    return isinstance(value, str) and TICKET_ID.fullmatch(value) is not None


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def mask_email(address: str) -> str:
    """j***@example.com (PII-2)."""
    local, _, domain = address.partition("@")
    if not domain:
        return "***"
    return f"{local[:1]}***@{domain}"


@dataclass
class Ticket:
    id: str
    created_at: str
    updated_at: str
    status: str
    priority: str
    category: str
    queue: str
    tags: list[str]
    sla_due_at: str
    channel: str
    conversation_id: str
    customer: dict[str, Any]
    summary: str
    reported_activity: list[dict[str, Any]] = field(default_factory=list)
    suspicious_ips: list[str] = field(default_factory=list)
    actions_taken: list[str] = field(default_factory=list)
    transcript: list[dict[str, str]] = field(default_factory=list)
    control: dict[str, Optional[str]] = field(default_factory=lambda: {"owner": "bot", "agent": None})
    language: str = "en"  # the conversation's language (issue 16); tickets filed before it are English

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Ticket":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def _text(payload: Mapping[str, Any], name: str, default: Optional[str] = None, limit: int = MAX_TEXT) -> str:
    value = payload.get(name, default)
    if not isinstance(value, str):
        raise InvalidRequest(f"'{name}' must be a string.")
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' is longer than {limit} characters.")
    return value


def _choice(payload: Mapping[str, Any], name: str, allowed: tuple[str, ...], default: Optional[str] = None) -> str:
    value = payload.get(name, default)
    if not isinstance(value, str) or value not in allowed:
        raise InvalidRequest(f"'{name}' must be one of: {', '.join(allowed)}.")
    return value


def _string_list(payload: Mapping[str, Any], name: str, limit: int = 50) -> list[str]:
    value = payload.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= 200 for v in value):
        raise InvalidRequest(f"'{name}' must be a list of short strings.")
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' has more than {limit} entries.")
    return list(value)


def validate_tags(tags: list[str]) -> list[str]:
    for tag in tags:
        if not _TAG.match(tag):
            raise InvalidRequest(f"Tag {tag!r} is not of the form word or word:value.")
        try:
            check_tag(tag)  # need:, verified:, incident:, lang:, channel: come from a vocabulary
        except UnknownTag as exc:
            raise InvalidRequest(str(exc)) from None
    return sorted(set(tags))


def _transcript(payload: Mapping[str, Any]) -> list[dict[str, str]]:
    entries = payload.get("transcript", [])
    if not isinstance(entries, list) or len(entries) > MAX_TRANSCRIPT:
        raise InvalidRequest(f"'transcript' must be a list of at most {MAX_TRANSCRIPT} entries.")
    cleaned = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise InvalidRequest("Each transcript entry must be an object.")
        cleaned.append(
            {
                "role": _choice(entry, "role", TRANSCRIPT_ROLES),
                "text": redact_text(_text(entry, "text")),  # defence in depth: the channel redacts first
                "at": _text(entry, "at", "", 40),
            }
        )
    return cleaned


def _customer(payload: Mapping[str, Any]) -> dict[str, Any]:
    customer = payload.get("customer", {})
    if not isinstance(customer, dict):
        raise InvalidRequest("'customer' must be an object.")
    verification = customer.get("verification", {"level": "none", "methods": []})
    if not isinstance(verification, dict):
        raise InvalidRequest("'customer.verification' must be an object.")
    return {
        "account_ref": _text(customer, "account_ref", "", 100) or None,
        "display_name_masked": _text(customer, "display_name_masked", "", 200) or None,
        "verification": {
            "level": _choice(verification, "level", VERIFICATION_LEVELS, "none"),
            "methods": _string_list(verification, "methods", 5),
        },
    }


def new_ticket(
    ticket_id: str,
    payload: Mapping[str, Any],
    now: datetime,
    sla_minutes: Mapping[str, int] = DEFAULT_SLA_MINUTES,
) -> Ticket:
    """Builds a ticket from an intake request, rejecting anything malformed."""
    if not isinstance(payload, Mapping):
        raise InvalidRequest("The ticket must be a JSON object.")
    category = _choice(payload, "category", CATEGORIES, "other")
    priority = _choice(payload, "priority", PRIORITIES)
    activity = payload.get("reported_activity", [])
    if not isinstance(activity, list) or len(activity) > 100 or not all(isinstance(a, dict) for a in activity):
        raise InvalidRequest("'reported_activity' must be a list of at most 100 objects.")
    stamp = iso(now)
    return Ticket(
        id=ticket_id,
        created_at=stamp,
        updated_at=stamp,
        status="new",
        priority=priority,
        category=category,
        queue=_text(payload, "queue", "security", 50) or "security",
        tags=validate_tags(_string_list(payload, "tags")),
        sla_due_at=iso(now + timedelta(minutes=sla_minutes[priority])),
        channel=_text(payload, "channel", "webchat", 50),
        language=_choice(payload, "language", LANGUAGES, "en"),
        conversation_id=_text(payload, "conversation_id", limit=200),
        customer=_customer(payload),
        summary=redact_text(_text(payload, "summary", "")),
        reported_activity=activity,
        suspicious_ips=_string_list(payload, "suspicious_ips"),
        actions_taken=_string_list(payload, "actions_taken"),
        transcript=_transcript(payload),
    )


def queue_score(ticket: Ticket) -> float:
    """Orders the queue by priority, then by SLA due time."""
    due = datetime.fromisoformat(ticket.sla_due_at.replace("Z", "+00:00")).timestamp()
    return PRIORITIES.index(ticket.priority) * 1e11 + due


def _require_open(ticket: Ticket) -> None:
    if ticket.status in ("resolved", "closed"):
        raise Conflict(f"Ticket {ticket.id} is {ticket.status}.")


def claim(ticket: Ticket, agent: str) -> None:
    """One owner at a time: a ticket held by another agent cannot be claimed."""
    _require_open(ticket)
    holder = ticket.control.get("agent")
    if ticket.control.get("owner") == "agent" and holder not in (None, agent):
        raise Conflict(f"{holder} already holds ticket {ticket.id}.")
    ticket.control = {"owner": "agent", "agent": agent}
    ticket.status = "open"


def require_holder(ticket: Ticket, agent: str) -> None:
    if ticket.control.get("owner") != "agent" or ticket.control.get("agent") != agent:
        raise Conflict(f"Claim ticket {ticket.id} before talking to the customer.")


def hand_back(ticket: Ticket, agent: str, summary: str) -> None:
    _require_open(ticket)
    require_holder(ticket, agent)
    ticket.control = {"owner": "bot", "agent": None}
    ticket.status = "pending"
    ticket.actions_taken.append(f"Handed back to the bot by {agent}: {summary}")


def resolve(ticket: Ticket, agent: str, resolution: str) -> None:
    _require_open(ticket)
    ticket.control = {"owner": "bot", "agent": None}
    ticket.status = "resolved"
    ticket.actions_taken.append(f"Resolved by {agent}: {resolution}")


def add_bot_progress(ticket: Ticket, progress: Mapping[str, Any]) -> None:
    """What the bot did after filing, added to the open ticket: who the customer proved to be (a level
    only ever rises here, for the conversation that filed it), the activity they marked, and actions."""
    _require_open(ticket)
    if _text(progress, "conversation_id", limit=200) != ticket.conversation_id:
        raise Conflict(f"Ticket {ticket.id} belongs to another conversation.")
    if "customer" in progress:
        customer = _customer(progress)
        before = ticket.customer.get("verification", {}).get("level", "none")
        level = customer["verification"]["level"]
        if VERIFICATION_LEVELS.index(level) >= VERIFICATION_LEVELS.index(before) and customer["account_ref"]:
            ticket.customer = customer
            others = [t for t in ticket.tags if not t.startswith("verified:")]
            ticket.tags = validate_tags([*others, f"verified:{level}"])
    activity = progress.get("reported_activity", [])
    if not isinstance(activity, list) or len(activity) > 100 or not all(isinstance(a, dict) for a in activity):
        raise InvalidRequest("'reported_activity' must be a list of at most 100 objects.")
    known = {a.get("id") for a in ticket.reported_activity}
    ticket.reported_activity += [a for a in activity if a.get("id") not in known][: 100 - len(ticket.reported_activity)]
    ticket.suspicious_ips = sorted(set(ticket.suspicious_ips) | set(_string_list(progress, "suspicious_ips")))[:50]
    for action in _string_list(progress, "actions_taken", 10):  # a retried request adds nothing twice
        if action not in ticket.actions_taken:
            ticket.actions_taken.append(action)


def customer_reachable_by_email(ticket: Ticket) -> bool:
    """Only a verified customer's account address may hear of the outcome; otherwise only the chat can."""
    level = (ticket.customer.get("verification") or {}).get("level", "none")
    return bool(ticket.customer.get("account_ref")) and level != "none"


BOT_ONLY_TAG_FAMILIES = ("verified:",)  # AGT-5: only the bot's own checks say who the customer is


def check_agent_tag_change(add: list[str], remove: list[str]) -> None:
    if any(tag.startswith(BOT_ONLY_TAG_FAMILIES) for tag in [*add, *remove]):
        raise InvalidRequest("Verification tags come from the bot's checks; agents cannot change them.")


def change_tags(ticket: Ticket, add: list[str], remove: list[str]) -> None:
    """An agent's edit of a ticket's tags."""
    check_agent_tag_change(add, remove)
    ticket.tags = validate_tags([t for t in ticket.tags if t not in remove] + add)
