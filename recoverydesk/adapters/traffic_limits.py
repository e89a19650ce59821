"""RL-4: messages and escalations (each files one ticket) are limited per session and globally.

Fixed windows in Redis, one round trip per check; a refused request does not use up the
global budget. Limits come from the environment as ``count/seconds``:

    RL_MESSAGES_PER_SESSION=120/60   RL_MESSAGES_GLOBAL=12000/60
    RL_TICKETS_PER_SESSION=5/3600    RL_TICKETS_GLOBAL=3000/3600
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Mapping, Optional

from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.settings import Settings

# KEYS: session counter, global counter. ARGV: session limit, global limit, session ttl, global ttl.
_TAKE = """
local mine = redis.call('INCR', KEYS[1])
if mine == 1 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
if mine > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 1
end
local everyone = redis.call('INCR', KEYS[2])
if everyone == 1 then redis.call('EXPIRE', KEYS[2], ARGV[4]) end
if everyone > tonumber(ARGV[2]) then
  redis.call('DECR', KEYS[2])
  redis.call('DECR', KEYS[1])
  return 2
end
return 0
"""


class LimitConfigError(ValueError):
    """A limit variable is not of the form count/seconds."""


@dataclass(frozen=True)
class Limit:
    count: int
    window_seconds: int

    @classmethod
    def parse(cls, name: str, raw: str) -> "Limit":
        try:
            count, seconds = (int(part) for part in raw.split("/"))
        except ValueError as exc:
            raise LimitConfigError(f"{name} must look like 120/60 (count/seconds), not {raw!r}.") from exc
        if count < 1 or seconds < 1:
            raise LimitConfigError(f"{name} needs a count and a window of at least 1.")
        return cls(count, seconds)


DEFAULTS = {
    "messages": (Limit(120, 60), Limit(12000, 60)),
    "tickets": (Limit(5, 3600), Limit(3000, 3600)),
}


@dataclass(frozen=True)
class OverLimit(Exception):
    """Refused: ``scope`` is ``session`` or ``global``; the customer may go on after ``retry_after`` s."""

    kind: str
    scope: str
    retry_after: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))


class TrafficLimits:
    def __init__(self, redis: Redis, limits: Optional[Mapping[str, tuple[Limit, Limit]]] = None) -> None:
        self._redis = redis
        self.limits = dict(limits or DEFAULTS)
        self._take = redis.register_script(_TAKE)

    @classmethod
    def from_settings(cls, redis: Redis, settings: Settings) -> "TrafficLimits":
        return cls.from_env(redis, settings.traffic_limits)

    @classmethod
    def from_env(cls, redis: Redis, env: Mapping[str, str]) -> "TrafficLimits":
        """The defaults, with any ``RL_<KIND>_PER_SESSION`` / ``RL_<KIND>_GLOBAL`` value in ``env``."""
        limits = {}
        for kind, (session, everyone) in DEFAULTS.items():
            names = (f"RL_{kind.upper()}_PER_SESSION", f"RL_{kind.upper()}_GLOBAL")
            limits[kind] = tuple(
                Limit.parse(name, env[name]) if env.get(name) else default
                for name, default in zip(names, (session, everyone), strict=True)
            )
        return cls(redis, limits)  # type: ignore[arg-type]

    async def take(self, kind: str, session_id: str, now: Optional[float] = None) -> None:
        """Counts one ``kind`` for ``session_id``, or raises ``OverLimit`` (nothing counted)."""
        now = time.time() if now is None else now
        session, everyone = self.limits[kind]
        session_window = int(now // session.window_seconds)
        global_window = int(now // everyone.window_seconds)
        refused = await self._take(
            keys=[
                keys.traffic_window(kind, f"session:{session_id}", session_window),
                keys.traffic_window(kind, "global", global_window),
            ],
            args=[session.count, everyone.count, session.window_seconds + 5, everyone.window_seconds + 5],
        )
        if refused == 1:
            raise OverLimit(kind, "session", math.ceil((session_window + 1) * session.window_seconds - now))
        if refused == 2:
            raise OverLimit(kind, "global", math.ceil((global_window + 1) * everyone.window_seconds - now))
