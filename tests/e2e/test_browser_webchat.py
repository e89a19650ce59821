"""A customer in a real browser: the web chat page sends a message and shows the bot's reply, shows its
texts from the responses, and keeps a conversation going over a connection that dies silently."""

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from recoverydesk.adapters.responses import text
from tests.support.browser import browser_context
from tests.support.servers import tracker

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


def test_chat_page_texts_are_the_responses(page, chat_url):
    page.goto(f"{chat_url}/chat/")
    page.wait_for_selector("#status[data-state='connected']", timeout=15000)
    assert page.title() == text("utter_chat_page_title")
    assert page.inner_text("#status") == text("utter_chat_connected")
    assert page.get_attribute("#message", "placeholder") == text("utter_chat_placeholder")
    assert page.inner_text("#send") == text("utter_chat_send")


class Link:
    """Stands between the page and the server on every web chat WebSocket, and can cut the current one in
    one direction or both while both sockets stay open: what a phone that changes networks sees, where
    no close ever arrives. Later connections are healthy."""

    def __init__(self) -> None:
        self.connections = 0
        self.cut: dict[int, str] = {}  # connection number → "both" or "to_page"

    def route(self, ws) -> None:
        self.connections += 1
        number = self.connections
        server = ws.connect_to_server()
        ws.on_message(lambda message: None if self.cut.get(number) == "both" else server.send(message))
        server.on_message(lambda message: None if number in self.cut else ws.send(message))

    def cut_current(self, how: str) -> None:
        self.cut[self.connections] = how


def session_of(page) -> str:
    return page.evaluate("sessionStorage.getItem('recoverydesk.session')")


def run(coroutine):
    """Runs a coroutine outside Playwright's own event loop (which holds this thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def answered(page, said: str) -> None:
    page.fill("#message", said)
    page.press("#message", "Enter")
    page.wait_for_function(ANSWERED, arg=said, timeout=30000)


# True once a bot bubble follows the customer's last bubble with exactly this text.
ANSWERED = """(text) => {
  const items = Array.from(document.querySelectorAll('#log .msg'));
  const mine = items.map((i) => (i.classList.contains('msg--me') ? i.textContent : null)).lastIndexOf(text);
  return mine >= 0 && items.slice(mine + 1).some((i) => i.classList.contains('msg--bot'));
}"""


def test_a_silent_dead_connection_is_noticed_from_the_missing_pings_and_the_chat_goes_on(page, chat_url):
    link = Link()
    page.route_web_socket(re.compile(r".*/socket\.io/.*"), link.route)
    page.goto(f"{chat_url}/chat/")
    page.wait_for_selector("#status[data-state='connected']", timeout=15000)
    answered(page, "hello")
    page.wait_for_timeout(30000)  # two of the server's pings: a live connection is kept
    assert link.connections == 1 and page.get_attribute("#status", "data-state") == "connected"

    link.cut_current("both")  # no close, no error: only the pings stop
    page.wait_for_selector("#status:not([data-state='connected'])", timeout=60000)
    assert page.get_attribute("#status", "data-state") in ("reconnecting", "offline")
    assert page.inner_text("#status") in (text("utter_chat_reconnecting"), text("utter_chat_offline"))
    page.wait_for_selector("#status[data-state='connected']", timeout=30000)
    assert link.connections == 2
    answered(page, "what can you do?")


def test_a_message_whose_acknowledgement_is_lost_is_sent_again_and_handled_once(page, settings, chat_url):
    link = Link()
    page.route_web_socket(re.compile(r".*/socket\.io/.*"), link.route)
    page.goto(f"{chat_url}/chat/")
    page.wait_for_selector("#status[data-state='connected']", timeout=15000)
    link.cut_current("to_page")  # the server gets the message; its acknowledgement never arrives
    page.fill("#message", "hello")
    page.press("#message", "Enter")
    pending = page.locator(".msg--me.msg--pending")
    pending.wait_for(timeout=5000)
    page.wait_for_function(
        "(label) => getComputedStyle(document.querySelector('.msg--pending'), '::after').content.includes(label)",
        arg=text("utter_chat_pending"),
        timeout=10000,
    )
    page.wait_for_selector(".msg--me:not(.msg--pending)", timeout=60000)  # sent again once reconnected
    assert link.connections >= 2 and page.locator(".msg--me").count() == 1
    answered(page, "what can you do?")
    stored = run(tracker(settings, session_of(page)))
    said = [event.get("text") for event in stored["events"] if event["event"] == "user"]
    assert said == ["hello", "what can you do?"]


def test_going_offline_is_shown_and_a_message_typed_offline_is_delivered_when_back(page, settings, chat_url):
    page.goto(f"{chat_url}/chat/")
    page.wait_for_selector("#status[data-state='connected']", timeout=15000)
    answered(page, "hello")
    page.context.set_offline(True)
    page.wait_for_selector("#status[data-state='offline']", timeout=10000)
    assert page.inner_text("#status") == text("utter_chat_offline")
    page.fill("#message", "what can you do?")
    page.press("#message", "Enter")
    page.wait_for_timeout(3000)
    assert page.locator(".msg--me.msg--pending").count() == 1
    page.context.set_offline(False)
    page.wait_for_selector("#status[data-state='connected']", timeout=15000)
    page.wait_for_function(ANSWERED, arg="what can you do?", timeout=30000)
    assert page.locator(".msg--pending").count() == 0
    stored = run(tracker(settings, session_of(page)))
    said = [event.get("text") for event in stored["events"] if event["event"] == "user"]
    assert said == ["hello", "what can you do?"]
