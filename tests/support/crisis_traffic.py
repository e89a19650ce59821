"""A generated day of crisis traffic, played into a real Redis in time order, and the figures the
daily report must show for it, computed here from the plan alone (never from Redis or reports.py).

The plan: contacts across channels, needs and verification outcomes; tickets for the handed-off
ones with claims and resolutions at chosen times; tickets left from earlier days; contacts and
tickets on the neighbouring days (which must not count); agents' tag corrections; an incident
whose tickets name new kinds of exposed data. The alert monitor runs on a simulated clock, one
check a minute through the day, exactly as the plugin's background task would.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Optional

from redis.asyncio import Redis

from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.contact_log import ContactLog
from recoverydesk.adapters.incident_store import IncidentStore
from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.contacts import contact_for
from recoverydesk.domain.incidents import declare
from recoverydesk.domain.needs import NEEDS
from recoverydesk.domain.tickets import change_tags, claim, iso, new_ticket, resolve
from recoverydesk.services.alert_monitor import AlertMonitor

DAY = date(2026, 3, 14)
START = datetime(2026, 3, 14, tzinfo=timezone.utc)
END = START + timedelta(days=1)
SLA_SECONDS = {"urgent": 15 * 60, "high": 60 * 60, "normal": 8 * 3600, "low": 24 * 3600}
PRIORITIES = ("urgent", "high", "normal", "low")
CHANNELS = ("webchat", "telegram", "whatsapp", "facebook")
PLAIN_NEEDS = tuple(need for need in NEEDS if need != "need:complaint")  # a complaint comes on top of one
VERIFICATIONS = ("not_attempted", "not_completed", "basic", "strong", "sent_to_person")
TICK = 60
ONCALL = "oncall-report@example.test"
INCIDENT_ID = "INC-0001"
NEUTRAL_TEXT = "something looks wrong on my account"


@dataclass
class PlannedTicket:
    key: str
    created: int  # seconds since START (negative: an earlier day)
    priority: str
    channel: str
    tags: list[str]
    text: str = NEUTRAL_TEXT
    claimed: Optional[int] = None
    resolved: Optional[int] = None
    new_needs: Optional[list[str]] = None  # an agent's correction, made at creation + 1 s
    id: str = ""

    @property
    def due(self) -> int:
        return self.created + SLA_SECONDS[self.priority]


@dataclass
class PlannedContact:
    conversation_id: str
    started: int
    channel: str
    needs: list[str]
    verification: str
    ticket: Optional[PlannedTicket] = None
    edit: Optional[tuple[list[str], list[str]]] = None  # (add, remove) by an agent

    def effective_needs(self) -> list[str]:
        if self.ticket is not None and self.ticket.new_needs is not None:
            return sorted(self.ticket.new_needs)
        needs = set(self.needs)
        if self.edit:
            needs = (needs - set(self.edit[1])) | {t for t in self.edit[0] if t.startswith("need:")}
        return sorted(needs)


@dataclass
class Plan:
    contacts: list[PlannedContact] = field(default_factory=list)
    tickets: list[PlannedTicket] = field(default_factory=list)


def make_plan(seed: int = 20260314, count: int = 420) -> Plan:
    rng = random.Random(seed)
    plan = Plan()

    def planned_ticket(created: int, channel: str, needs: list[str], priority: Optional[str] = None) -> PlannedTicket:
        priority = priority or rng.choice(PRIORITIES)
        ticket = PlannedTicket(f"t{len(plan.tickets)}", created, priority, channel, sorted(needs))
        roll = rng.random()
        if roll < 0.8:  # answered, some late
            ticket.claimed = created + rng.randint(20, int(SLA_SECONDS[priority] * 1.5))
            if rng.random() < 0.6:
                ticket.resolved = ticket.claimed + rng.randint(60, 6 * 3600)
        plan.tickets.append(ticket)
        return ticket

    for number in range(count):
        started = rng.randint(0, 86_399)
        channel = rng.choice(CHANNELS)
        needs = [rng.choice(PLAIN_NEEDS)] + (["need:complaint"] if rng.random() < 0.08 else [])
        contact = PlannedContact(
            f"gen-{seed}-{number:04d}", started, channel, sorted(set(needs)), rng.choice(VERIFICATIONS)
        )
        if rng.random() < 0.45:
            contact.ticket = planned_ticket(min(started + rng.randint(30, 900), 86_399), channel, contact.needs)
            if rng.random() < 0.05:
                contact.ticket.new_needs = ["need:account_locked"]
        elif rng.random() < 0.05:
            contact.edit = (["need:complaint"], list(contact.needs))
        plan.contacts.append(contact)

    # Handed-off contacts about the incident; three name a passport, two a date of birth, one an email.
    incident_tickets = [c.ticket for c in plan.contacts if c.ticket is not None and c.ticket.new_needs is None][:9]
    texts = [
        "my passport number was in the leak",
        "they have my passport",
        "passport scan leaked",
        "my date of birth is out there",
        "date of birth exposed",
        "my email address was leaked",
    ]
    for ticket, text in zip(incident_tickets, texts + [NEUTRAL_TEXT] * 3, strict=True):
        ticket.tags = sorted(set(ticket.tags) | {f"incident:{INCIDENT_ID}"})
        ticket.text = text
        ticket.resolved = None

    # Left from earlier days: some still open at the day's end, some resolved during it.
    for number in range(24):
        created = -rng.randint(3600, 4 * 86_400)
        ticket = planned_ticket(created, rng.choice(CHANNELS), [rng.choice(PLAIN_NEEDS)], rng.choice(PRIORITIES))
        if ticket.resolved is not None and number % 2 == 0:
            ticket.resolved = rng.randint(0, 86_399)
            ticket.claimed = min(ticket.claimed or ticket.resolved, ticket.resolved)
    # The neighbouring days: never counted, except as backlog when they are earlier.
    for number in range(30):
        started = rng.choice([-rng.randint(1, 86_400), 86_400 + rng.randint(0, 86_399)])
        contact = PlannedContact(f"gen-{seed}-other-{number}", started, rng.choice(CHANNELS), ["need:other"], "basic")
        if started > 0:
            contact.ticket = planned_ticket(started + 10, contact.channel, contact.needs)
        plan.contacts.append(contact)
    return plan


def when(offset: int) -> datetime:
    return START + timedelta(seconds=offset)


async def play(plan: Plan, redis: Redis, smtp_port: int, audit: AuditLog) -> None:
    """Everything in time order; the alert monitor checks once a minute through the day."""
    await redis.flushdb()
    tickets, contacts = TicketStore(redis), ContactLog(redis)
    incidents = IncidentStore(redis)
    incident = declare(
        await incidents.next_id(),
        {
            "title": "March credential leak",
            "owner": "ciso",
            "started_at": iso(START - timedelta(hours=6)),
            "answers": {"am_i_affected": "We are writing to every affected customer."},
            "exposed_data": ["email_address"],
        },
        "supervisor",
        START - timedelta(hours=6),
    )
    assert incident.id == INCIDENT_ID
    await incidents.save_new(incident, (START - timedelta(hours=6)).timestamp())
    clock = [START]
    monitor = AlertMonitor(
        redis,
        audit,
        Mailer("127.0.0.1", smtp_port, "desk@example.test"),
        ONCALL,
        "http://helpdesk.example.test",
        now=lambda: clock[0],
    )

    events: list[tuple[int, int, Any]] = []
    for contact in plan.contacts:
        events.append((contact.started, 0, ("contact", contact)))
    for ticket in plan.tickets:
        events.append((ticket.created, 1, ("create", ticket)))
        if ticket.new_needs is not None:
            events.append((ticket.created + 1, 2, ("retag", ticket)))
        if ticket.claimed is not None:
            events.append((ticket.claimed, 3, ("claim", ticket)))
        if ticket.resolved is not None:
            events.append((ticket.resolved, 4, ("resolve", ticket)))
    for tick in range(0, 86_400, TICK):
        events.append((tick, 9, ("tick", None)))
    owner = {c.ticket.key: c for c in plan.contacts if c.ticket is not None}

    for at, _order, (kind, item) in sorted(events, key=lambda e: (e[0], e[1])):
        moment = when(at)
        if kind == "tick":
            clock[0] = moment
            await monitor.check()
        elif kind == "contact":
            await save_contact(contacts, item, moment)
        elif kind == "create":
            payload = {
                "category": "other",
                "priority": item.priority,
                "conversation_id": f"conv-{item.key}",
                "channel": item.channel,
                "tags": item.tags + [f"channel:{item.channel}"],
                "transcript": [{"role": "customer", "text": item.text, "at": iso(moment)}],
            }
            ticket = new_ticket(await tickets.next_id(), payload, moment)
            created, item.id = await tickets.create(ticket, f"gen-{item.key}-{at}", moment.timestamp())
            assert created
            await audit.record("ticket.created", "bot", item.id, at=moment)
            if item.key in owner:
                await save_contact(contacts, owner[item.key], when(owner[item.key].started))
        elif kind == "retag":
            old = [t for t in item.tags if t.startswith("need:")]
            await tickets.update(item.id, lambda t, new=item.new_needs, old=old: change_tags(t, new, old))
        elif kind == "claim":
            await tickets.update(item.id, lambda t: claim(t, "agent-gen"))
            await audit.record("ticket.claimed", "agent-gen", item.id, at=moment)
        elif kind == "resolve":
            await tickets.update(item.id, lambda t: resolve(t, "agent-gen", "done"))
            await audit.record("ticket.resolved", "agent-gen", item.id, at=moment)
    for contact in plan.contacts:
        if contact.edit:
            await contacts.edit_tags(contact.conversation_id, *contact.edit)


async def save_contact(contacts: ContactLog, planned: PlannedContact, started: datetime) -> None:
    ticket = planned.ticket.id if planned.ticket is not None and planned.ticket.id else None
    tags = list(planned.needs) + (
        [f"incident:{INCIDENT_ID}"] if planned.ticket and f"incident:{INCIDENT_ID}" in planned.ticket.tags else []
    )
    record = contact_for(
        planned.conversation_id,
        iso(started),
        iso(started),
        planned.channel,
        "other",
        "low",
        tags,
        planned.verification,
        ticket_id=ticket,
    )
    await contacts.save(record, started.timestamp())


# ----------------------------------------------------------------- the expected figures


def nearest_rank(values: list[int], p: int) -> Optional[int]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * p / 100)) - 1]


def first_tick_at_or_after(offset: int) -> int:
    return max(0, -(-offset // TICK) * TICK)


def expected(plan: Plan) -> dict[str, Any]:
    day_contacts = [c for c in plan.contacts if 0 <= c.started < 86_400]
    day_tickets = [t for t in plan.tickets if 0 <= t.created < 86_400]
    by_need: Counter = Counter()
    by_channel_need: dict[str, Counter] = {}
    for contact in day_contacts:
        for need in contact.effective_needs():
            by_need[need] += 1
            by_channel_need.setdefault(contact.channel, Counter())[need] += 1
    handed = sum(1 for c in day_contacts if c.ticket is not None)
    first_response, sla, breaches = {}, {}, []
    for priority in PRIORITIES:
        mine = [t for t in day_tickets if t.priority == priority]
        waits = [t.claimed - t.created for t in mine if t.claimed is not None]
        first_response[priority] = {
            "tickets": len(mine),
            "responded": len(waits),
            "p50_seconds": nearest_rank(waits, 50),
            "p90_seconds": nearest_rank(waits, 90),
        }
        met = sum(1 for t in mine if t.claimed is not None and t.claimed <= t.due)
        late = [
            t for t in mine if (t.claimed is not None and t.claimed > t.due) or (t.claimed is None and t.due < 86_400)
        ]
        sla[priority] = {
            "met": met,
            "breached": len(late),
            "pending": len(mine) - met - len(late),
            "compliance": round(met / (met + len(late)), 4) if met + len(late) else None,
        }
        breaches += late
    backlog = [t for t in plan.tickets if t.created <= 86_400 and (t.resolved is None or t.resolved > 86_400)]
    ages: Counter = Counter()
    for ticket in backlog:
        age = 86_400 - ticket.created
        ages[
            "under_1h"
            if age < 3600
            else "1h_to_4h"
            if age < 4 * 3600
            else "4h_to_24h"
            if age < 86_400
            else "1d_to_3d"
            if age < 3 * 86_400
            else "over_3d"
        ] += 1

    alerts = []
    for ticket in plan.tickets:
        for rule, condition in (("urgent_unclaimed", ticket.created + 600), ("sla_breach", ticket.due)):
            if rule == "urgent_unclaimed" and ticket.priority != "urgent":
                continue
            tick = first_tick_at_or_after(max(condition, ticket.created))
            if tick >= 86_400 or ticket.created > tick:
                continue
            if (ticket.claimed is None or ticket.claimed > tick) and (
                ticket.resolved is None or ticket.resolved > tick
            ):
                alerts.append((rule, ticket.id, tick - condition))
    seen_kinds = {"email_address"}
    for ticket in sorted(
        (t for t in plan.tickets if f"incident:{INCIDENT_ID}" in t.tags), key=lambda t: (t.created, t.id)
    ):
        kinds = {
            k
            for k, word in (("id_document", "passport"), ("date_of_birth", "date of birth"), ("email_address", "email"))
            if word in ticket.text
        }
        if kinds - seen_kinds and first_tick_at_or_after(ticket.created) < 86_400:
            seen_kinds |= kinds
            alerts.append(("new_exposed_data", ticket.id, first_tick_at_or_after(ticket.created) - ticket.created))

    return {
        "contacts_total": len(day_contacts),
        "by_channel": dict(Counter(c.channel for c in day_contacts)),
        "by_need": {n: by_need.get(n, 0) for n in NEEDS},
        "by_channel_and_need": {ch: dict(n) for ch, n in by_channel_need.items()},
        "contained": len(day_contacts) - handed,
        "handed_off": handed,
        "verification": {v: sum(1 for c in day_contacts if c.verification == v) for v in VERIFICATIONS},
        "tickets_by_priority": {p: sum(1 for t in day_tickets if t.priority == p) for p in PRIORITIES},
        "first_response": first_response,
        "sla": sla,
        "breach_ids": sorted(t.id for t in breaches),
        "backlog_total": len(backlog),
        "backlog_by_age": dict(ages),
        "backlog_by_priority": {p: sum(1 for t in backlog if t.priority == p) for p in PRIORITIES},
        "alerts": sorted(alerts),
    }
