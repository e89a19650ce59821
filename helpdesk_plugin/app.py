"""The helpdesk plugin's HTTP service: ticket API (CONTRACT) and, later, the agent console."""

from __future__ import annotations

import hmac
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

from helpdesk_plugin.web.console import add_console_routes
from helpdesk_plugin.web.crisis_routes import add_crisis_routes
from recoverydesk import settings as settings_module
from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.account_store import AccountStore
from recoverydesk.adapters.agent_store import AgentDirectory, AgentSession, SignInFailed
from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.keys import CHANGES_STREAM, conversation_stream
from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.mail_outbox import MailOutbox
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.rasa_client import ConversationUnavailable, RasaConversations
from recoverydesk.adapters.responses import channel_name
from recoverydesk.adapters.ticket_store import TicketNumberTaken, TicketStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.errors import (
    ApiError,
    Conflict,
    Forbidden,
    InvalidRequest,
    NotFound,
    ServiceUnavailable,
    Unauthenticated,
)
from recoverydesk.domain.signing import SignatureError, derive_key, verify
from recoverydesk.domain.tickets import (
    MAX_TRANSCRIPT,
    PRIORITIES,
    STATUSES,
    Ticket,
    change_tags,
    claim,
    hand_back,
    is_ticket_id,
    iso,
    new_ticket,
    require_holder,
    resolve,
    utc_now,
)
from recoverydesk.settings import Settings

log = logging.getLogger("recoverydesk.helpdesk")
API = "/api/v1"
CONSOLE_COOKIE = "rd_console"
SSE_KEEPALIVE_MS = 15_000
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
        app.ctx.rasa = RasaConversations(settings.rasa_url, settings.rasa_token)
        app.ctx.accounts = AccountStore(client)
        smtp = settings.smtp
        app.ctx.mailer = Mailer(
            smtp.host or "127.0.0.1", smtp.port, smtp.sender, smtp.tls, smtp.username, smtp.password
        )
        app.ctx.mail = MailOutbox(client, SecretBox(settings.secret_key), app.ctx.mailer)
        app.ctx.mail.worker.start()
        app.ctx.metrics = Metrics(client)

    @app.after_server_stop
    async def disconnect(app: Sanic, _loop: Any) -> None:
        await app.ctx.mail.worker.stop()
        await app.ctx.metrics.flush()
        await app.ctx.rasa.close()
        await app.ctx.redis.close()

    @app.on_request
    async def start_clock(request: Request) -> None:
        request.ctx.started = time.perf_counter()

    @app.on_response
    async def count_request(request: Request, reply: response.HTTPResponse) -> None:
        metrics: Optional[Metrics] = getattr(app.ctx, "metrics", None)
        if metrics is None or request.path == "/metrics":
            return
        status = getattr(reply, "status", 500) or 500
        metrics.count("recoverydesk_http_requests_total", {"status": f"{status // 100}xx"})
        started = getattr(request.ctx, "started", None)
        if started is not None:
            metrics.observe("recoverydesk_http_request_seconds", time.perf_counter() - started)
        if status >= 500:
            metrics.count("recoverydesk_errors_total", {"component": "helpdesk", "kind": f"http_{status}"})

    @app.get("/metrics")
    async def metrics_page(request: Request) -> response.HTTPResponse:
        text = await request.app.ctx.metrics.render()
        return response.text(text, content_type="text/plain; version=0.0.4; charset=utf-8")

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
        """Bearer token or console cookie; cookie sessions must also send the CSRF token to change things."""

        def decorate(handler: Handler) -> Handler:
            @wraps(handler)
            async def wrapped(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
                header = request.headers.get("authorization", "")
                bearer = header[7:] if header.lower().startswith("bearer ") else ""
                token = bearer or request.cookies.get(CONSOLE_COOKIE, "")
                session = await request.app.ctx.agents.session(token)
                if session is None:
                    raise Unauthenticated("Sign in first.")
                if not bearer and request.method not in ("GET", "HEAD"):
                    sent = request.headers.get("x-csrf-token", "")
                    if not sent or not hmac.compare_digest(sent, session.csrf_token):
                        raise Forbidden("The request is missing its CSRF token.", code="csrf")
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
        if payload.get("idempotency_key", idempotency_key) != idempotency_key:
            raise Unauthenticated("The signed request was made for another Idempotency-Key.")
        store: TicketStore = request.app.ctx.tickets
        reserved = payload.get("id")  # the number the action server already gave the customer
        if reserved is not None and not is_ticket_id(reserved):
            raise InvalidRequest("'id' must be a ticket number like RD-000123.")
        ticket = new_ticket("", payload, utc_now())  # the id is set when it is stored
        try:
            created, ticket_id, stored = await store.intake(
                ticket, idempotency_key, time.time(), reserved_id=reserved, priority=ticket.priority
            )
        except TicketNumberTaken:
            raise Conflict(f"Ticket number {reserved} belongs to another conversation.") from None
        if not stored:
            return response.json({"id": ticket_id}, status=200)
        if created:
            request.app.ctx.metrics.count("recoverydesk_tickets_created_total", {"priority": ticket.priority})
        return response.raw(stored.encode(), status=201 if created else 200, content_type="application/json")

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
        ticket = await load(request, ticket_id)
        await request.app.ctx.audit.record("ticket.read", session.username, ticket.id)
        return response.json(await ticket_view(ticket))

    @app.get(f"{API}/tickets/<ticket_id>/audit")
    @agent_only("audit")
    async def ticket_audit(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        if await request.app.ctx.tickets.get(ticket_id) is None:
            raise NotFound(f"No ticket {ticket_id}.")
        entries = await request.app.ctx.audit.for_ticket(ticket_id)
        await request.app.ctx.audit.record("audit.read", session.username, ticket_id)
        return response.json({"entries": entries})

    async def live_lines(ticket: Ticket) -> list[dict[str, Any]]:
        """What was said after the intake transcript ends, from the conversation's stream."""
        last = ticket.transcript[-1]["at"] if ticket.transcript and ticket.transcript[-1]["at"] else ticket.created_at
        since = datetime.fromisoformat(last.replace("Z", "+00:00")).timestamp()
        rows = await app.ctx.redis.xrange(conversation_stream(ticket.conversation_id), count=500)
        lines = [line_from_stream(fields) for _, fields in rows]
        # The intake transcript holds whole seconds: skip what it already has from its last second.
        held = {(line["role"], line["text"]) for line in ticket.transcript if line["at"] == last}
        fresh = [
            line
            for line in lines
            if line["ts"] >= since + 1 or (line["ts"] >= since and (line["role"], line["text"]) not in held)
        ]
        return fresh[-MAX_TRANSCRIPT:]

    async def ticket_view(ticket: Ticket) -> dict[str, Any]:
        view = ticket.to_dict()
        view["transcript"] += [
            {"role": ln["role"], "text": ln["text"], "at": ln["at"]} for ln in await live_lines(ticket)
        ]
        return view

    async def load(request: Request, ticket_id: str) -> Ticket:
        ticket = await request.app.ctx.tickets.get(ticket_id)
        if ticket is None:
            raise NotFound(f"No ticket {ticket_id}.")
        return ticket

    def required_text(body: dict, name: str, limit: int = 4000) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidRequest(f"'{name}' must be a non-empty string.")
        if len(value) > limit:
            raise InvalidRequest(f"'{name}' is longer than {limit} characters.")
        return value.strip()

    @app.get(f"{API}/me")
    @agent_only("read")
    async def me(request: Request, session: AgentSession) -> response.HTTPResponse:
        return response.json({"username": session.username, "role": session.role, "csrf_token": session.csrf_token})

    @app.post(f"{API}/auth/logout")
    @agent_only("read")
    async def logout(request: Request, session: AgentSession) -> response.HTTPResponse:
        header = request.headers.get("authorization", "")
        await request.app.ctx.agents.sign_out(header[7:] if header else request.cookies.get(CONSOLE_COOKIE, ""))
        await request.app.ctx.audit.record("agent.signed_out", session.username)
        return response.json({"signed_out": True})

    @app.post(f"{API}/tickets/<ticket_id>/claim")
    @agent_only("claim")
    async def claim_ticket(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        ticket = await request.app.ctx.tickets.update(ticket_id, lambda t: claim(t, session.username))
        try:
            await request.app.ctx.rasa.pause(ticket.conversation_id)
        except ConversationUnavailable:
            await request.app.ctx.tickets.update(ticket_id, release_claim)
            raise ServiceUnavailable("The conversation could not be paused; try again.") from None
        request.app.ctx.metrics.count("recoverydesk_handoffs_total")
        await request.app.ctx.audit.record("ticket.claimed", session.username, ticket.id)
        return response.json(await ticket_view(ticket))

    @app.post(f"{API}/tickets/<ticket_id>/messages")
    @agent_only("message")
    async def message_customer(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        text = required_text(json_object(request), "text")
        ticket = await load(request, ticket_id)
        require_holder(ticket, session.username)
        try:
            await request.app.ctx.rasa.say_as_agent(ticket.conversation_id, session.username, text)
        except ConversationUnavailable:
            raise ServiceUnavailable("The message could not be delivered; try again.") from None
        await request.app.ctx.audit.record("ticket.message_sent", session.username, ticket.id)
        return response.json({"delivered": True})

    @app.get(f"{API}/tickets/<ticket_id>/notes")
    @agent_only("read")
    async def list_notes(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        await load(request, ticket_id)
        return response.json({"notes": await request.app.ctx.tickets.notes(ticket_id)})

    @app.post(f"{API}/tickets/<ticket_id>/notes")
    @agent_only("note")
    async def add_note(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        text = required_text(json_object(request), "text")
        await load(request, ticket_id)
        note = await request.app.ctx.tickets.add_note(ticket_id, session.username, text)
        await request.app.ctx.audit.record("ticket.note_added", session.username, ticket_id)
        await request.app.ctx.tickets.update(ticket_id, lambda t: None)
        return response.json(note, status=201)

    @app.post(f"{API}/tickets/<ticket_id>/tags")
    @agent_only("tag")
    async def edit_tags(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        body = json_object(request)
        add, remove = body.get("add", []), body.get("remove", [])
        if not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in (add, remove)):
            raise InvalidRequest("'add' and 'remove' must be lists of tags.")
        ticket = await request.app.ctx.tickets.update(ticket_id, lambda t: change_tags(t, add, remove))
        await request.app.ctx.audit.record("ticket.tags_changed", session.username, ticket_id)
        return response.json(await ticket_view(ticket))

    @app.post(f"{API}/tickets/<ticket_id>/handback")
    @agent_only("handback")
    async def handback(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        summary = required_text(json_object(request), "summary", 1000)
        ticket = await request.app.ctx.tickets.update(ticket_id, lambda t: hand_back(t, session.username, summary))
        await give_back_to_bot(ticket, "EXTERNAL_agent_handback", {"agent_summary": summary})
        await request.app.ctx.audit.record("ticket.handed_back", session.username, ticket.id)
        return response.json(await ticket_view(ticket))

    @app.post(f"{API}/tickets/<ticket_id>/resolve")
    @agent_only("resolve")
    async def resolve_ticket(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        resolution = required_text(json_object(request), "resolution", 1000)
        ticket = await request.app.ctx.tickets.update(ticket_id, lambda t: resolve(t, session.username, resolution))
        await give_back_to_bot(ticket, "EXTERNAL_ticket_resolved", {"ticket_resolution": resolution})
        await request.app.ctx.audit.record("ticket.resolved", session.username, ticket.id)
        await notify_resolved(ticket, resolution)
        return response.json(await ticket_view(ticket))

    async def give_back_to_bot(ticket: Ticket, intent: str, slots: dict[str, str]) -> None:
        """The bot resumes and tells the customer; the ticket change stands even if the chat is unreachable."""
        try:
            await app.ctx.rasa.resume_with(ticket.conversation_id, intent, slots)
        except ConversationUnavailable:
            log.warning("helpdesk.chat_not_told", extra={"ticket": ticket.id, "intent": intent})

    async def notify_resolved(ticket: Ticket, resolution: str) -> None:
        """NOT-1: the account's address hears of the outcome, with no secret and no link that grants access."""
        ref = ticket.customer.get("account_ref")
        account = await app.ctx.accounts.get(ref) if ref else None
        if account is None:
            return
        values = {
            "ticket_id": ticket.id,
            "resolution": resolution,
            "channel": channel_name(ticket.channel),
            "when": datetime.now(timezone.utc).strftime("%d %B %Y at %H:%M UTC"),
        }
        # Through the durable outbox: retried while the mail server is down, sent once per ticket.
        await app.ctx.mail.queue(
            account.notify_addresses(),
            messages.text("utter_email_resolved_subject", **values),
            messages.text("utter_email_resolved_body", **values),
            key=f"resolved-{ticket.id}",
        )

    @app.get(f"{API}/tickets/<ticket_id>/events")
    @agent_only("read")
    async def ticket_events(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
        ticket = await load(request, ticket_id)
        lines = conversation_stream(ticket.conversation_id)
        stream = await request.respond(content_type="text/event-stream", headers={"Cache-Control": "no-store"})
        await stream.send(": connected\n\n")
        cursor = {lines: "$", CHANGES_STREAM: "$"}
        while True:
            result = await request.app.ctx.redis.xread(cursor, block=SSE_KEEPALIVE_MS, count=100)
            if not result:
                await stream.send(": keepalive\n\n")
                continue
            for key, entries in result:
                key = key.decode() if isinstance(key, bytes) else key
                for entry_id, fields in entries:
                    cursor[key] = entry_id
                    if key == lines:
                        line = line_from_stream(fields)
                        await stream.send(sse("message", {k: line[k] for k in ("role", "text", "at")}))
                    elif _field(fields, "ticket_id") == ticket_id:
                        changed = await load(request, ticket_id)
                        await stream.send(sse("ticket", await ticket_view(changed)))

    @app.get(f"{API}/events")
    @agent_only("read")
    async def queue_events(request: Request, session: AgentSession) -> response.HTTPResponse:
        stream = await request.respond(content_type="text/event-stream", headers={"Cache-Control": "no-store"})
        await stream.send(": connected\n\n")
        cursor = {CHANGES_STREAM: "$"}
        while True:
            result = await request.app.ctx.redis.xread(cursor, block=SSE_KEEPALIVE_MS, count=100)
            if not result:
                await stream.send(": keepalive\n\n")
                continue
            for _key, entries in result:
                for entry_id, fields in entries:
                    cursor[CHANGES_STREAM] = entry_id
                    await stream.send(sse("queue", {"id": _field(fields, "ticket_id")}))

    add_console_routes(app)
    add_crisis_routes(app, settings, agent_only, json_object)
    return app


def _field(fields: dict, name: str) -> str:
    value = fields.get(name.encode(), fields.get(name, b""))
    return value.decode() if isinstance(value, bytes) else value


def line_from_stream(fields: dict) -> dict[str, Any]:
    ts = float(_field(fields, "ts") or 0)
    return {
        "role": _field(fields, "role"),
        "text": _field(fields, "text"),
        "ts": ts,
        "at": iso(datetime.fromtimestamp(ts, timezone.utc)),
    }


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def release_claim(ticket: Ticket) -> None:
    ticket.control = {"owner": "pending_agent", "agent": None}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    settings = settings_module.load()
    app = create_app(settings)
    app.run(host=settings.helpdesk_host, port=settings.helpdesk_port, access_log=False, workers=1)


if __name__ == "__main__":
    main()
