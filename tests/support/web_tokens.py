"""The bank website's side of logged-in-page tokens, for the tests: its key pairs and the JWTs it signs.

The product only verifies; signing lives here (PyJWT and `cryptography`, as a website would)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

PrivateKey = Any  # ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def public_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def algorithm_of(key: PrivateKey) -> str:
    return "ES256" if isinstance(key, ec.EllipticCurvePrivateKey) else "RS256"


def sign(
    key: PrivateKey,
    account_ref: str,
    kid: Optional[str] = None,
    lifetime: int = 300,
    now: Optional[float] = None,
    algorithm: Optional[str] = None,
    **claims: Any,
) -> str:
    issued = int(time.time() if now is None else now)
    payload = {"sub": account_ref, "iat": issued, "exp": issued + lifetime, **claims}
    headers = {"kid": kid} if kid else None
    return jwt.encode(payload, key, algorithm=algorithm or algorithm_of(key), headers=headers)


@dataclass
class Website:
    """A bank website with one signing key per kid; ``write`` publishes the public keys as our keys file."""

    keys: dict[str, PrivateKey] = field(default_factory=lambda: {"site-2026-12": ec_key()})

    @property
    def current_kid(self) -> str:
        return next(iter(self.keys))

    def token(self, account_ref: str, kid: Optional[str] = None, **options: Any) -> str:
        kid = kid or self.current_kid
        return sign(self.keys[kid], account_ref, kid=kid, **options)

    def key_file_text(self) -> str:
        return json.dumps({kid: public_pem(key) for kid, key in self.keys.items()})

    def write(self, path: Path) -> Path:
        path.write_text(self.key_file_text())
        return path
