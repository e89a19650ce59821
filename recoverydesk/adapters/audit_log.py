"""Append-only audit log on Redis streams (AGT-4): no API edits or deletes an entry."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.domain.tickets import iso, utc_now

MAX_ENTRIES = 1_000_000


def _ticket_stream(ticket_id: str) -> str:
    return keys.ticket_audit_stream(ticket_id)


class AuditLog:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def record(
        self, action: str, actor: str, ticket_id: Optional[str] = None, *, at: Optional[datetime] = None, **detail: str
    ) -> None:
        """``at`` is for callers on an injected clock (alerts); everyone else records now."""
        entry = {"at": iso(at or utc_now()), "action": action, "actor": actor, "ticket_id": ticket_id or "", **detail}
        pipe = self._redis.pipeline(transaction=True)
        pipe.xadd(keys.AUDIT_STREAM, entry, maxlen=MAX_ENTRIES, approximate=True)
        if ticket_id:
            pipe.xadd(_ticket_stream(ticket_id), entry)
        await pipe.execute()

    async def for_ticket(self, ticket_id: str) -> list[dict[str, Any]]:
        rows = await self._redis.xrange(_ticket_stream(ticket_id))
        return [_decode(fields) for _, fields in rows]


def _decode(fields: dict) -> dict[str, Any]:
    return {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in fields.items()
    }
