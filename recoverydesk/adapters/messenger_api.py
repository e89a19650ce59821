"""The HTTP client for the messenger platforms' APIs (Telegram Bot API, WhatsApp Cloud API,
Messenger Send API), on the aiohttp already locked.

The session is made lazily, on first use in the process that uses it (Sanic forks its workers
after the channels are built, and a session belongs to one event loop), with timeouts. A call
never raises: it answers a ``Sent`` that says whether the platform took it and, if not, the kind
of failure (never the text that was sent)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

import aiohttp


@dataclass(frozen=True)
class Sent:
    ok: bool
    kind: str = "ok"  # ok | timeout | unreachable | http_<status> | refused | invalid_reply
    result: Mapping[str, Any] = field(default_factory=dict)


class PlatformApi:
    def __init__(self, timeout_seconds: float = 10.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(5.0, timeout_seconds))
        self._session: Optional[aiohttp.ClientSession] = None
        self._owner: Optional[tuple[int, asyncio.AbstractEventLoop]] = None

    def _client(self) -> aiohttp.ClientSession:
        owner = (os.getpid(), asyncio.get_running_loop())
        if self._session is None or self._session.closed or self._owner != owner:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
            self._owner = owner
        return self._session

    async def post(self, url: str, body: Mapping[str, Any], headers: Optional[Mapping[str, str]] = None) -> Sent:
        """POSTs ``body`` as JSON; Telegram's ``{"ok": false}`` answers count as refused."""
        try:
            async with self._client().post(url, json=body, headers=dict(headers or {})) as reply:
                try:
                    answer = await reply.json(content_type=None)
                except ValueError:
                    answer = None
                if reply.status >= 300:
                    return Sent(False, f"http_{reply.status}")
                if not isinstance(answer, dict):
                    return Sent(False, "invalid_reply")
                if answer.get("ok") is False:
                    return Sent(False, "refused")
                return Sent(True, "ok", answer)
        except asyncio.TimeoutError:
            return Sent(False, "timeout")
        except (aiohttp.ClientError, OSError):
            return Sent(False, "unreachable")

    async def get(self, url: str, params: Optional[Mapping[str, str]] = None) -> Sent:
        try:
            async with self._client().get(url, params=dict(params or {})) as reply:
                if reply.status >= 300:
                    return Sent(False, f"http_{reply.status}")
                answer = await reply.json(content_type=None)
                return Sent(True, "ok", answer) if isinstance(answer, dict) else Sent(False, "invalid_reply")
        except asyncio.TimeoutError:
            return Sent(False, "timeout")
        except (aiohttp.ClientError, OSError, ValueError):
            return Sent(False, "unreachable")

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
