"""The benchmark's phases: our stack and the `rasa init` reference bot, measured turn about.

Both servers run side by side, each idle while the other is measured, and each load level is
played in alternating rounds (ours, reference, ours, reference, ...). On a shared, noisy
machine that keeps the two sides of every ratio measured under the same conditions.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from bench.calibrate import Calibration, calibrate
from bench.chat import Flow
from bench.config import BenchConfig
from bench.drift import DriftPlan, run_drift, summarize
from bench.flows import HANDOFF_SETUP, INIT_BOT_FLOWS, INIT_BOT_LONG_LOOP, LONG_LOOP, OUR_FLOWS, long_flow
from bench.handoff import HandoffError, HandoffPlan, run_handoff
from bench.initbot import InitBotServer
from bench.intake import IntakePlan, run_intake
from bench.load import LoadOutcome, LoadPlan, run_load
from bench.memory import ProcessMonitor
from bench.services import OurStack
from bench.soak import run_soak
from bench.webhook import WebhookPlan, run_webhook
from bench.webhook import summary_line as webhook_summary_line
from recoverydesk.settings import ROOT

VAR = ROOT / "var" / "bench"
Say = Callable[[str], None]
REFERENCE_PROCESS = "init rasa"
CALIBRATION_LIMIT_SECONDS = 300


@dataclass
class Results:
    ours: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Side:
    """One bot under test: where it listens, what it is called, the processes that are it."""

    label: str  # "ours" or "rasa init"
    url: str  # the first instance: calibration
    processes: dict[str, str]  # monitor name -> name in the report
    into: dict[str, Any]
    flows: tuple[Flow, ...] = ()
    loop: Optional[Flow] = None
    urls: tuple[str, ...] = ()  # every instance, when there are several

    @property
    def instances(self) -> tuple[str, ...]:
        return self.urls or (self.url,)


@dataclass
class Bench:
    config: BenchConfig
    monitor: ProcessMonitor
    results: Results
    say: Say

    async def calibrated(self, side: Side, flows: tuple[Flow, ...]) -> Calibration:
        self.say(f"  {side.label}: reading what the bot answers to each flow")
        found = await asyncio.wait_for(calibrate(side.url, flows), CALIBRATION_LIMIT_SECONDS)
        for warning in found.warnings:
            self.say(f"    ! {warning}")
        self.results.warnings.extend(f"{side.label}: {warning}" for warning in found.warnings)
        side.into["flows"] = found.transcripts
        return found

    def usage(self, side: Side, phase: str) -> dict[str, Any]:
        """Per process; several instances of one server add up under its name."""
        rename = side.processes
        peaks: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for name, value in self.monitor.peaks_mib(phase, rename).items():
            peaks[rename[name]] = round(peaks.get(rename[name], 0.0) + value, 1)
        for name, value in self.monitor.cpu_seconds(phase, rename).items():
            cpu[rename[name]] = round(cpu.get(rename[name], 0.0) + value, 2)
        return {"peak_rss_mib": peaks, "cpu_seconds": cpu, **self.monitor.machine(phase)}

    async def load_levels(self, sides: list[Side]) -> None:
        config = self.config
        for users in config.levels:
            outcomes: dict[str, list[LoadOutcome]] = {side.label: [] for side in sides}
            seconds = config.load_seconds / config.rounds
            self.say(f"  {users} concurrent customer(s): {config.rounds} round(s) of {seconds:.1f} s per bot")
            for _round in range(config.rounds):
                for side in sides:
                    plan = LoadPlan(
                        side.label,
                        side.instances,
                        users,
                        seconds,
                        side.flows,
                        config.max_conversations,
                        config.turn_timeout,
                    )
                    with self.monitor.phase(f"{side.label}/load_n{users}"):
                        outcomes[side.label].append(await run_load(plan))
                    await asyncio.sleep(config.settle_seconds)
            for side in sides:
                summary = LoadOutcome.combine(outcomes[side.label]).summary()
                summary.update(self.usage(side, f"{side.label}/load_n{users}"))
                summary.update(cpu_per_turn(summary))
                side.into.setdefault("load", {})[str(users)] = summary
                self.say(
                    f"    {side.label}: {summary['turns_per_s']} turns/s, p50 {summary['latency']['p50_ms']} ms, "
                    f"p95 {summary['latency']['p95_ms']} ms, {summary['errors']} errors"
                )

    async def drift(self, side: Side) -> None:
        if side.loop is None:
            return
        config = self.config
        plan = DriftPlan(
            side.instances,
            config.drift_conversations,
            long_flow(side.loop, config.drift_turns),
            config.turn_timeout,
            rounds=config.drift_rounds,
        )
        self.say(
            f"  {side.label}: {plan.conversations} staggered lanes of {plan.rounds} conversation(s) "
            f"of {plan.turns} turns"
        )
        with self.monitor.phase(f"{side.label}/conversation_length"):
            summary = summarize(plan, await run_drift(plan))
        side.into["conversation_length"] = summary
        self.say(
            f"    p50 turns {summary['early_turns']}: {summary['p50_early_ms']} ms, "
            f"turns {summary['late_turns']}: {summary['p50_late_ms']} ms"
        )
        await asyncio.sleep(config.settle_seconds)

    async def handoff(self, stack: OurStack, setup: Flow) -> None:
        s = stack.settings
        # With several instances the customer talks to the last one while the helpdesk calls the
        # first: agent messages cross instances through Redis, as behind a load balancer.
        plan = HandoffPlan(
            stack.chat_urls[-1],
            s.helpdesk_url,
            s.require_redis_url(),
            s.secret_key,
            s.database_url,
            self.config.handoff_messages,
            setup,
        )
        self.say(f"  ours: handoff, {plan.messages} customer messages to a claiming agent's console")
        try:
            outcome = await run_handoff(plan)
        except HandoffError as exc:
            self.results.warnings.append(f"ours: handoff not measured: {exc}")
            self.say(f"    ! handoff not measured: {exc}")
            self.results.ours["handoff"] = {"error": str(exc)}
            return
        summary = outcome.summary(plan.messages)
        self.results.ours["handoff"] = summary
        self.say(
            f"    p50 {summary['latency']['p50_ms']} ms, p95 {summary['latency']['p95_ms']} ms, "
            f"{summary['errors']} errors"
        )
        await asyncio.sleep(self.config.settle_seconds)

    async def intake(self, stack: OurStack, side: Side) -> None:
        s, config = stack.settings, self.config
        plan = IntakePlan(
            s.helpdesk_url, s.secret_key, config.intake_concurrency, config.intake_seconds, config.intake_max_requests
        )
        self.say(f"  ours: ticket intake, {plan.concurrency} at once for {plan.duration:.0f} s")
        with self.monitor.phase("ours/ticket_intake"):
            outcome = await run_intake(plan)
        summary = {**outcome.summary(), **self.usage(side, "ours/ticket_intake")}
        self.results.ours["ticket_intake"] = summary
        self.say(
            f"    {summary['requests_per_s']} requests/s ({summary['created_per_s']} created/s), "
            f"{summary['errors']} errors"
        )

    async def webhook(self, stack: OurStack) -> None:
        config = self.config
        plan = WebhookPlan(stack.chat_url, stack.telegram_api_port, config.webhook_rate, config.webhook_seconds)
        self.say(f"  ours: Telegram webhook, {plan.rate:g} updates/s for {plan.seconds:g} s")
        with self.monitor.phase("ours/webhook"):
            outcome = await run_webhook(plan)
        summary = outcome.summary()
        self.results.ours["webhook"] = summary
        self.say(webhook_summary_line(summary, plan.rate))
        await asyncio.sleep(config.settle_seconds)

    async def soak(self, side: Side) -> None:
        config = self.config
        plan = LoadPlan(
            side.label,
            side.instances,
            config.soak_users,
            config.soak_seconds,
            side.flows,
            1_000_000,
            config.turn_timeout,
        )
        self.say(f"  {side.label}: soak, {plan.users} customers for {plan.duration:.0f} s")
        with self.monitor.phase(f"{side.label}/soak"):
            summary = await run_soak(plan, self.monitor, side.processes)
        summary.update(self.usage(side, f"{side.label}/soak"))
        side.into["soak"] = summary
        self.say(
            f"    {summary['turns_per_s']} turns/s, p95 {summary['latency']['p95_ms']} ms, "
            f"{summary['errors']} errors, server memory growth {summary['servers_growth_pct']} %"
        )


def cpu_per_turn(summary: dict[str, Any]) -> dict[str, Optional[float]]:
    """CPU milliseconds the servers spent per answered turn: unlike turns/s, hardly moved by other
    tenants of the machine. `server` is every process of the stack but the load generator."""
    turns = summary["turns_ok"]
    cpu = summary["cpu_seconds"]
    servers = sum(seconds for name, seconds in cpu.items() if name != "bench")
    return {
        "rasa_cpu_ms_per_turn": round(1000 * cpu.get("rasa", 0.0) / turns, 1) if turns else None,
        "server_cpu_ms_per_turn": round(1000 * servers / turns, 1) if turns else None,
    }


async def _soak_only(bench: Bench, stack: OurStack, ours: Side, reference: Optional[Side]) -> None:
    found = await bench.calibrated(ours, OUR_FLOWS)
    ours.flows = tuple(found.flow(flow.name) for flow in OUR_FLOWS)
    await bench.soak(ours)


async def _phases(bench: Bench, stack: OurStack, ours: Side, reference: Optional[Side]) -> None:
    found = await bench.calibrated(ours, OUR_FLOWS + (LONG_LOOP, HANDOFF_SETUP))
    ours.flows = tuple(found.flow(flow.name) for flow in OUR_FLOWS)
    ours.loop = found.flow(LONG_LOOP.name)
    sides = [ours]
    if reference is not None:
        theirs = await bench.calibrated(reference, INIT_BOT_FLOWS + (INIT_BOT_LONG_LOOP,))
        reference.flows = tuple(theirs.flow(flow.name) for flow in INIT_BOT_FLOWS)
        reference.loop = theirs.flow(INIT_BOT_LONG_LOOP.name)
        sides.append(reference)
    await bench.load_levels(sides)
    for side in sides:
        await bench.drift(side)
    await bench.handoff(stack, found.flow(HANDOFF_SETUP.name))
    await bench.intake(stack, ours)
    await bench.webhook(stack)
    if bench.config.soak_seconds > 0:
        await asyncio.sleep(bench.config.settle_seconds)
        await bench.soak(ours)


def _start_ours(stack: OurStack, bench: Bench) -> Side:
    bench.say("Recovery Desk stack")
    started = time.monotonic()
    stack.start(say=lambda line: bench.say(f"  {line.strip()}"))
    bench.results.ours["start_seconds"] = round(time.monotonic() - started, 1)
    bench.results.ours["model"] = stack.stack.model.name if stack.stack else None
    for name, pid in stack.pids().items():
        bench.monitor.watch(name, pid)
    bench.monitor.watch("bench", os.getpid(), with_children=False)
    bench.results.ours["rasa_instances"] = len(stack.chat_urls)
    bench.results.ours["rasa_workers"] = stack.stack.workers if stack.stack else 1
    return Side(
        "ours",
        stack.chat_url,
        {n: n.split("-")[0] for n in stack.process_names()},
        bench.results.ours,
        urls=tuple(stack.chat_urls),
    )


def _start_reference(server: InitBotServer, bench: Bench) -> Side:
    bench.say("`rasa init` reference bot (stock socketio channel, in-memory tracker store)")
    started = time.monotonic()
    server.start()
    bench.say("  ✓ rasa ready")
    bench.results.reference["start_seconds"] = round(time.monotonic() - started, 1)
    if server.process is not None:
        bench.monitor.watch(REFERENCE_PROCESS, server.process.pid)
    return Side("rasa init", server.url, {REFERENCE_PROCESS: "rasa"}, bench.results.reference)


def run(
    config: BenchConfig,
    monitor: ProcessMonitor,
    results: Results,
    say: Say,
    project: Optional[Path],
    soak_only: bool = False,
) -> None:
    bench = Bench(config, monitor, results, say)
    stack = OurStack(VAR / "run", instances=config.rasa_instances)
    server = InitBotServer(project, VAR / "rasa-init-run.log") if project is not None else None
    try:
        ours = _start_ours(stack, bench)
        reference = _start_reference(server, bench) if server is not None else None
        say("Measuring")
        asyncio.run((_soak_only if soak_only else _phases)(bench, stack, ours, reference))
    finally:
        monitor.forget(*stack.process_names(), "bench", REFERENCE_PROCESS)
        if server is not None:
            server.stop()
        stack.stop()
