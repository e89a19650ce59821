"""Live takeover through the API: claim pauses the bot, replies reach the chat, hand back resumes it."""

import asyncio
import json
import time

import aiohttp
import pytest

from tests.support.servers import (
    ChatCustomer,
    agent_api,
    create_account,
    escalated_conversation,
    verify_by_email_code,
    wait_for_mail,
)


async def next_sse_event(reply: aiohttp.ClientResponse, wanted: str, timeout: float) -> dict:
    event = None

    async def read() -> dict:
        nonlocal event
        async for raw in reply.content:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: ") and event == wanted:
                return json.loads(line[6:])

    return await asyncio.wait_for(read(), timeout)


async def test_claim_reply_hand_back_and_resolve(settings, chat_url):
    customer, ticket_id = await escalated_conversation(chat_url)
    agent = await agent_api(settings, "security")
    try:
        status, ticket = await agent.call("POST", f"/tickets/{ticket_id}/claim")
        assert status == 200 and ticket["control"]["owner"] == "agent" and ticket["status"] == "open"

        # While the agent holds the conversation the bot stays silent, and the console sees the customer live.
        async with agent.http.get(f"{agent.base}/tickets/{ticket_id}/events") as stream:
            await asyncio.sleep(0.3)
            sent_at = time.monotonic()
            await customer.sio.emit("user_uttered", {"message": "are you there?", "session_id": customer.session_id})
            line = await next_sse_event(stream, "message", timeout=5)
            assert line == {"role": "customer", "text": "are you there?", "at": line["at"]}
            assert time.monotonic() - sent_at < 1.0
        await asyncio.sleep(1)
        assert customer.replies.empty()

        status, _ = await agent.call("POST", f"/tickets/{ticket_id}/messages", {"text": "Hi, Sam from security here."})
        assert status == 200
        reply = await asyncio.wait_for(customer.replies.get(), 10)
        assert reply["text"] == "Hi, Sam from security here." and reply["metadata"] == {"agent": True}

        status, ticket = await agent.call("GET", f"/tickets/{ticket_id}")
        texts = [(line["role"], line["text"]) for line in ticket["transcript"]]
        assert ("customer", "are you there?") in texts and ("agent", "Hi, Sam from security here.") in texts
        assert texts.count(("customer", "are you there?")) == 1
        assert texts.count(("customer", "someone logged into my account")) == 1
        assert texts.count(("agent", "Hi, Sam from security here.")) == 1

        status, ticket = await agent.call(
            "POST", f"/tickets/{ticket_id}/handback", {"summary": "we signed out every other session"}
        )
        assert status == 200 and ticket["control"] == {"owner": "bot", "agent": None}
        back = await asyncio.wait_for(customer.replies.get(), 10)
        assert "we signed out every other session" in back["text"]

        [answer] = await customer.say("hello")
        assert answer["text"]

        status, ticket = await agent.call(
            "POST", f"/tickets/{ticket_id}/resolve", {"resolution": "The sign-in was blocked."}
        )
        assert status == 200 and ticket["status"] == "resolved"
        resolved = await asyncio.wait_for(customer.replies.get(), 10)
        tips = await asyncio.wait_for(customer.replies.get(), 10)
        assert "The sign-in was blocked." in resolved["text"] and "never" in tips["text"]
    finally:
        await customer.close()
        await agent.close()


async def test_only_one_agent_holds_a_ticket(settings, chat_url):
    customer, ticket_id = await escalated_conversation(chat_url)
    first, second = await agent_api(settings, "agent"), await agent_api(settings, "agent")
    try:
        results = await asyncio.gather(
            first.call("POST", f"/tickets/{ticket_id}/claim"), second.call("POST", f"/tickets/{ticket_id}/claim")
        )
        assert sorted(status for status, _ in results) == [200, 409]
        loser = second if results[0][0] == 200 else first
        status, body = await loser.call("POST", f"/tickets/{ticket_id}/messages", {"text": "hello"})
        assert status == 409 and body["error"]["code"] == "conflict"
    finally:
        await customer.close()
        await first.close()
        await second.close()


async def test_roles_are_checked_on_the_server(settings, chat_url):
    customer, ticket_id = await escalated_conversation(chat_url)
    agent, security, supervisor = [await agent_api(settings, r) for r in ("agent", "security", "supervisor")]
    try:
        status, body = await agent.call("POST", f"/tickets/{ticket_id}/resolve", {"resolution": "done"})
        assert status == 403 and body["error"]["code"] == "forbidden"
        assert (await agent.call("GET", f"/tickets/{ticket_id}/audit"))[0] == 403
        assert (await security.call("GET", f"/tickets/{ticket_id}/audit"))[0] == 403

        await agent.call("GET", f"/tickets/{ticket_id}")
        await agent.call("POST", f"/tickets/{ticket_id}/notes", {"text": "checked the sign-in history"})
        status, audit = await supervisor.call("GET", f"/tickets/{ticket_id}/audit")
        assert status == 200
        actions = [entry["action"] for entry in audit["entries"]]
        assert actions[0] == "ticket.created" and "ticket.read" in actions and "ticket.note_added" in actions

        status, _ = await security.call("POST", f"/tickets/{ticket_id}/resolve", {"resolution": "no breach found"})
        assert status == 200
    finally:
        await customer.close()
        for api in (agent, security, supervisor):
            await api.close()


async def test_notes_and_tags(settings, chat_url):
    customer, ticket_id = await escalated_conversation(chat_url)
    agent = await agent_api(settings, "agent")
    try:
        status, note = await agent.call("POST", f"/tickets/{ticket_id}/notes", {"text": "internal only"})
        assert status == 201 and note["author"].startswith("agent-")
        _, notes = await agent.call("GET", f"/tickets/{ticket_id}/notes")
        assert [n["text"] for n in notes["notes"]] == ["internal only"]

        status, ticket = await agent.call("POST", f"/tickets/{ticket_id}/tags", {"add": ["need:password_reset"]})
        assert status == 200 and "need:password_reset" in ticket["tags"]
        status, body = await agent.call("POST", f"/tickets/{ticket_id}/tags", {"add": ["<script>"]})
        assert status == 400 and body["error"]["code"] == "invalid_request"
    finally:
        await customer.close()
        await agent.close()


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("POST", "/tickets/RD-999999/claim", None),
        ("GET", "/tickets/RD-999999", None),
        ("POST", "/tickets/RD-999999/notes", {"text": "x"}),
    ],
)
async def test_unknown_tickets_are_404(settings, method, path, body):
    agent = await agent_api(settings, "supervisor")
    try:
        status, error = await agent.call(method, path, body)
        assert status == 404 and error["error"]["code"] == "not_found"
    finally:
        await agent.close()


async def test_cookie_sessions_need_the_csrf_token_to_change_things(settings, chat_url):
    customer, ticket_id = await escalated_conversation(chat_url)
    agent = await agent_api(settings, "agent")
    token = agent.http.headers["Authorization"][7:]
    _, me = await agent.call("GET", "/me")
    await agent.close()
    try:
        async with aiohttp.ClientSession(cookies={"rd_console": token}) as browser:
            url = f"{settings.helpdesk_url}/api/v1/tickets/{ticket_id}/notes"
            async with browser.post(url, json={"text": "forged"}) as reply:
                assert reply.status == 403 and (await reply.json())["error"]["code"] == "csrf"
            async with browser.post(url, json={"text": "real"}, headers={"X-CSRF-Token": me["csrf_token"]}) as reply:
                assert reply.status == 201
    finally:
        await customer.close()


async def test_resolving_a_verified_customers_ticket_emails_them(settings, smtp_server, chat_url):
    import re

    account = await create_account(settings)
    customer = await ChatCustomer(chat_url).connect()
    security = await agent_api(settings, "security")
    try:
        await verify_by_email_code(customer, smtp_server, account.email)
        [done] = await customer.say("I want to talk to a person")
        ticket_id = re.search(r"RD-\d+", done["text"]).group(0)
        _, ticket = await security.call("GET", f"/tickets/{ticket_id}")
        assert ticket["customer"]["verification"] == {"level": "basic", "methods": ["email_code"]}
        assert (
            ticket["customer"]["account_ref"] == account.ref
            and ticket["customer"]["display_name_masked"] == "C*** J***"
        )
        assert account.email not in str(ticket)

        status, _ = await security.call(
            "POST", f"/tickets/{ticket_id}/resolve", {"resolution": "We blocked the device."}
        )
        assert status == 200
        notice = await wait_for_mail(smtp_server, account.email, f"case {ticket_id} is resolved")
        assert "We blocked the device." in notice and "this wasn't me" in notice and "http" not in notice
    finally:
        await customer.close()
        await security.close()
