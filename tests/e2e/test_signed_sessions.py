"""A logged-in web page's signed token gives `strong` (IDV-2); a bound factor is never bypassed (IDV-3)."""

import asyncio

import pyotp
import pytest

from recoverydesk.domain import session_tokens
from tests.support.servers import ChatCustomer, create_account, secure_signed_in_account, verify_by_email_code

SECRET = b"s" * 48


def test_a_signed_token_vouches_for_its_account():
    token = session_tokens.issue(SECRET, "acct_1", now=1000)
    assert session_tokens.verify(SECRET, token, now=1100) == "acct_1"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),
        lambda t: t.split(".")[0],
        lambda t: "garbage",
    ],
)
def test_altered_tokens_are_refused(mutate):
    with pytest.raises(session_tokens.InvalidSessionToken):
        session_tokens.verify(SECRET, mutate(session_tokens.issue(SECRET, "acct_1", now=1000)), now=1000)


def test_tokens_expire_within_five_minutes():
    token = session_tokens.issue(SECRET, "acct_1", lifetime=3600, now=1000)
    with pytest.raises(session_tokens.InvalidSessionToken):
        session_tokens.verify(SECRET, token, now=1000 + 301)


async def test_a_signed_session_is_strong_enough_for_an_account_with_totp(settings, chat_url):
    account = await create_account(settings, totp_secret=pyotp.random_base32())
    token = session_tokens.issue(settings.secret_key, account.ref)
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


async def test_a_forged_token_is_refused_with_a_clear_error(chat_url):
    customer = await ChatCustomer(chat_url).connect(request_session=False)
    try:
        forged = session_tokens.issue(b"x" * 48, "acct_someone")
        await customer.sio.emit("session_request", {"session_id": customer.session_id, "auth_token": forged})
        error = await asyncio.wait_for(customer.errors.get(), 10)
        assert error["code"] == "invalid_auth_token" and not customer.confirmed.is_set()
    finally:
        await customer.close()
