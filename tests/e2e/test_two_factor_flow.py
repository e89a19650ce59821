"""TOTP enrollment walked through in chat, with the secure page opened and its button pressed over HTTP
(issue 5; LNK-1: only the page's POST shows the seed or the codes)."""

import asyncio
import re
import time

import aiohttp
import pyotp
from redis.asyncio import Redis

from recoverydesk.adapters.totp_store import TotpStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.signing import derive_key
from tests.support.servers import (
    ChatCustomer,
    collect_until,
    create_account,
    reveal_on_page,
    set_password_on_page,
    verify_by_email_code,
    wait_for_mail,
)

NEW_PASSWORD = "lantern-harbour-quartz-meadow-7"


def link_in(text: str, purpose: str) -> str:
    return re.search(rf"(http\S+/secure/{purpose}/[A-Za-z0-9_-]+)", text).group(1)


async def fetch(url: str) -> tuple[int, dict, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as page:
            return page.status, dict(page.headers), await page.text()


async def reveal(url: str) -> tuple[int, dict, str]:
    """Opens the page and presses its button: the POST's status, headers and page."""
    async with aiohttp.ClientSession() as http:
        return await reveal_on_page(http, url)


async def post_again(url: str, page_with_form: str) -> int:
    """Posts the page's form once more (with its CSRF token): the status."""
    csrf = re.search(r"name=csrf_token value='([0-9a-f]+)'", page_with_form).group(1)
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data={"csrf_token": csrf}) as reply:
            return reply.status


async def change_password(link: str) -> None:
    async with aiohttp.ClientSession() as http:
        await set_password_on_page(http, link, NEW_PASSWORD)


def wrong_code(seed: str) -> str:
    """A well-formed code that matches no step near now."""
    totp = pyotp.TOTP(seed)
    near = {totp.at(int(time.time()) + offset * 30) for offset in range(-2, 3)}
    return next(c for c in ("111111", "222222", "333333", "444444") if c not in near)


async def test_password_then_two_factor_walk_through(settings, smtp_server, chat_url):
    account = await create_account(settings, sessions=2)
    redis = Redis.from_url(settings.redis_url)
    customer = await ChatCustomer(chat_url).connect()
    try:
        await verify_by_email_code(customer, smtp_server, account.email)
        await customer.say("no", expect=2)
        _signed_out, password_message = await customer.say("yes", expect=2)
        await change_password(link_in(password_message["text"], "password"))
        changed = await asyncio.wait_for(customer.replies.get(), 15)
        offer = await asyncio.wait_for(customer.replies.get(), 15)
        assert "password has been changed" in changed["text"] and "two-factor" in offer["text"]

        explain, link_message = await customer.say("yes", expect=2)
        assert "authenticator app" in explain["text"]
        link = link_in(link_message["text"], "totp")
        assert link.startswith(settings.public_base_url + "/secure/totp/")
        opened_status, _, opened = await fetch(link)
        assert opened_status == 200 and "totp-secret" not in opened and "<svg" not in opened
        status, headers, body = await reveal(link)
        assert status == 200 and headers["Cache-Control"] == "no-store"
        assert "<svg" in body and "http" not in body.split("<svg", 1)[1].split("</svg>", 1)[0].replace(
            "http://www.w3.org", ""
        )
        seed = re.search(r"id=totp-secret>([A-Z2-7]{32})<", body).group(1)
        assert "Recovery Desk" in body and account.email[0] + "***@example.com" in body
        assert (await post_again(link, opened)) == 410  # the page shows the seed once
        assert (await fetch(link))[0] == 410

        [_never_share, wrong] = await customer.say(wrong_code(seed), expect=2)
        assert "doesn't match" in wrong["text"]
        await customer.sio.emit("user_uttered", {"message": pyotp.TOTP(seed).now(), "session_id": customer.session_id})
        replies = await collect_until(customer, "recovery codes")
        assert any("Two-factor authentication is on" in r["text"] for r in replies)
        codes_link = link_in(replies[-1]["text"], "recovery-codes")
        recovery_status, recovery_headers, recovery_page = await reveal(codes_link)
        codes = re.findall(r"<li>([A-Z2-9]{4}(?:-[A-Z2-9]{4}){3})</li>", recovery_page)
        assert recovery_status == 200 and len(codes) == 10 and recovery_headers["Cache-Control"] == "no-store"
        assert (await fetch(codes_link))[0] == 410

        secrets_hash = await redis.hgetall(f"rd:account:{account.ref}:secrets")
        assert seed.encode() not in secrets_hash[b"totp_seed"]
        notice = await wait_for_mail(smtp_server, account.email, "Two-factor authentication was turned on")
        assert "this wasn't me" in notice and seed not in notice and "http" not in notice
    finally:
        await customer.close()
        await redis.close()


async def test_an_account_with_totp_gives_its_current_code_before_the_password_link(settings, smtp_server, chat_url):
    seed = pyotp.random_base32()
    account = await create_account(settings, totp_secret=seed)
    customer = await ChatCustomer(chat_url).connect()
    try:
        await verify_by_email_code(customer, smtp_server, account.email)
        await customer.say("no", expect=2)
        [ask] = await customer.say("not now")
        assert "authenticator app shows now" in ask["text"]
        await customer.sio.emit("user_uttered", {"message": pyotp.TOTP(seed).now(), "session_id": customer.session_id})
        replies = await collect_until(customer, "/secure/password/")
        assert "never share" in replies[0]["text"].lower()
    finally:
        await customer.close()


async def test_a_recovery_code_stands_in_for_a_lost_phone_once(settings, smtp_server, chat_url):
    account = await create_account(settings, totp_secret=pyotp.random_base32())
    redis = Redis.from_url(settings.redis_url)
    totps = TotpStore(redis, SecretBox(settings.secret_key), derive_key(settings.secret_key, "recovery-codes"))
    codes = await totps.issue_recovery_codes(account.ref)
    customer = await ChatCustomer(chat_url).connect()
    try:
        await verify_by_email_code(customer, smtp_server, account.email)
        [ask] = await customer.say("I got a new phone, I need to set up my authenticator again")
        assert "recovery codes" in ask["text"]
        await customer.sio.emit(
            "user_uttered", {"message": f"my recovery code is {codes[0]}", "session_id": customer.session_id}
        )
        replies = await collect_until(customer, "/secure/totp/")
        assert any("you have 9 left" in r["text"] for r in replies)
        assert not await totps.use_recovery_code(account.ref, codes[0])
    finally:
        await customer.close()
        await redis.close()


async def test_wrong_enrollment_codes_hint_at_the_clock_then_offer_a_person(settings, smtp_server, customer):
    account = await create_account(settings)
    await verify_by_email_code(customer, smtp_server, account.email)
    _explain, link_message = await customer.say("please turn on two-factor authentication", expect=2)
    page = (await reveal(link_in(link_message["text"], "totp")))[2]
    seed = re.search(r"id=totp-secret>([A-Z2-7]{32})<", page).group(1)
    wrong = wrong_code(seed)
    first = await customer.say(wrong, expect=2)
    assert not any("clock" in r["text"] for r in first)
    second = await customer.say(wrong, expect=3)
    assert "clock" in second[-1]["text"]
    for _ in range(2):
        await customer.say(wrong, expect=3)
    fifth = await customer.say(wrong, expect=3)
    assert "too many wrong codes" in fifth[-1]["text"]
    assert "security team" in (await customer.say("yes"))[0]["text"]


async def test_a_lost_authenticator_goes_to_a_person(settings, smtp_server, customer):
    account = await create_account(settings, totp_secret=pyotp.random_base32())
    await verify_by_email_code(customer, smtp_server, account.email)
    await customer.say("no", expect=2)
    await customer.say("not now")
    lost, ticket = await customer.say("I lost my phone", expect=2)
    assert "security team" in lost["text"] and "case number" in ticket["text"]
