"""Web chat opened from a logged-in page (IDV-2 strong): a JWT from the bank's website verifies the conversation.

The bank's page signs the account it has already authenticated with its own private key
(``domain.session_tokens``: ES256/RS256, at most 5 minutes, `kid` for rotation); we hold only the
public keys (``WEB_SESSION_KEYS_FILE``). The web chat hands the token here when a socket joins its
session, and the conversation is then strongly verified on the server, bound to that session id and
expiring like any other grant. With no keys configured, every token is refused."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from redis.exceptions import RedisError

from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain import session_tokens
from recoverydesk.domain.session_tokens import InvalidSessionToken, KeySet

__all__ = ["InvalidSessionToken", "VerificationUnavailable", "WebSessions"]

METHOD = "signed_session"


class VerificationUnavailable(Exception):
    """The verification could not be recorded (Redis did not answer); the customer may try again."""


@dataclass
class WebSessions:
    keys: KeySet
    verification: VerificationStore
    audience: Optional[str] = None

    async def sign_in(self, conversation_id: str, auth_token: str) -> str:
        """The token's account, now strongly verified in ``conversation_id``.

        Raises ``InvalidSessionToken`` (nothing is granted) or ``VerificationUnavailable``."""
        account_ref = session_tokens.verify(self.keys, auth_token, audience=self.audience)
        try:
            await self.verification.grant(conversation_id, account_ref, "strong", METHOD)
        except (RedisError, OSError) as exc:
            raise VerificationUnavailable(type(exc).__name__) from exc
        return account_ref
