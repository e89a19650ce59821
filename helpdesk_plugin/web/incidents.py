"""Crisis mode's API: incidents, bulk tags, broadcasts, contacts' tags and the alert check.

Supervisors declare and run incidents; every agent may read them and correct contacts' tags."""

from __future__ import annotations

from sanic import response
from sanic.request import Request

from helpdesk_plugin.web.bodies import json_object
from helpdesk_plugin.web.routes import API, Route, services
from recoverydesk.services.agents import AgentSession
from recoverydesk.services.incidents import tag_change, ticket_ids


async def declare_incident(request: Request, session: AgentSession) -> response.HTTPResponse:
    incident = await services(request).incidents.declare(session, json_object(request))
    return response.json(incident.to_dict(), status=201)


async def list_incidents(request: Request, session: AgentSession) -> response.HTTPResponse:
    return response.json({"incidents": [i.to_dict() for i in await services(request).incidents.all()]})


async def get_incident(request: Request, session: AgentSession, incident_id: str) -> response.HTTPResponse:
    return response.json((await services(request).incidents.get(incident_id)).to_dict())


async def close_incident(request: Request, session: AgentSession, incident_id: str) -> response.HTTPResponse:
    return response.json((await services(request).incidents.close(session, incident_id)).to_dict())


async def bulk_tags(request: Request, session: AgentSession) -> response.HTTPResponse:
    body = json_object(request)
    ids = ticket_ids(body)
    add, remove = tag_change(body)
    return response.json(await services(request).incidents.retag(session, ids, add, remove))


async def link_tickets(request: Request, session: AgentSession, incident_id: str) -> response.HTTPResponse:
    desk = services(request).incidents
    await desk.get(incident_id)  # an unknown incident is named before the body is judged
    return response.json(await desk.link(session, incident_id, ticket_ids(json_object(request))))


async def broadcast(request: Request, session: AgentSession, incident_id: str) -> response.HTTPResponse:
    desk = services(request).incidents
    await desk.get(incident_id)
    answer = json_object(request).get("answer")
    return response.json(await desk.broadcast(session, incident_id, answer))


async def get_contact(request: Request, session: AgentSession, conversation_id: str) -> response.HTTPResponse:
    return response.json((await services(request).incidents.contact(conversation_id)).to_dict())


async def edit_contact_tags(request: Request, session: AgentSession, conversation_id: str) -> response.HTTPResponse:
    desk = services(request).incidents
    await desk.contact(conversation_id)
    add, remove = tag_change(json_object(request))
    return response.json(await desk.edit_contact_tags(session, conversation_id, add, remove))


async def check_alerts(request: Request, session: AgentSession) -> response.HTTPResponse:
    sent = await services(request).alerts.check()
    return response.json({"sent": [{"rule": a.rule, "ticket_id": a.ticket_id} for a in sent]})


ROUTES = [
    Route("POST", f"{API}/incidents", declare_incident, "incidents"),
    Route("GET", f"{API}/incidents", list_incidents, "read"),
    Route("GET", f"{API}/incidents/<incident_id>", get_incident, "read"),
    Route("POST", f"{API}/incidents/<incident_id>/close", close_incident, "incidents"),
    Route("POST", f"{API}/bulk/tags", bulk_tags, "incidents"),
    Route("POST", f"{API}/incidents/<incident_id>/link", link_tickets, "incidents"),
    Route("POST", f"{API}/incidents/<incident_id>/broadcast", broadcast, "incidents"),
    Route("GET", f"{API}/contacts/<conversation_id>", get_contact, "read"),
    Route("POST", f"{API}/contacts/<conversation_id>/tags", edit_contact_tags, "tag"),
    Route("POST", f"{API}/alerts/check", check_alerts, "incidents"),
]
