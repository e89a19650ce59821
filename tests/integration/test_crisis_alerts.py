"""Alert routing on a controllable clock: each alert once per rule and ticket, on time, mailed to
the on-call address with the ticket link and nothing the customer wrote."""

import asyncio
import email
import email.policy
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.incident_store import IncidentStore
from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.incidents import declare
from recoverydesk.domain.tickets import claim, iso, new_ticket
from recoverydesk.ops.stack import free_port
from recoverydesk.services.alert_monitor import AlertMonitor

ALERT_DB = 8
T0 = datetime(2026, 5, 4, 9, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, **delta: float) -> "Clock":
        self.now = T0 + timedelta(**delta)
        return self


@pytest.fixture
async def redis(redis_server):
    client = Redis.from_url(f"redis://127.0.0.1:{redis_server.port}/{ALERT_DB}")
    await client.flushdb()
    yield client
    await client.flushdb()
    await client.close()


@pytest.fixture
def oncall():
    return f"oncall-{secrets.token_hex(4)}@example.test"


def monitor(redis, audit: AuditLog, smtp_port: int, oncall: str, clock: Clock) -> AlertMonitor:
    return AlertMonitor(
        redis,
        audit,
        Mailer("127.0.0.1", smtp_port, "desk@example.test"),
        oncall,
        "https://desk.example.test",
        now=clock,
    )


async def add_ticket(redis, priority: str, created: datetime, text: str = "someone got in", tags=()) -> str:
    store = TicketStore(redis)
    payload = {
        "category": "other",
        "priority": priority,
        "conversation_id": secrets.token_urlsafe(32),
        "tags": list(tags),
        "transcript": [{"role": "customer", "text": text, "at": iso(created)}],
    }
    ticket = new_ticket(await store.next_id(), payload, created)
    await store.create(ticket, secrets.token_hex(8), created.timestamp())
    return ticket.id


def mails_to(smtp, address: str) -> list:
    return [
        email.message_from_bytes(m.data, policy=email.policy.default) for m in smtp.received if address in m.recipients
    ]


async def test_urgent_unclaimed_alerts_at_ten_minutes_and_sla_breach_at_fifteen_once_each(
    redis, fresh_audit_log, smtp_server, oncall
):
    ticket_id = await add_ticket(redis, "urgent", T0)
    clock = Clock(T0)
    alerts = monitor(redis, fresh_audit_log, smtp_server.port, oncall, clock)

    assert await alerts.check() == []
    clock.at(minutes=9, seconds=59)
    assert await alerts.check() == []
    clock.at(minutes=10)
    sent = await alerts.check()
    assert [(a.rule, a.ticket_id) for a in sent] == [("urgent_unclaimed", ticket_id)]
    for later in (10.5, 12, 14.98):
        clock.at(minutes=later)
        assert await alerts.check() == []
    clock.at(minutes=15)
    assert [(a.rule, a.ticket_id) for a in await alerts.check()] == [("sla_breach", ticket_id)]
    for later in (16, 60, 600):
        clock.at(minutes=later)
        assert await alerts.check() == []

    mails = mails_to(smtp_server, oncall)
    assert len(mails) == 2
    assert "Urgent ticket still unclaimed" in mails[0]["Subject"] and ticket_id in mails[0]["Subject"]
    assert f"https://desk.example.test/console/tickets/{ticket_id}" in mails[0].get_content()
    assert "Condition:  since 2026-05-04T09:10:00Z" in mails[0].get_content()
    assert "SLA breached" in mails[1]["Subject"]
    trail = await fresh_audit_log.for_ticket(ticket_id)
    logged = [(e["action"], e["rule"], e["at"]) for e in trail if e["action"] == "alert.sent"]
    assert logged == [
        ("alert.sent", "urgent_unclaimed", "2026-05-04T09:10:00Z"),
        ("alert.sent", "sla_breach", "2026-05-04T09:15:00Z"),
    ]


async def test_a_ticket_claimed_in_time_raises_no_alert(redis, fresh_audit_log, smtp_server, oncall):
    ticket_id = await add_ticket(redis, "urgent", T0)
    clock = Clock(T0)
    alerts = monitor(redis, fresh_audit_log, smtp_server.port, oncall, clock)
    clock.at(minutes=5)
    await TicketStore(redis).update(ticket_id, lambda t: claim(t, "sam"))
    for minutes in (10, 15, 120):
        clock.at(minutes=minutes)
        assert await alerts.check() == []
    assert mails_to(smtp_server, oncall) == []


async def test_a_normal_ticket_alerts_only_when_its_eight_hour_sla_breaks(redis, fresh_audit_log, smtp_server, oncall):
    ticket_id = await add_ticket(redis, "normal", T0)
    clock = Clock(T0)
    alerts = monitor(redis, fresh_audit_log, smtp_server.port, oncall, clock)
    for minutes in (10, 60, 479):
        clock.at(minutes=minutes)
        assert await alerts.check() == []
    clock.at(hours=8)
    assert [(a.rule, a.ticket_id) for a in await alerts.check()] == [("sla_breach", ticket_id)]


async def test_a_new_kind_of_exposed_data_alerts_once_and_known_kinds_never(
    redis, fresh_audit_log, smtp_server, oncall
):
    incidents = IncidentStore(redis)
    incident = declare(
        await incidents.next_id(),
        {
            "title": "Leak",
            "owner": "ciso",
            "exposed_data": ["email_address"],
            "answers": {"am_i_affected": "We will write to you."},
        },
        "boss",
        T0,
    )
    await incidents.save_new(incident, T0.timestamp())
    tag = [incident.tag]
    known = await add_ticket(redis, "low", T0, "they leaked my email address", tag)
    first = await add_ticket(redis, "low", T0 + timedelta(seconds=5), "my passport number was in it", tag)
    clock = Clock(T0)
    alerts = monitor(redis, fresh_audit_log, smtp_server.port, oncall, clock)
    clock.at(seconds=30)
    sent = await alerts.check()
    assert [(a.rule, a.ticket_id, a.data_kinds) for a in sent] == [("new_exposed_data", first, ("id_document",))]
    await add_ticket(redis, "low", T0 + timedelta(minutes=2), "passport again", tag)
    await add_ticket(redis, "low", T0 + timedelta(minutes=2), "my social security number", [])  # not about the incident
    clock.at(minutes=3)
    assert await alerts.check() == []
    assert known and len(mails_to(smtp_server, oncall)) == 1
    body = mails_to(smtp_server, oncall)[0].get_content()
    assert "id document" in body and "passport number was in it" not in body


async def test_alert_mail_never_carries_what_the_customer_wrote(redis, fresh_audit_log, smtp_server, oncall):
    canary = f"Canary{secrets.token_hex(6)}"
    await add_ticket(redis, "urgent", T0, f"my new password is {canary} and my code 482913")
    clock = Clock(T0)
    await monitor(redis, fresh_audit_log, smtp_server.port, oncall, clock.at(minutes=20)).check()
    mails = mails_to(smtp_server, oncall)
    assert len(mails) == 2
    for mail in mails:
        assert canary not in mail.as_string() and "482913" not in mail.as_string()


async def test_a_failed_mail_is_retried_and_still_sent_only_once(redis, fresh_audit_log, smtp_server, oncall):
    ticket_id = await add_ticket(redis, "high", T0)
    clock = Clock(T0).at(hours=2)
    unreachable = AlertMonitor(
        redis,
        fresh_audit_log,
        Mailer("127.0.0.1", free_port(), "desk@example.test", timeout_seconds=2),
        oncall,
        "https://desk.example.test",
        now=clock,
    )
    assert await unreachable.check() == []
    working = monitor(redis, fresh_audit_log, smtp_server.port, oncall, clock)
    assert [(a.rule, a.ticket_id) for a in await working.check()] == [("sla_breach", ticket_id)]
    assert await working.check() == []
    assert len(mails_to(smtp_server, oncall)) == 1


async def test_two_plugin_instances_checking_together_send_one_mail(redis, fresh_audit_log, smtp_server, oncall):
    await add_ticket(redis, "urgent", T0)
    clock = Clock(T0).at(minutes=11)
    first, second = (
        monitor(redis, fresh_audit_log, smtp_server.port, oncall, clock),
        monitor(redis, fresh_audit_log, smtp_server.port, oncall, clock),
    )
    results = await asyncio.gather(first.check(), second.check())
    assert sum(len(r) for r in results) == 1
    assert len(mails_to(smtp_server, oncall)) == 1
