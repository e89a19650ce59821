"""Codes and notifications go out through the durable outbox: retried with backoff while the
mail server is down, delivered once (a stable Message-ID marks any redelivered copy)."""

from __future__ import annotations

import secrets
from typing import Optional

from redis.asyncio import Redis

from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.outbox import Backoff, Outbox, OutboxWorker
from recoverydesk.domain.crypto import SecretBox

NOTIFICATION_TTL_SECONDS = 24 * 3600


class MailOutbox:
    def __init__(self, redis: Redis, box: SecretBox, mailer: Mailer, backoff: Backoff = Backoff(2.0, 300.0)) -> None:
        self.mailer = mailer
        self.outbox = Outbox(redis, "mail", box, backoff)
        self.worker = OutboxWorker(self.outbox, self._deliver, probe=self.mailer.reachable)

    async def queue(
        self,
        to: list[str],
        subject: str,
        body: str,
        key: Optional[str] = None,
        ttl_seconds: float = NOTIFICATION_TTL_SECONDS,
    ) -> bool:
        """Queues one email; a repeated ``key`` queues nothing. A code's mail should live no longer
        than the code (``ttl_seconds``): an expired code is not worth sending."""
        key = key or f"mail-{secrets.token_hex(16)}"
        queued = await self.outbox.put(
            key, {"to": to, "subject": subject, "body": body, "id": key}, ttl_seconds=ttl_seconds
        )
        self.worker.kick()
        return queued.created

    async def send(self, to: list[str], subject: str, body: str) -> None:
        """``Mailer.send``'s shape, so a caller holding a ``Mailer`` can switch to the outbox as is."""
        await self.queue(to, subject, body)

    async def _deliver(self, payload: dict) -> dict:
        await self.mailer.send(payload["to"], payload["subject"], payload["body"], message_id=payload["id"])
        return {}

    async def available(self) -> bool:
        """Whether the mail server takes connections now: the customer hears it when it does not."""
        return await self.mailer.reachable()
