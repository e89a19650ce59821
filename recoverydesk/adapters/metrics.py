"""Prometheus-style metrics for the whole service, served by the plugin at ``/metrics``.

Every process (Rasa's channels, the plugin) counts in memory and adds its counts to one Redis
hash about once a second, so the hot paths never wait for a metric; at scrape time the hash is
turned back into prometheus-client metric families (buckets in numeric order, ``_bucket``/``_sum``/
``_count``) and rendered by prometheus-client. No label ever holds customer text or an identifier."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections import defaultdict
from typing import Iterable, Mapping, Optional

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from redis.asyncio import Redis
from redis.exceptions import RedisError

from recoverydesk.adapters import keys
from recoverydesk.adapters.redis_client import as_text

log = logging.getLogger("recoverydesk.metrics")
_SAFE_LABEL = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")
_LABEL_PAIR = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="([^"]*)"')
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # the text format every Prometheus and promtool reads
BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DESCRIPTIONS = {
    "recoverydesk_turns_total": ("counter", "Customer messages handled by the bot, by channel and outcome."),
    "recoverydesk_turn_seconds": ("histogram", "Time from a customer message to the bot's last reply."),
    "recoverydesk_tickets_created_total": ("counter", "Tickets filed by the helpdesk intake."),
    "recoverydesk_handoffs_total": ("counter", "Live conversations taken over by an agent (claims)."),
    "recoverydesk_errors_total": ("counter", "Failures met while serving, by component and kind."),
    "recoverydesk_http_requests_total": ("counter", "Helpdesk HTTP requests, by status class."),
    "recoverydesk_http_request_seconds": ("histogram", "Helpdesk HTTP request latency."),
    "recoverydesk_channel_send_failures_total": (
        "counter",
        "Messenger platform calls that failed or were not attempted (reply window closed), by channel and kind.",
    ),
    "recoverydesk_channel_replays_total": ("counter", "Messenger platform messages seen before and not handled again."),
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

    async def stored(self) -> dict[str, float]:
        """Every process's counts as kept in Redis (this process's pending ones first added)."""
        await self.flush()
        return {as_text(k): float(v) for k, v in (await self._redis.hgetall(keys.METRICS)).items()}

    async def families(self) -> list[Metric]:
        """The counter and histogram families of every process's counts."""
        return counter_families(await self.stored())

    async def render(self) -> str:
        """Prometheus text exposition of every process's counts."""
        return exposition(await self.families()).decode()


def _parse_series(field: str) -> tuple[str, dict[str, str]]:
    """``name{a="x",b="y"}`` back into its name and labels (label values are safe: no quote, no comma)."""
    name, _, inner = field.partition("{")
    return name, dict(_LABEL_PAIR.findall(inner))


def _bound(le: str) -> float:
    try:
        return float(le)
    except ValueError:
        return math.inf


def _histogram(name: str, text: str, stored: Mapping[str, float]) -> Metric:
    """One histogram family: per label set, every bucket in numeric order up to ``+Inf``, then sum and count."""
    family = Metric(name, text, "histogram")
    groups: dict[tuple[tuple[str, str], ...], dict[str, float]] = {}
    for field, value in stored.items():
        series, labels = _parse_series(field)
        if series in (f"{name}_bucket", f"{name}_sum", f"{name}_count"):
            le = labels.pop("le", None)
            part = series[len(name) + 1 :] if le is None else f"le={le}"
            groups.setdefault(tuple(sorted(labels.items())), {})[part] = value
    if not groups:  # no observation yet: an empty histogram rather than a missing one
        groups[()] = {}
    for labels_key, parts in groups.items():
        labels = dict(labels_key)
        bounds = {bound: 0.0 for bound in BUCKETS}  # cumulative: a bound no observation reached is 0
        bounds.update({_bound(part[3:]): value for part, value in parts.items() if part.startswith("le=")})
        bounds[math.inf] = parts.get("le=+Inf", parts.get("count", 0.0))
        for bound in sorted(bounds):
            family.add_sample(f"{name}_bucket", {**labels, "le": floatToGoString(bound)}, bounds[bound])
        family.add_sample(f"{name}_sum", labels, parts.get("sum", 0.0))
        family.add_sample(f"{name}_count", labels, parts.get("count", bounds[math.inf]))
    return family


def _counter(name: str, text: str, stored: Mapping[str, float]) -> Metric:
    family = CounterMetricFamily(name, text)
    series = sorted(field for field in stored if _parse_series(field)[0] == name)
    for field in series:
        family.add_sample(name, _parse_series(field)[1], stored[field])
    if not series:  # a counter nobody incremented yet is 0, so rates and alerts see it
        family.add_sample(name, {}, 0.0)
    return family


def counter_families(stored: Mapping[str, float]) -> list[Metric]:
    """The families of DESCRIPTIONS built from the Redis hash's fields (``name{labels}`` -> value)."""
    build = {"counter": _counter, "histogram": _histogram}
    return [build[kind](name, text, stored) for name, (kind, text) in DESCRIPTIONS.items()]


class _Snapshot(Collector):
    """Hands prometheus-client families computed beforehand (the scrape reads Redis asynchronously)."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return list(self._families)


def exposition(families: Iterable[Metric]) -> bytes:
    """The Prometheus text format (``CONTENT_TYPE``) of the given families, by prometheus-client."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    return generate_latest(registry)
