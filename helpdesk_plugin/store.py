"""Tickets in Redis: atomic, idempotent intake and the ordered queue."""
from __future__ import annotations

import json
from typing import Callable, Optional

from redis.asyncio import Redis
from redis.exceptions import WatchError

from .errors import NotFound
from .tickets import Ticket, iso, queue_score, utc_now

PREFIX = "rd:helpdesk:"
CHANGES_STREAM = "rd:helpdesk:changes"
CHANGES_MAXLEN = 10_000
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
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[6], '*', 'ticket_id', ARGV[1])
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
                CHANGES_STREAM,
            ],
            args=[
                ticket.id,
                json.dumps(ticket.to_dict()),
                queue_score(ticket),
                created_ts,
                IDEMPOTENCY_TTL_SECONDS,
                CHANGES_MAXLEN,
            ],
        )
        return bool(created), ticket_id.decode() if isinstance(ticket_id, bytes) else ticket_id

    async def get(self, ticket_id: str) -> Optional[Ticket]:
        raw = await self._redis.get(_key("ticket", ticket_id))
        return Ticket.from_dict(json.loads(raw)) if raw else None

    async def update(self, ticket_id: str, change: Callable[[Ticket], None]) -> Ticket:
        """Applies ``change`` atomically (optimistic lock): concurrent claims cannot both win."""
        key = _key("ticket", ticket_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    if not raw:
                        raise NotFound(f"No ticket {ticket_id}.")
                    ticket = Ticket.from_dict(json.loads(raw))
                    change(ticket)
                    ticket.updated_at = iso(utc_now())
                    pipe.multi()
                    pipe.set(key, json.dumps(ticket.to_dict()))
                    if ticket.status in OPEN_STATUSES:
                        pipe.zadd(_key("queue", "open"), {ticket.id: queue_score(ticket)})
                    else:
                        pipe.zrem(_key("queue", "open"), ticket.id)
                    pipe.xadd(CHANGES_STREAM, {"ticket_id": ticket.id}, maxlen=CHANGES_MAXLEN, approximate=True)
                    await pipe.execute()
                    return ticket
                except WatchError:
                    continue

    async def add_note(self, ticket_id: str, author: str, text: str) -> dict[str, str]:
        note = {"author": author, "text": text, "at": iso(utc_now())}
        await self._redis.rpush(_key("notes", ticket_id), json.dumps(note))
        return note

    async def notes(self, ticket_id: str) -> list[dict[str, str]]:
        return [json.loads(n) for n in await self._redis.lrange(_key("notes", ticket_id), 0, -1)]

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

