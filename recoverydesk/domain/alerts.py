"""Alert rules: which tickets the on-call person must hear about, and when (issue #9).

Plain functions of the tickets, the active incidents and the time, so a test can move the
clock. Each alert has a key (rule and ticket); the monitor sends each key once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Mapping, Optional

from recoverydesk.domain.incidents import Incident, data_kinds_in, parse_time
from recoverydesk.domain.tickets import Ticket, iso

RULES = ("urgent_unclaimed", "sla_breach", "new_exposed_data")
RULE_TITLES = {
    "urgent_unclaimed": "Urgent ticket still unclaimed",
    "sla_breach": "SLA breached: no first response",
    "new_exposed_data": "New kind of exposed data mentioned",
}


@dataclass(frozen=True)
class AlertPolicy:
    urgent_unclaimed_minutes: int = 10


DEFAULT_POLICY = AlertPolicy()


@dataclass(frozen=True)
class Alert:
    rule: str
    ticket_id: str
    priority: str
    condition_at: datetime
    incident_id: Optional[str] = None
    data_kinds: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.ticket_id}"


def _unanswered(ticket: Ticket) -> bool:
    """No agent has taken the ticket yet (claiming is the first response)."""
    return ticket.status == "new" and ticket.control.get("owner") != "agent"


def _customer_text(ticket: Ticket) -> str:
    return "\n".join(line.get("text", "") for line in ticket.transcript if line.get("role") == "customer")


def due_alerts(
    tickets: Iterable[Ticket],
    incidents: Iterable[Incident],
    reported_kinds: Mapping[str, set[str]],
    now: datetime,
    policy: AlertPolicy = DEFAULT_POLICY,
) -> list[Alert]:
    """Every alert whose condition holds at ``now`` (the monitor drops those already sent)."""
    alerts: list[Alert] = []
    known = {i.id: set(i.exposed_data) | set(reported_kinds.get(i.id, set())) for i in incidents if i.active}
    by_tag = {f"incident:{i}": i for i in known}
    for ticket in sorted(tickets, key=lambda t: (t.created_at, t.id)):
        if ticket.status in ("resolved", "closed"):
            continue
        created = parse_time(ticket.created_at)
        if _unanswered(ticket):
            unclaimed_at = created + timedelta(minutes=policy.urgent_unclaimed_minutes)
            if ticket.priority == "urgent" and now >= unclaimed_at:
                alerts.append(Alert("urgent_unclaimed", ticket.id, ticket.priority, unclaimed_at))
            due = parse_time(ticket.sla_due_at)
            if now >= due:
                alerts.append(Alert("sla_breach", ticket.id, ticket.priority, due))
        incident_ids = [by_tag[t] for t in ticket.tags if t in by_tag]
        if not incident_ids:
            continue
        mentioned = data_kinds_in(_customer_text(ticket))
        for incident_id in incident_ids:
            new = sorted(mentioned - known[incident_id])
            if new:
                known[incident_id] |= set(new)  # the next ticket naming the same kind is not news
                alerts.append(Alert("new_exposed_data", ticket.id, ticket.priority, created, incident_id, tuple(new)))
                break
    return alerts


def alert_email(alert: Alert, ticket_url: str, now: datetime) -> tuple[str, str]:
    """Subject and body for the on-call person: facts and the link, never what the customer wrote."""
    subject = f"[Recovery Desk] {RULE_TITLES[alert.rule]}: {alert.ticket_id} ({alert.priority})"
    lines = [
        f"{RULE_TITLES[alert.rule]}.",
        "",
        f"Ticket:     {alert.ticket_id}",
        f"Priority:   {alert.priority}",
        f"Condition:  since {iso(alert.condition_at)}",
        f"Alerted at: {iso(now)}",
    ]
    if alert.incident_id:
        lines.append(f"Incident:   {alert.incident_id}")
    if alert.data_kinds:
        lines.append(f"Data named: {', '.join(k.replace('_', ' ') for k in alert.data_kinds)}")
    lines += ["", f"Open the ticket: {ticket_url}", "", "This alert is sent once per rule and ticket."]
    return subject, "\n".join(lines)
