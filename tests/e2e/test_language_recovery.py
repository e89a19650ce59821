"""A full recovery in Spanish, Italian and Russian through socket.io (issue 16): verification by
emailed code, the secure password page, two-factor set-up and recovery codes, with every chat
reply, email and page checked for the conversation's language."""

import os
import re

import aiohttp
import pyotp
import pytest
import yaml

from recoverydesk.settings import ROOT
from tests.support.servers import (
    ChatCustomer,
    collect_until,
    create_account,
    reveal_on_page,
    set_password_on_page,
    wait_for_mail,
)

CUSTOMER = {
    "es": ("alguien me cambió la contraseña sin mi permiso", "no", "sí"),
    "it": ("qualcuno mi ha cambiato la password senza il mio permesso", "no", "sì"),
    "ru": ("кто-то сменил мой пароль без моего ведома", "нет", "да"),
}


def said(code: str, name: str) -> str:
    """The response's last variant (the one without channel or condition) in ``code``."""
    return yaml.safe_load((ROOT / "locales" / f"{code}.yml").read_text())["responses"][name][-1]["text"]


def marker(text) -> str:
    """The start of a response, up to its first placeholder (common to every plural form)."""
    if isinstance(text, dict):
        text = os.path.commonprefix(list(text.values()))
    return text.split("{", 1)[0][:40]


async def emit(customer: ChatCustomer, text: str) -> None:
    await customer.sio.emit("user_uttered", {"message": text, "session_id": customer.session_id})


@pytest.mark.parametrize("code", sorted(CUSTOMER))
async def test_a_full_recovery_in_the_customers_language(settings, smtp_server, chat_url, code):
    report, no, yes = CUSTOMER[code]
    account = await create_account(settings)
    customer = await ChatCustomer(chat_url).connect()
    try:
        await customer.say(report)
        await customer.say("/request_secure_account")
        await customer.say(account.email)
        body = await wait_for_mail(smtp_server, account.email, said(code, "utter_email_code_subject"))
        assert marker(said(code, "utter_email_code_body")) in body
        mailed = re.search(r"\b(\d{6})\b", body).group(1)
        await emit(customer, mailed)
        await collect_until(customer, marker(said(code, "utter_ask_activity_not_me")))
        await customer.say(no, expect=2)
        replies = await customer.say(yes, expect=2)
        link = re.search(r"(http\S+/secure/password/[A-Za-z0-9_-]+)", replies[-1]["text"]).group(1)
        async with aiohttp.ClientSession() as http:
            async with http.get(link) as page:
                html = await page.text()
            assert f"<html lang={code}>" in html and said(code, "utter_page_password_title") in html
            await set_password_on_page(http, link, "violet harbour lantern 1987 quartz")
            changed = await collect_until(customer, marker(said(code, "utter_password_changed")))
            assert changed[-1]["text"] == said(code, "utter_password_changed")
            mail = await wait_for_mail(smtp_server, account.email, said(code, "utter_email_password_changed_subject"))
            assert marker(said(code, "utter_email_password_changed_body")) in mail
            await customer.replies.get()  # the offer of two-factor
            replies = await customer.say(yes, expect=2)
            totp_link = re.search(r"(http\S+/secure/totp/[A-Za-z0-9_-]+)", replies[-1]["text"]).group(1)
            _, _, totp_page = await reveal_on_page(http, totp_link)
            assert f"<html lang={code}>" in totp_page and said(code, "utter_page_totp_title") in totp_page
            seed = re.search(r"id=totp-secret>([A-Z2-7]{32})<", totp_page).group(1)
            await emit(customer, pyotp.TOTP(seed).now())
            enabled = await collect_until(customer, marker(said(code, "utter_recovery_codes_link")))
            assert any(reply["text"] == said(code, "utter_totp_enabled") for reply in enabled)
            recovery_link = re.search(r"(http\S+/secure/recovery-codes/[A-Za-z0-9_-]+)", enabled[-1]["text"]).group(1)
            _, _, codes_page = await reveal_on_page(http, recovery_link)
            assert f"<html lang={code}>" in codes_page and said(code, "utter_page_recovery_title") in codes_page
            assert len(re.findall(r"<li>([A-Z2-9-]{19})</li>", codes_page)) == 10
        mail = await wait_for_mail(smtp_server, account.email, said(code, "utter_email_totp_enabled_subject"))
        assert marker(said(code, "utter_email_totp_enabled_body")) in mail
    finally:
        await customer.close()
