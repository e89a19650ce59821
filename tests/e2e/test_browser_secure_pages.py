"""Two-factor enrollment in a real browser: the customer follows the links the web chat shows, and the
secure pages show the seed and the recovery codes only after the customer presses their button (LNK-1)."""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import pyotp
import pytest

from recoverydesk.adapters.responses import text
from tests.support.servers import create_account, wait_for_mail

pytestmark = pytest.mark.browser

BOT_ANSWER_MS = 30_000


def run(coroutine):
    """Runs a coroutine to its end outside Playwright's own event loop (which holds this thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def say(chat, message: str) -> None:
    chat.fill("#message", message)
    chat.press("#message", "Enter")


def wait_for_bot(chat, part: str) -> None:
    chat.wait_for_selector(f".msg--bot:has-text({part!r})", timeout=BOT_ANSWER_MS)


def follow_link(context, chat, purpose: str):
    """Clicks the newest secure link of ``purpose`` in the chat; the page it opens in a new tab."""
    anchor = chat.locator(f".msg--bot a[href*='/secure/{purpose}/']").last
    with context.expect_page() as opened:
        anchor.click()
    page = opened.value
    page.wait_for_load_state()
    return page


def test_a_customer_enrolls_an_authenticator_through_the_links_in_the_web_chat(
    context, settings, smtp_server, chat_url
):
    account = run(create_account(settings))
    chat = context.new_page()
    chat.goto(f"{chat_url}/chat/")
    chat.wait_for_selector("#status:has-text('Connected')", timeout=15_000)
    say(chat, "I want to secure my account")
    wait_for_bot(chat, "email address on your account")
    say(chat, account.email)
    body = run(wait_for_mail(smtp_server, account.email, "verification code", timeout=30))
    say(chat, "the code is " + re.search(r"\b(\d{6})\b", body).group(1))
    wait_for_bot(chat, "Were any of these not you?")
    say(chat, "please turn on two-factor authentication")
    chat.wait_for_selector(".msg--bot a[href*='/secure/totp/']", timeout=BOT_ANSWER_MS)

    enrollment = follow_link(context, chat, "totp")
    assert enrollment.locator("#totp-secret").count() == 0 and enrollment.locator("svg").count() == 0
    enrollment.click(f"button:has-text({text('utter_page_totp_button')!r})")
    seed = enrollment.locator("#totp-secret").inner_text(timeout=15_000)
    assert re.fullmatch(r"[A-Z2-7]{32}", seed) and enrollment.locator(".qr svg").count() == 1
    enrollment.reload()  # the seed is shown once: opening the link again shows only that it was used
    assert text("utter_page_link_invalid") in enrollment.inner_text("main") and seed not in enrollment.content()

    say(chat, pyotp.TOTP(seed).now())
    chat.wait_for_selector(".msg--bot a[href*='/secure/recovery-codes/']", timeout=BOT_ANSWER_MS)
    codes_page = follow_link(context, chat, "recovery-codes")
    assert codes_page.locator("#recovery-codes").count() == 0
    codes_page.click(f"button:has-text({text('utter_page_recovery_button')!r})")
    codes_page.wait_for_selector("#recovery-codes li", timeout=15_000)
    assert codes_page.locator("#recovery-codes li").count() == 10
