"""Contacts in Redis: one record per conversation, indexed by start time for the daily report."""

from __future__ import annotations

import json
from typing import Optional

from redis.asyncio import Redis
from redis.exceptions import WatchError

from recoverydesk.adapters import keys
from recoverydesk.domain.contacts import Contact

RETENTION_SECONDS = 400 * 24 * 3600


def _record(conversation_id: str) -> str:
    return keys.contact_record(conversation_id)


def _edits(conversation_id: str) -> str:
    return keys.contact_edits(conversation_id)


class ContactLog:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def save(self, contact: Contact, started_ts: float) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(_record(contact.conversation_id), json.dumps(contact.to_dict()), ex=RETENTION_SECONDS)
        pipe.zadd(keys.CONTACTS_BY_START, {contact.conversation_id: started_ts}, nx=True)
        await pipe.execute()

    async def edit_tags(self, conversation_id: str, add: list[str], remove: list[str]) -> Optional[Contact]:
        """An agent's correction, kept apart so the bot's next save does not undo it."""
        key = _edits(conversation_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(key)
                    raw = await pipe.get(key)
                    edits = json.loads(raw) if raw else {"add": [], "remove": []}
                    edits = {
                        "add": sorted((set(edits["add"]) - set(remove)) | set(add)),
                        "remove": sorted((set(edits["remove"]) - set(add)) | set(remove)),
                    }
                    pipe.multi()
                    pipe.set(key, json.dumps(edits), ex=RETENTION_SECONDS)
                    await pipe.execute()
                    break
                except WatchError:
                    continue
        return await self.get(conversation_id)

    async def get(self, conversation_id: str) -> Optional[Contact]:
        found = await self._load([conversation_id])
        return found[0] if found else None

    async def started_between(self, start_ts: float, end_ts: float) -> list[Contact]:
        """Contacts that started in [start, end), with agents' edits applied."""
        ids = await self._redis.zrangebyscore(keys.CONTACTS_BY_START, start_ts, f"({end_ts}")
        return await self._load([i.decode() if isinstance(i, bytes) else i for i in ids])

    async def _load(self, ids: list[str]) -> list[Contact]:
        if not ids:
            return []
        contacts = []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            records = await self._redis.mget([_record(i) for i in chunk])
            edits = await self._redis.mget([_edits(i) for i in chunk])
            for raw, raw_edits in zip(records, edits, strict=True):
                if not raw:
                    continue
                contact = Contact.from_dict(json.loads(raw))
                if raw_edits:
                    change = json.loads(raw_edits)
                    contact = contact.with_edits(change["add"], change["remove"])
                contacts.append(contact)
        return contacts
