"""A logged-in web page's JWT gives `strong` (IDV-2); a bound factor is never bypassed (IDV-3).

The token rules themselves (algorithms, kid, lifetime) are in tests/unit/test_session_tokens.py."""

import asyncio

import pyotp
import pytest

from tests.support.servers import ChatCustomer, create_account, secure_signed_in_account, verify_by_email_code
from tests.support.web_tokens import Website, ec_key, sign


async def test_a_signed_session_is_strong_enough_for_an_account_with_totp(settings, website: Website, chat_url):
    account = await create_account(settings, totp_secret=pyotp.random_base32())
    token = website.token(account.ref)
    customer = await ChatCustomer(chat_url).connect(auth_token=token)
    try:
        link = await secure_signed_in_account(customer)
        assert "/secure/password/" in link["text"]
    finally:
        await customer.close()


async def test_an_email_code_alone_cannot_reset_an_account_with_totp(settings, smtp_server, customer):
    account = await create_account(settings, totp_secret=pyotp.random_base32())
    await verify_by_email_code(customer, smtp_server, account.email)
    await customer.say("no", expect=2)
    [ask] = await customer.say("not now")
    assert "already has two-factor" in ask["text"] and "/secure/" not in ask["text"]


@pytest.mark.parametrize(
    "make_token",
    [
        lambda website: sign(ec_key(), "acct_someone", kid=website.current_kid),  # not the website's key
        lambda website: website.token("acct_someone", lifetime=3600),  # lives longer than 5 minutes
    ],
    ids=["forged", "long-lived"],
)
async def test_a_forged_or_long_lived_token_is_refused_with_a_clear_error(chat_url, website: Website, make_token):
    customer = await ChatCustomer(chat_url).connect(request_session=False)
    try:
        token = make_token(website)
        await customer.sio.emit("session_request", {"session_id": customer.session_id, "auth_token": token})
        error = await asyncio.wait_for(customer.errors.get(), 10)
        assert error["code"] == "invalid_auth_token" and not customer.confirmed.is_set()
    finally:
        await customer.close()
