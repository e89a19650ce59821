"""In-memory fakes of the Redis stores and the mail outbox that the service tests share, and
``FakeDesk``: those fakes at hand, and a service wired over them."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable, Optional, TypeVar

from recoverydesk.adapters.rate_limits import FREE_FAILURES, HARD_LIMIT, RateLimited
from recoverydesk.domain.accounts import Account, ActivityEvent, parse_time
from recoverydesk.domain.contacts import Contact
from recoverydesk.domain.incidents import Incident
from recoverydesk.services.crisis import CrisisService
from recoverydesk.services.verification import Background, Verification

S = TypeVar("S")


class FakeAccounts:
    def __init__(self, *accounts: Account) -> None:
        self.accounts = {a.ref: a for a in accounts}
        self.history: dict[str, list[ActivityEvent]] = {}
        self.held: list[str] = []
        self.revoked: list[str] = []

    async def by_email(self, email: str) -> Optional[Account]:
        return next((a for a in self.accounts.values() if a.email == email.strip().lower()), None)

    async def get(self, ref: str) -> Optional[Account]:
        return self.accounts.get(ref)

    async def events(self, ref: str, since: Optional[datetime] = None, limit: int = 1000) -> list[ActivityEvent]:
        newest_first = sorted(self.history.get(ref, []), key=lambda e: e.at, reverse=True)
        return [e for e in newest_first if since is None or parse_time(e.at) >= since][:limit]

    async def add_event(self, ref: str, event: ActivityEvent) -> None:
        self.history.setdefault(ref, []).append(event)

    async def recovered(self, ref: str) -> None:
        self.held.append(ref)

    async def revoke_all(self, ref: str) -> int:
        self.revoked.append(ref)
        return 2


class FakeFailures:
    """Free failures, then a minute's wait; a person unlocks at the hard limit (as RL-1, RL-2)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str], int] = {}

    async def check(self, factor: str, account_ref: str) -> None:
        count = self.counts.get((factor, account_ref), 0)
        if count >= HARD_LIMIT:
            raise RateLimited(None)
        if count >= FREE_FAILURES:
            raise RateLimited(90)

    async def failed(self, factor: str, account_ref: str) -> int:
        self.counts[(factor, account_ref)] = self.counts.get((factor, account_ref), 0) + 1
        return self.counts[(factor, account_ref)]

    async def succeeded(self, factor: str, account_ref: str) -> None:
        self.counts.pop((factor, account_ref), None)


class FakeVerifications:
    def __init__(self) -> None:
        self.granted: dict[str, Verification] = {}
        self.pendings: dict[str, str] = {}

    async def get(self, conversation_id: str) -> Verification:
        return self.granted.get(conversation_id, Verification())

    async def grant(self, conversation_id: str, account_ref: str, level: str, method: str) -> Verification:
        current = self.granted.get(conversation_id, Verification())
        methods = current.methods if current.account_ref == account_ref else []
        self.granted[conversation_id] = Verification(account_ref, level, sorted(set(methods + [method])))
        return self.granted[conversation_id]

    async def set_pending(self, conversation_id: str, account_ref: Optional[str]) -> None:
        self.pendings[conversation_id] = account_ref or ""

    async def pending(self, conversation_id: str) -> Optional[str]:
        return self.pendings.get(conversation_id)


class FakeInbox:
    def __init__(self) -> None:
        self.codes: dict[tuple[str, str], str] = {}

    def put(self, conversation_id: str, code: str, kind: str = "code") -> None:
        self.codes[(conversation_id, kind)] = code

    async def take(self, conversation_id: str, kind: str = "code") -> Optional[str]:
        return self.codes.pop((conversation_id, kind), None)


class FakeLinks:
    def __init__(self) -> None:
        self.issued: list[tuple[str, str, str]] = []
        self.languages: list[str] = []

    async def issue(self, account_ref: str, conversation_id: str, purpose: str, language: str = "en") -> str:
        self.issued.append((account_ref, conversation_id, purpose))
        self.languages.append(language)
        return f"https://bank.test/secure/{purpose}/token-{len(self.issued)}"


class FakeMail:
    def __init__(self) -> None:
        self.queued: list[dict[str, Any]] = []
        self.up = True

    async def queue(
        self, to: list[str], subject: str, body: str, key: Optional[str] = None, ttl_seconds: float = 86400
    ) -> bool:
        self.queued.append({"to": to, "subject": subject, "body": body, "ttl_seconds": ttl_seconds})
        return True

    async def available(self) -> bool:
        return self.up


class FakeIncidents:
    def __init__(self, *incidents: Incident, fails: Optional[Exception] = None) -> None:
        self.incidents = list(incidents)
        self.fails = fails

    async def active(self) -> list[Incident]:
        if self.fails:
            raise self.fails
        return self.incidents


class FakeContacts:
    def __init__(self, fails: Optional[Exception] = None) -> None:
        self.saved: list[tuple[Contact, float]] = []
        self.fails = fails

    async def save(self, contact: Contact, started_ts: float) -> None:
        if self.fails:
            raise self.fails
        self.saved.append((contact, started_ts))


@dataclass
class FakeDesk:
    """The shared fakes, each under the name a service's constructor gives it. A service test's desk
    adds its own fakes and builds its service with ``wire``."""

    accounts: FakeAccounts = field(default_factory=FakeAccounts)
    verifications: FakeVerifications = field(default_factory=FakeVerifications)
    failures: FakeFailures = field(default_factory=FakeFailures)
    inbox: FakeInbox = field(default_factory=FakeInbox)
    links: FakeLinks = field(default_factory=FakeLinks)
    mail: FakeMail = field(default_factory=FakeMail)
    incidents: FakeIncidents = field(default_factory=FakeIncidents)
    contacts: FakeContacts = field(default_factory=FakeContacts)
    background: Background = field(default_factory=Background)

    @property
    def crisis(self) -> CrisisService:
        return CrisisService(self.incidents, self.contacts, self.verifications)

    def wire(self, service: Callable[..., S], **given: Any) -> S:
        """``service`` over this desk: each parameter not ``given`` gets the fake of its name."""
        names = [name for name in inspect.signature(service).parameters if name not in given]
        return service(**{name: getattr(self, name) for name in names if hasattr(self, name)}, **given)
