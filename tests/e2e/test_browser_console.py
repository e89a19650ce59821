"""The agent console in a real browser: sign-in, live queue and takeover, hostile text, CSRF and CSP."""

import json
import re
import secrets
import string
import urllib.error
import urllib.parse
import urllib.request

import pytest

from recoverydesk.domain.signing import derive_key, sign
from tests.support.browser import sign_in_to_console, signed_in_page, watch_dialogs

pytestmark = pytest.mark.browser

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
UNIFORM_FAILURE = "Wrong username, password or code."
BOT_ANSWER_MS = 30_000
LIVE_MS = 10_000
# True once a bot (or agent) bubble follows the customer's last bubble with exactly this text.
ANSWERED_AFTER = """({text, role}) => {
  const items = Array.from(document.querySelectorAll('#log .msg'));
  const mine = items.map((i) => (i.classList.contains('msg--me') ? i.textContent : null)).lastIndexOf(text);
  return mine >= 0 && items.slice(mine + 1).some((i) => i.classList.contains('msg--' + role));
}"""


def marker() -> str:
    """Letters only: six digits would be redacted from the transcript as a code."""
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(8))


def open_chat(context, chat_url: str):
    chat = context.new_page()
    chat.goto(f"{chat_url}/chat/")
    chat.wait_for_selector("#status:has-text('Connected')", timeout=15_000)
    return chat


def customer_says(chat, text: str) -> None:
    chat.fill("#message", text)
    chat.press("#message", "Enter")


def customer_gets_answer(chat, text: str, role: str = "bot") -> None:
    customer_says(chat, text)
    chat.wait_for_function(ANSWERED_AFTER, arg={"text": text, "role": role}, timeout=BOT_ANSWER_MS)


def escalate(chat) -> str:
    """The customer reports a strange sign-in and accepts the security team; returns the case number."""
    customer_gets_answer(chat, "hello")
    customer_gets_answer(chat, "someone logged into my account")
    for _question in ("money moved", "access ongoing", "contacts changed"):
        customer_gets_answer(chat, "no")
    customer_says(chat, "yes")
    chat.wait_for_selector(".msg--bot:has-text('case number is RD-')", timeout=BOT_ANSWER_MS)
    return re.search(r"case number is (RD-\d+)", chat.inner_text("#log")).group(1)


def transcript_texts(console, role: str) -> list[str]:
    return console.eval_on_selector_all(
        f"#transcript .line--{role} .line__text", "nodes => nodes.map((n) => n.textContent)"
    )


def intake_ticket(settings, priority: str = "low", conversation_id: str = "") -> str:
    """A ticket straight from the intake API, signed as the action server signs it."""
    conversation_id = conversation_id or f"console-{secrets.token_urlsafe(24)}"
    body = json.dumps(
        {"category": "other", "priority": priority, "conversation_id": conversation_id, "summary": "console test"}
    ).encode()
    headers = {
        "Idempotency-Key": f"console-{secrets.token_hex(8)}",
        "Content-Type": "application/json",
        **sign(derive_key(settings.secret_key, "tickets"), body),
    }
    request = urllib.request.Request(f"{settings.helpdesk_url}/api/v1/tickets", body, headers, method="POST")
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)["id"]


def post_form(url: str, fields: dict, cookie: str = "") -> tuple[int, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **({"Cookie": cookie} if cookie else {})}
    request = urllib.request.Request(url, urllib.parse.urlencode(fields).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read().decode()


def test_agent_takes_over_a_live_conversation_and_hands_it_back(agent, context, settings, chat_url):
    console = context.new_page()
    errors = []
    console.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in_to_console(console, settings.helpdesk_url, agent)
    assert console.inner_text(".who") == agent["username"]

    chat = open_chat(context, chat_url)
    ticket_id = escalate(chat)

    # The queue learns about the new ticket without a reload.
    row = console.locator(f"#queue-rows tr[data-id='{ticket_id}']")
    row.wait_for(timeout=LIVE_MS)
    assert "unrecognized login" in row.inner_text()
    assert re.search(r"\d+:\d\d(:\d\d)? left", row.locator(".sla").inner_text())
    row.locator("a").click()
    console.wait_for_url(f"{settings.helpdesk_url}/console/tickets/{ticket_id}")
    assert "someone logged into my account" in transcript_texts(console, "customer")
    assert console.is_visible("#claim-form") and console.is_disabled("#message-form textarea")

    console.click("#claim-form button")
    console.wait_for_selector(f"#owner:text-is('Held by {agent['username']}')", timeout=LIVE_MS)

    reply = f"Hi, this is the security team ({marker()}). Was the sign-in from Lisbon you?"
    console.fill("#message-form textarea", reply)
    console.click("#message-form button")
    console.wait_for_selector("#status:has-text('Sent.')", timeout=LIVE_MS)
    chat.locator(".msg--agent", has_text=reply).wait_for(timeout=BOT_ANSWER_MS)

    console.evaluate("window.stillTheSamePage = true")
    answer = f"No, I have never been to Lisbon, {marker()}"
    customer_says(chat, answer)
    console.locator("#transcript .line--customer", has_text=answer).wait_for(timeout=LIVE_MS)
    assert console.evaluate("window.stillTheSamePage") is True
    assert reply in transcript_texts(console, "agent")

    summary = "Sign-in from Lisbon was not the customer; advised a password change."
    console.fill("#handback-form textarea", summary)
    console.click("#handback-form button")
    console.wait_for_selector("#owner:text-is('With the bot')", timeout=LIVE_MS)
    assert summary in console.inner_text("[data-field=actions_taken]")

    customer_gets_answer(chat, "what should I do now?")
    assert errors == []


HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "<script>document.title='pwned'</script>",
    '<a href="javascript:alert(document.domain)">javascript:alert(document.domain)</a>',
]


def assert_shown_as_text(console, title: str, dialogs: list) -> None:
    shown = transcript_texts(console, "customer")
    assert all(text in shown for text in HOSTILE), shown
    assert console.locator("#transcript img, #transcript script, #transcript a").count() == 0
    assert console.title() == title
    assert dialogs == []


def test_hostile_customer_text_is_shown_as_text(agent, context, settings, chat_url):
    chat = open_chat(context, chat_url)
    ticket_id = escalate(chat)
    console = context.new_page()
    dialogs = watch_dialogs(console)
    sign_in_to_console(console, settings.helpdesk_url, agent)
    console.goto(f"{settings.helpdesk_url}/console/tickets/{ticket_id}")
    title = console.title()
    console.click("#claim-form button")
    console.wait_for_selector(f"#owner:text-is('Held by {agent['username']}')", timeout=LIVE_MS)

    for text in HOSTILE:
        customer_says(chat, text)
        console.locator("#transcript .line--customer", has_text=text).wait_for(timeout=LIVE_MS)
    console.fill("#note-form textarea", HOSTILE[0])
    console.click("#note-form button")
    console.locator("#notes .note__text", has_text=HOSTILE[0]).wait_for(timeout=LIVE_MS)
    console.wait_for_timeout(500)
    assert_shown_as_text(console, title, dialogs)
    assert console.locator("#notes img").count() == 0

    console.reload()  # the server-rendered transcript escapes the same lines
    console.wait_for_selector("#transcript .line--customer")
    assert_shown_as_text(console, title, dialogs)


def test_state_changes_need_the_csrf_token_and_pages_carry_a_strict_policy(supervisor, context, settings):
    ticket_id = intake_ticket(settings)
    console = signed_in_page(context, settings.helpdesk_url, supervisor)
    ticket_page = console.goto(f"{settings.helpdesk_url}/console/tickets/{ticket_id}")

    call = """async ([url, token]) => {
      const headers = {"Content-Type": "application/json"};
      if (token !== null) headers["X-CSRF-Token"] = token;
      const reply = await fetch(url, {method: "POST", credentials: "same-origin", headers,
                                      body: JSON.stringify({text: "checked the sign-in log"})});
      return [reply.status, await reply.json()];
    }"""
    notes = f"{settings.helpdesk_url}/api/v1/tickets/{ticket_id}/notes"
    token = console.get_attribute("meta[name=csrf-token]", "content")
    assert token
    assert console.evaluate(call, [notes, None])[0] == 403
    status, body = console.evaluate(call, [notes, "not-the-token"])
    assert (status, body["error"]["code"]) == (403, "csrf")
    assert console.evaluate(call, [notes, token])[0] == 201

    responses = [
        ticket_page,
        console.goto(f"{settings.helpdesk_url}/console/"),
        console.request.get(f"{settings.helpdesk_url}/console/static/console.js"),
        console.request.get(f"{settings.helpdesk_url}/console/static/console.css"),
    ]
    for reply in responses:
        assert reply.headers["content-security-policy"] == CSP
        assert reply.headers["x-content-type-options"] == "nosniff"
        assert reply.headers["cache-control"] == "no-store"
        assert reply.headers["referrer-policy"] == "no-referrer"

    [cookie] = [c for c in context.cookies() if c["name"] == "rd_console"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] == -1


def test_queue_filters_by_priority(agent, context, settings):
    urgent, low = intake_ticket(settings, "urgent"), intake_ticket(settings, "low")
    page = signed_in_page(context, settings.helpdesk_url, agent)
    page.goto(f"{settings.helpdesk_url}/console/?priority=urgent")
    listed = page.eval_on_selector_all("#queue-rows tr[data-id]", "rows => rows.map((r) => r.dataset.id)")
    assert urgent in listed and low not in listed
    assert page.locator(f"tr[data-id='{urgent}'] .badge--priority-urgent").count() == 1
    page.select_option("select[name=priority]", "low")
    page.wait_for_url("**/console/?*priority=low*")
    assert page.locator(f"tr[data-id='{low}']").count() == 1 and page.locator(f"tr[data-id='{urgent}']").count() == 0


def test_the_bots_progress_shows_live_and_a_never_verified_customer_is_flagged(supervisor, context, settings):
    """The ticket page names an unverified customer's only channel, then shows the bot's progress as it arrives."""
    conversation_id = f"console-{secrets.token_urlsafe(24)}"
    ticket_id = intake_ticket(settings, "urgent", conversation_id)
    page = signed_in_page(context, settings.helpdesk_url, supervisor)  # a role that may resolve sees the notice
    page.goto(f"{settings.helpdesk_url}/console/tickets/{ticket_id}")
    notice = page.locator("#unverified-notice")
    assert notice.is_visible() and "only the chat can be used" in notice.inner_text()
    page.wait_for_selector("#live[data-state='on']", timeout=LIVE_MS)

    progress = {
        "ticket_id": ticket_id,
        "conversation_id": conversation_id,
        "customer": {
            "account_ref": "acc-console",
            "display_name_masked": "C*** J***",
            "verification": {"level": "basic", "methods": ["email_code"]},
        },
        "reported_activity": [{"id": "ev-1", "kind": "login", "ip": "203.0.113.9"}],
        "actions_taken": ["Signed out 2 other sessions"],
    }
    body = json.dumps(progress).encode()
    headers = {"Content-Type": "application/json", **sign(derive_key(settings.secret_key, "tickets"), body)}
    request = urllib.request.Request(
        f"{settings.helpdesk_url}/api/v1/tickets/{ticket_id}/progress", body, headers, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.status == 200

    page.wait_for_selector("[data-field='account_ref']:has-text('acc-console')", timeout=LIVE_MS)
    assert page.inner_text("[data-field='verified_by']") == "email_code"
    assert "203.0.113.9" in page.inner_text("ul[data-field='reported_activity']")
    assert "Signed out 2 other sessions" in page.inner_text("ul[data-field='actions_taken']")
    assert page.locator("[data-field='verification']").inner_text() == "Verification: basic"
    assert not notice.is_visible()


def test_sign_in_failures_all_look_the_same(agent, context, settings):
    page = context.new_page()
    attempts = [
        (agent["username"], "not-the-password-at-all", agent["totp"].now()),
        (agent["username"], agent["password"], "000000"),
        ("nobody-by-that-name", agent["password"], agent["totp"].now()),
    ]
    messages = []
    for username, password, code in attempts:
        page.goto(f"{settings.helpdesk_url}/console/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.fill("input[name=totp]", code)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.click("form.stack button[type=submit]")
        assert answer.value.status == 401
        messages.append(page.inner_text(".alert"))
    assert messages == [UNIFORM_FAILURE] * 3
    assert not [c for c in context.cookies() if c["name"] == "rd_console"]
    assert page.goto(f"{settings.helpdesk_url}/console/").url.endswith("/console/login")


def test_a_sign_in_post_without_the_form_token_is_refused(agent, settings):
    login = f"{settings.helpdesk_url}/console/login"
    fields = {"username": agent["username"], "password": agent["password"], "totp": agent["totp"].now()}
    assert post_form(login, fields)[0] == 403
    status, page = post_form(login, {**fields, "csrf": "forged"}, cookie="rd_login_csrf=other")
    assert status == 403 and "rd_console" not in page


def test_signing_out_ends_the_session(agent, context, settings):
    page = signed_in_page(context, settings.helpdesk_url, agent)
    [token] = [c["value"] for c in context.cookies() if c["name"] == "rd_console"]
    me = f"{settings.helpdesk_url}/api/v1/me"
    assert page.request.get(me, headers={"Cookie": f"rd_console={token}"}).status == 200
    page.click(".topbar form button")
    page.wait_for_url(f"{settings.helpdesk_url}/console/login")
    assert page.goto(f"{settings.helpdesk_url}/console/").url.endswith("/console/login")
    assert page.request.get(me, headers={"Cookie": f"rd_console={token}"}).status == 401
