"""HMAC-SHA256 signatures between the action server and the helpdesk plugin (S2S-1)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Mapping, Optional

TIMESTAMP_HEADER = "X-RecoveryDesk-Timestamp"
SIGNATURE_HEADER = "X-RecoveryDesk-Signature"
DEFAULT_WINDOW_SECONDS = 300


class SignatureError(Exception):
    """A request is unsigned, stale or altered."""


def derive_key(root_secret: bytes, purpose: str) -> bytes:
    """One key per purpose, so a leak of one never exposes another."""
    return hmac.new(root_secret, f"recoverydesk:{purpose}".encode(), hashlib.sha256).digest()


def _mac(key: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(key: bytes, body: bytes, now: Optional[float] = None) -> dict[str, str]:
    timestamp = str(int(now if now is not None else time.time()))
    return {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: _mac(key, timestamp, body)}


def verify(
    key: bytes,
    headers: Mapping[str, str],
    body: bytes,
    now: Optional[float] = None,
    window: int = DEFAULT_WINDOW_SECONDS,
) -> None:
    timestamp = headers.get(TIMESTAMP_HEADER) or headers.get(TIMESTAMP_HEADER.lower())
    signature = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower())
    if not timestamp or not signature:
        raise SignatureError("The request is not signed.")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SignatureError("The signature timestamp is not a number.") from exc
    current = now if now is not None else time.time()
    if abs(current - sent_at) > window:
        raise SignatureError("The signature is outside its time window.")
    if not hmac.compare_digest(_mac(key, timestamp, body), signature):
        raise SignatureError("The signature does not match the request.")
