"""What the console watches live: a conversation's lines and the stream of ticket changes.

The Rasa event broker writes each conversation's lines to its own stream; the ticket store
announces every change on ``CHANGES_STREAM``. Both are read here, never written."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from redis.asyncio import Redis

from recoverydesk.adapters.keys import CHANGES_STREAM, conversation_stream
from recoverydesk.domain.tickets import iso

__all__ = ["CHANGES_STREAM", "LiveFeed", "field_text", "line_from_stream"]


def field_text(fields: dict, name: str) -> str:
    value = fields.get(name.encode(), fields.get(name, b""))
    return value.decode() if isinstance(value, bytes) else value


def line_from_stream(fields: dict) -> dict[str, Any]:
    ts = float(field_text(fields, "ts") or 0)
    return {
        "role": field_text(fields, "role"),
        "text": field_text(fields, "text"),
        "ts": ts,
        "at": iso(datetime.fromtimestamp(ts, timezone.utc)),
    }


class LiveFeed:
    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def lines(self, conversation_id: str, count: int = 500) -> list[dict[str, Any]]:
        """The conversation's first ``count`` lines: role, text, ts (epoch seconds) and at (ISO)."""
        rows = await self._redis.xrange(conversation_stream(conversation_id), count=count)
        return [line_from_stream(fields) for _, fields in rows]

    async def wait(self, cursor: dict[str, str], block_ms: int) -> list[tuple[str, str, dict]]:
        """New entries after ``cursor`` (stream -> last id, moved forward here) as (stream, id, fields);
        an empty list when nothing arrived within ``block_ms``."""
        result = await self._redis.xread(cursor, block=block_ms, count=100)
        entries = []
        for key, rows in result or []:
            stream = key.decode() if isinstance(key, bytes) else key
            for entry_id, fields in rows:
                cursor[stream] = entry_id
                entries.append((stream, entry_id, fields))
        return entries

    async def ping(self) -> None:
        await self._redis.ping()
