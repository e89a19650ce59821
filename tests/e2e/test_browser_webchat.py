"""A customer in a real browser: the web chat page sends a message and shows the bot's reply."""

import pytest

from tests.support.browser import browser_context

pytestmark = pytest.mark.browser


@pytest.fixture
def page(stack):
    yield from (ctx.new_page() for ctx in browser_context())


def test_customer_sends_a_message_and_sees_the_reply(page, chat_url):
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{chat_url}/chat/")
    page.wait_for_selector("#status:has-text('Connected')", timeout=15000)
    page.fill("#message", "hello")
    page.press("#message", "Enter")
    page.wait_for_selector(".msg--bot", timeout=20000)
    assert "Recovery Desk" in page.inner_text(".msg--bot")
    assert page.inner_text(".msg--me") == "hello"
    assert errors == []


def test_customer_text_is_shown_as_text_not_html(page, chat_url):
    page.goto(f"{chat_url}/chat/")
    page.wait_for_selector("#status:has-text('Connected')", timeout=15000)
    payload = "<img src=x onerror=\"document.title='pwned'\">"
    page.fill("#message", payload)
    page.press("#message", "Enter")
    page.wait_for_selector(".msg--bot", timeout=20000)
    assert page.inner_text(".msg--me") == payload
    assert page.locator(".msg--me img").count() == 0
    assert page.title() != "pwned"


def test_chat_page_sets_a_strict_content_security_policy(page, chat_url):
    response = page.goto(f"{chat_url}/chat/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
