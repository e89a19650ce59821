"""The secure password page's use case (PWD-1..4): a new password through a single-use link.

The link grants one change for one account; the new password must pass the policy; then it is
hashed, every session and open link of the account is revoked before anyone is told (PWD-4),
other conversations lose their verification, risky changes are held (NOT-2), the customer's
addresses get a confirmation email and the conversation that asked is told."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Optional, Protocol

from redis.exceptions import RedisError

from recoverydesk.adapters import responses
from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.rasa_client import ConversationUnavailable
from recoverydesk.adapters.responses import text
from recoverydesk.adapters.secure_links import SecureLinks
from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain.accounts import new_event
from recoverydesk.domain.password_policy import (
    MIN_LENGTH_WITH_SECOND_FACTOR,
    MIN_LENGTH_WITHOUT_SECOND_FACTOR,
    PasswordRejected,
    check_new_password,
)
from recoverydesk.domain.passwords import hash_password, verify_password

log = logging.getLogger("recoverydesk.secure_pages")
CHANGED_INTENT = "EXTERNAL_password_changed"

__all__ = [
    "ChangeOutcome",
    "ConversationUnavailable",
    "PasswordChange",
    "PasswordForm",
    "PasswordRejected",
    "PasswordReset",
]


class ConversationNotifier(Protocol):
    """Tells a conversation that something happened outside it (Rasa's conversation API)."""

    async def trigger(self, conversation_id: str, intent: str) -> None: ...


class MailQueue(Protocol):
    """Takes an email to deliver later, with retries (the durable mail outbox)."""

    async def queue(self, to: list[str], subject: str, body: str) -> bool: ...


@dataclass(frozen=True)
class PasswordForm:
    """What the page needs to show the form: the shortest password the policy accepts here."""

    minimum_length: int


class ChangeOutcome(enum.Enum):
    CHANGED = "changed"
    REJECTED = "rejected"  # the policy said no; the link still works
    INVALID_LINK = "invalid_link"  # unknown, expired, used, or its account is gone


@dataclass(frozen=True)
class PasswordChange:
    outcome: ChangeOutcome
    rejection: Optional[PasswordRejected] = None
    minimum_length: int = MIN_LENGTH_WITHOUT_SECOND_FACTOR


def _minimum_length(has_second_factor: bool) -> int:
    return MIN_LENGTH_WITH_SECOND_FACTOR if has_second_factor else MIN_LENGTH_WITHOUT_SECOND_FACTOR


@dataclass
class PasswordReset:
    links: SecureLinks
    directory: AccountDirectory
    verification: VerificationStore
    mail: MailQueue
    conversations: ConversationNotifier

    async def form(self, token: str) -> Optional[PasswordForm]:
        """The form for a live link (it is not used up by looking), or None."""
        grant = await self.links.peek(token, "password")
        if grant is None:
            return None
        account = await self.directory.store.get(grant.account_ref)
        return PasswordForm(_minimum_length(bool(account and account.has_totp)))

    async def change(self, token: str, password: str, confirmation: str) -> PasswordChange:
        """Sets the new password if the link is live and the policy accepts it; uses the link up then."""
        grant = await self.links.peek(token, "password")
        account = await self.directory.store.get(grant.account_ref) if grant else None
        if grant is None or account is None:
            return PasswordChange(ChangeOutcome.INVALID_LINK)
        minimum = _minimum_length(account.has_totp)
        current_hash = await self.directory.store.secret(account.ref, "password_hash") or ""
        try:
            accepted = check_new_password(
                password,
                confirmation,
                account.email,
                account.name,
                has_second_factor=account.has_totp,
                is_current=bool(current_hash) and verify_password(current_hash, password),
            )
        except PasswordRejected as rejected:
            return PasswordChange(ChangeOutcome.REJECTED, rejected, minimum)
        if await self.links.consume(token, "password") is None:  # used meanwhile by another request
            return PasswordChange(ChangeOutcome.INVALID_LINK)
        await self.directory.store.set_secret(account.ref, "password_hash", hash_password(accepted))
        revoked = await self.directory.sessions.revoke_all(account.ref)  # PWD-4: before anyone is told
        await self.links.revoke_all(account.ref)
        await self.verification.revoke_others(account.ref, keep_conversation=grant.conversation_id)
        await self.directory.store.add_event(
            account.ref, new_event("password_change", detail="Changed through the recovery chat")
        )
        await self.directory.recovered(account.ref)
        log.info("secure_pages.password_changed", extra={"sessions_revoked": revoked})
        await self._confirm_by_mail(account.notify_addresses(), grant.language)
        try:
            await self.conversations.trigger(grant.conversation_id, CHANGED_INTENT)
        except ConversationUnavailable:
            log.warning("secure_pages.chat_not_told")
        return PasswordChange(ChangeOutcome.CHANGED, minimum_length=minimum)

    async def language_of(self, token: str) -> str:
        """The language the link was sent in (English for a dead link), for its page to speak."""
        return await self.links.language_of(token) or "en"

    async def _confirm_by_mail(self, addresses: list[str], language: str = "en") -> None:
        when = responses.when(datetime.now(timezone.utc), language)
        try:
            await self.mail.queue(
                addresses,
                text("utter_email_password_changed_subject", language=language),
                text(
                    "utter_email_password_changed_body",
                    language=language,
                    when=when,
                    channel=responses.recovery_chat(language),
                ),
            )
        except RedisError as exc:
            log.warning("secure_pages.password_mail_not_queued", extra={"kind": type(exc).__name__})
