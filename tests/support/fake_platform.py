"""A stand-in for the messenger platforms' APIs (Telegram Bot API, WhatsApp Cloud API, Messenger
Send API): an aiohttp app on 127.0.0.1:0, in a thread of its own, recording every request and
answering as the platforms document. ``mode`` makes it fail: ``down`` (503) or ``slow`` (answers
after ``delay`` seconds)."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from aiohttp import web


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    @property
    def name(self) -> str:
        """The API method: ``sendMessage`` for ``/bot<token>/sendMessage``, ``messages`` for ``/<id>/messages``."""
        return self.path.rsplit("/", 1)[-1]


class FakePlatform:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.mode = "normal"  # normal | down | slow
        self.delay = 0.0
        self._ids = itertools.count(1000)
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._runner: Optional[web.AppRunner] = None
        self._thread: Optional[threading.Thread] = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FakePlatform":
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._answer)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-platform", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake platform did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)  # type: ignore[union-attr]
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
        self.mode, self.delay = "normal", 0.0

    def received(self, predicate: Callable[[Call], bool] = lambda _c: True) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if predicate(call)]

    def wait_for(self, predicate: Callable[[Call], bool], count: int = 1, timeout: float = 30) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.received(predicate)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"the fake platform got {len(self.received(predicate))} matching calls, not {count}")

    async def _answer(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        call = Call(request.method, request.path, dict(request.headers), body, dict(request.query))
        with self._lock:
            self.calls.append(call)
        if self.mode == "down":
            return web.json_response({"error": {"message": "Service Unavailable", "code": 2}}, status=503)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        return web.json_response(self._reply(call))

    def _reply(self, call: Call) -> Any:
        if call.path.startswith("/bot"):  # Telegram: {"ok": true, "result": ...}
            if call.name == "sendMessage":
                chat = (call.body or {}).get("chat_id")
                result: Any = {
                    "message_id": next(self._ids),
                    "date": int(time.time()),
                    "chat": {"id": chat, "type": "private"},
                    "text": (call.body or {}).get("text"),
                }
            elif call.name == "setWebhook":
                return {"ok": True, "result": True, "description": "Webhook was set"}
            elif call.name == "getMe":
                result = {"id": 1, "is_bot": True, "first_name": "Recovery Desk", "username": "recovery_desk_bot"}
            else:
                result = True
            return {"ok": True, "result": result}
        if call.path.endswith("/messages") and isinstance(call.body, dict) and call.body.get("messaging_product"):
            to = call.body.get("to")
            return {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": f"wamid.fake{next(self._ids)}"}],
            }
        if call.path.endswith("/me/messages"):
            return {
                "recipient_id": ((call.body or {}).get("recipient") or {}).get("id"),
                "message_id": f"m_{next(self._ids)}",
            }
        if call.path.endswith("/subscribed_apps"):
            return {"success": True}
        return {"success": True}
