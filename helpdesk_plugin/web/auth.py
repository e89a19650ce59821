"""Agents' sign-in over the API and the guard every agent route passes (AGT-1, AGT-2).

A request proves its agent with a bearer token or the console's session cookie; a cookie
session must also send the page's CSRF token to change anything; the role must allow it."""

from __future__ import annotations

import hmac
from datetime import datetime, timezone
from functools import wraps
from typing import Any

from sanic import response
from sanic.request import Request

from helpdesk_plugin.web.bodies import json_object
from helpdesk_plugin.web.errors import CsrfRejected
from helpdesk_plugin.web.routes import API, Handler, Route, services
from recoverydesk.domain.errors import NotPermitted, SignInFailed, Unauthenticated
from recoverydesk.domain.tickets import iso
from recoverydesk.services.agents import AgentSession

CONSOLE_COOKIE = "rd_console"


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else ""


async def authorise(request: Request, permission: str) -> AgentSession:
    bearer = _bearer(request)
    session = await services(request).agents.session(bearer or request.cookies.get(CONSOLE_COOKIE, ""))
    if session is None:
        raise Unauthenticated("Sign in first.")
    if not bearer and request.method not in ("GET", "HEAD"):
        sent = request.headers.get("x-csrf-token", "")
        if not sent or not hmac.compare_digest(sent, session.csrf_token):
            raise CsrfRejected()
    if not session.can(permission):
        raise NotPermitted(f"The {session.role} role cannot do this.")
    return session


def guarded(permission: str, handler: Handler) -> Handler:
    """The handler, called with the agent's session once ``authorise`` lets the request through."""

    @wraps(handler)
    async def wrapped(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
        session = await authorise(request, permission)
        return await handler(request, session, *args, **kwargs)

    return wrapped


async def api_login(request: Request) -> response.HTTPResponse:
    body = json_object(request)
    username, password, code = (body.get(k) for k in ("username", "password", "totp"))
    if not all(isinstance(f, str) for f in (username, password, code)):
        raise SignInFailed()
    token, session = await services(request).agents.sign_in(username, password, code)
    return response.json(
        {
            "token": token,
            "role": session.role,
            "expires_at": iso(datetime.fromtimestamp(session.expires_at, timezone.utc)),
            "csrf_token": session.csrf_token,
        }
    )


async def me(request: Request, session: AgentSession) -> response.HTTPResponse:
    return response.json({"username": session.username, "role": session.role, "csrf_token": session.csrf_token})


async def api_logout(request: Request, session: AgentSession) -> response.HTTPResponse:
    header = request.headers.get("authorization", "")
    token = header[7:] if header else request.cookies.get(CONSOLE_COOKIE, "")
    await services(request).agents.sign_out(token, session)
    return response.json({"signed_out": True})


ROUTES = [
    Route("POST", f"{API}/auth/login", api_login),
    Route("GET", f"{API}/me", me, "read"),
    Route("POST", f"{API}/auth/logout", api_logout, "read"),
]
