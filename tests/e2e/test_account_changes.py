"""Contact changes and the 24-hour hold on risky changes after a recovery (NOT-1, NOT-2)."""

import asyncio
import re
import secrets
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import aiohttp
import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.domain.accounts import Account, ChangeHeld
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.settings import ROOT
from tests.support.servers import (
    ChatCustomer,
    create_account,
    secure_signed_in_account,
    set_password_on_page,
    wait_for_mail,
)


@pytest.fixture
async def directory(redis_server):
    client = Redis.from_url(redis_server.url)
    yield AccountDirectory(client, SecretBox(b"d" * 48))
    await client.close()


def new_email() -> str:
    return f"h{secrets.token_hex(4)}@example.com"


async def test_a_new_email_moves_the_account_and_keeps_the_old_address_for_notices(directory):
    old = new_email()
    await directory.add(old, "Hana Ito", "x" * 20)
    changed = await directory.change_contacts(old, new_email="  NEW-" + old.upper())
    assert changed.email == "new-" + old and changed.previous_emails == [old]
    assert await directory.store.by_email(old) is None
    assert (await directory.store.by_email(changed.email)).ref == changed.ref
    assert changed.notify_addresses() == [changed.email, old]
    assert [e.kind for e in await directory.store.events(changed.ref)] == ["email_change"]


def test_an_address_replaced_more_than_30_days_ago_gets_no_notice():
    account = Account(
        ref="acct_x",
        email="b@example.com",
        name="B",
        previous_emails=["a@example.com"],
        email_changed_at=(datetime.now(timezone.utc) - timedelta(days=31)).isoformat(),
    )
    assert account.notify_addresses() == ["b@example.com"]


async def test_an_email_already_in_use_is_refused(directory):
    first, second = new_email(), new_email()
    await directory.add(first, "A", "x" * 20)
    await directory.add(second, "B", "x" * 20)
    with pytest.raises(Exception, match="already exists"):
        await directory.change_contacts(first, new_email=second)
    assert (await directory.store.by_email(first)) is not None


async def test_risky_changes_are_held_for_24_hours_after_a_recovery(directory, redis_server):
    email = new_email()
    account = await directory.add(email, "Ola Nord", "x" * 20, totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    await directory.recovered(account.ref)
    with pytest.raises(ChangeHeld) as held:
        await directory.change_contacts(email, new_phone="+15550100")
    assert timedelta(hours=23, minutes=59) < held.value.until - datetime.now(timezone.utc) <= timedelta(hours=24)
    with pytest.raises(ChangeHeld):
        await directory.remove_second_factor(email)
    assert (await directory.store.get(account.ref)).has_totp

    client = Redis.from_url(redis_server.url)
    await client.delete(f"rd:account:{account.ref}:risky_change_hold")  # the 24 hours have passed
    await client.close()
    assert not (await directory.remove_second_factor(email)).has_totp
    assert (await directory.change_contacts(email, new_phone="+15550100")).phone == "+15550100"


async def test_a_password_reset_in_chat_holds_contact_changes_and_notifies_the_replaced_address(
    settings, stack_env, smtp_server, chat_url, website
):
    account = await create_account(settings)
    replacement = new_email()
    redis = Redis.from_url(settings.redis_url)
    directory = AccountDirectory(redis, SecretBox(settings.secret_key))
    await directory.change_contacts(account.email, new_email=replacement)
    token = website.token(account.ref)  # a signed-in page: a code would go to a person
    customer = await ChatCustomer(chat_url).connect(auth_token=token)
    try:
        link_message = await secure_signed_in_account(customer)
        link = re.search(r"(http\S+/secure/password/\S+)", link_message["text"]).group(1)
        password = "copper-tundra-violet-anchor-5"
        async with aiohttp.ClientSession() as http:
            await set_password_on_page(http, link, password)
        for address in (replacement, account.email):
            notice = await wait_for_mail(smtp_server, address, "password was changed")
            assert "this wasn't me" in notice and password not in notice
        assert await directory.store.risky_changes_held_until(account.ref) is not None

        result = await asyncio.to_thread(
            subprocess.run,
            [
                sys.executable,
                "-m",
                "recoverydesk.ops.cli",
                "accounts",
                "change-contacts",
                "--email",
                replacement,
                "--new-email",
                new_email(),
            ],
            cwd=ROOT,
            env=stack_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 1 and "held until" in result.stderr and result.stdout == ""
        assert (await directory.store.get(account.ref)).email == replacement
    finally:
        await customer.close()
        await redis.close()
