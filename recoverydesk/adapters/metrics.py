"""Prometheus-style metrics for the whole service, served by the plugin at ``/metrics``.

Every process (Rasa's channels, the plugin) counts in memory and adds its counts to one Redis
hash about once a second, so the hot paths never wait for a metric; the plugin renders the hash
in Prometheus' text format. No label ever holds customer text or an identifier."""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from typing import Mapping, Optional

from redis.asyncio import Redis
from redis.exceptions import RedisError

from recoverydesk.adapters import keys

log = logging.getLogger("recoverydesk.metrics")
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DESCRIPTIONS = {
    "recoverydesk_turns_total": ("counter", "Customer messages handled by the bot, by channel and outcome."),
    "recoverydesk_turn_seconds": ("histogram", "Time from a customer message to the bot's last reply."),
    "recoverydesk_tickets_created_total": ("counter", "Tickets filed by the helpdesk intake."),
    "recoverydesk_handoffs_total": ("counter", "Live conversations taken over by an agent (claims)."),
    "recoverydesk_errors_total": ("counter", "Failures met while serving, by component and kind."),
    "recoverydesk_http_requests_total": ("counter", "Helpdesk HTTP requests, by status class."),
    "recoverydesk_http_request_seconds": ("histogram", "Helpdesk HTTP request latency."),
}


def _label(value: str) -> str:
    value = str(value)
    return value if _SAFE_LABEL.match(value) else "other"


def _series(name: str, labels: Optional[Mapping[str, str]] = None) -> str:
    if not labels:
        return name
    inner = ",".join(f'{key}="{_label(value)}"' for key, value in sorted(labels.items()))
    return f"{name}{{{inner}}}"


class Metrics:
    def __init__(self, redis: Redis, flush_seconds: float = 1.0) -> None:
        self._redis = redis
        self._flush_seconds = flush_seconds
        self._pending: dict[str, float] = defaultdict(float)
        self._task: Optional[asyncio.Task] = None

    def count(self, name: str, labels: Optional[Mapping[str, str]] = None, by: float = 1) -> None:
        self._pending[_series(name, labels)] += by
        self._ensure_flushing()

    def observe(self, name: str, seconds: float, labels: Optional[Mapping[str, str]] = None) -> None:
        labels = dict(labels or {})
        for bound in BUCKETS:
            if seconds <= bound:
                self._pending[_series(f"{name}_bucket", {**labels, "le": repr(bound)})] += 1
        self._pending[_series(f"{name}_bucket", {**labels, "le": "+Inf"})] += 1
        self._pending[_series(f"{name}_sum", labels)] += seconds
        self._pending[_series(f"{name}_count", labels)] += 1
        self._ensure_flushing()

    def _ensure_flushing(self) -> None:
        if self._task is None or self._task.done():
            try:
                self._task = asyncio.get_running_loop().create_task(self._flush_forever())
            except RuntimeError:  # no loop (a synchronous caller): the next async caller flushes
                pass

    async def _flush_forever(self) -> None:
        while self._pending:
            await asyncio.sleep(self._flush_seconds)
            await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, defaultdict(float)
        pipe = self._redis.pipeline(transaction=False)
        for field, value in batch.items():
            pipe.hincrbyfloat(keys.METRICS, field, value)
        try:
            await pipe.execute()
        except (RedisError, OSError) as exc:  # keep the counts for the next flush
            for field, value in batch.items():
                self._pending[field] += value
            log.warning("metrics.flush_failed", extra={"kind": type(exc).__name__})

    async def render(self) -> str:
        """Prometheus text exposition of every process's counts."""
        await self.flush()
        stored = {k.decode(): float(v) for k, v in (await self._redis.hgetall(keys.METRICS)).items()}
        lines = []
        for name, (kind, text) in DESCRIPTIONS.items():
            lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
            series = sorted(k for k in stored if k == name or k.startswith((name + "{", name + "_")))
            if kind == "counter" and not series:
                lines.append(f"{name} 0")
            for key in series:
                value = stored[key]
                lines.append(f"{key} {int(value) if value.is_integer() else round(value, 6)}")
        return "\n".join(lines) + "\n"
