"""A web chat customer for load: Rasa's socket.io protocol, timing each turn to its last expected reply.

What a turn should get back is read from the bot itself (see ``calibrate``): how many replies,
and what each says (its *signature*: the text with numbers blanked, so case numbers may differ).
A turn's latency runs from just before ``user_uttered`` is emitted to the arrival of the last
expected ``bot_uttered``. A reply with another signature is a wrong reply; replies beyond the
expected ones are caught before the next turn and in a short grace period after the
conversation, which runs off the load's critical path.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import socketio

CONNECT_TIMEOUT_SECONDS = 10.0
DETAIL_CHARS = 90
SIGNATURE_CHARS = 100


def signature(text: str) -> str:
    """What identifies a reply: its text with every number blanked (case numbers vary), trimmed."""
    return re.sub(r"\d+", "#", " ".join(text.split()))[:SIGNATURE_CHARS]


@dataclass(frozen=True)
class Turn:
    say: str
    # Per expected reply, in order, the signatures it may have; () until calibrated or if silent.
    expect: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Answer:
    """How a customer answers a question of the bot: `say` when the bot's last reply matches `when`."""

    when: str  # a regular expression, searched case-insensitively
    say: str


@dataclass(frozen=True)
class Flow:
    """A conversation. Calibration turns it into a fixed script: the opening turns, the answers the
    bot's questions called for (until the goal is reached), then the closing messages."""

    name: str
    turns: tuple[Turn, ...]
    goal: Optional[str] = None  # a pattern some reply of the flow must match
    answers: tuple[Answer, ...] = ()
    closing: tuple[str, ...] = ()
    max_answers: int = 6

    def answer_to(self, reply: str) -> Optional[str]:
        for answer in self.answers:
            if re.search(answer.when, reply, re.IGNORECASE):
                return answer.say
        return None


@dataclass(frozen=True)
class TurnResult:
    flow: str
    index: int  # 1-based position of the turn in its conversation
    started: float  # time.perf_counter() at emit
    finished: float
    error: Optional[str] = None  # timeout | wrong_reply | unexpected_reply | session_error | connect
    detail: str = ""
    texts: tuple[str, ...] = ()  # the replies' texts

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def silent(self) -> bool:
        """A turn the bot answers with nothing: it has no latency to report."""
        return self.ok and not self.texts

    @property
    def latency(self) -> float:
        return self.finished - self.started


@dataclass(frozen=True)
class Reply:
    at: float
    data: Any

    @property
    def text(self) -> str:
        if isinstance(self.data, dict):
            return str(self.data.get("text") or self.data.get("attachment") or "")
        return str(self.data)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass
class ChatSession:
    base_url: str
    session_id: str = field(default_factory=new_session_id)
    replies: "asyncio.Queue[Reply]" = field(default_factory=asyncio.Queue)
    errors: "asyncio.Queue[Any]" = field(default_factory=asyncio.Queue)
    sio: Optional[socketio.AsyncClient] = None

    async def open(self) -> None:
        confirmed = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("bot_uttered", self._on_reply)
        self.sio.on("session_error", self._on_error)
        self.sio.on("session_confirm", lambda _data: confirmed.set())
        await asyncio.wait_for(
            self.sio.connect(
                self.base_url,
                socketio_path="/socket.io",
                transports=["websocket"],
                wait_timeout=CONNECT_TIMEOUT_SECONDS,  # the client's default of 1 s fails under load
            ),
            CONNECT_TIMEOUT_SECONDS + 1,
        )
        await self.sio.emit("session_request", {"session_id": self.session_id})
        await asyncio.wait_for(confirmed.wait(), CONNECT_TIMEOUT_SECONDS)

    async def _on_reply(self, data: Any) -> None:
        self.replies.put_nowait(Reply(time.perf_counter(), data))

    async def _on_error(self, data: Any) -> None:
        self.errors.put_nowait(data)

    async def emit(self, text: str) -> float:
        """Sends a message; returns the perf_counter time just before it went out."""
        assert self.sio is not None
        started = time.perf_counter()
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})
        return started

    def leftovers(self) -> list[Reply]:
        found = []
        while not self.replies.empty():
            found.append(self.replies.get_nowait())
        return found

    async def next_reply(self, deadline: float) -> Optional[Reply]:
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            return None
        try:
            return await asyncio.wait_for(self.replies.get(), remaining)
        except asyncio.TimeoutError:
            return None

    async def turn(self, flow: str, index: int, turn: Turn, timeout: float) -> list[TurnResult]:
        """Plays one turn; the results are this turn's and, first, any stray reply before it."""
        strays = [_stray(flow, index - 1, reply) for reply in self.leftovers()]
        started = await self.emit(turn.say)
        deadline = started + timeout
        finished = started
        texts: list[str] = []
        for position, allowed in enumerate(turn.expect, 1):
            reply = await self.next_reply(deadline)
            if reply is None:
                error = "session_error" if not self.errors.empty() else "timeout"
                detail = f"{turn.say!r}: reply {position}/{len(turn.expect)} missing"
                return strays + [TurnResult(flow, index, started, time.perf_counter(), error, detail)]
            finished = reply.at
            texts.append(reply.text)
            if signature(reply.text) not in allowed:
                detail = f"{turn.say!r} → {reply.text[:DETAIL_CHARS]!r}"
                return strays + [TurnResult(flow, index, started, finished, "wrong_reply", detail)]
        return strays + [TurnResult(flow, index, started, finished, texts=tuple(texts))]

    async def listen(self, text: str, first_timeout: float, quiet: float) -> tuple[float, list[Reply]]:
        """Sends a message and collects replies until `quiet` seconds pass without one (calibration)."""
        started = await self.emit(text)
        replies: list[Reply] = []
        deadline = started + first_timeout
        while (reply := await self.next_reply(deadline)) is not None:
            replies.append(reply)
            deadline = time.perf_counter() + quiet
        return started, replies

    async def close(self, grace: float = 0.0, flow: str = "", last_index: int = 0) -> list[TurnResult]:
        """Waits `grace` seconds for stray replies, disconnects, and reports the strays."""
        if grace > 0:
            await asyncio.sleep(grace)
        strays = [_stray(flow, last_index, reply) for reply in self.leftovers()]
        if self.sio is not None:
            try:
                await self.sio.disconnect()
            except (socketio.exceptions.SocketIOError, OSError, asyncio.TimeoutError):
                pass
        return strays


def _stray(flow: str, index: int, reply: Reply) -> TurnResult:
    return TurnResult(flow, index, reply.at, reply.at, "unexpected_reply", reply.text[:DETAIL_CHARS])
