"""Web chat opened from a logged-in page (IDV-2 strong): a signed session token verifies the conversation.

The bank's page signs the account it has already authenticated (``domain.session_tokens``); the
web chat hands the token here when a socket joins its session, and the conversation is then
strongly verified on the server, bound to that session id and expiring like any other grant."""

from __future__ import annotations

from dataclasses import dataclass

from redis.exceptions import RedisError

from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain import session_tokens
from recoverydesk.domain.session_tokens import InvalidSessionToken

__all__ = ["InvalidSessionToken", "VerificationUnavailable", "WebSessions"]

METHOD = "signed_session"


class VerificationUnavailable(Exception):
    """The verification could not be recorded (Redis did not answer); the customer may try again."""


@dataclass
class WebSessions:
    secret_key: bytes
    verification: VerificationStore

    async def sign_in(self, conversation_id: str, auth_token: str) -> str:
        """The token's account, now strongly verified in ``conversation_id``.

        Raises ``InvalidSessionToken`` (nothing is granted) or ``VerificationUnavailable``."""
        account_ref = session_tokens.verify(self.secret_key, auth_token)
        try:
            await self.verification.grant(conversation_id, account_ref, "strong", METHOD)
        except (RedisError, OSError) as exc:
            raise VerificationUnavailable(type(exc).__name__) from exc
        return account_ref
