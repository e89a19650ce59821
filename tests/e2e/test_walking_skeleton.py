"""The first conversation end to end: web chat → triage → ticket in Redis and in the helpdesk API."""

import asyncio
import json

import aiohttp
import pytest
from redis.asyncio import Redis

from recoverydesk.domain.signing import derive_key, sign
from tests.support.servers import ChatCustomer, add_agent, sign_in, tracker_slots


async def test_reported_login_is_triaged_and_escalated_to_a_ticket(settings, chat_url):
    customer = await ChatCustomer(chat_url).connect()
    try:
        [greeting] = await customer.say("hello")
        assert "Recovery Desk" in greeting["text"]

        [question] = await customer.say("someone logged into my account")
        assert "money" in question["text"]
        slots = await tracker_slots(settings, customer.session_id)
        assert slots["triage_category"] == "unrecognized_login"
        assert slots["triage_priority"] == "normal"
        [question] = await customer.say("no")
        assert "right now" in question["text"]
        [question] = await customer.say("no")
        assert "two-factor" in question["text"]
        [offer] = await customer.say("no")
        assert "security team" in offer["text"]
        assert (await tracker_slots(settings, customer.session_id))["triage_priority"] == "normal"

        [done] = await customer.say("yes please")
        assert "case number is RD-" in done["text"]
        ticket_id = done["text"].split("case number is ")[1].split(".")[0]
    finally:
        await customer.close()

    redis = Redis.from_url(settings.redis_url)
    stored = json.loads(await redis.get(f"rd:helpdesk:ticket:{ticket_id}"))
    await redis.close()
    assert stored["conversation_id"] == customer.session_id
    assert stored["category"] == "unrecognized_login"

    agent = await add_agent(settings, "agent")
    token = await sign_in(settings.helpdesk_url, agent)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(f"{settings.helpdesk_url}/api/v1/tickets") as reply:
            listed = [t["id"] for t in (await reply.json())["tickets"]]
    assert ticket_id in listed
    assert stored["priority"] == "normal" and stored["status"] == "new"
    roles = [line["role"] for line in stored["transcript"]]
    assert roles[:2] == ["customer", "bot"] and "someone logged into my account" in stored["transcript"][2]["text"]
    assert "Money moved: no." in stored["summary"] and "need:password_reset" in stored["tags"]


async def test_replaying_a_ticket_request_returns_the_first_ticket(settings):
    body = json.dumps(
        {"category": "other", "priority": "low", "conversation_id": "replay-" + "x" * 40, "summary": "replay"}
    ).encode()
    key = derive_key(settings.secret_key, "tickets")
    results = []
    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            headers = {"Idempotency-Key": "replay-key-0001", "Content-Type": "application/json", **sign(key, body)}
            async with http.post(f"{settings.helpdesk_url}/api/v1/tickets", data=body, headers=headers) as reply:
                results.append((reply.status, await reply.json()))
    (first_status, first), (second_status, second) = results
    assert (first_status, second_status) == (201, 200)
    assert first["id"] == second["id"]


@pytest.mark.parametrize("session_id", ["short", "x" * 31, "y" * 40 + "!", None, 12345])
async def test_unguessable_session_ids_are_required(chat_url, session_id):
    customer = await ChatCustomer(chat_url).connect(request_session=False)
    try:
        await customer.sio.emit("session_request", {"session_id": session_id})
        error = await asyncio.wait_for(customer.errors.get(), 10)
        assert error["code"] == "invalid_session_id"
        assert "32" in error["message"]
        assert not customer.confirmed.is_set()
    finally:
        await customer.close()


async def test_a_socket_cannot_speak_for_another_session(chat_url):
    victim = await ChatCustomer(chat_url).connect()
    intruder = await ChatCustomer(chat_url).connect()
    try:
        await intruder.sio.emit("user_uttered", {"message": "hello", "session_id": victim.session_id})
        error = await asyncio.wait_for(intruder.errors.get(), 10)
        assert error["code"] == "wrong_session"
        await asyncio.sleep(1)
        assert victim.replies.empty()
    finally:
        await victim.close()
        await intruder.close()


async def test_messages_before_a_session_request_are_refused(chat_url):
    customer = await ChatCustomer(chat_url).connect(request_session=False)
    try:
        await customer.sio.emit("user_uttered", {"message": "hello", "session_id": customer.session_id})
        error = await asyncio.wait_for(customer.errors.get(), 10)
        assert error["code"] == "no_session"
    finally:
        await customer.close()


async def test_a_reconnecting_customer_keeps_receiving_replies(chat_url):
    """Catches the un-awaited enter_room of Rasa 3.6.21: replies go to the session's room."""
    first = await ChatCustomer(chat_url).connect()
    session_id = first.session_id
    await first.close()
    again = await ChatCustomer(chat_url, session_id=session_id).connect()
    try:
        [reply] = await again.say("hi")
        assert reply["text"]
    finally:
        await again.close()


async def test_rasa_http_api_requires_the_token(settings):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{settings.rasa_port}/conversations/anyone/tracker") as reply:
            assert reply.status == 401
