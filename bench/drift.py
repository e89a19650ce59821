"""Turn latency against conversation length: long conversations in a stable two-rule loop.

The conversations run in staggered lanes: lane i first plays a conversation cut short after
i/lanes of the turns, then full conversations back to back, then the rest of the cut (so every
lane plays as many turns and all end about together). At any moment some lanes are early in a
conversation and others late, so the early and late turns compared are measured side by side
throughout the phase: a burst of load from another tenant of the machine lands on both.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from typing import Optional

from bench.chat import ChatSession, Flow, TurnResult
from bench.load import Budget, play
from bench.stats import Latency, percentile, ratio

WINDOW = 5
BUCKET = 10


@dataclass(frozen=True)
class DriftPlan:
    urls: tuple[str, ...]
    conversations: int  # lanes running at once
    flow: Flow  # calibrated, `turns` long
    turn_timeout: float = 10.0
    rounds: int = 1  # full conversations per lane after its shortened first one
    max_seconds: float = 240.0  # the conversations stop here even if the server has slowed to a crawl

    @property
    def turns(self) -> int:
        return len(self.flow.turns)


async def run_drift(plan: DriftPlan) -> list[TurnResult]:
    flow = plan.flow
    budget = Budget.lasting(plan.max_seconds)

    async def conversation(number: int, script: Flow) -> list[TurnResult]:
        results: list[TurnResult] = []
        session = ChatSession(plan.urls[number % len(plan.urls)])
        await session.open()
        try:
            last = await play(session, script, plan.turn_timeout, results, budget)
        finally:
            results.extend(await session.close(0.25, script.name, last))
        return results

    async def lane(number: int) -> list[TurnResult]:
        offset = plan.turns * number // plan.conversations
        # every lane plays (rounds + 1) × turns turns, so all stay busy until about the same time
        scripts = [flow] * plan.rounds
        if offset:
            scripts = [
                Flow(flow.name, flow.turns[:offset], flow.goal),
                *scripts,
                Flow(flow.name, flow.turns[: plan.turns - offset], flow.goal),
            ]
        else:
            scripts.append(flow)
        results: list[TurnResult] = []
        for script in scripts:
            if budget.expired():
                break
            results += await conversation(number, script)
        return results

    batches = await asyncio.gather(*(lane(number) for number in range(plan.conversations)))
    return [result for batch in batches for result in batch]


def summarize(plan: DriftPlan, results: list[TurnResult]) -> dict:
    ok = [r for r in results if r.ok and not r.silent]

    def window(first: int, last: int) -> list[float]:
        return [r.latency for r in ok if first <= r.index <= last]

    early = window(1, WINDOW)
    late = window(plan.turns - WINDOW + 1, plan.turns)
    p50_early = percentile(early, 50)
    p50_late = percentile(late, 50)
    errors = Counter(r.error for r in results if r.error)
    return {
        "conversations": plan.conversations,
        "rounds": plan.rounds,
        "turns": plan.turns,
        "early_turns": f"1-{WINDOW}",
        "late_turns": f"{plan.turns - WINDOW + 1}-{plan.turns}",
        "p50_early_ms": _ms(p50_early),
        "p50_late_ms": _ms(p50_late),
        "late_over_early": ratio(p50_late, p50_early),
        "p50_ms_by_10_turns": {
            f"{start}-{start + BUCKET - 1}": Latency.of_seconds(window(start, start + BUCKET - 1)).p50_ms
            for start in range(1, plan.turns + 1, BUCKET)
        },
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
    }


def _ms(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else round(seconds * 1000, 1)
