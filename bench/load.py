"""Closed-loop chat load: N virtual customers, each playing conversations back to back.

A customer starts no turn after the deadline and no conversation beyond the count bound, so a
level always stops by itself. Turns per second counts the turns answered correctly, over the
time from the start to the last turn's end.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Optional

import aiohttp
import socketio

from bench.chat import ChatSession, Flow, TurnResult
from bench.stats import Latency

STRAY_GRACE_SECONDS = 0.25
MAX_EXAMPLES = 5
CONNECT_ERRORS = (asyncio.TimeoutError, OSError, socketio.exceptions.SocketIOError, aiohttp.ClientError)


@dataclass(frozen=True)
class LoadPlan:
    label: str
    urls: tuple[str, ...]  # one per server instance; each customer sticks to one (as a sticky balancer would)
    users: int
    duration: float
    flows: tuple[Flow, ...]
    max_conversations: int
    turn_timeout: float = 10.0
    ramp_seconds: float = 1.0


@dataclass
class LoadOutcome:
    plan: LoadPlan
    started: float
    results: list[TurnResult] = field(default_factory=list)
    conversations: int = 0
    elapsed_seconds: float = 0.0  # set when the load has ended
    rounds: int = 1

    @classmethod
    def combine(cls, outcomes: list["LoadOutcome"]) -> "LoadOutcome":
        """Several rounds of the same level as one: their turns together, over their summed time."""
        first = outcomes[0]
        return cls(
            first.plan,
            first.started,
            [r for o in outcomes for r in o.results],
            sum(o.conversations for o in outcomes),
            sum(o.elapsed_seconds for o in outcomes),
            len(outcomes),
        )

    def turns(self) -> list[TurnResult]:
        """Every turn played (stray replies and failed connections are errors, not turns;
        silent turns have nothing to time)."""
        return [r for r in self.results if r.error not in ("unexpected_reply", "connect") and not r.silent]

    def ok_turns(self) -> list[TurnResult]:
        return [r for r in self.turns() if r.ok and not r.silent]

    def elapsed(self) -> float:
        ends = [r.finished for r in self.turns()]
        return (max(ends) - self.started) if ends else self.plan.duration

    def errors(self) -> Counter:
        return Counter(r.error for r in self.results if r.error)

    def summary(self) -> dict:
        ok = self.ok_turns()
        elapsed = self.elapsed_seconds
        errors = self.errors()
        return {
            "users": self.plan.users,
            "rounds": self.rounds,
            "duration_s": round(elapsed, 2),
            "conversations": self.conversations,
            "turns": len(self.turns()),
            "turns_ok": len(ok),
            "turns_per_s": round(len(ok) / elapsed, 2) if elapsed > 0 else None,
            "latency": Latency.of_seconds([r.latency for r in ok]).to_dict(),
            "errors": sum(errors.values()),
            "errors_by_kind": dict(errors),
            "error_examples": [f"{r.flow}#{r.index} {r.error}: {r.detail}" for r in self.results if r.error][
                :MAX_EXAMPLES
            ],
        }


@dataclass
class Budget:
    """A deadline and a bound on conversations, shared by the customers of one run."""

    deadline: float
    remaining: int = 1_000_000

    @classmethod
    def lasting(cls, seconds: float, conversations: int = 1_000_000) -> "Budget":
        return cls(time.perf_counter() + seconds, conversations)

    def take(self) -> bool:
        if time.perf_counter() >= self.deadline or self.remaining <= 0:
            return False
        self.remaining -= 1
        return True

    def expired(self) -> bool:
        return time.perf_counter() >= self.deadline


async def run_load(plan: LoadPlan) -> LoadOutcome:
    started = time.perf_counter()
    outcome = LoadOutcome(plan, started)
    budget = Budget(started + plan.duration, plan.max_conversations)
    closers: list[asyncio.Task] = []
    customers = [_customer(plan, number, budget, outcome, closers) for number in range(plan.users)]
    await asyncio.gather(*customers)
    outcome.elapsed_seconds = outcome.elapsed()
    for strays in await asyncio.gather(*closers):
        outcome.results.extend(strays)
    return outcome


async def _customer(
    plan: LoadPlan, number: int, budget: Budget, outcome: LoadOutcome, closers: list[asyncio.Task]
) -> None:
    await asyncio.sleep(plan.ramp_seconds * number / max(plan.users, 1))
    played = 0
    while budget.take():
        flow = plan.flows[(number + played) % len(plan.flows)]
        played += 1
        outcome.conversations += 1
        session, failure = await _open(plan.urls[number % len(plan.urls)])
        if session is None:
            now = time.perf_counter()
            outcome.results.append(TurnResult(flow.name, 0, now, now, "connect", failure))
            await asyncio.sleep(0.1)
            continue
        last = await play(session, flow, plan.turn_timeout, outcome.results, budget)
        # The grace period for stray replies runs beside the next conversation, not before it.
        closers.append(asyncio.create_task(session.close(STRAY_GRACE_SECONDS, flow.name, last)))


async def _open(url: str) -> tuple[Optional[ChatSession], str]:
    """A connected session with its confirmed session id, or None and why not."""
    session = ChatSession(url)
    try:
        await session.open()
    except CONNECT_ERRORS as exc:
        await session.close()
        return None, f"{type(exc).__name__}: {exc}"[:120]
    return session, ""


async def play(
    session: ChatSession, flow: Flow, timeout: float, into: list[TurnResult], budget: Optional[Budget] = None
) -> int:
    """Plays a flow until it ends, fails or the budget expires; returns the last turn index played."""
    last = 0
    for index, turn in enumerate(flow.turns, 1):
        if budget is not None and budget.expired():
            break
        results = await session.turn(flow.name, index, turn, timeout)
        into.extend(results)
        last = index
        if not results[-1].ok:
            break
    return last
