"""Incidents in Redis, read by the plugin and by the action server (which answers with them)."""

from __future__ import annotations

import json
from typing import Callable, Optional

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline

from recoverydesk.adapters import keys
from recoverydesk.adapters.optimistic import update_document
from recoverydesk.adapters.redis_client import as_text
from recoverydesk.domain.incidents import Incident


def _key(*parts: str) -> str:
    return keys.incidents(*parts)



class IncidentStore:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def next_id(self) -> str:
        return f"INC-{await self._redis.incr(_key('seq')):04d}"

    async def save_new(self, incident: Incident, started_ts: float) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(_key("incident", incident.id), json.dumps(incident.to_dict()))
        pipe.zadd(_key("all"), {incident.id: started_ts})
        if incident.active:
            pipe.zadd(_key("active"), {incident.id: started_ts})
        await pipe.execute()

    async def get(self, incident_id: str) -> Optional[Incident]:
        raw = await self._redis.get(_key("incident", incident_id))
        return Incident.from_dict(json.loads(raw)) if raw else None

    async def update(self, incident_id: str, change: Callable[[Incident], None]) -> Incident:
        key = _key("incident", incident_id)

        def stage(pipe: Pipeline, incident: Incident) -> None:
            pipe.set(key, json.dumps(incident.to_dict()))
            if not incident.active:
                pipe.zrem(_key("active"), incident.id)

        return await update_document(self._redis, key, Incident.from_dict, change, stage, f"No incident {incident_id}.")

    async def _load(self, ids: list) -> list[Incident]:
        if not ids:
            return []
        raws = await self._redis.mget([_key("incident", as_text(i)) for i in ids])
        return [Incident.from_dict(json.loads(r)) for r in raws if r]

    async def list(self) -> list[Incident]:
        """Every incident, newest first."""
        return await self._load(await self._redis.zrevrange(_key("all"), 0, -1))

    async def active(self) -> list[Incident]:
        """Active incidents, the most recently started first."""
        return [i for i in await self._load(await self._redis.zrevrange(_key("active"), 0, -1)) if i.active]
