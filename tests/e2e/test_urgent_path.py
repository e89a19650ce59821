"""The urgent path through the real stack (issue 14): the ticket first, then, while the team joins, the bot
verifies the customer, signs out every other session and adds it all to the open ticket; an agent who
claims stops the bot at once, and resolving emails a verified customer (only the chat for one never verified)."""

import asyncio
import re

import aiohttp

from tests.e2e.test_helpdesk_takeover import next_sse_event
from tests.support.servers import ChatCustomer, agent_api, create_account, type_mailed_code, wait_for_mail


def ticket_id_in(text: str) -> str:
    return re.search(r"RD-\d+", text).group(0)


async def report_urgently(customer: ChatCustomer) -> list[dict]:
    """A sign-in alert; money moved, unsure whether someone still gets in, contacts changed: urgent."""
    await customer.say("I got an alert about a sign-in from another country")
    await customer.say("yes")  # money moved
    [contacts] = await customer.say("not sure")  # still getting in: recorded as unsure, treated as yes
    assert "email address, phone number or two-factor" in contacts["text"]
    return await customer.say("yes", expect=3)  # the ticket, securing while the team joins, the email asked for


async def test_an_urgent_case_is_verified_and_secured_while_the_team_joins_and_resolved_by_email(
    settings, smtp_server, chat_url
):
    account = await create_account(settings, sessions=2)
    customer = await ChatCustomer(chat_url).connect()
    security = await agent_api(settings, "security")
    try:
        filed, securing, ask = await report_urgently(customer)
        ticket_id = ticket_id_in(filed["text"])
        assert "urgent" in filed["text"] and "freeze" in securing["text"] and "email address" in ask["text"]
        _, ticket = await security.call("GET", f"/tickets/{ticket_id}")
        assert (ticket["priority"], ticket["category"]) == ("urgent", "unrecognized_login")
        assert "Access still ongoing: unsure." in ticket["summary"]
        assert ticket["customer"]["verification"]["level"] == "none"

        # The console sees the verification arrive on the open ticket, live.
        async with security.http.get(f"{security.base}/tickets/{ticket_id}/events") as stream:
            await asyncio.sleep(0.3)
            [sent] = await customer.say(account.email)
            assert "6-digit code" in sent["text"]
            replies = await type_mailed_code(customer, smtp_server, account.email)
            assert any("you're verified" in r["text"] for r in replies)
            update = await next_sse_event(stream, "ticket", timeout=10)
            while update["customer"]["verification"]["level"] == "none":
                update = await next_sse_event(stream, "ticket", timeout=10)
        assert update["customer"]["account_ref"] == account.ref

        marked, offer = await customer.say("2", expect=2)  # the sign-in from Lagos was not them
        assert "noted 1 item" in marked["text"] and "sign your account out everywhere" in offer["text"]
        signed_out, _password_link = await customer.say("yes", expect=2)
        assert "signed out 2 other session" in signed_out["text"]

        _, ticket = await security.call("GET", f"/tickets/{ticket_id}")
        assert ticket["customer"]["verification"] == {"level": "basic", "methods": ["email_code"]}
        assert ticket["customer"]["account_ref"] == account.ref and "verified:basic" in ticket["tags"]
        assert [a["ip"] for a in ticket["reported_activity"]] == ["203.0.113.9"]
        assert ticket["suspicious_ips"] == ["203.0.113.9"]
        assert ticket["actions_taken"] == [
            "Advised the customer to freeze their card in the app",
            "Customer verified (basic: email_code)",
            "Customer marked 1 activity item(s) as not them",
            "Signed out 2 other sessions",
        ]
        assert account.email not in str(ticket)

        status, ticket = await security.call("POST", f"/tickets/{ticket_id}/claim")
        assert status == 200 and ticket["control"]["owner"] == "agent"
        await customer.sio.emit("user_uttered", {"message": "hello?", "session_id": customer.session_id})
        await asyncio.sleep(1)
        assert customer.replies.empty()  # the agent has it: the bot is silent

        status, _ = await security.call("POST", f"/tickets/{ticket_id}/resolve", {"resolution": "We blocked it."})
        assert status == 200
        notice = await wait_for_mail(smtp_server, account.email, f"case {ticket_id} is resolved")
        assert "We blocked it." in notice and "this wasn't me" in notice
    finally:
        await customer.close()
        await security.close()


async def test_an_agent_who_claims_mid_way_stops_the_bot_at_once(settings, chat_url):
    account = await create_account(settings)
    customer = await ChatCustomer(chat_url).connect()
    security = await agent_api(settings, "security")
    try:
        filed, _securing, _ask = await report_urgently(customer)
        status, _ = await security.call("POST", f"/tickets/{ticket_id_in(filed['text'])}/claim")
        assert status == 200
        await customer.sio.emit("user_uttered", {"message": account.email, "session_id": customer.session_id})
        await asyncio.sleep(1.5)
        assert customer.replies.empty()  # no code is sent, nothing more is said by the bot
    finally:
        await customer.close()
        await security.close()


async def test_a_never_verified_customer_is_told_only_in_chat_and_the_console_says_so(
    settings, smtp_server, chat_url
):
    customer = await ChatCustomer(chat_url).connect()
    security = await agent_api(settings, "security")
    try:
        filed, _securing, _ask = await report_urgently(customer)
        ticket_id = ticket_id_in(filed["text"])
        token = security.http.headers["Authorization"][7:]
        async with aiohttp.ClientSession(cookies={"rd_console": token}) as browser:
            async with browser.get(f"{settings.helpdesk_url}/console/tickets/{ticket_id}") as page:
                html = await page.text()
        notice = re.search(r'<p class="notice notice--warning" id="unverified-notice"[^>]*>([^<]+)</p>', html)
        assert notice and "hidden" not in notice.group(0)
        assert "only the chat can be used" in notice.group(1) and "verify" in notice.group(1)

        mails_before = len(smtp_server.received)
        status, _ = await security.call("POST", f"/tickets/{ticket_id}/resolve", {"resolution": "Checked."})
        assert status == 200
        resolved = await asyncio.wait_for(customer.replies.get(), 10)
        assert "Checked." in resolved["text"]  # told in the chat
        await asyncio.sleep(2)
        assert [m for m in smtp_server.received[mails_before:] if "resolved" in m.data.decode(errors="ignore")] == []
    finally:
        await customer.close()
        await security.close()
