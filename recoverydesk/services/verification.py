"""Proving who the customer is, reviewing their activity and securing the account (issue 4).

The bot never asks for a secret: a 6-digit code goes to the registered address, and the password
is typed only on the secure page. Known, unknown, locked and MFA addresses get the same replies,
counts and timing (IDV-6). Trust lives in Redis (``VerificationStore``), never in a slot."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Coroutine, Optional, Protocol

from redis.exceptions import RedisError

from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.one_time_codes import CODE_TTL_SECONDS, CodeCheck
from recoverydesk.adapters.rate_limits import RateLimited
from recoverydesk.adapters.verification_store import Verification
from recoverydesk.domain.accounts import (
    EMAIL_IN_TEXT,
    Account,
    ActivityEvent,
    contacts_changed_since,
    normalise_email,
)
from recoverydesk.domain.conversation import Conversation
from recoverydesk.services.crisis import CrisisService

__all__ = [
    "ActivityReview",
    "Background",
    "Checking",
    "CodeChecking",
    "CodeSending",
    "LinkSending",
    "MarkedActivity",
    "SecureLink",
    "Sending",
    "Verification",
    "VerificationService",
    "minutes",
]

log = logging.getLogger("recoverydesk.identity")
CONTACT_TRUST_DAYS = 30
REVIEW_DAYS = 30
NOBODY = "nobody:"


def minutes(seconds: Optional[int]) -> str:
    """A wait in whole minutes as the customer reads it: never "0"."""
    return str(max(1, round((seconds or 0) / 60)))


class Background:
    """Runs work off the reply path, so a reply takes as long whether or not the address exists (IDV-6)."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)  # held until done: the loop keeps only weak references to tasks
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Waits for everything started so far (tests, and a server that stops)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class Sending(Enum):
    SENT = "sent"
    MAIL_DOWN = "mail_down"  # accepted and queued, but the mail server does not answer now
    NO_ADDRESS = "no_address"  # no email address in the message
    TOO_MANY = "too_many"  # the conversation's sending limit (RL-3)
    CONTACTS_CHANGED = "contacts_changed"  # IDV-4: a person checks who the customer is
    NOT_PENDING = "not_pending"  # a resend with no code asked for


@dataclass(frozen=True)
class CodeSending:
    result: Sending
    minutes: str = ""
    support_phone: str = ""


class Checking(Enum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    EXPIRED = "expired"
    NOT_PENDING = "not_pending"  # no code was asked for in this conversation
    LOCKED = "locked"  # too many failures: a person must unlock it
    WAIT = "wait"  # failures in a row: try again after ``minutes``


@dataclass(frozen=True)
class CodeChecking:
    result: Checking
    minutes: str = ""


class SecureLink(Enum):
    SENT = "sent"
    NOT_VERIFIED = "not_verified"
    NEEDS_CURRENT_FACTOR = "needs_current_factor"  # IDV-3: the bound factor is asked for first


@dataclass(frozen=True)
class LinkSending:
    result: SecureLink
    link: str = ""


@dataclass(frozen=True)
class ActivityReview:
    verified: bool
    events: list[ActivityEvent] = field(default_factory=list)


@dataclass(frozen=True)
class MarkedActivity:
    """What the customer marked as not them, as the ticket carries it, and the IPs involved."""

    events: list[dict[str, Any]]
    ips: list[str]


class Accounts(Protocol):
    async def by_email(self, email: str) -> Optional[Account]: ...
    async def get(self, ref: str) -> Optional[Account]: ...
    async def events(self, ref: str, since: Optional[datetime] = None, limit: int = ...) -> list[ActivityEvent]: ...


class Sessions(Protocol):
    async def revoke_all(self, ref: str) -> int: ...


class Codes(Protocol):
    async def issue(self, account_ref: str, conversation_id: str) -> str: ...
    async def check(self, account_ref: str, conversation_id: str, code: Optional[str]) -> CodeCheck: ...


class Failures(Protocol):
    async def check(self, factor: str, account_ref: str) -> None: ...
    async def failed(self, factor: str, account_ref: str) -> int: ...
    async def succeeded(self, factor: str, account_ref: str) -> None: ...


class Limit(Protocol):
    async def take(self, subject: str) -> None: ...


class Verifications(Protocol):
    async def get(self, conversation_id: str) -> Verification: ...
    async def grant(self, conversation_id: str, account_ref: str, level: str, method: str) -> Verification: ...
    async def set_pending(self, conversation_id: str, account_ref: Optional[str]) -> None: ...
    async def pending(self, conversation_id: str) -> Optional[str]: ...


class Inbox(Protocol):
    async def take(self, conversation_id: str, kind: str = "code") -> Optional[str]: ...


class Links(Protocol):
    async def issue(self, account_ref: str, conversation_id: str, purpose: str) -> str: ...


class Mail(Protocol):
    async def queue(
        self, to: list[str], subject: str, body: str, key: Optional[str] = None, ttl_seconds: float = ...
    ) -> bool: ...
    async def available(self) -> bool: ...


async def verified_account(
    verifications: Verifications, accounts: Accounts, conversation_id: str
) -> tuple[Optional[Account], Verification]:
    """The conversation's account when it is verified (``basic`` at least), and the verification."""
    verified = await verifications.get(conversation_id)
    if verified.account_ref is None or not verified.at_least("basic"):
        return None, verified
    return await accounts.get(verified.account_ref), verified


@dataclass(kw_only=True)
class VerificationService:
    accounts: Accounts
    sessions: Sessions
    codes: Codes
    failures: Failures
    sends_per_account: Limit
    sends_per_conversation: Limit
    verifications: Verifications
    inbox: Inbox
    links: Links
    mail: Mail
    crisis: CrisisService
    background: Background
    unknown_address_key: bytes
    support_phone: str

    async def is_verified(self, conversation_id: str) -> bool:
        return (await self.verifications.get(conversation_id)).at_least("basic")

    def _nobody(self, address: str) -> str:
        """Stands in for an account when an address has none: counted and limited the same way, never accepted."""
        digest = hmac.new(self.unknown_address_key, normalise_email(address).encode(), hashlib.sha256)
        return NOBODY + digest.hexdigest()[:32]

    async def _mail_code(self, account: Account, code: str, language: str = "en") -> None:
        """Into the durable outbox: retried while the mail server is down, dropped when the code expires."""
        try:
            await self.mail.queue(
                [account.email],
                messages.text("utter_email_code_subject", language=language),
                messages.text("utter_email_code_body", language=language, code=code, minutes="10"),
                ttl_seconds=CODE_TTL_SECONDS,
            )
        except RedisError as exc:
            log.warning("identity.code_mail_not_queued", extra={"kind": type(exc).__name__})

    async def _sent(self) -> CodeSending:
        """Whether the mail server answers, said alike for every address (IDV-6)."""
        if await self.mail.available():
            return CodeSending(Sending.SENT)
        return CodeSending(Sending.MAIL_DOWN, support_phone=self.support_phone)

    async def send_code(self, conversation_id: str, text: str, language: str = "en") -> CodeSending:
        """Mails a code to the address in ``text`` if it has an account; the outcome never says whether."""
        found = EMAIL_IN_TEXT.search(text or "")
        if not found:
            return CodeSending(Sending.NO_ADDRESS)
        try:
            await self.sends_per_conversation.take(conversation_id)
        except RateLimited as limited:
            return CodeSending(Sending.TOO_MANY, minutes=minutes(limited.retry_after))
        account = await self.accounts.by_email(found.group(0))
        if account is not None:
            since = datetime.now(timezone.utc) - timedelta(days=CONTACT_TRUST_DAYS)
            if contacts_changed_since(await self.accounts.events(account.ref, since), since):
                return CodeSending(Sending.CONTACTS_CHANGED)
        subject = account.ref if account else self._nobody(found.group(0))
        await self.verifications.set_pending(conversation_id, subject)
        try:
            await self.sends_per_account.take(subject)  # counted alike for every address, so later resends match
            if account is not None:
                code = await self.codes.issue(account.ref, conversation_id)
                self.background.run(self._mail_code(account, code, language))
        except RateLimited:
            log.info("identity.account_send_limit")
        return await self._sent()

    async def resend_code(self, conversation_id: str, language: str = "en") -> CodeSending:
        """A resend replaces the old code and keeps the failure count (IDV-5)."""
        pending = await self.verifications.pending(conversation_id)
        if pending is None:
            return CodeSending(Sending.NOT_PENDING)
        try:
            await self.sends_per_conversation.take(conversation_id)
            if pending:
                await self.sends_per_account.take(pending)
                account = await self.accounts.get(pending)
                if account is not None:
                    code = await self.codes.issue(pending, conversation_id)
                    self.background.run(self._mail_code(account, code, language))
        except RateLimited as limited:
            return CodeSending(Sending.TOO_MANY, minutes=minutes(limited.retry_after))
        return await self._sent()

    async def check_code(self, conversation: Conversation) -> CodeChecking:
        """The code the channel left in the inbox, checked with lockout; accepted, the conversation is verified."""
        code = await self.inbox.take(conversation.id)
        pending = await self.verifications.pending(conversation.id)
        if pending is None:
            return CodeChecking(Checking.NOT_PENDING)
        try:  # an address with no account is counted too, so it locks exactly like a real one (IDV-6)
            await self.failures.check("email_code", pending)
        except RateLimited as limited:
            if limited.retry_after is None:
                return CodeChecking(Checking.LOCKED)
            return CodeChecking(Checking.WAIT, minutes=minutes(limited.retry_after))
        outcome = (
            CodeCheck.WRONG if pending.startswith(NOBODY) else await self.codes.check(pending, conversation.id, code)
        )
        if outcome is CodeCheck.ACCEPTED:
            await self.failures.succeeded("email_code", pending)
            await self.verifications.grant(conversation.id, pending, "basic", "email_code")
            await self.crisis.record_contact(conversation)  # the daily report counts verification outcomes
            return CodeChecking(Checking.ACCEPTED)
        if outcome is CodeCheck.EXPIRED:
            return CodeChecking(Checking.EXPIRED)
        await self.failures.failed("email_code", pending)
        return CodeChecking(Checking.WRONG)

    async def review_activity(self, conversation_id: str) -> ActivityReview:
        """The verified account's sign-ins and changes of the last 30 days, newest first (at most 8)."""
        verified = await self.verifications.get(conversation_id)
        if not verified.at_least("basic") or verified.account_ref is None:
            return ActivityReview(verified=False)
        since = datetime.now(timezone.utc) - timedelta(days=REVIEW_DAYS)
        return ActivityReview(True, await self.accounts.events(verified.account_ref, since, limit=8))

    async def mark_activity(self, conversation_id: str, listed: list[str], text: str) -> Optional[MarkedActivity]:
        """The listed events whose numbers the customer typed; None when they named none (all was them)."""
        numbers = {int(n) for n in re.findall(r"\b\d{1,2}\b", text or "")}
        chosen = [listed[n - 1] for n in sorted(numbers) if 0 < n <= len(listed)]
        verified = await self.verifications.get(conversation_id)
        if not chosen or verified.account_ref is None:
            return None
        events = {e.id: e for e in await self.accounts.events(verified.account_ref, limit=50)}
        marked = [events[i].to_dict() for i in chosen if i in events]
        return MarkedActivity(marked, sorted({e["ip"] for e in marked if e.get("ip")}))

    async def sign_out_everywhere(self, conversation_id: str) -> Optional[int]:
        """How many sessions were ended; None when the conversation is not verified."""
        verified = await self.verifications.get(conversation_id)
        if not verified.at_least("basic") or verified.account_ref is None:
            return None
        return await self.sessions.revoke_all(verified.account_ref)

    async def send_password_link(self, conversation_id: str, language: str = "en") -> LinkSending:
        """IDV-3: basic is enough without a second factor; with one, the factor is asked for first."""
        account, verified = await verified_account(self.verifications, self.accounts, conversation_id)
        if account is None:
            return LinkSending(SecureLink.NOT_VERIFIED)
        if account.has_totp and not verified.at_least("strong"):
            return LinkSending(SecureLink.NEEDS_CURRENT_FACTOR)
        return LinkSending(SecureLink.SENT, await self.links.issue(account.ref, conversation_id, "password", language))
