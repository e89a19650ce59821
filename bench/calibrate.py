"""Reads what the bot says to each flow, so the load knows what to send and what to expect.

First a discovery pass plays each flow adaptively: the opening turns, then the flow's answers to
the bot's questions until its goal is reached, then the closing messages. That fixes the script
(and warms the server up). Then the script is played a few more times on the idle server,
collecting replies until a quiet period: a turn expects the number of replies those passes
agreed on, and each reply may have any signature they saw at its position.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from dataclasses import dataclass, field
from types import TracebackType
from typing import Optional

from bench.chat import ChatSession, Flow, Turn, signature

QUIET_SECONDS = 1.0
FIRST_REPLY_TIMEOUT = 15.0
MEASURED_PASSES = 2

Heard = list[list[str]]  # per turn, the replies' texts


@dataclass
class Calibration:
    flows: dict[str, Flow] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    transcripts: dict[str, list[dict]] = field(default_factory=dict)

    def flow(self, name: str) -> Flow:
        return self.flows[name]


class _Listener:
    """One conversation that records, turn by turn, what it said and what it heard."""

    def __init__(self, url: str) -> None:
        self.session = ChatSession(url)
        self.said: list[str] = []
        self.heard: Heard = []

    async def say(self, text: str) -> list[str]:
        _started, replies = await self.session.listen(text, FIRST_REPLY_TIMEOUT, QUIET_SECONDS)
        self.said.append(text)
        self.heard.append([reply.text for reply in replies])
        return self.heard[-1]

    def reached(self, goal: Optional[str]) -> bool:
        return goal is not None and any(re.search(goal, t) for texts in self.heard for t in texts)

    async def __aenter__(self) -> "_Listener":
        await self.session.open()
        return self

    async def __aexit__(
        self, kind: Optional[type[BaseException]], error: Optional[BaseException], trace: Optional[TracebackType]
    ) -> None:
        await self.session.close()


async def discover(url: str, flow: Flow) -> Flow:
    """Plays the flow adaptively; returns the fixed script it came to (turns without expectations)."""
    async with _Listener(url) as listener:
        for turn in flow.turns:
            await listener.say(turn.say)
        for _ in range(flow.max_answers):
            last = listener.heard[-1][-1] if listener.heard and listener.heard[-1] else ""
            answer = None if listener.reached(flow.goal) else flow.answer_to(last)
            if answer is None:
                break
            await listener.say(answer)
        for text in flow.closing:
            await listener.say(text)
    return Flow(flow.name, tuple(Turn(text) for text in listener.said), flow.goal)


async def replay(url: str, script: Flow) -> Heard:
    async with _Listener(url) as listener:
        for turn in script.turns:
            await listener.say(turn.say)
    return listener.heard


async def calibrate(url: str, flows: tuple[Flow, ...]) -> Calibration:
    scripts = await asyncio.gather(*(discover(url, flow) for flow in flows))
    passes = await asyncio.gather(*(replay(url, script) for script in scripts for _ in range(MEASURED_PASSES)))
    result = Calibration()
    for number, script in enumerate(scripts):
        heard = passes[number * MEASURED_PASSES : (number + 1) * MEASURED_PASSES]
        result.flows[script.name] = _expectations(script, heard, result.warnings)
        result.transcripts[script.name] = [
            {"say": turn.say, "replies": texts} for turn, texts in zip(script.turns, heard[0], strict=False)
        ]
        _check_goal(script, heard, result.warnings)
    return result


def _expectations(script: Flow, heard: list[Heard], warnings: list[str]) -> Flow:
    turns = []
    for index, turn in enumerate(script.turns):
        answers = [run[index] for run in heard]
        counts = Counter(len(texts) for texts in answers)
        count = max(counts, key=lambda n: (counts[n], n))
        where = f"{script.name} turn {index + 1} ({turn.say!r})"
        if len(counts) > 1:
            warnings.append(f"{where}: reply counts vary {dict(counts)}; expecting {count}")
        if count == 0:
            warnings.append(f"{where}: the bot says nothing")
        agreeing = [texts for texts in answers if len(texts) == count]
        expect = tuple(frozenset(signature(texts[pos]) for texts in agreeing) for pos in range(count))
        turns.append(Turn(turn.say, expect))
    return Flow(script.name, tuple(turns), script.goal)


def _check_goal(script: Flow, heard: list[Heard], warnings: list[str]) -> None:
    if script.goal is None:
        return
    for run in heard:
        if not any(re.search(script.goal, text) for texts in run for text in texts):
            warnings.append(
                f"{script.name}: no reply matched its goal {script.goal!r}; the flow may no longer fit the bot"
            )
            return
