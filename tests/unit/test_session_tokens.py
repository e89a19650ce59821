"""Logged-in-page JWTs: only ES256/RS256 signed by a configured public key, `kid` picks it, at most 5 minutes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from recoverydesk.domain import session_tokens
from recoverydesk.domain.session_tokens import InvalidKeySet, InvalidSessionToken, KeySet
from recoverydesk.domain.signing import derive_key
from tests.support.web_tokens import Website, ec_key, public_pem, rsa_key, sign

NOW = 1_900_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict) -> str:
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"


def claims(**overrides) -> dict:
    return {"sub": "acct_1", "iat": NOW, "exp": NOW + 300, **overrides}


def test_an_es256_token_vouches_for_its_account():
    website = Website()
    keys = KeySet.parse(website.key_file_text())
    assert session_tokens.verify(keys, website.token("acct_1", now=NOW), now=NOW + 100) == "acct_1"


def test_an_rs256_token_verifies_with_a_single_pem_key_and_no_kid():
    key = rsa_key()
    keys = KeySet.parse(public_pem(key))
    assert keys.keys[None].algorithm == "RS256"
    assert session_tokens.verify(keys, sign(key, "acct_rsa", now=NOW), now=NOW) == "acct_rsa"


def test_kid_selects_the_key_so_old_and_new_keys_both_work_during_a_rotation():
    website = Website({"2026-11": ec_key(), "2026-12": rsa_key()})
    keys = KeySet.parse(website.key_file_text())
    assert session_tokens.verify(keys, website.token("acct_old", kid="2026-11", now=NOW), now=NOW) == "acct_old"
    assert session_tokens.verify(keys, website.token("acct_new", kid="2026-12", now=NOW), now=NOW) == "acct_new"
    # a token signed by the new key but naming the old kid is refused: the kid picks one key, not any
    swapped = sign(website.keys["2026-12"], "acct_x", kid="2026-11", now=NOW)
    with pytest.raises(InvalidSessionToken):
        session_tokens.verify(keys, swapped, now=NOW)
    for kid in ("2026-10", None):
        with pytest.raises(InvalidSessionToken):
            session_tokens.verify(keys, sign(website.keys["2026-11"], "acct_x", kid=kid, now=NOW), now=NOW)


def test_a_jwks_document_is_accepted():
    key = ec_key()
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    keys = KeySet.parse(json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "ES256"}]}))
    assert session_tokens.verify(keys, sign(key, "acct_jwks", kid="k1", now=NOW), now=NOW) == "acct_jwks"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not a key",
        "{}",
        '{"keys": []}',
        public_pem(ec.generate_private_key(ec.SECP384R1())),  # ES384 is not allowed
        public_pem(rsa_key(1024)),  # too short
        public_pem(ec_key()) + public_pem(ec_key()),  # two keys need kids
        json.dumps({"keys": [{"kty": "oct", "k": b64(b"s" * 32), "kid": "hmac"}]}),  # a shared secret
        json.dumps({"keys": [{**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key())), "kid": "private"}]}),
        json.dumps({"keys": [{**json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key().public_key()))}]}),  # no kid
        json.dumps({"k1": "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n"}),
    ],
    ids=[
        "empty",
        "text",
        "empty-json",
        "empty-jwks",
        "p384",
        "rsa1024",
        "two-pems",
        "oct",
        "private",
        "no-kid",
        "bad-pem",
    ],
)
def test_unusable_key_files_are_refused_at_start_up(text):
    with pytest.raises(InvalidKeySet):
        KeySet.parse(text)


def test_none_and_hs256_signed_with_the_public_key_are_refused():
    key = ec_key()
    keys = KeySet.parse(public_pem(key))
    none_token = unsigned({"alg": "none", "typ": "JWT"}, claims()) + "."
    body = unsigned({"alg": "HS256", "typ": "JWT"}, claims())
    mac = hmac.new(public_pem(key).encode(), body.encode(), hashlib.sha256).digest()
    for token in (none_token, f"{body}.{b64(mac)}"):
        with pytest.raises(InvalidSessionToken):
            session_tokens.verify(keys, token, now=NOW)


def test_rs256_header_on_an_ec_key_is_refused():
    key = ec_key()
    keys = KeySet.parse(public_pem(key))
    with pytest.raises(InvalidSessionToken):
        session_tokens.verify(keys, sign(rsa_key(), "acct_1", now=NOW), now=NOW)


def test_the_old_hmac_format_is_refused():
    root_secret = b"r" * 48
    payload = base64.urlsafe_b64encode(json.dumps({"ref": "acct_1", "exp": NOW + 300}).encode()).decode()
    mac = hmac.new(derive_key(root_secret, "web-session"), payload.encode(), hashlib.sha256).hexdigest()
    keys = KeySet.parse(Website().key_file_text())
    with pytest.raises(InvalidSessionToken):
        session_tokens.verify(keys, f"{payload}.{mac}", now=NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": NOW + 301},  # lives longer than 5 minutes
        {"exp": None},
        {"iat": None},
        {"sub": None},
        {"sub": ""},
        {"exp": "soon"},
        {"iat": NOW - 400, "exp": NOW - 100},  # expired
        {"iat": NOW + 120, "exp": NOW + 300},  # issued two minutes from now
        {"nbf": NOW + 120},
    ],
    ids=["lifetime", "no-exp", "no-iat", "no-sub", "empty-sub", "text-exp", "expired", "future-iat", "future-nbf"],
)
def test_tokens_without_a_short_current_lifetime_or_a_subject_are_refused(changes):
    key = ec_key()
    keys = KeySet.parse(public_pem(key))
    body = {name: value for name, value in claims(**changes).items() if value is not None}
    with pytest.raises(InvalidSessionToken):
        session_tokens.verify(keys, jwt.encode(body, key, algorithm="ES256"), now=NOW)


def test_a_token_expires_exactly_at_exp_and_tolerates_a_website_clock_slightly_ahead():
    key = ec_key()
    keys = KeySet.parse(public_pem(key))
    token = sign(key, "acct_1", now=NOW)
    assert session_tokens.verify(keys, token, now=NOW - 20) == "acct_1"
    assert session_tokens.verify(keys, token, now=NOW + 299) == "acct_1"
    with pytest.raises(InvalidSessionToken):
        session_tokens.verify(keys, token, now=NOW + 300)


def test_altered_tokens_are_refused():
    website = Website()
    keys = KeySet.parse(website.key_file_text())
    token = website.token("acct_1")
    header, payload, signature = token.split(".")
    other_payload = b64(json.dumps(claims(sub="acct_2", iat=int(time.time()), exp=int(time.time()) + 60)).encode())
    for altered in (f"{header}.{other_payload}.{signature}", f"{header}.{payload}", token[:-4] + "AAAA", "garbage"):
        with pytest.raises(InvalidSessionToken):
            session_tokens.verify(keys, altered)


def test_with_no_keys_every_token_is_refused():
    with pytest.raises(InvalidSessionToken):
        session_tokens.verify(KeySet(), Website().token("acct_1"))
