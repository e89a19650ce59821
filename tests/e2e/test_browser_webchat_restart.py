"""The web chat in a real browser while its Rasa server is stopped and started again mid-conversation:
the customer sees the connection state, a message typed meanwhile is kept (shown as not sent yet)
and delivered once the server is back, and the conversation goes on where it was.

The module runs a small stack of its own (one Rasa worker, its own Redis and SMTP server), so
stopping its Rasa server disturbs no other test."""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from recoverydesk.adapters.responses import text
from recoverydesk.ops.stack import Stack, loopback_environment
from recoverydesk.ops.training import ensure_model
from recoverydesk.settings import ROOT, Settings
from tests.support.browser import browser_context
from tests.support.servers import RedisServer, SmtpServer, tracker

pytestmark = pytest.mark.browser

# True once a bot bubble follows the customer's last bubble with exactly this text.
ANSWERED = """(text) => {
  const items = Array.from(document.querySelectorAll('#log .msg'));
  const mine = items.map((i) => (i.classList.contains('msg--me') ? i.textContent : null)).lastIndexOf(text);
  return mine >= 0 && items.slice(mine + 1).some((i) => i.classList.contains('msg--bot'));
}"""
# Records every connection state the page shows, in order.
RECORD_STATES = """() => {
  window.seenStates = [];
  const status = document.getElementById('status');
  new MutationObserver(() => window.seenStates.push(status.dataset.state))
    .observe(status, { attributes: true, attributeFilter: ['data-state'] });
}"""


@pytest.fixture(scope="module")
def restartable(tmp_path_factory):
    """A stack of our own whose Rasa server the test stops and starts."""
    redis = RedisServer(tmp_path_factory.mktemp("restart-redis")).start()
    smtp = SmtpServer().start()
    env = loopback_environment(
        os.environ, redis.url, smtp.port, tmp_path_factory.mktemp("restart-var"), RASA_WORKERS="1"
    )
    model, _ = ensure_model(ROOT)
    stack = Stack(Settings.from_env(env, ROOT), model, env)
    try:
        stack.start(say=lambda _line: None)
        yield stack
    finally:
        stack.stop()
        smtp.stop()
        redis.stop()


@pytest.fixture
def page(restartable):
    yield from (ctx.new_page() for ctx in browser_context())


def run(coroutine):
    """Runs a coroutine outside Playwright's own event loop (which holds this thread)."""
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def say(page, message: str) -> None:
    page.fill("#message", message)
    page.press("#message", "Enter")


def test_the_chat_survives_a_rasa_restart_and_delivers_what_was_typed_meanwhile(page, restartable):
    settings = restartable.settings
    page.goto(f"http://127.0.0.1:{settings.rasa_port}/chat/")
    page.wait_for_selector("#status[data-state='connected']", timeout=15000)
    say(page, "hello")
    page.wait_for_function(ANSWERED, arg="hello", timeout=30000)
    session = page.evaluate("sessionStorage.getItem('recoverydesk.session')")
    page.evaluate(RECORD_STATES)

    restartable.stop_part("rasa")
    page.wait_for_selector("#status[data-state='offline']", timeout=60000)
    assert page.evaluate("window.seenStates")[0] == "reconnecting"
    assert page.inner_text("#status") == text("utter_chat_offline")
    say(page, "what can you do?")
    page.locator(".msg--me.msg--pending").wait_for(timeout=5000)
    page.wait_for_timeout(2000)
    assert page.locator(".msg--pending").count() == 1 and page.locator(".msg--bot").count() >= 1
    answers_before = page.locator(".msg--bot").count()

    restartable.start_part("rasa")
    page.wait_for_selector("#status[data-state='connected']", timeout=30000)
    page.wait_for_function(ANSWERED, arg="what can you do?", timeout=30000)
    assert page.locator(".msg--pending").count() == 0 and page.locator(".msg--bot").count() > answers_before
    assert page.evaluate("sessionStorage.getItem('recoverydesk.session')") == session
    stored = run(tracker(settings, session))
    said = [event.get("text") for event in stored["events"] if event["event"] == "user"]
    assert said == ["hello", "what can you do?"]  # the same conversation, each message once
