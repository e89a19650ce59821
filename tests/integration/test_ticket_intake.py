"""Ticket intake against a real Redis (id, ticket, queues, index, idempotency in one round trip) and
its audit row in the SQL audit trail."""

from __future__ import annotations

import json
import secrets
import time

from redis.asyncio import Redis

from recoverydesk.adapters.live_feed import LiveFeed
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.signing import derive_key, sign
from recoverydesk.domain.tickets import new_ticket, utc_now
from recoverydesk.services.tickets import TicketDesk


def _payload(conversation_id: str) -> dict:
    return {
        "category": "unrecognized_login",
        "priority": "normal",
        "conversation_id": conversation_id,
        "summary": "A sign-in from another country.",
        "tags": ["channel:webchat"],
        "transcript": [{"role": "customer", "text": "someone logged in", "at": ""}],
    }


async def test_intake_stores_queues_and_indexes_a_new_ticket(redis_server):
    redis = Redis.from_url(redis_server.url)
    try:
        store, conversation = TicketStore(redis), secrets.token_urlsafe(32)
        ticket = new_ticket("", _payload(conversation), utc_now())
        created, ticket_id, stored = await store.intake(
            ticket, "intake-" + secrets.token_hex(8), time.time()
        )
        assert created and ticket_id.startswith("RD-") and ticket.id == ticket_id
        assert json.loads(stored) == {**ticket.to_dict(), "id": ticket_id}
        assert (await store.get(ticket_id)).to_dict() == json.loads(stored)
        assert (await store.for_conversation(conversation)).id == ticket_id
        assert ticket_id in [t.id for t in await store.list()]
    finally:
        await redis.close()


async def test_a_repeated_idempotency_key_returns_the_first_ticket_and_creates_nothing(redis_server):
    redis = Redis.from_url(redis_server.url)
    try:
        store, key = TicketStore(redis), "intake-" + secrets.token_hex(8)
        first = new_ticket("", _payload(secrets.token_urlsafe(32)), utc_now())
        _, first_id, first_body = await store.intake(first, key, time.time())
        sequence = await redis.get("rd:helpdesk:ticket_seq")

        again = new_ticket("", _payload(secrets.token_urlsafe(32)), utc_now())
        created, ticket_id, body = await store.intake(again, key, time.time())
        assert not created and ticket_id == first_id and body == first_body
        assert await redis.get("rd:helpdesk:ticket_seq") == sequence
    finally:
        await redis.close()


async def test_ids_from_intake_and_next_id_never_collide(redis_server):
    redis = Redis.from_url(redis_server.url)
    try:
        store = TicketStore(redis)
        taken = await store.next_id()
        ticket = new_ticket("", _payload(secrets.token_urlsafe(32)), utc_now())
        _, ticket_id, _ = await store.intake(ticket, "intake-" + secrets.token_hex(8), time.time())
        assert int(ticket_id[3:]) == int(taken[3:]) + 1
    finally:
        await redis.close()


async def test_the_desk_audits_a_new_ticket_once_in_sql_and_not_its_repeat(redis_server, audit_log):
    redis = Redis.from_url(redis_server.url)
    try:
        key = derive_key(b"intake-test-secret", "tickets")
        desk = TicketDesk(TicketStore(redis), audit_log, LiveFeed(redis), Metrics(redis), key)
        body = json.dumps(_payload(secrets.token_urlsafe(32))).encode()
        headers = {"idempotency-key": "intake-" + secrets.token_hex(8)}
        first = await desk.intake({**headers, **_lower(sign(key, body))}, body, lambda: json.loads(body))
        again = await desk.intake({**headers, **_lower(sign(key, body))}, body, lambda: json.loads(body))
        assert first.created and not again.created and again.ticket_id == first.ticket_id
        [entry] = await audit_log.for_ticket(first.ticket_id)
        shown = (entry["action"], entry["actor"], entry["priority"], entry["seq"])
        assert shown == ("ticket.created", "bot", "normal", "1")
    finally:
        await redis.close()


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}
