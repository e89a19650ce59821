"""What an on-call person reads at ``/metrics``: the cross-process counters plus gauges computed at
scrape time from what Redis already holds (outbox backlogs, the open ticket queue, Redis itself),
and whether the system of record (the SQL database) answers.

The gauges carry no customer data: their only labels are an outbox name and a ticket priority."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Optional, Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from redis.asyncio import Redis
from redis.exceptions import RedisError

from recoverydesk.adapters.metrics import CONTENT_TYPE, Metrics, exposition
from recoverydesk.adapters.outbox_backlog import Backlog, OutboxBacklog
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.tickets import Ticket
from recoverydesk.domain.triage import PRIORITIES

log = logging.getLogger("recoverydesk.operations")
# Every open ticket is read at each scrape; past this many the gauges would cost more than they tell.
MAX_OPEN_TICKETS = 100_000
GAUGES = {
    "recoverydesk_redis_up": "1 when the plugin's Redis answered this scrape, 0 when it did not.",
    "recoverydesk_database_up": "1 when the system of record (SQL) answered this scrape, 0 when it did not.",
    "recoverydesk_outbox_depth": "Deliveries waiting in a durable outbox (mail, tickets).",
    "recoverydesk_outbox_oldest_seconds": "Age of the oldest waiting delivery in an outbox (0 when empty).",
    "recoverydesk_open_tickets": "Open tickets (new, open, pending), by priority.",
    "recoverydesk_open_ticket_oldest_seconds": "Age of the oldest open ticket, by priority (0 when none).",
    "recoverydesk_unclaimed_urgent_tickets": "Open urgent tickets no agent holds.",
}


class Reachable(Protocol):
    async def ping(self) -> None:
        """Raises when the store does not answer."""


@dataclass(frozen=True)
class Scrape:
    """One ``/metrics`` answer: the exposition and its content type."""

    body: bytes
    content_type: str


@dataclass(frozen=True)
class TicketQueue:
    """The open queue summed up per priority; every priority is present, at 0 when it has no ticket."""

    open_by_priority: dict[str, int]
    oldest_by_priority: dict[str, float]
    unclaimed_urgent: int


def _age(ticket: Ticket, now: float) -> float:
    created = datetime.fromisoformat(ticket.created_at.replace("Z", "+00:00")).timestamp()
    return max(0.0, now - created)


def summarise_queue(tickets: Iterable[Ticket], now: float) -> TicketQueue:
    """Counts and oldest ages of open tickets by priority, and the urgent ones still with the bot."""
    open_by = {priority: 0 for priority in PRIORITIES}
    oldest_by = {priority: 0.0 for priority in PRIORITIES}
    unclaimed = 0
    for ticket in tickets:
        open_by[ticket.priority] = open_by.get(ticket.priority, 0) + 1
        oldest_by[ticket.priority] = max(oldest_by.get(ticket.priority, 0.0), _age(ticket, now))
        if ticket.priority == "urgent" and ticket.control.get("owner") != "agent":
            unclaimed += 1
    return TicketQueue(open_by, oldest_by, unclaimed)


def _gauge(name: str, labels: Optional[list[str]] = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, GAUGES[name], labels=labels)


def gauge_families(
    redis_up: bool, backlogs: Iterable[Backlog], queue: Optional[TicketQueue], database_up: Optional[bool] = None
) -> list[Metric]:
    """The on-call gauges; without Redis only ``recoverydesk_redis_up`` (0) and the database's gauge
    have a value."""
    up = _gauge("recoverydesk_redis_up")
    up.add_metric([], 1.0 if redis_up else 0.0)
    database = _gauge("recoverydesk_database_up")
    if database_up is not None:
        database.add_metric([], 1.0 if database_up else 0.0)
    depth = _gauge("recoverydesk_outbox_depth", ["outbox"])
    oldest = _gauge("recoverydesk_outbox_oldest_seconds", ["outbox"])
    for backlog in backlogs:
        depth.add_metric([backlog.outbox], backlog.depth)
        oldest.add_metric([backlog.outbox], round(backlog.oldest_seconds, 3))
    open_tickets = _gauge("recoverydesk_open_tickets", ["priority"])
    oldest_ticket = _gauge("recoverydesk_open_ticket_oldest_seconds", ["priority"])
    unclaimed = _gauge("recoverydesk_unclaimed_urgent_tickets")
    if queue is not None:
        for priority, count in queue.open_by_priority.items():
            open_tickets.add_metric([priority], count)
            oldest_ticket.add_metric([priority], round(queue.oldest_by_priority[priority], 3))
        unclaimed.add_metric([], queue.unclaimed_urgent)
    return [up, database, depth, oldest, open_tickets, oldest_ticket, unclaimed]


@dataclass
class Operations:
    """Builds each ``/metrics`` scrape over the shared Redis."""

    redis: Redis
    metrics: Metrics
    tickets: TicketStore
    outboxes: tuple[OutboxBacklog, ...]
    database: Optional[Reachable] = None

    async def _database_up(self) -> Optional[bool]:
        if self.database is None:
            return None
        try:
            await self.database.ping()
        except Exception as exc:  # any failure of the database's driver means it did not answer
            log.warning("operations.scrape_without_database", extra={"kind": type(exc).__name__})
            return False
        return True

    async def scrape(self, now: Optional[float] = None) -> Scrape:
        now = time.time() if now is None else now
        database_up = await self._database_up()
        try:
            await self.redis.ping()
            counters = await self.metrics.families()
            backlogs = [await outbox.measure(now) for outbox in self.outboxes]
            queue = summarise_queue(await self.tickets.list(limit=MAX_OPEN_TICKETS), now)
        except (RedisError, OSError) as exc:
            # Redis down is what the scrape must still report: the counters live there, the gauge says so
            log.warning("operations.scrape_without_redis", extra={"kind": type(exc).__name__})
            families = gauge_families(False, (), None, database_up)
        else:
            families = counters + gauge_families(True, backlogs, queue, database_up)
        return Scrape(exposition(families), CONTENT_TYPE)
