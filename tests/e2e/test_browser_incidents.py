"""The incidents page in a real browser: a supervisor declares, links, broadcasts, tags and closes;
a customer in the web chat receives the broadcast; other roles are refused; titles render as text."""

import asyncio
import secrets
import threading
from typing import Any, Coroutine

import pytest

from tests.e2e.test_browser_console import CSP
from tests.support.browser import sign_in_to_console, signed_in_page, watch_dialogs, watch_problems
from tests.support.servers import ChatCustomer, add_agent, agent_api, escalated_conversation

pytestmark = pytest.mark.browser

APPROVED = {
    "am_i_affected": "Only customers who paid by card on 3 May are affected; we are writing to each of them.",
    "update": "The card processor has fixed the fault; no further action is needed from you.",
}
HOSTILE_TITLE = '<img src=x onerror=alert(1)><script>document.title="pwned"</script>'
HOSTILE_ANSWER = '<a href="javascript:alert(document.domain)">click</a>'
ACTION_MS = 15_000


class Background:
    """An event loop in a thread: the socket.io customer lives there, next to Playwright's sync API."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine, timeout: float = 120) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


async def reply_containing(customer: ChatCustomer, text: str, timeout: float = 15) -> dict:
    while True:
        reply = await asyncio.wait_for(customer.replies.get(), timeout)
        if text in (reply.get("text") or ""):
            return reply


async def replies_waiting(customer: ChatCustomer, after: float = 1.5) -> int:
    await asyncio.sleep(after)
    return customer.replies.qsize()


async def close_incidents_declared_by(settings: Any, username: str) -> None:
    """An active incident changes the bot's answers for every later test: close what this test opened."""
    api = await agent_api(settings, "supervisor")
    try:
        _, body = await api.call("GET", "/incidents")
        for incident in body["incidents"]:
            if incident["declared_by"] == username and incident["status"] == "active":
                await api.call("POST", f"/incidents/{incident['id']}/close")
    finally:
        await api.close()


@pytest.fixture
def background():
    loop = Background()
    yield loop
    loop.stop()


@pytest.fixture
def supervisor(settings, background):
    person = asyncio.run(add_agent(settings, "supervisor"))
    yield person
    background.run(close_incidents_declared_by(settings, person["username"]))


def open_incidents(page, settings, supervisor) -> None:
    sign_in_to_console(page, settings.helpdesk_url, supervisor)
    page.click("#incidents-link")
    page.wait_for_url(f"{settings.helpdesk_url}/console/incidents")
    page.wait_for_selector("#incident-list:not(:has(li.empty:text-is('Loading…')))")


def declare(page, title: str, answers: dict, started: str = "", exposed: tuple = ()) -> Any:
    """Fills the declare form; returns the new incident's card."""
    form = page.locator("#declare-form")
    form.locator("input[name=title]").fill(title)
    if started:
        form.locator("input[name=started_at]").fill(started)
    form.locator("input[name=owner]").fill("ciso")
    for key, text in answers.items():
        form.locator(f"textarea[name=answer_{key}]").fill(text)
    for kind in exposed:
        form.locator(f"input[name=exposed_data][value={kind}]").check()
    form.locator("button[type=submit]").click()
    form.locator(".form-status", has_text="Declared INC-").wait_for(timeout=ACTION_MS)
    incident_id = form.locator(".form-status").inner_text().split("Declared ")[1].rstrip(".")
    card = page.locator(f"#incident-list li.incident[data-id='{incident_id}']")
    card.wait_for(timeout=ACTION_MS)
    return card


def test_supervisor_declares_links_and_broadcasts_and_the_customer_receives_it(
    supervisor, background, context, settings, chat_url
):
    customer, ticket_id = background.run(escalated_conversation(chat_url))
    try:
        page = context.new_page()
        problems = watch_problems(page)
        open_incidents(page, settings, supervisor)
        title = f"Card processor fault {secrets.token_hex(3)}"
        card = declare(page, title, APPROVED, started="2025-05-03T12:00", exposed=("email_address",))

        assert card.locator(".incident__title").inner_text() == title
        text = card.inner_text()
        assert "2025-05-03" in text and "ciso" in text and supervisor["username"] in text
        assert APPROVED["am_i_affected"] in text and APPROVED["update"] in text and "email address" in text
        assert card.locator(".badge").inner_text().lower() == "active"
        assert card.locator("[data-field=open-tickets] .linked__count").inner_text() == "0"

        card.locator(".link-form input").fill(f"{ticket_id}, RD-999999")
        card.locator(".link-form button").click()
        card.locator(".form-status", has_text=f"Linked {ticket_id}.").wait_for(timeout=ACTION_MS)
        assert "No such ticket: RD-999999." in card.locator(".form-status").inner_text()
        assert card.locator("[data-field=open-tickets] .linked__count").inner_text() == "1"
        assert card.locator(f"[data-field=open-tickets] a[href='/console/tickets/{ticket_id}']").count() == 1

        card.locator(".broadcast-form select").select_option("update")
        card.locator(".broadcast-form button[type=submit]").click()
        question = card.locator(".confirm__text").inner_text()
        assert APPROVED["update"] in question and "1 open ticket" in question
        assert background.run(replies_waiting(customer)) == 0  # nothing goes out before the confirmation
        card.locator(".confirm__yes").click()
        card.locator(".form-status", has_text=f"Sent to 1 ticket: {ticket_id}.").wait_for(timeout=ACTION_MS)
        expected = f"An update from our security team about {title}: {APPROVED['update']}"
        assert background.run(reply_containing(customer, APPROVED["update"]))["text"] == expected

        bulk = page.locator("#bulk-tag-form")
        bulk.locator("textarea[name=ticket_ids]").fill(ticket_id)
        bulk.locator("input[name=add]").fill("need:panic")
        bulk.locator("button[type=submit]").click()
        bulk.locator(".status__text--error", has_text="need").wait_for(timeout=ACTION_MS)
        bulk.locator("input[name=add]").fill("need:complaint")
        bulk.locator("button[type=submit]").click()
        bulk.locator(".status__text--ok", has_text=f"Tagged {ticket_id}.").wait_for(timeout=ACTION_MS)
        tags = page.evaluate("async (id) => (await (await fetch('/api/v1/tickets/' + id)).json()).tags", ticket_id)
        assert {f"incident:{card.get_attribute('data-id')}", "need:complaint"} <= set(tags)

        card.locator(".close-form button[type=submit]").click()
        card.locator(".confirm__yes").click()
        card.locator(".badge", has_text="closed").wait_for(timeout=ACTION_MS)
        assert card.locator(".close-form").count() == 0
        refused = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
        assert problems == [refused]  # only the refused need:panic; no CSP violation, no script error
    finally:
        background.run(customer.close())


def test_an_agent_cannot_open_the_incidents_page(agent, context, settings):
    page = signed_in_page(context, settings.helpdesk_url, agent)
    assert page.locator("#incidents-link").count() == 0
    reply = page.goto(f"{settings.helpdesk_url}/console/incidents")
    assert reply.status == 403 and "Only supervisors" in page.inner_text("main")
    assert page.locator("#declare-form").count() == 0
    declared = page.evaluate(
        """async () => {
          const token = document.querySelector('meta[name=csrf-token]').content;
          const reply = await fetch('/api/v1/incidents', {method: 'POST', credentials: 'same-origin',
            headers: {'Content-Type': 'application/json', 'X-CSRF-Token': token},
            body: JSON.stringify({title: 'x', owner: 'y', answers: {am_i_affected: 'z'}})});
          return reply.status;
        }"""
    )
    assert declared == 403


def test_a_hostile_incident_title_is_shown_as_text(supervisor, context, settings):
    page = context.new_page()
    dialogs = watch_dialogs(page)
    problems = watch_problems(page)
    open_incidents(page, settings, supervisor)
    assert page.request.get(f"{settings.helpdesk_url}/console/incidents").headers["content-security-policy"] == CSP
    title = page.title()

    card = declare(page, HOSTILE_TITLE, {"am_i_affected": HOSTILE_ANSWER, "update": HOSTILE_ANSWER})
    assert card.locator(".incident__title").inner_text() == HOSTILE_TITLE
    card.locator(".broadcast-form button[type=submit]").click()
    assert HOSTILE_ANSWER in card.locator(".confirm__text").inner_text()
    card.locator(".confirm__no").click()
    assert card.locator(".confirm").count() == 0

    page.reload()
    card.wait_for(timeout=ACTION_MS)
    assert card.locator(".incident__title").inner_text() == HOSTILE_TITLE
    assert page.locator("#incident-list img, #incident-list script, #incident-list a[href^=javascript]").count() == 0
    assert page.title() == title and dialogs == [] and problems == []
