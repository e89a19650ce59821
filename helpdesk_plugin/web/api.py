"""The ticket API (CONTRACT): intake from the action server, the queue, one ticket, the live
handoff (claim, message, notes, tags, hand back, resolve) and the server-sent event streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from sanic import response
from sanic.request import Request

from helpdesk_plugin.web.bodies import json_object, required_text, tag_lists
from helpdesk_plugin.web.openapi import DOCUMENT_PATH, openapi_document
from helpdesk_plugin.web.routes import API, Route, services
from recoverydesk.services.agents import AgentSession
from recoverydesk.services.tickets import Event

SSE_HEADERS = {"Cache-Control": "no-store"}


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


async def create_ticket(request: Request) -> response.HTTPResponse:
    body = request.body or b""
    intake = await services(request).tickets.intake(request.headers, body, lambda: json_object(request))
    if not intake.stored:
        return response.json({"id": intake.ticket_id}, status=200)
    return response.raw(intake.stored.encode(), status=201 if intake.created else 200, content_type="application/json")


async def add_progress(request: Request, ticket_id: str) -> response.HTTPResponse:
    desk = services(request).tickets
    ticket = await desk.add_progress(ticket_id, request.headers, request.body or b"", lambda: json_object(request))
    return response.json(await desk.view(ticket))


async def list_tickets(request: Request, session: AgentSession) -> response.HTTPResponse:
    args = request.args
    tickets = await services(request).tickets.queue(
        args.get("status"), args.get("queue"), args.get("priority"), args.get("language")
    )
    return response.json({"tickets": [t.to_dict() for t in tickets]})


async def get_ticket(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    return response.json(await services(request).tickets.read(session, ticket_id))


async def ticket_audit(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    return response.json({"entries": await services(request).tickets.audit_trail(session, ticket_id)})


async def claim_ticket(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    desk = services(request)
    ticket = await desk.handoff.claim(session, ticket_id)
    return response.json(await desk.tickets.view(ticket))


async def message_customer(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    text = required_text(json_object(request), "text")
    await services(request).handoff.message(session, ticket_id, text)
    return response.json({"delivered": True})


async def list_notes(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    return response.json({"notes": await services(request).tickets.notes(ticket_id)})


async def add_note(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    text = required_text(json_object(request), "text")
    return response.json(await services(request).handoff.add_note(session, ticket_id, text), status=201)


async def edit_tags(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    add, remove = tag_lists(json_object(request))
    desk = services(request)
    ticket = await desk.handoff.change_tags(session, ticket_id, add, remove)
    return response.json(await desk.tickets.view(ticket))


async def handback(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    summary = required_text(json_object(request), "summary", 1000)
    desk = services(request)
    ticket = await desk.handoff.hand_back(session, ticket_id, summary)
    return response.json(await desk.tickets.view(ticket))


async def resolve_ticket(request: Request, session: AgentSession, ticket_id: str) -> response.HTTPResponse:
    resolution = required_text(json_object(request), "resolution", 1000)
    desk = services(request)
    ticket = await desk.handoff.resolve(session, ticket_id, resolution)
    return response.json(await desk.tickets.view(ticket))


async def _stream(request: Request, events: AsyncIterator[Event]) -> None:
    stream = await request.respond(content_type="text/event-stream", headers=SSE_HEADERS)
    await stream.send(": connected\n\n")
    async for event in events:
        await stream.send(": keepalive\n\n" if event is None else sse(*event))


async def ticket_events(request: Request, session: AgentSession, ticket_id: str) -> None:
    desk = services(request).tickets
    ticket = await desk.get(ticket_id)
    await _stream(request, desk.watch_ticket(ticket))


async def queue_events(request: Request, session: AgentSession) -> None:
    await _stream(request, services(request).tickets.watch_queue())


ROUTES = [
    Route("POST", f"{API}/tickets", create_ticket),
    Route("GET", f"{API}/tickets", list_tickets, "read"),
    Route("GET", f"{API}/tickets/<ticket_id>", get_ticket, "read"),
    Route("GET", f"{API}/tickets/<ticket_id>/audit", ticket_audit, "audit"),
    Route("POST", f"{API}/tickets/<ticket_id>/claim", claim_ticket, "claim"),
    Route("POST", f"{API}/tickets/<ticket_id>/messages", message_customer, "message"),
    Route("GET", f"{API}/tickets/<ticket_id>/notes", list_notes, "read"),
    Route("POST", f"{API}/tickets/<ticket_id>/notes", add_note, "note"),
    Route("POST", f"{API}/tickets/<ticket_id>/tags", edit_tags, "tag"),
    Route("POST", f"{API}/tickets/<ticket_id>/handback", handback, "handback"),
    Route("POST", f"{API}/tickets/<ticket_id>/resolve", resolve_ticket, "resolve"),
    Route("POST", f"{API}/tickets/<ticket_id>/progress", add_progress),
    Route("GET", f"{API}/tickets/<ticket_id>/events", ticket_events, "read"),
    Route("GET", f"{API}/events", queue_events, "read"),
    Route("GET", DOCUMENT_PATH, openapi_document),
]
