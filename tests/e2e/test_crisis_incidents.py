"""Crisis mode through the whole stack: a declared incident changes the bot's answer and tags the
conversation and ticket; supervisors tag, link and message in bulk; the report and the alert task run."""

import asyncio
import email
import email.policy
import secrets
import time
from datetime import timedelta

import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.tickets import new_ticket, utc_now
from tests.support.servers import ChatCustomer, agent_api, escalated_conversation, tracker_slots

APPROVED = {
    "am_i_affected": "Only customers who signed in between 1 and 3 May are affected; we are emailing each of them.",
    "what_data": "Names and email addresses were exposed; no passwords or card numbers.",
    "update": "We have closed the gap; no further action is needed from you.",
}


@pytest.fixture
async def supervisor(settings):
    api = await agent_api(settings, "supervisor")
    yield api
    await api.close()


@pytest.fixture
async def incident(settings, supervisor):
    title = f"May sign-in leak {secrets.token_hex(3)}"
    status, body = await supervisor.call(
        "POST",
        "/incidents",
        {"title": title, "owner": "ciso", "answers": APPROVED, "exposed_data": ["email_address"]},
    )
    assert status == 201, body
    yield body
    await supervisor.call("POST", f"/incidents/{body['id']}/close")


async def test_only_supervisors_declare_incidents(settings):
    agent = await agent_api(settings, "security")
    try:
        status, body = await agent.call("POST", "/incidents", {"title": "x", "owner": "y", "answers": APPROVED})
        assert status == 403 and body["error"]["code"] == "forbidden"
        status, body = await agent.call("GET", "/reports/daily")
        assert status == 403
    finally:
        await agent.close()


async def test_a_malformed_incident_is_refused_with_a_reason(supervisor):
    status, body = await supervisor.call("POST", "/incidents", {"title": "Leak", "owner": "ciso", "answers": {}})
    assert status == 400 and "answers" in body["error"]["message"]


async def test_during_an_incident_the_bot_gives_the_approved_answer_and_tags_everything(
    settings, chat_url, supervisor, incident
):
    customer = await ChatCustomer(chat_url).connect()
    try:
        answer, followups = await customer.say("am I affected by the data breach?", expect=2)
        assert answer["text"] == f"About {incident['title']}: {APPROVED['am_i_affected']}"
        assert [b["title"] for b in followups["quick_replies"]] == ["Check my account", "Talk to a person"]
        tags = (await tracker_slots(settings, customer.session_id))["conversation_tags"]
        assert tags == sorted(["need:am_i_affected", incident["tag"]])

        status, contact = await supervisor.call("GET", f"/contacts/{customer.session_id}")
        assert status == 200 and contact["outcome"] == "contained" and contact["channel"] == "webchat"
        assert {incident["tag"], "need:am_i_affected", "lang:en", "channel:webchat", "verified:none"} <= set(
            contact["tags"]
        )

        [created] = await customer.say("/request_human")
        ticket_id = created["text"].split("case number is ")[1].split(":")[0].split(".")[0]
        status, ticket = await supervisor.call("GET", f"/tickets/{ticket_id}")
        assert {incident["tag"], "need:am_i_affected", "lang:en", "channel:webchat", "verified:none"} <= set(
            ticket["tags"]
        )
        status, contact = await supervisor.call("GET", f"/contacts/{customer.session_id}")
        assert contact["outcome"] == "handed_off" and contact["ticket_id"] == ticket_id
    finally:
        await customer.close()


async def test_what_data_questions_get_the_what_data_answer(incident, customer):
    answer, _ = await customer.say("what data of mine was leaked in the hack?", expect=2)
    assert answer["text"] == f"About {incident['title']}: {APPROVED['what_data']}"


async def test_after_the_incident_closes_the_standing_answer_returns(chat_url, supervisor, incident):
    status, closed = await supervisor.call("POST", f"/incidents/{incident['id']}/close")
    assert status == 200 and closed["status"] == "closed"
    customer = await ChatCustomer(chat_url).connect()
    try:
        answer, _ = await customer.say("am I affected by the data breach?", expect=2)
        assert "contact every affected customer" in answer["text"]
    finally:
        await customer.close()


async def test_supervisors_link_tag_and_message_every_open_ticket_of_an_incident(
    settings, chat_url, supervisor, incident
):
    first, first_id = await escalated_conversation(chat_url)
    second, second_id = await escalated_conversation(chat_url)
    try:
        status, result = await supervisor.call(
            "POST", f"/incidents/{incident['id']}/link", {"ticket_ids": [first_id, second_id, "RD-999999"]}
        )
        assert status == 200 and result == {"changed": [first_id, second_id], "not_found": ["RD-999999"]}
        status, result = await supervisor.call(
            "POST", "/bulk/tags", {"ticket_ids": [first_id, second_id], "add": ["need:complaint"]}
        )
        assert status == 200 and result["changed"] == [first_id, second_id]
        status, body = await supervisor.call("POST", "/bulk/tags", {"ticket_ids": [first_id], "add": ["need:panic"]})
        assert status == 400 and "need" in body["error"]["message"]
        for ticket_id in (first_id, second_id):
            _, ticket = await supervisor.call("GET", f"/tickets/{ticket_id}")
            assert {incident["tag"], "need:complaint"} <= set(ticket["tags"])

        status, result = await supervisor.call("POST", f"/incidents/{incident['id']}/broadcast", {"answer": "update"})
        assert status == 200 and sorted(result["sent"]) == sorted([first_id, second_id]) and result["failed"] == []
        expected = f"An update from our security team about {incident['title']}: {APPROVED['update']}"
        for customer in (first, second):
            reply = await asyncio.wait_for(customer.replies.get(), 10)
            assert reply["text"] == expected
        status, body = await supervisor.call("POST", f"/incidents/{incident['id']}/broadcast", {"answer": "rumours"})
        assert status == 400
        _, audit = await supervisor.call("GET", f"/tickets/{first_id}/audit")
        assert "ticket.broadcast_sent" in [e["action"] for e in audit["entries"]]

        agent = await agent_api(settings, "agent")
        try:
            status, _ = await agent.call("POST", "/bulk/tags", {"ticket_ids": [first_id], "add": ["need:other"]})
            assert status == 403
        finally:
            await agent.close()
    finally:
        await first.close()
        await second.close()


async def test_agents_correct_a_conversation_need_and_the_report_counts_the_correction(settings, supervisor, customer):
    await customer.say("I got an sms pretending to be you asking me to confirm my card details", expect=3)
    agent = await agent_api(settings, "agent")
    try:
        status, contact = await agent.call(
            "POST",
            f"/contacts/{customer.session_id}/tags",
            {"add": ["need:complaint"], "remove": ["need:phishing_report"]},
        )
        assert status == 200 and "need:complaint" in contact["tags"] and "need:phishing_report" not in contact["tags"]
        status, _ = await agent.call("POST", f"/contacts/{customer.session_id}/tags", {"add": ["need:bogus"]})
        assert status == 400
    finally:
        await agent.close()


async def test_the_daily_report_api_serves_json_csv_and_html(settings, chat_url, supervisor):
    customer = await ChatCustomer(chat_url).connect()
    try:
        await customer.say("am I affected by the data breach?", expect=2)
    finally:
        await customer.close()
    status, report = await supervisor.call("GET", "/reports/daily")
    assert status == 200 and report["date"] == utc_now().date().isoformat()
    assert report["contacts"]["total"] >= 1 and report["contacts"]["by_channel"].get("webchat", 0) >= 1
    async with supervisor.http.get(f"{supervisor.base}/reports/daily?format=csv") as reply:
        assert reply.status == 200 and reply.content_type == "text/csv"
        assert (await reply.text()).startswith("section,metric,value\n")
    async with supervisor.http.get(f"{supervisor.base}/reports/daily?format=html") as reply:
        page = await reply.text()
        assert reply.status == 200 and "<svg" in page and "<script" not in page
        assert "script-src" not in reply.headers["Content-Security-Policy"]
    status, body = await supervisor.call("GET", "/reports/daily?date=yesterday")
    assert status == 400 and "YYYY-MM-DD" in body["error"]["message"]
    status, body = await supervisor.call("GET", "/reports/daily?format=pdf")
    assert status == 400


async def test_the_plugin_alerts_on_call_by_itself_once(settings, smtp_server):
    """The background task (every 2 s in the tests) mails an urgent ticket unclaimed for 10 minutes."""
    client = Redis.from_url(settings.redis_url)
    try:
        store = TicketStore(client)
        created = utc_now() - timedelta(minutes=11)
        ticket = new_ticket(
            await store.next_id(), {"priority": "urgent", "conversation_id": secrets.token_urlsafe(32)}, created
        )
        await store.create(ticket, secrets.token_hex(8), created.timestamp())
    finally:
        await client.close()

    def alerts_for_ticket() -> list:
        found = []
        for mail in smtp_server.received:
            message = email.message_from_bytes(mail.data, policy=email.policy.default)
            if "oncall@example.test" in mail.recipients and ticket.id in str(message["Subject"]):
                found.append(message)
        return found

    deadline = time.monotonic() + 15
    while not alerts_for_ticket() and time.monotonic() < deadline:  # noqa: ASYNC110 - polls another process's mail
        await asyncio.sleep(0.2)
    [mail] = alerts_for_ticket()
    assert "Urgent ticket still unclaimed" in mail["Subject"]
    assert f"{settings.helpdesk_url}/console/tickets/{ticket.id}" in mail.get_content()
    await asyncio.sleep(5)  # two more checks: still one mail
    assert len(alerts_for_ticket()) == 1
