"""Ticket intake in one round trip against a real Redis: id, ticket, queues, index, audit, idempotency."""

from __future__ import annotations

import json
import secrets
import time

from redis.asyncio import Redis

from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.tickets import new_ticket, utc_now


def _payload(conversation_id: str) -> dict:
    return {
        "category": "unrecognized_login",
        "priority": "normal",
        "conversation_id": conversation_id,
        "summary": "A sign-in from another country.",
        "tags": ["channel:webchat"],
        "transcript": [{"role": "customer", "text": "someone logged in", "at": ""}],
    }


async def test_intake_stores_queues_indexes_and_audits_a_new_ticket(redis_server):
    redis = Redis.from_url(redis_server.url)
    try:
        store, conversation = TicketStore(redis), secrets.token_urlsafe(32)
        ticket = new_ticket("", _payload(conversation), utc_now())
        created, ticket_id, stored = await store.intake(
            ticket, "intake-" + secrets.token_hex(8), time.time(), priority="normal"
        )
        assert created and ticket_id.startswith("RD-") and ticket.id == ticket_id
        assert json.loads(stored) == {**ticket.to_dict(), "id": ticket_id}
        assert (await store.get(ticket_id)).to_dict() == json.loads(stored)
        assert (await store.for_conversation(conversation)).id == ticket_id
        assert ticket_id in [t.id for t in await store.list()]
        [entry] = await AuditLog(redis).for_ticket(ticket_id)
        assert entry["action"] == "ticket.created" and entry["actor"] == "bot" and entry["priority"] == "normal"
    finally:
        await redis.close()


async def test_a_repeated_idempotency_key_returns_the_first_ticket_and_creates_nothing(redis_server):
    redis = Redis.from_url(redis_server.url)
    try:
        store, key = TicketStore(redis), "intake-" + secrets.token_hex(8)
        first = new_ticket("", _payload(secrets.token_urlsafe(32)), utc_now())
        _, first_id, first_body = await store.intake(first, key, time.time(), priority="normal")
        sequence = await redis.get("rd:helpdesk:ticket_seq")

        again = new_ticket("", _payload(secrets.token_urlsafe(32)), utc_now())
        created, ticket_id, body = await store.intake(again, key, time.time(), priority="normal")
        assert not created and ticket_id == first_id and body == first_body
        assert await redis.get("rd:helpdesk:ticket_seq") == sequence
        assert len(await AuditLog(redis).for_ticket(first_id)) == 1
    finally:
        await redis.close()


async def test_ids_from_intake_and_next_id_never_collide(redis_server):
    redis = Redis.from_url(redis_server.url)
    try:
        store = TicketStore(redis)
        taken = await store.next_id()
        ticket = new_ticket("", _payload(secrets.token_urlsafe(32)), utc_now())
        _, ticket_id, _ = await store.intake(ticket, "intake-" + secrets.token_hex(8), time.time(), priority="normal")
        assert int(ticket_id[3:]) == int(taken[3:]) + 1
    finally:
        await redis.close()
