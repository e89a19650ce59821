"""A contact: one conversation as the daily report counts it (issue #9).

The action server writes one record per conversation at each milestone (triage, the incident
answer, a ticket, goodbye). It holds categories and identifiers only: never message text,
an email address, a code or a link.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Optional

from recoverydesk.domain.needs import incidents_in, needs_in

OUTCOMES = ("contained", "handed_off")
VERIFICATION_OUTCOMES = ("not_attempted", "not_completed", "basic", "strong", "sent_to_person")


@dataclass
class Contact:
    conversation_id: str
    started_at: str
    updated_at: str
    channel: str
    category: str
    priority: str
    outcome: str
    verification: str
    tags: list[str] = field(default_factory=list)
    ticket_id: Optional[str] = None
    closed: bool = False

    @property
    def needs(self) -> list[str]:
        return needs_in(self.tags)

    @property
    def incidents(self) -> list[str]:
        return incidents_in(self.tags)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Contact":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def with_edits(self, add: list[str], remove: list[str]) -> "Contact":
        """The contact as an agent corrected its tags."""
        tags = sorted(set(t for t in self.tags if t not in remove) | set(add))
        return Contact.from_dict({**self.to_dict(), "tags": tags})


def verification_outcome(level: str, verify_step: Optional[str]) -> str:
    """How far identity verification got in the conversation."""
    if level in ("basic", "strong"):
        return level
    if verify_step == "needs_person":
        return "sent_to_person"
    if verify_step in ("ask_email", "code_sent"):
        return "not_completed"
    return "not_attempted"


def contact_for(
    conversation_id: str,
    started_at: str,
    now: str,
    channel: str,
    category: str,
    priority: str,
    tags: list[str],
    verification: str,
    ticket_id: Optional[str] = None,
    closed: bool = False,
    language: str = "en",
) -> Contact:
    """The record for a conversation's current state; tags gain lang:, channel: and verified:."""
    level = verification if verification in ("basic", "strong") else "none"
    full = {t for t in tags if not t.startswith(("lang:", "channel:", "verified:"))}
    full |= {f"lang:{language}", f"channel:{channel}", f"verified:{level}"}
    if not needs_in(sorted(full)):
        full.add("need:other")
    return Contact(
        conversation_id=conversation_id,
        started_at=started_at,
        updated_at=now,
        channel=channel,
        category=category,
        priority=priority,
        outcome="handed_off" if ticket_id else "contained",
        verification=verification,
        tags=sorted(full),
        ticket_id=ticket_id,
        closed=closed,
    )
