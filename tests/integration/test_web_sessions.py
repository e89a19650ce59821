"""Signed logged-in-page tokens against a real Redis: a valid one verifies the conversation strongly, no other does."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain import session_tokens
from recoverydesk.services.web_sessions import InvalidSessionToken, VerificationUnavailable, WebSessions

SECRET = b"w" * 48


async def test_a_signed_token_verifies_the_conversation_strongly(redis):
    verification = VerificationStore(redis)
    sessions = WebSessions(SECRET, verification)

    account_ref = await sessions.sign_in("conv_signed", session_tokens.issue(SECRET, "acct_signed"))

    granted = await verification.get("conv_signed")
    assert account_ref == "acct_signed"
    assert (granted.account_ref, granted.level, granted.methods) == ("acct_signed", "strong", ["signed_session"])
    assert (await verification.get("conv_other")).level == "none"


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: session_tokens.issue(b"x" * 48, "acct_forged"),  # another key
        lambda: session_tokens.issue(SECRET, "acct_old", lifetime=60, now=1000),  # long expired
        lambda: "not-a-token",
    ],
)
async def test_a_forged_expired_or_malformed_token_grants_nothing(redis, make_token):
    verification = VerificationStore(redis)
    with pytest.raises(InvalidSessionToken):
        await WebSessions(SECRET, verification).sign_in("conv_refused", make_token())
    assert (await verification.get("conv_refused")).level == "none"


async def test_redis_down_is_reported_as_verification_unavailable():
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    sessions = WebSessions(SECRET, VerificationStore(down))
    with pytest.raises(VerificationUnavailable):
        await sessions.sign_in("conv_down", session_tokens.issue(SECRET, "acct_down"))
    await down.close()
