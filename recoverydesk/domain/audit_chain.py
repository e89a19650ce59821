"""The audit trail's hash chain (AUD-2): how one entry is encoded, linked to the one before it in
its subject's chain, and how a chain is verified, naming the first link that does not hold.

Every subject (a ticket, or the desk itself for entries without one) has its own chain numbered
1, 2, 3, ...; an entry's link is HMAC-SHA256, under a key derived from the root secret, of its
canonical encoding, which includes the link before it. An offline edit, insertion or removal
inside a chain therefore breaks the link of the edited entry or of the one after it. After a
retention purge a chain starts at an anchor: the sequence number and link of its last purged entry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Optional

GENESIS = "0" * 64
"""The link before the first entry of every chain."""

DESK_SUBJECT = "desk"
"""The chain of entries about no ticket (sign-ins, reports, incidents)."""


def subject_for(ticket_id: Optional[str]) -> str:
    """The chain an entry belongs to: its ticket's, or the desk's."""
    return f"ticket:{ticket_id}" if ticket_id else DESK_SUBJECT


@dataclass(frozen=True)
class AuditEntry:
    """One audit row as the chain sees it; ``link`` is empty until the entry is sealed."""

    subject: str
    seq: int
    at: str
    action: str
    actor: str
    ticket_id: Optional[str]
    detail: Mapping[str, str] = field(default_factory=dict)
    before: Optional[Mapping[str, Any]] = None
    after: Optional[Mapping[str, Any]] = None
    prev: str = GENESIS
    link: str = ""


@dataclass(frozen=True)
class Anchor:
    """Where a purged chain starts again: the last purged entry's sequence number and link."""

    subject: str
    seq: int
    link: str


@dataclass(frozen=True)
class BrokenLink:
    """The first entry of a chain that does not verify, and why, in one sentence."""

    subject: str
    seq: int
    reason: str

    def sentence(self) -> str:
        return f"The audit chain of {self.subject} breaks at entry {self.seq}: {self.reason}."


@dataclass(frozen=True)
class Verdict:
    """How many entries were checked, and the first broken link if any."""

    checked: int
    broken: Optional[BrokenLink] = None

    @property
    def holds(self) -> bool:
        return self.broken is None


def document(entry: AuditEntry) -> dict[str, Any]:
    """Every field the link covers (all but the link itself), as plain JSON values."""
    return {
        "subject": entry.subject,
        "seq": entry.seq,
        "at": entry.at,
        "action": entry.action,
        "actor": entry.actor,
        "ticket_id": entry.ticket_id,
        "detail": dict(entry.detail),
        "before": dict(entry.before) if entry.before is not None else None,
        "after": dict(entry.after) if entry.after is not None else None,
        "prev": entry.prev,
    }


def canonical(entry: AuditEntry) -> bytes:
    """The bytes the link covers, in one stable JSON encoding."""
    return json.dumps(document(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_of(key: bytes, entry: AuditEntry) -> str:
    """The entry's link: HMAC-SHA256 of its canonical encoding, as hex."""
    return hmac.new(key, canonical(entry), hashlib.sha256).hexdigest()


def seal(key: bytes, entry: AuditEntry) -> AuditEntry:
    """The entry with its link computed."""
    return AuditEntry(**{**vars(entry), "link": link_of(key, entry)})


class ChainVerifier:
    """Checks entries fed subject by subject, each chain in sequence order, one at a time (so that
    millions of rows can stream through it)."""

    def __init__(self, key: bytes, anchors: Iterable[Anchor] = ()) -> None:
        self._key = key
        self._starts = {a.subject: (a.seq, a.link) for a in anchors}
        self._last: dict[str, tuple[int, str]] = {}
        self.checked = 0

    def feed(self, entry: AuditEntry) -> Optional[BrokenLink]:
        """None when the entry holds; otherwise the broken link it is."""
        seq, link = self._last.get(entry.subject) or self._starts.get(entry.subject) or (0, GENESIS)
        broken = _check(self._key, entry, seq + 1, link)
        if broken:
            return BrokenLink(entry.subject, entry.seq, broken)
        self._last[entry.subject] = (entry.seq, entry.link)
        self.checked += 1
        return None


def verify(key: bytes, entries: Iterable[AuditEntry], anchors: Iterable[Anchor] = ()) -> Verdict:
    """Checks whole chains; stops at the first broken link."""
    verifier = ChainVerifier(key, anchors)
    for entry in entries:
        broken = verifier.feed(entry)
        if broken:
            return Verdict(verifier.checked, broken)
    return Verdict(verifier.checked)


def _check(key: bytes, entry: AuditEntry, expected_seq: int, expected_prev: str) -> Optional[str]:
    if entry.seq != expected_seq:
        return f"expected entry {expected_seq} here (an entry is missing or out of place)"
    if not hmac.compare_digest(entry.prev, expected_prev):
        return "it does not point to the entry before it"
    if not hmac.compare_digest(entry.link, link_of(key, entry)):
        return "its content does not match its link (the row was edited)"
    return None
