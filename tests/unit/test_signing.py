import json

import pytest

from recoverydesk.domain.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, derive_key, sign, verify

KEY = derive_key(b"x" * 48, "tickets")
BODY = json.dumps({"category": "other", "priority": "low"}).encode()


def test_a_fresh_signature_verifies():
    verify(KEY, sign(KEY, BODY, now=1000), BODY, now=1100)


def test_unsigned_requests_are_rejected():
    with pytest.raises(SignatureError):
        verify(KEY, {}, BODY, now=1000)


def test_stale_signatures_are_rejected():
    with pytest.raises(SignatureError):
        verify(KEY, sign(KEY, BODY, now=1000), BODY, now=1000 + 301)


def test_signatures_from_the_future_are_rejected():
    with pytest.raises(SignatureError):
        verify(KEY, sign(KEY, BODY, now=2000), BODY, now=1000)


def test_an_altered_body_is_rejected():
    with pytest.raises(SignatureError):
        verify(KEY, sign(KEY, BODY, now=1000), BODY.replace(b"low", b"urgent"), now=1000)


def test_an_altered_timestamp_is_rejected():
    headers = sign(KEY, BODY, now=1000)
    headers[TIMESTAMP_HEADER] = "1001"
    with pytest.raises(SignatureError):
        verify(KEY, headers, BODY, now=1000)


def test_another_key_does_not_verify():
    other = derive_key(b"y" * 48, "tickets")
    with pytest.raises(SignatureError):
        verify(KEY, sign(other, BODY, now=1000), BODY, now=1000)


def test_keys_differ_per_purpose():
    assert derive_key(b"x" * 48, "tickets") != derive_key(b"x" * 48, "seal")


def test_header_names_are_stable():
    assert set(sign(KEY, BODY)) == {TIMESTAMP_HEADER, SIGNATURE_HEADER}
