"""Runs the alert rules against Redis, mails the on-call address and keeps the ledger.

Each alert is claimed with SET NX before it is mailed, so it goes out once even with several
plugin instances; a mail that fails releases the claim and is tried again on the next check.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any, Optional

from redis.asyncio import Redis
from redis.exceptions import RedisError

from recoverydesk.adapters import keys
from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.incident_store import IncidentStore
from recoverydesk.adapters.mail import Mailer, MailNotSent
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.alerts import DEFAULT_POLICY, Alert, AlertPolicy, alert_email, due_alerts
from recoverydesk.domain.reports import AlertFacts
from recoverydesk.domain.tickets import iso, utc_now

log = logging.getLogger("recoverydesk.alerts")
ONCE_TTL_SECONDS = 90 * 24 * 3600


class AlertLedger:
    """What was alerted, when, and which data kinds each incident has already raised."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis

    async def unsent(self, alerts: list[Alert]) -> list[Alert]:
        """The alerts not sent yet, in one round trip."""
        if not alerts:
            return []
        sent = await self._redis.mget([keys.alert_once(a.key) for a in alerts])
        return [a for a, mark in zip(alerts, sent, strict=True) if mark is None]

    async def claim(self, alert: Alert, now: datetime) -> bool:
        return bool(await self._redis.set(keys.alert_once(alert.key), iso(now), nx=True, ex=ONCE_TTL_SECONDS))

    async def release(self, alert: Alert) -> None:
        await self._redis.delete(keys.alert_once(alert.key))

    async def sent(self, alert: Alert, now: datetime, delivered: bool) -> None:
        entry = {
            "key": alert.key,
            "rule": alert.rule,
            "ticket_id": alert.ticket_id,
            "priority": alert.priority,
            "condition_at": iso(alert.condition_at),
            "sent_at": iso(now),
            "incident_id": alert.incident_id or "",
            "data_kinds": list(alert.data_kinds),
            "delivered": delivered,
        }
        pipe = self._redis.pipeline(transaction=True)
        pipe.zadd(keys.ALERTS_SENT, {json.dumps(entry, sort_keys=True): now.timestamp()})
        if alert.incident_id and alert.data_kinds:
            pipe.sadd(keys.alert_kinds(alert.incident_id), *alert.data_kinds)
        await pipe.execute()

    async def reported_kinds(self, incident_ids: list[str]) -> dict[str, set[str]]:
        result = {}
        for incident_id in incident_ids:
            kinds = await self._redis.smembers(keys.alert_kinds(incident_id))
            result[incident_id] = {k.decode() if isinstance(k, bytes) else k for k in kinds}
        return result

    async def sent_between(self, start_ts: float, end_ts: float) -> list[dict[str, Any]]:
        return [json.loads(raw) for raw in await self._redis.zrangebyscore(keys.ALERTS_SENT, start_ts, f"({end_ts}")]


def alert_facts(entry: dict[str, Any]) -> AlertFacts:
    def when(value: str) -> datetime:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))

    return AlertFacts(
        rule=entry["rule"],
        ticket_id=entry["ticket_id"],
        priority=entry["priority"],
        condition_at=when(entry["condition_at"]),
        sent_at=when(entry["sent_at"]),
        delivered=bool(entry.get("delivered", True)),
    )


class AlertMonitor:
    def __init__(
        self,
        redis: Redis,
        audit: AuditLog,
        mailer: Mailer,
        oncall_email: Optional[str],
        console_url: str,
        now: Callable[[], datetime] = utc_now,
        policy: AlertPolicy = DEFAULT_POLICY,
    ) -> None:
        self._tickets = TicketStore(redis)
        self._incidents = IncidentStore(redis)
        self._audit = audit
        self.ledger = AlertLedger(redis)
        self._mailer = mailer
        self._oncall = oncall_email
        self._console_url = console_url.rstrip("/")
        self._now = now
        self._policy = policy

    async def check(self) -> list[Alert]:
        """Sends every alert that is due and not yet sent; returns those sent now."""
        now = self._now().astimezone(timezone.utc)
        tickets = await self._tickets.list(limit=1_000_000)
        incidents = await self._incidents.active()
        kinds = await self.ledger.reported_kinds([i.id for i in incidents])
        sent = []
        for alert in await self.ledger.unsent(due_alerts(tickets, incidents, kinds, now, self._policy)):
            if not await self.ledger.claim(alert, now):
                continue
            delivered = await self._deliver(alert, now)
            if delivered is None:
                await self.ledger.release(alert)
                continue
            await self.ledger.sent(alert, now, delivered)
            await self._audit.record(
                "alert.sent", "alerts", alert.ticket_id, at=now, rule=alert.rule, delivered=str(delivered).lower()
            )
            log.info("alerts.sent", extra={"rule": alert.rule, "ticket": alert.ticket_id})
            sent.append(alert)
        return sent

    async def _deliver(self, alert: Alert, now: datetime) -> Optional[bool]:
        """True when mailed, False when no on-call address is set, None when the mail failed."""
        if not self._oncall:
            log.warning("alerts.no_oncall_address", extra={"rule": alert.rule, "ticket": alert.ticket_id})
            return False
        subject, body = alert_email(alert, f"{self._console_url}/console/tickets/{alert.ticket_id}", now)
        try:
            await self._mailer.send([self._oncall], subject, body)
        except MailNotSent:
            log.warning("alerts.mail_failed", extra={"rule": alert.rule, "ticket": alert.ticket_id})
            return None
        return True

    async def run(self, interval_seconds: float) -> None:
        """The plugin's background task: one check per interval until cancelled."""
        while True:
            try:
                await self.check()
            except (RedisError, OSError) as exc:
                log.warning("alerts.check_failed", extra={"kind": type(exc).__name__})
            await asyncio.sleep(interval_seconds)
