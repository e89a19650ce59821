"""Tickets in Redis: atomic, idempotent intake and the ordered queue."""

from __future__ import annotations

import json
from typing import Callable, Optional

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from recoverydesk.adapters import keys
from recoverydesk.adapters.optimistic import update_document
from recoverydesk.adapters.redis_client import as_text
from recoverydesk.domain.tickets import TICKET_NUMBER_FORMAT, Ticket, iso, queue_score, ticket_number, utc_now

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

# Intake in one round trip: a repeat returns the stored ticket; otherwise the id the action server
# reserved (ARGV[6], refused if another conversation holds it) or else the next id is taken,
# set into the ticket (whose JSON is sent without its leading "id" member), the ticket stored,
# queued, indexed and announced. (Its creation is audited in SQL by the caller, services.tickets.)
_INTAKE = """
local existing = redis.call('GET', KEYS[1])
if existing then return {0, existing, redis.call('GET', KEYS[7] .. existing) or false} end
local id
if ARGV[6] ~= '' then
  id = ARGV[6]
  local held = redis.call('GET', KEYS[7] .. id)
  if held then
    if cjson.decode(held)['conversation_id'] ~= ARGV[7] then return {-1, id, false} end
    redis.call('SET', KEYS[1], id, 'EX', ARGV[4])
    return {0, id, held}
  end
else
  id = string.format('TICKET_NUMBER_FORMAT', redis.call('INCR', KEYS[2]))
end
local body = '{"id": "' .. id .. '", ' .. ARGV[1]
redis.call('SET', KEYS[7] .. id, body)
redis.call('ZADD', KEYS[3], ARGV[2], id)
redis.call('ZADD', KEYS[4], ARGV[3], id)
redis.call('SET', KEYS[1], id, 'EX', ARGV[4])
redis.call('SET', KEYS[5], id)
redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[5], '*', 'ticket_id', id)
return {1, id, body}
""".replace("TICKET_NUMBER_FORMAT", TICKET_NUMBER_FORMAT)  # the one RD- format, see domain.tickets


class TicketNumberTaken(Exception):
    """A reserved ticket number is already held by another conversation."""


def _key(*parts: str) -> str:
    return keys.helpdesk(*parts)



class TicketStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._create = redis.register_script(_CREATE)
        self._intake = redis.register_script(_INTAKE)

    async def next_id(self) -> str:
        return ticket_number(await self._redis.incr(keys.TICKET_SEQUENCE))

    async def create(self, ticket: Ticket, idempotency_key: str, created_ts: float) -> tuple[bool, str]:
        """Stores the ticket unless the key was seen; returns (created, id of the stored ticket)."""
        created, ticket_id = await self._create(
            keys=[
                _key("idem", idempotency_key),
                _key("ticket", ticket.id),
                _key("queue", "open"),
                _key("queue", "all"),
                _key("conversation", ticket.conversation_id),
                keys.CHANGES_STREAM,
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

    async def intake(
        self,
        ticket: Ticket,
        idempotency_key: str,
        created_ts: float,
        reserved_id: Optional[str] = None,
    ) -> tuple[bool, str, str]:
        """Creates the ticket under ``reserved_id`` or the next id, unless the key was seen, in one
        round trip. Returns (created, id, the stored ticket's JSON)."""
        fields = dict(vars(ticket))  # the dataclass's fields in order; asdict's deep copy is the slow part
        fields.pop("id")
        members = json.dumps(fields)
        created, ticket_id, body = await self._intake(
            keys=[
                _key("idem", idempotency_key),
                keys.TICKET_SEQUENCE,
                _key("queue", "open"),
                _key("queue", "all"),
                _key("conversation", ticket.conversation_id),
                keys.CHANGES_STREAM,
                _key("ticket", ""),
            ],
            args=[
                members[1:],
                queue_score(ticket),
                created_ts,
                IDEMPOTENCY_TTL_SECONDS,
                CHANGES_MAXLEN,
                reserved_id or "",
                ticket.conversation_id,
            ],
        )
        ticket_id = as_text(ticket_id)
        if created == -1:
            raise TicketNumberTaken(ticket_id)
        if created:
            ticket.id = ticket_id
        return bool(created), ticket_id, as_text(body) if body else ""

    async def get(self, ticket_id: str) -> Optional[Ticket]:
        raw = await self._redis.get(_key("ticket", ticket_id))
        return Ticket.from_dict(json.loads(raw)) if raw else None

    async def update(self, ticket_id: str, change: Callable[[Ticket], None]) -> Ticket:
        """Applies ``change`` atomically (optimistic lock): concurrent claims cannot both win."""

        def stage(pipe: Pipeline, ticket: Ticket) -> None:
            ticket.updated_at = iso(utc_now())
            pipe.set(_key("ticket", ticket.id), json.dumps(ticket.to_dict()))
            if ticket.status in OPEN_STATUSES:
                pipe.zadd(_key("queue", "open"), {ticket.id: queue_score(ticket)})
            else:
                pipe.zrem(_key("queue", "open"), ticket.id)
            pipe.xadd(keys.CHANGES_STREAM, {"ticket_id": ticket.id}, maxlen=CHANGES_MAXLEN, approximate=True)

        return await update_document(
            self._redis, _key("ticket", ticket_id), Ticket.from_dict, change, stage, f"No ticket {ticket_id}."
        )

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
        language: Optional[str] = None,
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
            and (language is None or t.language == language)
        ]
        selected.sort(key=queue_score)
        return selected[:limit]

    async def _load_many(self, ids: list[str]) -> list[Ticket]:
        if not ids:
            return []
        raws = await self._redis.mget([_key("ticket", i) for i in ids])
        return [Ticket.from_dict(json.loads(r)) for r in raws if r]

    async def created_between(self, start_ts: float, end_ts: float) -> list[Ticket]:
        """Every ticket created in [start, end), whatever its status (for reports)."""
        ids = await self._redis.zrangebyscore(_key("queue", "all"), start_ts, f"({end_ts}")
        return await self._load_many([i.decode() if isinstance(i, bytes) else i for i in ids])
