"""Encryption at rest for secrets kept in Redis (TOTP seeds), keyed outside Redis (TOTP-1)."""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from recoverydesk.domain.signing import derive_key


class DecryptionError(Exception):
    """A sealed value was altered, or sealed with another key or context."""


class SecretBox:
    """AES-256-GCM; the context (for example ``agent:alice``) binds a value to its owner."""

    def __init__(self, root_secret: bytes, purpose: str = "seal") -> None:
        self._aead = AESGCM(derive_key(root_secret, purpose))

    def seal(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, token: str, context: str) -> str:
        try:
            raw = base64.urlsafe_b64decode(token.encode())
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError("sealed value cannot be opened") from exc
