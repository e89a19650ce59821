"""The service layer over the account directory, used by the CLI, the actions and the secure pages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import pyotp
from redis.asyncio import Redis

from recoverydesk.adapters.account_store import AccountStore, SessionStore
from recoverydesk.domain.accounts import (
    KEEP_PREVIOUS_EMAILS,
    RISKY_CHANGE_HOLD_SECONDS,
    Account,
    AccountError,
    ActivityEvent,
    ChangeHeld,
    new_account_ref,
    new_event,
    normalise_email,
    valid_email,
)
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.languages import SUPPORTED as SUPPORTED_LANGUAGES
from recoverydesk.domain.passwords import hash_password


def totp_context(ref: str) -> str:
    return f"account:{ref}:totp"


class AccountDirectory:
    def __init__(self, redis: Redis, box: SecretBox) -> None:
        self.store = AccountStore(redis)
        self.sessions = SessionStore(redis)
        self._box = box

    async def add(
        self,
        email: str,
        name: str,
        password: str,
        phone: Optional[str] = None,
        totp_secret: Optional[str] = None,
        language: Optional[str] = None,
    ) -> Account:
        email = normalise_email(email)
        if not valid_email(email):
            raise AccountError(f"{email!r} is not an email address.")
        if not name.strip():
            raise AccountError("The name must not be empty.")
        if not password:
            raise AccountError("The password must not be empty.")
        if language is not None and language not in SUPPORTED_LANGUAGES:
            raise AccountError(f"The language must be one of {', '.join(SUPPORTED_LANGUAGES)}, not {language!r}.")
        if totp_secret is not None:
            try:
                pyotp.TOTP(totp_secret).now()
            except (ValueError, TypeError) as exc:
                raise AccountError(
                    "The TOTP secret must be base32 of at least 112 bits (32 characters is usual)."
                ) from exc
        account = Account(
            ref=new_account_ref(),
            email=email,
            name=name.strip(),
            phone=phone,
            has_totp=totp_secret is not None,
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
            language=language or "en",
        )
        sealed = self._box.seal(totp_secret, totp_context(account.ref)) if totp_secret else None
        await self.store.add(account, hash_password(password), sealed)
        return account

    async def add_event(self, email: str, kind: str, **fields: Optional[str]) -> ActivityEvent:
        account = await self.require(email)
        event = new_event(kind, **fields)
        await self.store.add_event(account.ref, event)
        return event

    async def require(self, email: str) -> Account:
        account = await self.store.by_email(email)
        if account is None:
            raise AccountError(f"No account with email {email}.")
        return account

    async def show(self, email: str) -> dict:
        account = await self.require(email)
        events = await self.store.events(account.ref)
        return {**account.public(), "recent_activity": [e.to_dict() for e in events]}

    async def recovered(self, ref: str) -> None:
        """After a recovery (new password, new authenticator), risky changes wait 24 hours (NOT-2)."""
        await self.store.hold_risky_changes(ref, RISKY_CHANGE_HOLD_SECONDS)

    async def _refuse_if_held(self, ref: str) -> None:
        until = await self.store.risky_changes_held_until(ref)
        if until is not None:
            raise ChangeHeld(until)

    async def change_contacts(
        self, email: str, new_email: Optional[str] = None, new_phone: Optional[str] = None
    ) -> Account:
        """A new email or phone, recorded in the activity log; the replaced email is kept for notices (NOT-1)."""
        account = await self.require(email)
        await self._refuse_if_held(account.ref)
        if new_email is not None:
            new_email = normalise_email(new_email)
            if not valid_email(new_email):
                raise AccountError(f"{new_email!r} is not an email address.")
            previous = account.email
            account.previous_emails = [*account.previous_emails, previous][-KEEP_PREVIOUS_EMAILS:]
            account.email = new_email
            account.email_changed_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
            await self.store.change_email(account, previous)
            await self.store.add_event(account.ref, new_event("email_change", detail="Email address changed"))
        if new_phone is not None:
            account.phone = new_phone
            await self.store.save_profile(account)
            await self.store.add_event(account.ref, new_event("phone_change", detail="Phone number changed"))
        return account

    async def remove_second_factor(self, email: str) -> Account:
        account = await self.require(email)
        await self._refuse_if_held(account.ref)
        await self.store.clear_second_factor(account.ref)
        await self.store.add_event(account.ref, new_event("mfa_change", detail="Two-factor authentication removed"))
        account.has_totp = False
        return account
