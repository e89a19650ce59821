"""The daily report: contacts, containment, verification, first response, SLA, backlog, escalations.

Plain computation over plain records; ``report_data`` reads them from Redis. Percentiles are
nearest-rank (the smallest value with at least p% of the values at or below it), in seconds.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Iterable, Optional

from recoverydesk.domain.contacts import OUTCOMES, VERIFICATION_OUTCOMES, Contact
from recoverydesk.domain.needs import NEEDS
from recoverydesk.domain.tickets import iso
from recoverydesk.domain.triage import PRIORITIES

BACKLOG_BUCKETS: tuple[tuple[str, float], ...] = (
    ("under_1h", 3600),
    ("1h_to_4h", 4 * 3600),
    ("4h_to_24h", 24 * 3600),
    ("1d_to_3d", 3 * 24 * 3600),
    ("over_3d", math.inf),
)
CLOSED_STATUSES = ("resolved", "closed")


@dataclass(frozen=True)
class TicketFacts:
    """What the report needs of a ticket, with times from its audit trail."""

    id: str
    priority: str
    status: str
    channel: str
    created_at: datetime
    sla_due_at: datetime
    tags: list[str] = field(default_factory=list)
    first_response_at: Optional[datetime] = None
    resolved_at: Optional[datetime] = None


@dataclass(frozen=True)
class AlertFacts:
    rule: str
    ticket_id: str
    priority: str
    condition_at: datetime
    sent_at: datetime
    delivered: bool = True


def day_window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


def percentile(values: Iterable[float], p: float) -> Optional[float]:
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _rate(part: int, whole: int) -> Optional[float]:
    return round(part / whole, 4) if whole else None


def _within(moment: datetime, start: datetime, end: datetime) -> bool:
    return start <= moment < end


def _contacts_section(contacts: list[Contact]) -> dict[str, Any]:
    by_channel = Counter(c.channel for c in contacts)
    by_need = Counter({need: 0 for need in NEEDS})
    by_channel_need: dict[str, Counter[str]] = {}
    by_incident: Counter[str] = Counter()
    for contact in contacts:
        for need in contact.needs:
            by_need[need] += 1
            by_channel_need.setdefault(contact.channel, Counter())[need] += 1
        for incident in contact.incidents:
            by_incident[incident] += 1
    return {
        "total": len(contacts),
        "by_channel": dict(sorted(by_channel.items())),
        "by_need": dict(by_need),
        "by_channel_and_need": {ch: dict(sorted(n.items())) for ch, n in sorted(by_channel_need.items())},
        "by_incident": dict(sorted(by_incident.items())),
    }


def _outcomes_section(contacts: list[Contact]) -> dict[str, Any]:
    counts = Counter(c.outcome for c in contacts)
    total = len(contacts)
    return {
        **{outcome: counts.get(outcome, 0) for outcome in OUTCOMES},
        "containment_rate": _rate(counts.get("contained", 0), total),
        "handoff_rate": _rate(counts.get("handed_off", 0), total),
    }


def _sla_state(ticket: TicketFacts, as_of: datetime) -> str:
    if ticket.first_response_at is not None:
        return "met" if ticket.first_response_at <= ticket.sla_due_at else "breached"
    return "breached" if as_of > ticket.sla_due_at else "pending"


def _ticket_sections(created: list[TicketFacts], as_of: datetime) -> dict[str, Any]:
    first_response: dict[str, Any] = {}
    sla: dict[str, Any] = {}
    breaches = []
    for priority in PRIORITIES:
        mine = [t for t in created if t.priority == priority]
        waits = [(t.first_response_at - t.created_at).total_seconds() for t in mine if t.first_response_at]
        first_response[priority] = {
            "tickets": len(mine),
            "responded": len(waits),
            "p50_seconds": percentile(waits, 50),
            "p90_seconds": percentile(waits, 90),
        }
        states = Counter(_sla_state(t, as_of) for t in mine)
        met, breached = states.get("met", 0), states.get("breached", 0)
        sla[priority] = {
            "met": met,
            "breached": breached,
            "pending": states.get("pending", 0),
            "compliance": _rate(met, met + breached),
        }
    for ticket in sorted(created, key=lambda t: (t.sla_due_at, t.id)):
        if _sla_state(ticket, as_of) != "breached":
            continue
        answered = ticket.first_response_at
        breaches.append(
            {
                "ticket_id": ticket.id,
                "priority": ticket.priority,
                "created_at": iso(ticket.created_at),
                "sla_due_at": iso(ticket.sla_due_at),
                "first_response_at": iso(answered) if answered else None,
                "late_by_seconds": int(((answered or as_of) - ticket.sla_due_at).total_seconds()),
            }
        )
    return {
        "tickets": {
            "created": len(created),
            "by_priority": {p: sum(1 for t in created if t.priority == p) for p in PRIORITIES},
        },
        "first_response": first_response,
        "sla": sla,
        "breaches": breaches,
    }


def _is_open_at(ticket: TicketFacts, as_of: datetime) -> bool:
    if ticket.created_at > as_of:
        return False
    if ticket.resolved_at is not None:
        return ticket.resolved_at > as_of
    return ticket.status not in CLOSED_STATUSES


def _backlog_section(tickets: list[TicketFacts], as_of: datetime) -> dict[str, Any]:
    waiting = [t for t in tickets if _is_open_at(t, as_of)]
    by_age = Counter({name: 0 for name, _ in BACKLOG_BUCKETS})
    for ticket in waiting:
        age = (as_of - ticket.created_at).total_seconds()
        by_age[next(name for name, limit in BACKLOG_BUCKETS if age < limit)] += 1
    return {
        "as_of": iso(as_of),
        "total": len(waiting),
        "by_age": dict(by_age),
        "by_priority": {p: sum(1 for t in waiting if t.priority == p) for p in PRIORITIES},
    }


def _escalations_section(alerts: list[AlertFacts]) -> dict[str, Any]:
    rows = sorted(alerts, key=lambda a: (a.sent_at, a.ticket_id, a.rule))
    by_rule: dict[str, Any] = {}
    for rule in sorted({a.rule for a in rows}):
        delays = [(a.sent_at - a.condition_at).total_seconds() for a in rows if a.rule == rule]
        by_rule[rule] = {"count": len(delays), "p50_seconds": percentile(delays, 50), "max_seconds": max(delays)}
    return {
        "total": len(rows),
        "by_rule": by_rule,
        "alerts": [
            {
                "rule": a.rule,
                "ticket_id": a.ticket_id,
                "priority": a.priority,
                "condition_at": iso(a.condition_at),
                "sent_at": iso(a.sent_at),
                "time_to_alert_seconds": int((a.sent_at - a.condition_at).total_seconds()),
                "delivered": a.delivered,
            }
            for a in rows
        ],
    }


def with_ticket_tags(contacts: list[Contact], tickets: dict[str, TicketFacts]) -> list[Contact]:
    """A handed-off contact takes its need and incident tags from its ticket, where agents edit them."""
    result = []
    for contact in contacts:
        ticket = tickets.get(contact.ticket_id or "")
        ticket_tags = [t for t in ticket.tags if t.startswith(("need:", "incident:"))] if ticket else []
        if any(t.startswith("need:") for t in ticket_tags):
            kept = [t for t in contact.tags if not t.startswith(("need:", "incident:"))]
            contact = Contact.from_dict({**contact.to_dict(), "tags": sorted(set(kept + ticket_tags))})
        result.append(contact)
    return result


def daily_report(
    day: date,
    now: datetime,
    contacts: list[Contact],
    tickets: list[TicketFacts],
    alerts: list[AlertFacts],
) -> dict[str, Any]:
    """Figures for one UTC day; the backlog is as of the day's end, or now for today."""
    start, end = day_window(day)
    as_of = min(end, now)
    by_id = {t.id: t for t in tickets}
    day_contacts = with_ticket_tags([c for c in contacts if _within(_parse(c.started_at), start, end)], by_id)
    created = [t for t in tickets if _within(t.created_at, start, end)]
    verification = Counter(c.verification for c in day_contacts)
    return {
        "date": day.isoformat(),
        "generated_at": iso(now),
        "window": {"start": iso(start), "end": iso(end)},
        "contacts": _contacts_section(day_contacts),
        "outcomes": _outcomes_section(day_contacts),
        "verification": {v: verification.get(v, 0) for v in VERIFICATION_OUTCOMES},
        **_ticket_sections(created, as_of),
        "backlog": _backlog_section(tickets, as_of),
        "escalations": _escalations_section([a for a in alerts if _within(a.sent_at, start, end)]),
    }


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _flatten(prefix: str, value: Any, rows: list[tuple[str, str, str]]) -> None:
    section, _, metric = prefix.partition(".")
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}", inner, rows)
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            _flatten(f"{prefix}.{index}", inner, rows)
    else:
        rows.append(
            (section, metric, "" if value is None else str(value).lower() if isinstance(value, bool) else str(value))
        )


def to_csv(report: dict[str, Any]) -> str:
    """One row per figure: section, metric (dotted path), value; empty when not measurable."""
    rows: list[tuple[str, str, str]] = []
    for key, value in report.items():
        if isinstance(value, (dict, list)):
            _flatten(key, value, rows)
        else:
            rows.append(("report", key, str(value)))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("section", "metric", "value"))
    writer.writerows(rows)
    return out.getvalue()
