"""The account directory: customers, their sessions and the activity log of their account."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional

EVENT_KINDS = (
    "login",
    "password_change",
    "email_change",
    "phone_change",
    "mfa_change",
    "transaction",
    "profile_change",
)
CONTACT_CHANGE_KINDS = ("email_change", "phone_change")
RISKY_CHANGE_HOLD_SECONDS = 24 * 3600  # NOT-2
RECENT_CONTACT_DAYS = 30  # IDV-4 and NOT-1
KEEP_PREVIOUS_EMAILS = 3
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# An address inside a customer's message: what verification reads and the NLU recognises.
EMAIL_IN_TEXT = re.compile(r"[^@\s<>\"']{1,64}@[^@\s<>\"']+\.[A-Za-z]{2,}")


class AccountError(Exception):
    """An account or event cannot be recorded as given; the message says why."""


class ChangeHeld(AccountError):
    """NOT-2: a high-risk change (contact details, removing 2FA) right after a recovery waits 24 hours."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        super().__init__(
            "The account was recovered less than 24 hours ago, so changes to its contact details or "
            f"two-factor settings are held until {until.strftime('%Y-%m-%d %H:%M UTC')}."
        )


def normalise_email(address: str) -> str:
    return unicodedata.normalize("NFC", address.strip()).lower()


def valid_email(address: str) -> bool:
    return bool(_EMAIL.match(address)) and len(address) <= 254


def new_account_ref() -> str:
    """Opaque reference used in tickets instead of any contact detail (PII-2)."""
    return "acct_" + secrets.token_hex(8)


def parse_time(value: Optional[str]) -> datetime:
    if not value:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise AccountError(f"{value!r} is not an ISO 8601 time.") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class ActivityEvent:
    id: str
    kind: str
    at: str
    ip: Optional[str] = None
    device: Optional[str] = None
    place: Optional[str] = None
    detail: Optional[str] = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def new_event(
    kind: str,
    at: Optional[str] = None,
    ip: Optional[str] = None,
    device: Optional[str] = None,
    place: Optional[str] = None,
    detail: Optional[str] = None,
) -> ActivityEvent:
    if kind not in EVENT_KINDS:
        raise AccountError(f"KIND must be one of: {', '.join(EVENT_KINDS)}.")
    if ip is not None and not re.fullmatch(r"[0-9A-Fa-f:.]{2,45}", ip):
        raise AccountError(f"{ip!r} is not an IP address.")
    moment = parse_time(at)
    return ActivityEvent(
        id="ev_" + secrets.token_hex(6),
        kind=kind,
        at=moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        ip=ip,
        device=device,
        place=place,
        detail=detail,
    )


@dataclass
class Account:
    ref: str
    email: str
    name: str
    phone: Optional[str] = None
    has_totp: bool = False
    created_at: str = ""
    previous_emails: list[str] = field(default_factory=list)
    email_changed_at: str = ""
    language: str = "en"  # preferred language (issue 16): for emails sent outside a conversation

    def public(self) -> dict[str, Any]:
        """What `accounts show` prints: never a password hash or TOTP seed."""
        return asdict(self)

    def notify_addresses(self, now: Optional[datetime] = None) -> list[str]:
        """NOT-1: the account's address, plus the one it replaced if that was within 30 days."""
        now = now or datetime.now(timezone.utc)
        recent = bool(self.email_changed_at) and (now - parse_time(self.email_changed_at)).days < RECENT_CONTACT_DAYS
        return [self.email, *(self.previous_emails[-1:] if recent else [])]

    def display_name_masked(self) -> str:
        parts = self.name.split()
        return " ".join(p[:1] + "***" for p in parts) if parts else "***"


def contacts_changed_since(events: list[ActivityEvent], cutoff: datetime) -> bool:
    """IDV-4: an email or phone changed after ``cutoff`` is not trusted to deliver a code."""
    return any(e.kind in CONTACT_CHANGE_KINDS and parse_time(e.at) >= cutoff for e in events)
