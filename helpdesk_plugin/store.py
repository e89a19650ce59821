"""Tickets in Redis: atomic, idempotent intake and the ordered queue."""
from __future__ import annotations

import json
from typing import Optional

from redis.asyncio import Redis

from .tickets import Ticket, queue_score

PREFIX = "rd:helpdesk:"
OPEN_STATUSES = ("new", "open", "pending")
IDEMPOTENCY_TTL_SECONDS = 7 * 24 * 3600

# Atomic create: a repeat with the same idempotency key returns the first ticket's id.
_CREATE = """
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing} end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[5])
redis.call('SET', KEYS[5], ARGV[1])
return {1, ARGV[1]}
"""


def _key(*parts: str) -> str:
    return PREFIX + ":".join(parts)


class TicketStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._create = redis.register_script(_CREATE)

    async def next_id(self) -> str:
        number = await self._redis.incr(_key("ticket_seq"))
        return f"RD-{number:06d}"

    async def create(self, ticket: Ticket, idempotency_key: str, created_ts: float) -> tuple[bool, str]:
        """Stores the ticket unless the key was seen; returns (created, id of the stored ticket)."""
        created, ticket_id = await self._create(
            keys=[
                _key("idem", idempotency_key),
                _key("ticket", ticket.id),
                _key("queue", "open"),
                _key("queue", "all"),
                _key("conversation", ticket.conversation_id),
            ],
            args=[ticket.id, json.dumps(ticket.to_dict()), queue_score(ticket), created_ts, IDEMPOTENCY_TTL_SECONDS],
        )
        return bool(created), ticket_id.decode() if isinstance(ticket_id, bytes) else ticket_id

    async def get(self, ticket_id: str) -> Optional[Ticket]:
        raw = await self._redis.get(_key("ticket", ticket_id))
        return Ticket.from_dict(json.loads(raw)) if raw else None

    async def save(self, ticket: Ticket) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(_key("ticket", ticket.id), json.dumps(ticket.to_dict()))
        if ticket.status in OPEN_STATUSES:
            pipe.zadd(_key("queue", "open"), {ticket.id: queue_score(ticket)})
        else:
            pipe.zrem(_key("queue", "open"), ticket.id)
        await pipe.execute()

    async def for_conversation(self, conversation_id: str) -> Optional[Ticket]:
        ticket_id = await self._redis.get(_key("conversation", conversation_id))
        if not ticket_id:
            return None
        return await self.get(ticket_id.decode() if isinstance(ticket_id, bytes) else ticket_id)

    async def list(
        self,
        status: Optional[str] = None,
        queue: Optional[str] = None,
        priority: Optional[str] = None,
        limit: int = 500,
    ) -> list[Ticket]:
        """The queue, ordered by priority then SLA due time; open tickets unless a status is asked."""
        if status is None or status in OPEN_STATUSES:
            ids = await self._redis.zrange(_key("queue", "open"), 0, -1)
        else:
            ids = await self._redis.zrange(_key("queue", "all"), 0, -1)
        tickets = await self._load_many([i.decode() if isinstance(i, bytes) else i for i in ids])
        selected = [
            t
            for t in tickets
            if (status is None or t.status == status)
            and (queue is None or t.queue == queue)
            and (priority is None or t.priority == priority)
        ]
        selected.sort(key=queue_score)
        return selected[:limit]

    async def _load_many(self, ids: list[str]) -> list[Ticket]:
        if not ids:
            return []
        raws = await self._redis.mget([_key("ticket", i) for i in ids])
        return [Ticket.from_dict(json.loads(r)) for r in raws if r]

