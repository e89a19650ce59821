"""Ticket intake: signed, idempotent POST /api/v1/tickets straight to the helpdesk, many at once.

Most requests carry a new Idempotency-Key (201 expected); one in REPLAY_EVERY repeats an earlier
request byte for byte, as a retrying action server would (200 and the first ticket's id expected).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

import aiohttp

from bench.stats import Latency
from recoverydesk.domain.signing import derive_key, sign

REPLAY_EVERY = 10
REQUEST_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class IntakePlan:
    helpdesk_url: str
    secret_key: bytes
    concurrency: int
    duration: float
    max_requests: int


@dataclass
class Sent:
    key: str
    body: bytes
    ticket_id: Optional[str] = None


@dataclass
class IntakeOutcome:
    plan: IntakePlan
    started: float
    finished: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    created: int = 0
    replayed: int = 0

    def summary(self) -> dict:
        elapsed = max(self.finished - self.started, 1e-9)
        requests = sum(self.statuses.values()) + self.errors["exception"]
        return {
            "concurrency": self.plan.concurrency,
            "duration_s": round(elapsed, 2),
            "requests": requests,
            "created": self.created,
            "replayed": self.replayed,
            "requests_per_s": round(requests / elapsed, 1),
            "created_per_s": round(self.created / elapsed, 1),
            "latency": Latency.of_seconds(self.latencies).to_dict(),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": sum(self.errors.values()),
            "errors_by_kind": dict(self.errors),
        }


def ticket_body(number: int) -> bytes:
    payload = {
        "category": "unrecognized_login",
        "priority": "normal",
        "channel": "webchat",
        "conversation_id": f"bench-intake-{secrets.token_urlsafe(24)}",
        "customer": {"verification": {"level": "none", "methods": []}},
        "summary": "Customer reports a sign-in they do not recognise.",
        "tags": ["channel:webchat", "bench"],
        "transcript": [
            {"role": "customer", "text": "someone logged into my account from another country", "at": ""},
            {"role": "bot", "text": "Would you like our security team to look into it with you?", "at": ""},
            {"role": "customer", "text": f"yes ({number})", "at": ""},
        ],
    }
    return json.dumps(payload, separators=(",", ":")).encode()


class _Source:
    """Hands out the next request: a new ticket, or now and then a replay of a finished one."""

    def __init__(self, plan: IntakePlan) -> None:
        self.plan = plan
        self.deadline = time.perf_counter() + plan.duration
        self.issued = 0
        self.finished: list[Sent] = []

    def next(self) -> Optional[tuple[Sent, bool]]:
        if time.perf_counter() >= self.deadline or self.issued >= self.plan.max_requests:
            return None
        self.issued += 1
        if self.issued % REPLAY_EVERY == 0 and self.finished:
            return self.finished[(self.issued // REPLAY_EVERY) % len(self.finished)], True
        return Sent(f"bench-{secrets.token_urlsafe(18)}", ticket_body(self.issued)), False


async def run_intake(plan: IntakePlan) -> IntakeOutcome:
    key = derive_key(plan.secret_key, "tickets")
    source = _Source(plan)
    outcome = IntakeOutcome(plan, time.perf_counter())
    connector = aiohttp.TCPConnector(limit=plan.concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(_worker(http, plan, key, source, outcome) for _ in range(plan.concurrency)))
    outcome.finished = time.perf_counter()
    return outcome


async def _worker(
    http: aiohttp.ClientSession, plan: IntakePlan, key: bytes, source: _Source, outcome: IntakeOutcome
) -> None:
    url = f"{plan.helpdesk_url}/api/v1/tickets"
    while (job := source.next()) is not None:
        sent, replay = job
        headers = {"Content-Type": "application/json", "Idempotency-Key": sent.key, **sign(key, sent.body)}
        started = time.perf_counter()
        try:
            async with http.post(url, data=sent.body, headers=headers) as reply:
                status = reply.status
                body = await reply.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            outcome.errors["exception"] += 1
            continue
        outcome.latencies.append(time.perf_counter() - started)
        outcome.statuses[status] += 1
        _check(sent, replay, status, body, source, outcome)


def _check(sent: Sent, replay: bool, status: int, body: dict, source: _Source, outcome: IntakeOutcome) -> None:
    ticket_id = body.get("id") if isinstance(body, dict) else None
    if replay:
        if status == 200 and ticket_id == sent.ticket_id:
            outcome.replayed += 1
        else:
            outcome.errors["replay_mismatch"] += 1
    elif status == 201 and ticket_id:
        outcome.created += 1
        sent.ticket_id = ticket_id
        source.finished.append(sent)
    else:
        outcome.errors[f"status_{status}"] += 1
