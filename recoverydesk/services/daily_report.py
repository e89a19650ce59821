"""Reads what the daily report needs from Redis: contacts, tickets with their audit times, alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Optional

from redis.asyncio import Redis

from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.contact_log import ContactLog
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.agents import AgentSession
from recoverydesk.domain.reports import TicketFacts, daily_report, day_window
from recoverydesk.domain.tickets import Ticket, utc_now
from recoverydesk.services.alert_monitor import AlertLedger, alert_facts

# Tickets older than this that were resolved after the day ended are not in that day's backlog.
BACKLOG_LOOKBACK = timedelta(days=30)
FIRST_RESPONSE_ACTIONS = ("ticket.claimed", "ticket.message_sent")


def _when(value: str) -> Optional[datetime]:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def ticket_facts(ticket: Ticket, audit: list[dict[str, Any]]) -> TicketFacts:
    """First response is the first claim or message; resolution the first resolve."""
    first_response = next((_when(e["at"]) for e in audit if e.get("action") in FIRST_RESPONSE_ACTIONS), None)
    resolved = next((_when(e["at"]) for e in audit if e.get("action") == "ticket.resolved"), None)
    return TicketFacts(
        id=ticket.id,
        priority=ticket.priority,
        status=ticket.status,
        channel=ticket.channel,
        created_at=_when(ticket.created_at) or utc_now(),
        sla_due_at=_when(ticket.sla_due_at) or utc_now(),
        tags=list(ticket.tags),
        first_response_at=first_response,
        resolved_at=resolved,
    )


@dataclass
class DailyReports:
    """The day's report from the stores, and an agent's reading of it (audited)."""

    tickets: TicketStore
    audit: AuditLog
    contacts: ContactLog
    ledger: AlertLedger

    async def for_day(self, day: date, now: Optional[datetime] = None) -> dict[str, Any]:
        now = now or utc_now()
        start, end = day_window(day)
        contacts = await self.contacts.started_between(start.timestamp(), end.timestamp())
        created = await self.tickets.created_between((start - BACKLOG_LOOKBACK).timestamp(), end.timestamp())
        tickets = {t.id: t for t in created}
        for ticket in await self.tickets.list(limit=1_000_000):
            tickets.setdefault(ticket.id, ticket)
        ordered = sorted(tickets.values(), key=lambda t: t.id)
        trails = await self.audit.for_tickets(t.id for t in ordered)
        facts = [ticket_facts(t, trails.get(t.id, [])) for t in ordered]
        alerts = [alert_facts(e) for e in await self.ledger.sent_between(start.timestamp(), end.timestamp())]
        return daily_report(day, now, contacts, facts, alerts)

    async def read(self, agent: AgentSession, day: date, now: datetime, **audit_detail: str) -> dict[str, Any]:
        report = await self.for_day(day, now)
        await self.audit.record("report.read", agent.username, day=day.isoformat(), **audit_detail)
        return report


async def load_daily_report(
    redis: Redis, audit: AuditLog, day: date, now: Optional[datetime] = None
) -> dict[str, Any]:
    """For the operator's command line, which holds a Redis client and the audit trail."""
    reports = DailyReports(TicketStore(redis), audit, ContactLog(redis), AlertLedger(redis))
    return await reports.for_day(day, now)
