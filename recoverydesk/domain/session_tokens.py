"""Web-session tokens from the bank's logged-in page: JWTs the bank's website signs with its own private key.

The customer has already proved who they are on that page (IDV-2 strong). We hold only the public
key(s), so nothing here can mint a token. A key is ES256 (EC P-256) or RS256 (RSA, 2048 bits or
more); the key decides the algorithm, never the token's header, so `none`, HS* and any other
algorithm are refused. Several keys are told apart by the token's `kid` (rotation). Claims:
`sub` (the account reference), `iat` and `exp`, at most 300 seconds apart; `aud` when an audience
is configured. The earlier home-made HMAC format is not a JWT and is refused like any other text.

Keys come as the text of one file (see ``KeySet.parse``): one PEM public key, a JWKS
(``{"keys": [JWK, ...]}``, RFC 7517), or a JSON object mapping each `kid` to a PEM public key."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional, Union, cast

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

MAX_LIFETIME_SECONDS = 300
CLOCK_SKEW_SECONDS = 30  # how far ahead of ours the website's clock may be for `iat` and `nbf`
MIN_RSA_BITS = 2048
ALGORITHMS = ("ES256", "RS256")

PublicKey = Union[EllipticCurvePublicKey, RSAPublicKey]


class InvalidSessionToken(Exception):
    """The token is malformed, altered, expired, too long-lived or signed by a key we do not hold."""


class InvalidKeySet(ValueError):
    """The configured public keys cannot be used (the message says why; it never holds key material)."""


@dataclass(frozen=True)
class VerifyingKey:
    """A public key and the one algorithm its tokens must use."""

    key: PublicKey
    algorithm: str


def _algorithm_for(key: object, where: str) -> str:
    if isinstance(key, EllipticCurvePublicKey):
        if not isinstance(key.curve, SECP256R1):
            raise InvalidKeySet(f"{where}: an EC key must be on P-256 (ES256), not {key.curve.name}.")
        return "ES256"
    if isinstance(key, RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise InvalidKeySet(f"{where}: an RSA key must have at least {MIN_RSA_BITS} bits, not {key.key_size}.")
        return "RS256"
    raise InvalidKeySet(f"{where}: only EC P-256 (ES256) and RSA (RS256) public keys are accepted.")


def _from_pem(pem: str, where: str) -> VerifyingKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except ValueError as exc:
        raise InvalidKeySet(f"{where}: not a PEM public key.") from exc
    algorithm = _algorithm_for(key, where)  # refuses every other kind of key
    return VerifyingKey(cast(PublicKey, key), algorithm)


def _from_jwk(jwk: Mapping[str, Any], where: str) -> tuple[str, VerifyingKey]:
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidKeySet(f"{where}: every key needs a kid.")
    if jwk.get("use", "sig") != "sig":
        raise InvalidKeySet(f"{where} ({kid}): use must be sig.")
    if "d" in jwk:
        raise InvalidKeySet(f"{where} ({kid}): a private key; configure the public key only.")
    try:
        key = jwt.PyJWK(dict(jwk)).key
    except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
        raise InvalidKeySet(f"{where} ({kid}): not a usable JWK.") from exc
    algorithm = _algorithm_for(key, f"{where} ({kid})")
    if jwk.get("alg", algorithm) != algorithm:
        raise InvalidKeySet(f"{where} ({kid}): alg must be {algorithm} for this key.")
    return kid, VerifyingKey(key, algorithm)


@dataclass(frozen=True)
class KeySet:
    """The public keys tokens may be signed with. ``None`` is the key of a single-PEM file (no kid needed)."""

    keys: Mapping[Optional[str], VerifyingKey] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> "KeySet":
        """One PEM public key, a JWKS ``{"keys": [...]}``, or ``{"<kid>": "<PEM public key>", ...}``."""
        if text.lstrip().startswith("-----BEGIN"):
            if text.count("-----BEGIN") != 1:
                raise InvalidKeySet("a PEM file holds exactly one public key; use JSON with a kid per key for more.")
            return cls({None: _from_pem(text, "the PEM key")})
        try:
            document = json.loads(text)
        except ValueError as exc:
            raise InvalidKeySet("neither a PEM public key nor JSON.") from exc
        if not isinstance(document, dict) or not document:
            raise InvalidKeySet("the JSON must be an object with at least one key.")
        keys: dict[Optional[str], VerifyingKey] = {}
        if "keys" in document:
            entries = document["keys"]
            if not isinstance(entries, list) or not entries:
                raise InvalidKeySet('"keys" must be a non-empty list of JWKs.')
            for index, entry in enumerate(entries):
                if not isinstance(entry, dict):
                    raise InvalidKeySet(f"keys[{index}] is not a JWK object.")
                kid, key = _from_jwk(entry, f"keys[{index}]")
                if kid in keys:
                    raise InvalidKeySet(f"kid {kid} appears twice.")
                keys[kid] = key
        else:
            for kid, pem in document.items():
                if not kid or not isinstance(pem, str):
                    raise InvalidKeySet("each kid must map to a PEM public key (a string).")
                keys[kid] = _from_pem(pem, f"kid {kid}")
        return cls(keys)

    def key_for(self, kid: object) -> VerifyingKey:
        if None in self.keys and len(self.keys) == 1:
            return self.keys[None]
        if not isinstance(kid, str) or kid not in self.keys:
            raise InvalidSessionToken("unknown kid")
        return self.keys[kid]


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidSessionToken(f"{name} is not a number")
    return float(value)


def verify(keys: KeySet, token: str, audience: Optional[str] = None, now: Optional[float] = None) -> str:
    """The account reference (`sub`) the token vouches for; ``InvalidSessionToken`` otherwise."""
    if not keys.keys:
        raise InvalidSessionToken("no keys configured")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise InvalidSessionToken("malformed") from exc
    verifying = keys.key_for(header.get("kid"))
    try:
        claims = jwt.decode(
            token,
            verifying.key,
            algorithms=[verifying.algorithm],
            audience=audience,
            options={
                "require": ["sub", "iat", "exp"] + (["aud"] if audience else []),
                "verify_aud": audience is not None,
                # the times are checked below, against `now`, with the lifetime rule
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise InvalidSessionToken(type(exc).__name__) from exc
    current = time.time() if now is None else now
    issued, expires = _number(claims, "iat"), _number(claims, "exp")
    if expires - issued > MAX_LIFETIME_SECONDS:
        raise InvalidSessionToken("lifetime over 5 minutes")
    if expires <= current:
        raise InvalidSessionToken("expired")
    if issued > current + CLOCK_SKEW_SECONDS:
        raise InvalidSessionToken("issued in the future")
    if "nbf" in claims and _number(claims, "nbf") > current + CLOCK_SKEW_SECONDS:
        raise InvalidSessionToken("not yet valid")
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidSessionToken("sub")
    return subject
