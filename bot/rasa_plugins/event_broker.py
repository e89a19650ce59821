"""A Rasa event broker that writes each conversation's lines to a Redis stream.

The helpdesk reads these streams to show an agent, live, what the customer says while the
agent holds the conversation. Writes happen off the request path, in order, in batches.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.utils.endpoints import EndpointConfig
from redis.exceptions import RedisError

from recoverydesk.adapters import redis_client
from recoverydesk.adapters.keys import conversation_stream
from recoverydesk.domain.redaction import mask_email, redact_text

log = logging.getLogger("recoverydesk.event_broker")
STREAM_MAXLEN = 500
STREAM_TTL_SECONDS = 7 * 24 * 3600


def conversation_line(event: Dict[Text, Any]) -> Optional[Dict[str, str]]:
    """The transcript line for a user or bot event (agents' replies are bot events marked as theirs)."""
    kind = event.get("event")
    text = event.get("text")
    if kind not in ("user", "bot") or not text:
        return None
    agent = ((event.get("data") or {}).get("custom") or {}).get("agent") if kind == "bot" else None
    return {
        "role": "customer" if kind == "user" else ("agent" if agent else "bot"),
        "text": mask_email(redact_text(text)),
        "ts": repr(float(event.get("timestamp") or 0.0)),
        "agent": agent or "",
    }


class RedisStreamEventBroker(EventBroker):
    """Configured in endpoints as ``type: bot.rasa_plugins.event_broker.RedisStreamEventBroker`` with ``url``."""

    def __init__(self, url: str) -> None:
        self._redis = redis_client.connect(url)  # with the reconnect policy: a batch survives a restarted Redis
        self._pending: Optional[asyncio.Queue] = None
        self._writer: Optional[asyncio.Task] = None

    @classmethod
    async def from_endpoint_config(
        cls, broker_config: EndpointConfig, event_loop: Optional[asyncio.AbstractEventLoop] = None
    ) -> "RedisStreamEventBroker":
        return cls(broker_config.url)

    def publish(self, event: Dict[Text, Any]) -> None:
        line = conversation_line(event)
        sender = event.get("sender_id")
        if line is None or not sender:
            return
        if self._writer is None or self._writer.done():
            self._pending = asyncio.Queue()
            self._writer = asyncio.get_event_loop().create_task(self._write_forever(self._pending))
        assert self._pending is not None
        self._pending.put_nowait((sender, line))

    async def _write_forever(self, pending: asyncio.Queue) -> None:
        while True:
            batch = [await pending.get()]
            while not pending.empty():
                batch.append(pending.get_nowait())
            pipe = self._redis.pipeline(transaction=False)
            for sender, line in batch:
                pipe.xadd(conversation_stream(sender), line, maxlen=STREAM_MAXLEN, approximate=True)
                pipe.expire(conversation_stream(sender), STREAM_TTL_SECONDS)
            try:
                await pipe.execute()
            except RedisError as exc:
                # The tracker store keeps the record; the live feed misses these lines.
                log.warning("event_broker.write_failed", extra={"kind": type(exc).__name__, "lines": len(batch)})
            finally:
                for _ in batch:
                    pending.task_done()

    def is_ready(self) -> bool:
        return True

    async def close(self) -> None:
        if self._pending is not None and self._writer is not None and not self._writer.done():
            try:
                await asyncio.wait_for(self._pending.join(), 5)
            except asyncio.TimeoutError:
                log.warning("event_broker.close_timeout")
            self._writer.cancel()
        await self._redis.close()
