"""Escalations reach the helpdesk through the durable outbox, so a plugin outage loses nothing.

The ticket number is reserved here, from the plugin's own sequence, before the first attempt:
the customer is told the number the ticket will have even if the plugin is down, and the plugin
files the ticket under that number when the outbox delivers it (once: the intake is idempotent
by the escalation's key)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.adapters.helpdesk_client import HelpdeskClient
from recoverydesk.adapters.outbox import Backoff, Outbox, OutboxWorker
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.tickets import ticket_number

FIRST_ATTEMPT_SECONDS = 4.0
HOLD_SECONDS = 30.0  # keeps the worker off an item while the action makes the first attempt


@dataclass(frozen=True)
class Escalation:
    ticket_id: str
    delivered: bool  # False: the ticket waits in the outbox and reaches the plugin when it is back
    new: bool  # False: this escalation was made before (a retried action)


class TicketOutbox:
    def __init__(
        self, redis: Redis, box: SecretBox, helpdesk: HelpdeskClient, backoff: Backoff = Backoff(2.0, 300.0)
    ) -> None:
        self._redis = redis
        self.helpdesk = helpdesk
        self.outbox = Outbox(redis, "tickets", box, backoff)
        self.worker = OutboxWorker(self.outbox, self._deliver, probe=helpdesk.ready)

    async def escalate(self, key: str, payload: dict[str, Any]) -> Escalation:
        """Files the ticket now if the plugin answers within a few seconds, else leaves it queued."""
        if await self.outbox.state(key) is None:
            ticket_id = ticket_number(await self._redis.incr(keys.TICKET_SEQUENCE))
            queued = await self.outbox.put(
                key, {"ticket": {**payload, "id": ticket_id}, "key": key}, ref=ticket_id, hold_seconds=HOLD_SECONDS
            )
        else:
            queued = await self.outbox.put(key, {}, hold_seconds=HOLD_SECONDS)
        if not queued.created:
            return Escalation(queued.ref, queued.state == "delivered", new=False)
        try:
            delivered = await asyncio.wait_for(self.worker.attempt_now(key), FIRST_ATTEMPT_SECONDS)
        except asyncio.TimeoutError:  # the plugin is slow: the worker takes over after the hold
            delivered = False
        if not delivered:
            self.worker.kick()
        return Escalation(queued.ref, delivered, new=True)

    async def _deliver(self, payload: dict[str, Any]) -> dict[str, Any]:
        ticket = await self.helpdesk.create_ticket(payload["ticket"], payload["key"])
        return {"id": ticket.get("id")}
