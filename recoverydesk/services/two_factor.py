"""TOTP two-factor in chat (issue 5): the enrollment link, activation with the new app's first code,
and step-up with the bound factor or a recovery code.

The seed is shown only on the secure page; the customer types the app's 6-digit code into the
chat, where the channel seals it away (``CodeInbox``) before Rasa sees the message."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Optional, Protocol

from redis.exceptions import RedisError

from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.rate_limits import FREE_FAILURES, RateLimited
from recoverydesk.adapters.totp_store import Enrollment
from recoverydesk.domain.accounts import Account, ActivityEvent, new_event
from recoverydesk.domain.conversation import Conversation
from recoverydesk.services.crisis import CrisisService
from recoverydesk.services.verification import (
    Accounts,
    Background,
    Failures,
    Inbox,
    Links,
    LinkSending,
    Mail,
    SecureLink,
    Verifications,
    minutes,
    verified_account,
)

__all__ = ["FactorCheck", "FactorChecking", "TwoFactorService"]

log = logging.getLogger("recoverydesk.two_factor")
FACTOR = "totp"  # one failure counter for every check of the second factor (RL-1)
CLOCK_HINT_AFTER = 2


class FactorCheck(Enum):
    ENROLLED = "enrolled"  # the new app is active; ``link`` leads to the recovery codes
    STRONG = "strong"  # step-up done; ``purpose`` says what it was for
    NOT_VERIFIED = "not_verified"
    LOCKED = "locked"  # too many failures: offer a person (``minutes`` set when it unlocks by itself)
    NOT_PENDING = "not_pending"  # no enrollment waiting for a code
    WRONG = "wrong"
    WRONG_CHECK_CLOCK = "wrong_check_clock"  # wrong again: the phone's clock may be off
    WRONG_OFFER_PERSON = "wrong_offer_person"  # wrong too often: the rules then offer a person


@dataclass(frozen=True)
class FactorChecking:
    result: FactorCheck
    minutes: str = ""
    link: str = ""
    purpose: str = ""  # ``password`` or ``enrollment``, after a step-up
    recovery_codes_left: Optional[int] = None  # set when a recovery code was used


class AccountHistory(Protocol):
    async def add_event(self, ref: str, event: ActivityEvent) -> None: ...


class RecoveryHold(Protocol):
    async def recovered(self, ref: str) -> None: ...


class Totp(Protocol):
    async def activate(self, ref: str, code: str) -> Enrollment: ...
    async def verify(self, ref: str, code: str) -> bool: ...
    async def use_recovery_code(self, ref: str, code: str) -> bool: ...
    async def recovery_codes_left(self, ref: str) -> int: ...


@dataclass(kw_only=True)
class TwoFactorService:
    accounts: Accounts
    history: AccountHistory
    recovery: RecoveryHold
    verifications: Verifications
    failures: Failures
    totp: Totp
    inbox: Inbox
    links: Links
    mail: Mail
    crisis: CrisisService
    background: Background

    async def send_enrollment_link(self, conversation_id: str, language: str = "en") -> LinkSending:
        """The enrollment page's link (10 minutes, once); with a factor bound, that factor comes first (IDV-3)."""
        account, verified = await verified_account(self.verifications, self.accounts, conversation_id)
        if account is None:
            return LinkSending(SecureLink.NOT_VERIFIED)
        if account.has_totp and not verified.at_least("strong"):
            return LinkSending(SecureLink.NEEDS_CURRENT_FACTOR)
        return LinkSending(SecureLink.SENT, await self.links.issue(account.ref, conversation_id, "totp", language))

    async def _account_to_check(self, conversation_id: str) -> tuple[Optional[Account], Optional[FactorChecking]]:
        """The verified account whose factor may be checked now, or the outcome that says why not."""
        account, _ = await verified_account(self.verifications, self.accounts, conversation_id)
        if account is None:
            return None, FactorChecking(FactorCheck.NOT_VERIFIED)
        try:
            await self.failures.check(FACTOR, account.ref)
        except RateLimited as limited:
            wait = minutes(limited.retry_after) if limited.retry_after is not None else ""
            return None, FactorChecking(FactorCheck.LOCKED, minutes=wait)
        return account, None

    async def _wrong(self, ref: str) -> FactorChecking:
        failures = await self.failures.failed(FACTOR, ref)
        if failures >= FREE_FAILURES:
            return FactorChecking(FactorCheck.WRONG_OFFER_PERSON)
        if failures >= CLOCK_HINT_AFTER:
            return FactorChecking(FactorCheck.WRONG_CHECK_CLOCK)
        return FactorChecking(FactorCheck.WRONG)

    async def _notify_enabled(self, account: Account, language: str = "en") -> None:
        when = messages.when(datetime.now(timezone.utc), language)
        try:
            await self.mail.queue(
                account.notify_addresses(),
                messages.text("utter_email_totp_enabled_subject", language=language),
                messages.text(
                    "utter_email_totp_enabled_body",
                    language=language,
                    when=when,
                    channel=messages.recovery_chat(language),
                ),
            )
        except RedisError as exc:
            log.warning("two_factor.enabled_mail_not_queued", extra={"kind": type(exc).__name__})

    async def activate(self, conversation: Conversation) -> FactorChecking:
        """The first valid code from the new app activates it; the old seed stops working (TOTP-4)."""
        code = await self.inbox.take(conversation.id) or ""
        account, refused = await self._account_to_check(conversation.id)
        if account is None:
            return refused or FactorChecking(FactorCheck.NOT_VERIFIED)
        outcome = await self.totp.activate(account.ref, code)
        if outcome is Enrollment.NOT_PENDING:
            return FactorChecking(FactorCheck.NOT_PENDING)
        if outcome is Enrollment.WRONG_CODE:
            return await self._wrong(account.ref)
        await self.failures.succeeded(FACTOR, account.ref)
        await self.verifications.grant(conversation.id, account.ref, "strong", "totp")
        await self.crisis.record_contact(conversation)
        enrolled = new_event("mfa_change", detail="Authenticator app set up through the recovery chat")
        await self.history.add_event(account.ref, enrolled)
        await self.recovery.recovered(account.ref)
        self.background.run(self._notify_enabled(account, conversation.language))
        link = await self.links.issue(account.ref, conversation.id, "recovery-codes", conversation.language)
        log.info("two_factor.enrolled")
        return FactorChecking(FactorCheck.ENROLLED, link=link)

    async def step_up(self, conversation: Conversation) -> FactorChecking:
        """The current authenticator code, or one recovery code, makes the verification strong."""
        code = await self.inbox.take(conversation.id)
        recovery_code = await self.inbox.take(conversation.id, kind="recovery_code")
        account, refused = await self._account_to_check(conversation.id)
        if account is None:
            return refused or FactorChecking(FactorCheck.NOT_VERIFIED)
        if recovery_code is not None:
            method = "recovery_code"
            accepted = await self.totp.use_recovery_code(account.ref, recovery_code)
        else:
            method = "totp"
            accepted = await self.totp.verify(account.ref, code or "")
        if not accepted:
            return await self._wrong(account.ref)
        await self.failures.succeeded(FACTOR, account.ref)
        await self.verifications.grant(conversation.id, account.ref, "strong", method)
        left = await self.totp.recovery_codes_left(account.ref) if method == "recovery_code" else None
        purpose = "password" if conversation.slot("code_purpose") == "second_factor_password" else "enrollment"
        return FactorChecking(FactorCheck.STRONG, purpose=purpose, recovery_codes_left=left)
