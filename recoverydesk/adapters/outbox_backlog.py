"""How far an outbox (``mail``, ``tickets``) is behind, read from Redis for the on-call gauges.

Read-only: it looks at the outbox's due queue (only pending items are in it) and the ``created``
time of each pending item, never at a payload."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys

# KEYS: due. ARGV: the item key prefix. One round trip, consistent: {pending count, oldest created or ''}.
_MEASURE = """
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local oldest = nil
for _, member in ipairs(members) do
  local created = tonumber(redis.call('HGET', ARGV[1] .. member, 'created'))
  if created and (oldest == nil or created < oldest) then oldest = created end
end
return {#members, oldest and tostring(oldest) or ''}
"""


@dataclass(frozen=True)
class Backlog:
    """An outbox's pending items and the age of the oldest one (0 when none is pending)."""

    outbox: str
    depth: int
    oldest_seconds: float


class OutboxBacklog:
    """Measures one named outbox."""

    def __init__(self, redis: Redis, name: str) -> None:
        self.name = name
        self._due = keys.outbox_due(name)
        self._item_prefix = keys.outbox_item(name, "")
        self._measure = redis.register_script(_MEASURE)

    async def measure(self, now: Optional[float] = None) -> Backlog:
        now = time.time() if now is None else now
        depth, oldest = await self._measure(keys=[self._due], args=[self._item_prefix])
        oldest_text = oldest.decode() if isinstance(oldest, bytes) else str(oldest)
        age = max(0.0, now - float(oldest_text)) if oldest_text else 0.0
        return Backlog(self.name, int(depth), age)
