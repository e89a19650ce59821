"""The soak (issue 8): N customers for a long stretch; errors, and memory growth per server process.

Memory is sampled every few seconds. The baseline is the mean of the samples in the window after a
warm-up (the first tenth of the run: models and caches settle), the end value the mean of the last
tenth; growth is end / baseline - 1. Redis is reported beside the servers but not in the target:
it keeps every conversation of the run (seven days' expiry) by design, so it grows with the load.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Optional

from bench.load import LoadOutcome, LoadPlan, run_load
from bench.memory import MIB, ProcessMonitor

SAMPLE_SECONDS = 5.0
WINDOW = 0.1  # warm-up and each averaging window, as a share of the run
NOT_IN_TARGET = ("redis", "bench")


@dataclass
class MemoryTrace:
    started: float
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)

    def window_mean(self, first: float, last: float) -> dict[str, float]:
        chosen = [sizes for at, sizes in self.samples if first <= at - self.started <= last]
        if not chosen:
            return {}
        names = set().union(*chosen)
        return {name: sum(s.get(name, 0) for s in chosen) / len(chosen) for name in names}


async def _sample(monitor: ProcessMonitor, names: list[str], trace: MemoryTrace, stop: asyncio.Event) -> None:
    while not stop.is_set():
        sizes = await asyncio.to_thread(monitor.rss_now, names)
        trace.samples.append((time.perf_counter(), sizes))
        try:
            await asyncio.wait_for(stop.wait(), SAMPLE_SECONDS)
        except asyncio.TimeoutError:
            pass


def _growth(baseline: float, end: float) -> Optional[float]:
    return round(100 * (end / baseline - 1), 1) if baseline else None


def summarize(outcome: LoadOutcome, trace: MemoryTrace, duration: float, rename: dict[str, str]) -> dict:
    load = outcome.summary()
    base = trace.window_mean(duration * WINDOW, duration * 2 * WINDOW)
    end = trace.window_mean(duration * (1 - WINDOW), duration * 2)
    processes = {}
    for name in sorted(set(base) & set(end)):
        processes[name] = {
            "baseline_mib": round(base[name] / MIB, 1),
            "end_mib": round(end[name] / MIB, 1),
            "growth_pct": _growth(base[name], end[name]),
        }
    servers = [n for n in processes if rename.get(n, n) not in NOT_IN_TARGET]
    base_total = sum(base[n] for n in servers)
    end_total = sum(end[n] for n in servers)
    return {
        "users": outcome.plan.users,
        "seconds": round(outcome.elapsed_seconds, 1),
        "conversations": load["conversations"],
        "turns_ok": load["turns_ok"],
        "turns_per_s": load["turns_per_s"],
        "latency": load["latency"],
        "errors": load["errors"],
        "errors_by_kind": load["errors_by_kind"],
        "error_examples": load["error_examples"],
        "memory": processes,
        "servers_growth_pct": _growth(base_total, end_total),
        "samples": len(trace.samples),
    }


async def run_soak(plan: LoadPlan, monitor: ProcessMonitor, rename: dict[str, str]) -> dict:
    trace = MemoryTrace(time.perf_counter())
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample(monitor, list(rename), trace, stop))
    try:
        outcome = await run_load(plan)
    finally:
        stop.set()
        await sampler
    return summarize(outcome, trace, plan.duration, rename)
