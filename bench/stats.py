"""Latency summaries: percentiles by linear interpolation between closest ranks."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional, Sequence


def percentile(values: Sequence[float], pct: float) -> Optional[float]:
    """The pct-th percentile (0-100) of values, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Latency:
    """A latency distribution in milliseconds."""

    count: int
    p50_ms: Optional[float]
    p95_ms: Optional[float]
    p99_ms: Optional[float]
    max_ms: Optional[float]
    mean_ms: Optional[float]

    @classmethod
    def of_seconds(cls, seconds: Sequence[float]) -> "Latency":
        ms = [s * 1000.0 for s in seconds]
        return cls(
            count=len(ms),
            p50_ms=_round(percentile(ms, 50)),
            p95_ms=_round(percentile(ms, 95)),
            p99_ms=_round(percentile(ms, 99)),
            max_ms=_round(max(ms)) if ms else None,
            mean_ms=_round(sum(ms) / len(ms)) if ms else None,
        )

    def to_dict(self) -> dict:
        return asdict(self)


def _round(value: Optional[float], places: int = 1) -> Optional[float]:
    return None if value is None else round(value, places)


def ratio(ours: Optional[float], theirs: Optional[float]) -> Optional[float]:
    """ours / theirs, or None when either is missing or theirs is zero."""
    if ours is None or not theirs:
        return None
    return round(ours / theirs, 2)
