"""The service layer over the account directory, used by the CLI, the actions and the secure pages."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional

import pyotp
from redis.asyncio import Redis

from .account_store import AccountStore, SessionStore
from .accounts import Account, AccountError, ActivityEvent, new_account_ref, new_event, normalise_email, valid_email
from .crypto import SecretBox
from .passwords import hash_password


def totp_context(ref: str) -> str:
    return f"account:{ref}:totp"


class AccountDirectory:
    def __init__(self, redis: Redis, box: SecretBox) -> None:
        self.store = AccountStore(redis)
        self.sessions = SessionStore(redis)
        self._box = box

    async def add(
        self, email: str, name: str, password: str, phone: Optional[str] = None, totp_secret: Optional[str] = None
    ) -> Account:
        email = normalise_email(email)
        if not valid_email(email):
            raise AccountError(f"{email!r} is not an email address.")
        if not name.strip():
            raise AccountError("The name must not be empty.")
        if not password:
            raise AccountError("The password must not be empty.")
        if totp_secret is not None:
            try:
                pyotp.TOTP(totp_secret).now()
            except (ValueError, TypeError) as exc:
                raise AccountError("The TOTP secret must be base32 of at least 112 bits (32 characters is usual).") from exc
        account = Account(
            ref=new_account_ref(),
            email=email,
            name=name.strip(),
            phone=phone,
            has_totp=totp_secret is not None,
            created_at=datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
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
