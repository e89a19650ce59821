"""Password storage: Argon2id with argon2-cffi's defaults, verified in constant time (PWD-3)."""

from __future__ import annotations

import secrets
import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def normalise(password: str) -> str:
    return unicodedata.normalize("NFC", password)


def hash_password(password: str) -> str:
    return _hasher.hash(normalise(password))


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, normalise(password))
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def placeholder_hash() -> str:
    """A hash of a random password no one knows: verifying against it costs what a real check costs."""
    return hash_password(secrets.token_urlsafe(16))
