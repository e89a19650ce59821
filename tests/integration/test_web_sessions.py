"""Logged-in-page JWTs against a real Redis: a valid one verifies the conversation strongly, no other does."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain.session_tokens import KeySet
from recoverydesk.services.web_sessions import InvalidSessionToken, VerificationUnavailable, WebSessions
from tests.support.web_tokens import Website, ec_key, sign

WEBSITE = Website()
KEYS = KeySet.parse(WEBSITE.key_file_text())


async def test_a_signed_token_verifies_the_conversation_strongly(redis):
    verification = VerificationStore(redis)
    sessions = WebSessions(KEYS, verification)

    account_ref = await sessions.sign_in("conv_signed", WEBSITE.token("acct_signed"))

    granted = await verification.get("conv_signed")
    assert account_ref == "acct_signed"
    assert (granted.account_ref, granted.level, granted.methods) == ("acct_signed", "strong", ["signed_session"])
    assert (await verification.get("conv_other")).level == "none"


@pytest.mark.parametrize(
    "make_token",
    [
        lambda: sign(ec_key(), "acct_forged", kid=WEBSITE.current_kid),  # another private key, our kid
        lambda: WEBSITE.token("acct_old", now=1000, lifetime=60),  # long expired
        lambda: "not-a-token",
    ],
    ids=["forged", "expired", "malformed"],
)
async def test_a_forged_expired_or_malformed_token_grants_nothing(redis, make_token):
    verification = VerificationStore(redis)
    with pytest.raises(InvalidSessionToken):
        await WebSessions(KEYS, verification).sign_in("conv_refused", make_token())
    assert (await verification.get("conv_refused")).level == "none"


async def test_with_no_keys_configured_every_token_is_refused(redis):
    verification = VerificationStore(redis)
    with pytest.raises(InvalidSessionToken):
        await WebSessions(KeySet(), verification).sign_in("conv_nokeys", WEBSITE.token("acct_nokeys"))
    assert (await verification.get("conv_nokeys")).level == "none"


async def test_a_configured_audience_is_required(redis):
    sessions = WebSessions(KEYS, VerificationStore(redis), audience="recoverydesk")
    with pytest.raises(InvalidSessionToken):
        await sessions.sign_in("conv_aud", WEBSITE.token("acct_aud"))
    with pytest.raises(InvalidSessionToken):
        await sessions.sign_in("conv_aud", WEBSITE.token("acct_aud", aud="another-service"))
    assert await sessions.sign_in("conv_aud", WEBSITE.token("acct_aud", aud="recoverydesk")) == "acct_aud"


async def test_redis_down_is_reported_as_verification_unavailable():
    down = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5)
    sessions = WebSessions(KEYS, VerificationStore(down))
    with pytest.raises(VerificationUnavailable):
        await sessions.sign_in("conv_down", WEBSITE.token("acct_down"))
    await down.close()
