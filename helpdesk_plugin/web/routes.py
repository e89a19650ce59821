"""Routes as a table: each web module lists its handlers, and ``mount`` registers them.

A route with a permission is guarded (``auth.guarded``): its handler receives the agent's
session after the request's token, CSRF token and role are checked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Optional

from sanic import Sanic, response
from sanic.request import Request

from recoverydesk.services.bootstrap import HelpdeskServices

API = "/api/v1"
Handler = Callable[..., Awaitable[response.HTTPResponse]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    permission: Optional[str] = None  # None: public, or the handler checks the console cookie itself


def services(request: Request) -> HelpdeskServices:
    """The plugin's services, built when the server started."""
    found: HelpdeskServices = request.app.ctx.services
    return found


def mount(app: Sanic, routes: list[Route], guard: Callable[[str, Handler], Handler]) -> None:
    for route in routes:
        handler = route.handler if route.permission is None else guard(route.permission, route.handler)
        app.add_route(handler, route.path, methods=[route.method], name=route.handler.__name__)


