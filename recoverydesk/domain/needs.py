"""Need tags: what the customer needs from this contact, from a controlled vocabulary (issue #9).

The bot sets them from the triage category, refined by a few words of the customer's own
message (the NLU has one intent for every breach question); agents may edit them later.
"""

from __future__ import annotations

import re
from typing import Callable, Optional

from recoverydesk.domain.triage import need_tag

NEEDS = (
    "need:am_i_affected",
    "need:what_data",
    "need:password_reset",
    "need:mfa_reset",
    "need:unauthorized_transaction",
    "need:phishing_report",
    "need:account_locked",
    "need:complaint",
    "need:other",
)
VERIFIED_VALUES = ("none", "basic", "strong")
# Tag families whose values are checked: anything else of the form word:value stays free.
CONTROLLED_PREFIXES = ("need", "verified", "incident", "lang", "channel")
_INCIDENT_ID = re.compile(r"^INC-[0-9]{4,}$")
_LANG = re.compile(r"^[a-z]{2}(-[A-Z]{2})?$")
_CHANNEL = re.compile(r"^[a-z0-9_.-]{1,40}$")

_WHAT_DATA = re.compile(
    r"\b(what|which)\s+(of\s+my\s+)?(data|information|info|details|kind|kinds|type|types|personal)\b"
    r"|\bwhat\s+(was|were|got|has\s+been|have\s+been)\s+(leaked|exposed|stolen|taken|accessed)\b",
    re.IGNORECASE,
)
_MFA = re.compile(r"\b(2fa|mfa|two[- ]?factor|two[- ]?step|authenticator|otp)\b", re.IGNORECASE)
_COMPLAINT = re.compile(
    r"\b(complain|complaint|unacceptable|disgrace(ful)?|outrage(d|ous)?|ridiculous|appalling|furious|"
    r"incompetent|shameful)\b",
    re.IGNORECASE,
)


class UnknownTag(ValueError):
    """A tag of a controlled family has a value outside its vocabulary."""


def needs_for(category: str, text: Optional[str] = None) -> list[str]:
    """The need tags for a triage category, refined by the customer's words."""
    words = text or ""
    need = need_tag(category)
    if category == "breach_question" and _WHAT_DATA.search(words):
        need = "need:what_data"
    elif need == "need:password_reset" and _MFA.search(words):
        need = "need:mfa_reset"
    needs = [need]
    if _COMPLAINT.search(words):
        needs.append("need:complaint")
    return sorted(set(needs))


def check_tag(tag: str) -> None:
    """Raises UnknownTag when a controlled family's value is not in its vocabulary."""
    family, _, value = tag.partition(":")
    if family not in CONTROLLED_PREFIXES or not value:
        return
    allowed: Callable[[str], bool] = {
        "need": lambda v: f"need:{v}" in NEEDS,
        "verified": lambda v: v in VERIFIED_VALUES,
        "incident": lambda v: bool(_INCIDENT_ID.match(v)),
        "lang": lambda v: bool(_LANG.match(v)),
        "channel": lambda v: bool(_CHANNEL.match(v)),
    }[family]
    if not allowed(value):
        if family == "need":
            raise UnknownTag(f"Tag {tag!r} is not a known need; use one of: {', '.join(NEEDS)}.")
        raise UnknownTag(f"Tag {tag!r} has a value {family}: does not allow.")


def needs_in(tags: list[str]) -> list[str]:
    return sorted(t for t in tags if t.startswith("need:"))


def incidents_in(tags: list[str]) -> list[str]:
    return sorted(t.split(":", 1)[1] for t in tags if t.startswith("incident:"))
