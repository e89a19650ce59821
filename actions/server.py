"""The action server as `recoverydesk up` runs it: rasa_sdk's app, plus readiness, the outbox
workers (mail, tickets) and a check that refuses malformed webhook calls with a 400.

    python -m actions.server --port 5055
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.endpoint import create_app
from redis.exceptions import RedisError
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from recoverydesk import logs
from recoverydesk import settings as settings_module
from recoverydesk.services import bootstrap as services

log = logging.getLogger("recoverydesk.actions")


def malformed_call(request: Request) -> Optional[str]:
    """Why a webhook body is not an action call, or None when it is one."""
    try:
        call = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError):
        return "The body must be JSON."
    if not isinstance(call, dict):
        return "The body must be a JSON object."
    if not isinstance(call.get("next_action"), str):
        return "'next_action' must be a string."
    tracker = call.get("tracker")
    if not isinstance(tracker, dict) or not isinstance(tracker.get("sender_id"), str):
        return "'tracker' must be an object with a 'sender_id'."
    if not isinstance(tracker.get("events", []), list) or not isinstance(tracker.get("slots", {}), dict):
        return "'tracker.events' must be a list and 'tracker.slots' an object."
    if not isinstance(call.get("domain", {}), dict):
        return "'domain' must be an object."
    if not all(isinstance(event, dict) and isinstance(event.get("event"), str) for event in tracker.get("events", [])):
        return "Each tracker event must be an object with an 'event' name."
    for name in ("latest_message", "active_loop"):
        if not isinstance(tracker.get(name) or {}, dict):
            return f"'tracker.{name}' must be an object."
    try:
        Tracker.from_dict(tracker)
    except (TypeError, ValueError, KeyError, AttributeError):
        return "'tracker' is not a conversation tracker."
    return None


def build_app() -> Sanic:
    app = create_app("actions", cors_origins=[])
    app.config.REQUEST_MAX_SIZE = 5_000_000

    @app.on_request
    async def refuse_malformed(request: Request) -> Optional[response.HTTPResponse]:
        if request.path == "/webhook" and request.method == "POST":
            if request.headers.get("content-encoding") == "deflate":
                return None  # rasa_sdk inflates it; Rasa only compresses on request
            problem = malformed_call(request)
            if problem:
                return response.json({"error": problem}, status=400)
        return None

    @app.exception(SanicException)
    async def http_error(_request: Request, exc: SanicException) -> response.HTTPResponse:
        """rasa_sdk answers every exception with a 500; an unknown route is a 404, a huge body a 413."""
        status = getattr(exc, "status_code", 500) or 500
        return response.json({"error": str(exc) if status < 500 else "The action server had a problem."}, status=status)

    @app.exception(Exception)
    async def unexpected(_request: Request, exc: Exception) -> response.HTTPResponse:
        log.error("actions.unhandled_error", extra={"kind": type(exc).__name__})  # no request body: it is the tracker
        return response.json({"error": "The action could not be run."}, status=500)

    @app.get("/ready")
    async def ready(_request: Request) -> response.HTTPResponse:
        try:
            await services.current().ping()
        except (RedisError, OSError) as exc:
            log.warning("actions.not_ready", extra={"kind": type(exc).__name__})
            return response.json({"status": "unavailable", "redis": False}, status=503)
        return response.json({"status": "ready", "redis": True})

    @app.after_server_start
    async def start_workers(_app: Sanic, _loop: Any) -> None:
        for worker in services.current().workers:
            worker.start()

    @app.before_server_stop
    async def stop_workers(_app: Sanic, _loop: Any) -> None:
        for worker in services.current().workers:
            await worker.stop()

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description="Recovery Desk action server")
    parser.add_argument("--port", type=int, default=settings_module.load().actions_port)
    args = parser.parse_args()
    logs.configure(settings_module.load().log_format)
    logging.getLogger("rasa_sdk").setLevel(logging.WARNING)
    build_app().run(settings_module.load().actions_host, args.port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
