"""The plugin's operational face: liveness, readiness (Redis answers) and Prometheus metrics,
with every request counted by status class and timed."""

from __future__ import annotations

import time
from typing import Optional

from sanic import Sanic, response
from sanic.request import Request

from helpdesk_plugin.web.errors import error_body
from helpdesk_plugin.web.routes import Route, services
from recoverydesk.services.bootstrap import HelpdeskServices


async def health(_request: Request) -> response.HTTPResponse:
    return response.json({"status": "ok"})


async def ready(request: Request) -> response.HTTPResponse:
    if not await services(request).ready():
        return error_body(503, "unavailable", "Redis or the database is not reachable.")
    return response.json({"status": "ready"})


async def metrics_page(request: Request) -> response.HTTPResponse:
    """The counters of every process and the on-call gauges, in Prometheus' text format."""
    scrape = await services(request).operations.scrape()
    return response.raw(scrape.body, content_type=scrape.content_type)


async def start_clock(request: Request) -> None:
    request.ctx.started = time.perf_counter()


async def count_request(request: Request, reply: response.HTTPResponse) -> None:
    built: Optional[HelpdeskServices] = getattr(request.app.ctx, "services", None)
    if built is None or request.path == "/metrics":
        return
    metrics = built.metrics
    status = getattr(reply, "status", 500) or 500
    metrics.count("recoverydesk_http_requests_total", {"status": f"{status // 100}xx"})
    started = getattr(request.ctx, "started", None)
    if started is not None:
        metrics.observe("recoverydesk_http_request_seconds", time.perf_counter() - started)
    if status >= 500:
        metrics.count("recoverydesk_errors_total", {"component": "helpdesk", "kind": f"http_{status}"})


ROUTES = [
    Route("GET", "/metrics", metrics_page),
    Route("GET", "/health", health),
    Route("GET", "/ready", ready),
]


def mount_middleware(app: Sanic) -> None:
    app.register_middleware(start_clock, "request")
    app.register_middleware(count_request, "response")
