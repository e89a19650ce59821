"""Signed tokens from a logged-in web page: the customer already proved who they are there (IDV-2 strong).

Format: base64url(JSON {ref, exp}) "." hex HMAC-SHA256, keyed from RECOVERYDESK_SECRET_KEY."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Optional

from recoverydesk.domain.signing import derive_key

MAX_LIFETIME_SECONDS = 300


class InvalidSessionToken(Exception):
    """The token is malformed, altered or expired."""


def _mac(root_secret: bytes, payload: str) -> str:
    return hmac.new(derive_key(root_secret, "web-session"), payload.encode(), hashlib.sha256).hexdigest()


def issue(
    root_secret: bytes, account_ref: str, lifetime: int = MAX_LIFETIME_SECONDS, now: Optional[float] = None
) -> str:
    expires = int((time.time() if now is None else now) + min(lifetime, MAX_LIFETIME_SECONDS))
    payload = base64.urlsafe_b64encode(json.dumps({"ref": account_ref, "exp": expires}).encode()).decode()
    return f"{payload}.{_mac(root_secret, payload)}"


def verify(root_secret: bytes, token: str, now: Optional[float] = None) -> str:
    """The account reference the token vouches for."""
    payload, _, signature = token.partition(".")
    if not payload or not hmac.compare_digest(signature, _mac(root_secret, payload)):
        raise InvalidSessionToken("signature")
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload.encode()))
        ref, expires = str(claims["ref"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidSessionToken("payload") from exc
    if expires < (time.time() if now is None else now):
        raise InvalidSessionToken("expired")
    return ref
