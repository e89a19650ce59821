"""Handoff delivery: from a customer's message in the web chat to the agent console's live stream.

A customer escalates, an agent signs in and claims the ticket, the console's stream
(GET /api/v1/tickets/{id}/events, server-sent events) is opened, and each customer message is
timed from its emit to the arrival of its ``event: message``. The bot must stay silent meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import aiohttp
import pyotp
from redis.asyncio import Redis

from bench.chat import ChatSession, Flow
from bench.flows import ticket_id_in
from bench.stats import Latency
from recoverydesk.adapters.agent_store import AgentDirectory
from recoverydesk.adapters.database import create_engine
from recoverydesk.domain.crypto import SecretBox

STREAM_SETTLE_SECONDS = 0.3
PAUSE_SECONDS = 0.05
MESSAGE_TIMEOUT_SECONDS = 5.0
SETUP_TIMEOUT_SECONDS = 20.0
MAX_SECONDS = 120.0


class HandoffError(Exception):
    """The handoff could not be set up (escalation, sign-in or claim failed)."""


@dataclass(frozen=True)
class HandoffPlan:
    chat_url: str
    helpdesk_url: str
    redis_url: str
    secret_key: bytes
    database_url: str  # the stack's system of record (SQLAlchemy URL), where agents are kept
    messages: int
    setup: Flow  # calibrated: the customer's way to a ticket


@dataclass
class SseEvent:
    at: float
    name: str
    data: Any


@dataclass
class HandoffOutcome:
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    bot_replies: int = 0

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def summary(self, messages: int) -> dict:
        return {
            "messages": messages,
            "delivered": len(self.latencies),
            "latency": Latency.of_seconds(self.latencies).to_dict(),
            "errors": sum(self.errors.values()) + self.bot_replies,
            "errors_by_kind": {**self.errors, **({"bot_replied": self.bot_replies} if self.bot_replies else {})},
        }


async def signed_in_agent(plan: HandoffPlan) -> str:
    """A new agent of the bench's own, signed in with password and TOTP; returns the bearer token."""
    username, password = f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    client = Redis.from_url(plan.redis_url)
    database = create_engine(plan.database_url)
    try:
        seed = await AgentDirectory(client, SecretBox(plan.secret_key), database).add(username, password, "agent")
    finally:
        await client.close()
        await database.dispose()
    login = {"username": username, "password": password, "totp": pyotp.TOTP(seed).now()}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{plan.helpdesk_url}/api/v1/auth/login", json=login) as reply:
            if reply.status != 200:
                raise HandoffError(f"agent sign-in answered {reply.status}")
            return (await reply.json())["token"]


async def escalate(session: ChatSession, setup: Flow) -> str:
    """Plays the escalation; returns the ticket id the bot announced."""
    texts: list[str] = []
    for index, turn in enumerate(setup.turns, 1):
        results = await session.turn(setup.name, index, turn, SETUP_TIMEOUT_SECONDS)
        if not results[-1].ok:
            raise HandoffError(f"escalation failed: {results[-1].error} {results[-1].detail}")
        texts.extend(results[-1].texts)
    ticket_id = ticket_id_in(tuple(texts))
    if ticket_id is None:
        raise HandoffError("the bot announced no case number")
    return ticket_id


async def read_events(reply: aiohttp.ClientResponse, into: "asyncio.Queue[SseEvent]") -> None:
    name: Optional[str] = None
    async for raw in reply.content:
        line = raw.decode().rstrip("\r\n")
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: ") and name is not None:
            into.put_nowait(SseEvent(time.perf_counter(), name, json.loads(line[6:])))
        elif not line:
            name = None


async def _await_line(events: "asyncio.Queue[SseEvent]", text: str, timeout: float) -> Optional[SseEvent]:
    deadline = time.perf_counter() + timeout
    while (remaining := deadline - time.perf_counter()) > 0:
        try:
            event = await asyncio.wait_for(events.get(), remaining)
        except asyncio.TimeoutError:
            return None
        if event.name == "message" and isinstance(event.data, dict) and event.data.get("text") == text:
            return event
    return None


async def run_handoff(plan: HandoffPlan) -> HandoffOutcome:
    outcome = HandoffOutcome()
    session = ChatSession(plan.chat_url)
    await session.open()
    try:
        ticket_id = await escalate(session, plan.setup)
        token = await signed_in_agent(plan)
        headers = {"Authorization": f"Bearer {token}"}
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10)
        async with aiohttp.ClientSession(headers=headers, timeout=timeout) as http:
            await _claim(http, plan, ticket_id)
            await _measure(http, plan, ticket_id, session, outcome)
    finally:
        await session.close()
    return outcome


async def _claim(http: aiohttp.ClientSession, plan: HandoffPlan, ticket_id: str) -> None:
    async with http.post(f"{plan.helpdesk_url}/api/v1/tickets/{ticket_id}/claim") as reply:
        if reply.status != 200:
            raise HandoffError(f"claim answered {reply.status}")


async def _measure(
    http: aiohttp.ClientSession, plan: HandoffPlan, ticket_id: str, session: ChatSession, outcome: HandoffOutcome
) -> None:
    events: asyncio.Queue[SseEvent] = asyncio.Queue()
    async with http.get(f"{plan.helpdesk_url}/api/v1/tickets/{ticket_id}/events") as stream:
        if stream.status != 200:
            raise HandoffError(f"the event stream answered {stream.status}")
        reader = asyncio.create_task(read_events(stream, events))
        try:
            await asyncio.sleep(STREAM_SETTLE_SECONDS)
            deadline = time.perf_counter() + MAX_SECONDS
            for number in range(1, plan.messages + 1):
                if time.perf_counter() > deadline:
                    outcome.error("not_sent_time_limit")
                    continue
                await _time_one(session, events, number, outcome)
                await asyncio.sleep(PAUSE_SECONDS)
            await asyncio.sleep(STREAM_SETTLE_SECONDS)
        finally:
            reader.cancel()
    outcome.bot_replies = len(session.leftovers())


async def _time_one(
    session: ChatSession, events: "asyncio.Queue[SseEvent]", number: int, outcome: HandoffOutcome
) -> None:
    """One customer message, from its emit to its line on the console's stream."""
    text = f"are you still there, message number {number} of the bench"
    started = await session.emit(text)
    event = await _await_line(events, text, MESSAGE_TIMEOUT_SECONDS)
    if event is None:
        outcome.error("timeout")
    else:
        outcome.latencies.append(event.at - started)
