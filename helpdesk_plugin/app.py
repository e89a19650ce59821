"""The helpdesk plugin's HTTP service: ticket API (CONTRACT) and, later, the agent console."""
from __future__ import annotations

import json
import logging
import re
import time
from datetime import datetime, timezone
from functools import wraps
from typing import Any, Awaitable, Callable, Optional

from redis.asyncio import Redis
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from actions.crypto import SecretBox
from actions.signing import SignatureError, derive_key, verify
from bot.settings import Settings

from .agents import AgentDirectory, AgentSession, SignInFailed
from .audit import AuditLog
from .console import add_console_routes
from .errors import ApiError, Forbidden, InvalidRequest, NotFound, Unauthenticated
from .store import TicketStore
from .tickets import PRIORITIES, STATUSES, iso, new_ticket, utc_now

log = logging.getLogger("recoverydesk.helpdesk")
API = "/api/v1"
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,200}$")
Handler = Callable[..., Awaitable[response.HTTPResponse]]


def error_body(status: int, code: str, message: str) -> response.HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status)


def json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("The request body must be valid JSON.") from exc


def json_object(request: Request) -> dict:
    body = json_body(request)
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


def create_app(settings: Settings, redis: Optional[Redis] = None, name: str = "recoverydesk_helpdesk") -> Sanic:
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = 1_000_000
    app.config.FALLBACK_ERROR_FORMAT = "json"
    signing_key = derive_key(settings.secret_key, "tickets")

    @app.before_server_start
    async def connect(app: Sanic, _loop: Any) -> None:
        client = redis or Redis.from_url(settings.require_redis_url())
        app.ctx.redis = client
        app.ctx.tickets = TicketStore(client)
        app.ctx.audit = AuditLog(client)
        app.ctx.agents = AgentDirectory(client, SecretBox(settings.secret_key))

    @app.after_server_stop
    async def disconnect(app: Sanic, _loop: Any) -> None:
        await app.ctx.redis.close()

    @app.exception(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> response.HTTPResponse:
        return error_body(exc.status, exc.code, exc.message)

    @app.exception(SanicException)
    async def sanic_error(_request: Request, exc: SanicException) -> response.HTTPResponse:
        status = getattr(exc, "status_code", 500) or 500
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(status, "error")
        return error_body(status, code, str(exc) if status < 500 else "The helpdesk had a problem.")

    @app.exception(Exception)
    async def unexpected(_request: Request, exc: Exception) -> response.HTTPResponse:
        log.error("helpdesk.unhandled_error", extra={"kind": type(exc).__name__})
        return error_body(500, "internal", "The helpdesk had a problem; try again.")

    def agent_only(permission: str) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            @wraps(handler)
            async def wrapped(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
                header = request.headers.get("authorization", "")
                token = header[7:] if header.lower().startswith("bearer ") else ""
                session = await request.app.ctx.agents.session(token)
                if session is None:
                    raise Unauthenticated("Sign in first.")
                if not session.can(permission):
                    raise Forbidden(f"The {session.role} role cannot do this.")
                return await handler(request, session, *args, **kwargs)

            return wrapped

        return decorate

    @app.get("/health")
    async def health(_request: Request) -> response.HTTPResponse:
        return response.json({"status": "ok"})

    @app.get("/ready")
    async def ready(request: Request) -> response.HTTPResponse:
        try:
            await request.app.ctx.redis.ping()
        except Exception as exc:  # any Redis failure means not ready
            log.warning("helpdesk.not_ready", extra={"kind": type(exc).__name__})
            return error_body(503, "unavailable", "Redis is not reachable.")
        return response.json({"status": "ready"})

    @app.post(f"{API}/auth/login")
    async def login(request: Request) -> response.HTTPResponse:
        body = json_object(request)
        fields = [body.get(k) for k in ("username", "password", "totp")]
        if not all(isinstance(f, str) and 0 < len(f) <= 1024 for f in fields):
            raise Unauthenticated("Wrong username, password or code.")
        try:
            token, session = await request.app.ctx.agents.sign_in(*fields)
        except SignInFailed:
            raise Unauthenticated("Wrong username, password or code.") from None
        await request.app.ctx.audit.record("agent.signed_in", session.username)
        return response.json(
            {
                "token": token,
                "role": session.role,
                "expires_at": iso(datetime.fromtimestamp(session.expires_at, timezone.utc)),
                "csrf_token": session.csrf_token,
            }
        )

    @app.post(f"{API}/tickets")
    async def create_ticket(request: Request) -> response.HTTPResponse:
        try:
            verify(signing_key, request.headers, request.body or b"")
        except SignatureError as exc:
            raise Unauthenticated(str(exc)) from None
        idempotency_key = request.headers.get("idempotency-key", "")
        if not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise InvalidRequest("An Idempotency-Key header of 8-200 safe characters is required.")
        payload = json_object(request)
        store: TicketStore = request.app.ctx.tickets
        ticket = new_ticket(await store.next_id(), payload, utc_now())
        created, ticket_id = await store.create(ticket, idempotency_key, time.time())
        if not created:
            existing = await store.get(ticket_id)
            return response.json(existing.to_dict() if existing else {"id": ticket_id}, status=200)
        await request.app.ctx.audit.record("ticket.created", "bot", ticket.id, priority=ticket.priority)
        return response.json(ticket.to_dict(), status=201)

    @app.get(f"{API}/tickets")
    @agent_only("read")
    async def list_tickets(request: Request, session: AgentSession) -> response.HTTPResponse:
        status = request.args.get("status")
        priority = request.args.get("priority")
        if status is not None and status not in STATUSES:
            raise InvalidRequest(f"'status' must be one of: {', '.join(STATUSES)}.")
        if priority is not None and priority not in PRIORITIES:
            raise InvalidRequest(f"'priority' must be one of: {', '.join(PRIORITIES)}.")
        tickets = await request.app.ctx.tickets.list(status, request.args.get("queue"), priority)
        return response.json({"tickets": [t.to_dict() for t in tickets]})

    @app.get(f"{API}/tickets/<ticket_id>")
    @agent_only("read")
    async def get_ticket(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        ticket = await request.app.ctx.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"No ticket {ticket_id}.")
        await request.app.ctx.audit.record("ticket.read", session.username, ticket.id)
        return response.json(ticket.to_dict())

    @app.get(f"{API}/tickets/<ticket_id>/audit")
    @agent_only("audit")
    async def ticket_audit(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        if await request.app.ctx.tickets.get(ticket_id) is None:
            raise NotFound(f"No ticket {ticket_id}.")
        entries = await request.app.ctx.audit.for_ticket(ticket_id)
        await request.app.ctx.audit.record("audit.read", session.username, ticket_id)
        return response.json({"entries": entries})

    add_console_routes(app)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = Settings.from_env()
    app = create_app(settings)
    app.run(host=settings.helpdesk_host, port=settings.helpdesk_port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
