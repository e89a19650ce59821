"""Authenticity of a messenger platform's webhook call: a shared secret header (Telegram) or an
HMAC-SHA256 signature of the raw body (Meta's ``X-Hub-Signature-256``), both compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
from typing import Optional


def secret_matches(expected: Optional[str], given: Optional[str]) -> bool:
    """Whether the header carries the configured secret (never true when either is missing)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def body_signature(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for ``body``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_problem(secret: Optional[str], header: Optional[str], body: bytes) -> Optional[str]:
    """Why the signature does not verify (``missing``, ``malformed``, ``mismatch``), or None when it does."""
    if not secret or not header:
        return "missing"
    if not header.startswith("sha256=") or len(header) != 7 + 64:
        return "malformed"
    if not hmac.compare_digest(body_signature(secret, body).encode(), header.strip().encode()):
        return "mismatch"
    return None
