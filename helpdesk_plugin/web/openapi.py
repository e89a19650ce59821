"""The helpdesk's OpenAPI 3.1 document (CONTRACT: served at ``/api/v1/openapi.json``).

Each mounted route has one hand-written operation here, keyed by its method and its route-table
path; tests/unit/test_openapi.py fails when a mounted route has none or an operation names no
route. Enumerations come from the domain, so the document cannot drift from what it accepts.
Run ``python -m helpdesk_plugin.web.openapi`` to regenerate docs/api.html from it."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from sanic import response
from sanic.request import Request

from helpdesk_plugin.web.errors import SANIC_CODES, STATUSES
from recoverydesk.domain.incidents import ANSWER_KEYS, DATA_KINDS
from recoverydesk.domain.languages import SUPPORTED as LANGUAGES
from recoverydesk.domain.needs import NEEDS
from recoverydesk.domain.tickets import STATUSES as TICKET_STATUSES
from recoverydesk.domain.tickets import TRANSCRIPT_ROLES, VERIFICATION_LEVELS
from recoverydesk.domain.triage import CATEGORIES, PRIORITIES

API = "/api/v1"
DOCUMENT_PATH = f"{API}/openapi.json"
HTML_PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.html"

ERROR_CODES = sorted({code for _, code in STATUSES.values()} | set(SANIC_CODES.values()) | {"error", "internal"})
ERROR_MEANINGS = {
    400: "The request is malformed: bad JSON, a missing or wrong field.",
    401: "No valid bearer token or console session (or, for intake, no valid signature).",
    403: "The role may not do this, or a cookie session sent no CSRF token.",
    404: "No such ticket, incident, contact or route.",
    409: "The ticket's state does not allow this (already claimed, resolved...).",
    413: "The body is larger than 1 MB.",
    503: "A dependency (Redis, or Rasa for a live action) is not reachable; try again.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _strings(max_length: Optional[int] = None) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "string"}
    if max_length:
        item["maxLength"] = max_length
    return {"type": "array", "items": item}


def _object(properties: dict[str, Any], required: Optional[list[str]] = None, **extra: Any) -> dict[str, Any]:
    """An object schema; ``required`` defaults to every property (what the API always returns)."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        **extra,
    }


NULLABLE_STRING = {"type": ["string", "null"]}
TAG_CHANGE = _object({"add": _strings(), "remove": _strings()}, required=[])
TICKET_IDS = _object({"ticket_ids": {**_strings(40), "minItems": 1, "maxItems": 1000}})

SCHEMAS: dict[str, Any] = {
    "Error": _object(
        {"error": _object({"code": {"type": "string", "enum": ERROR_CODES}, "message": {"type": "string"}})}
    ),
    "Ticket": _object(
        {
            "id": {"type": "string", "pattern": "^RD-[0-9]{6,12}$"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "status": {"enum": list(TICKET_STATUSES)},
            "priority": {"enum": list(PRIORITIES)},
            "category": {"enum": list(CATEGORIES)},
            "queue": {"type": "string"},
            "tags": _strings(),
            "sla_due_at": {"type": "string", "format": "date-time"},
            "channel": {"type": "string"},
            "language": {"enum": list(LANGUAGES)},
            "conversation_id": {"type": "string"},
            "customer": _object(
                {
                    "account_ref": NULLABLE_STRING,
                    "display_name_masked": NULLABLE_STRING,
                    "verification": _object(
                        {"level": {"enum": list(VERIFICATION_LEVELS)}, "methods": _strings()}, required=[]
                    ),
                },
                required=[],
            ),
            "summary": {"type": "string"},
            "reported_activity": {"type": "array", "items": {"type": "object"}},
            "suspicious_ips": _strings(),
            "actions_taken": _strings(),
            "transcript": {
                "type": "array",
                "items": _object(
                    {"role": {"enum": list(TRANSCRIPT_ROLES)}, "text": {"type": "string"}, "at": NULLABLE_STRING},
                    required=["role", "text"],
                ),
            },
            "control": _object(
                {"owner": {"enum": ["bot", "pending_agent", "agent"]}, "agent": NULLABLE_STRING}, required=["owner"]
            ),
        },
        description="Redacted: no secret ever appears in a summary or transcript.",
    ),
    "TicketIntakeRequest": _object(
        {
            "id": {"type": "string", "description": "The number the action server already gave the customer."},
            "idempotency_key": {"type": "string", "description": "When present, equals the Idempotency-Key header."},
            "category": {"enum": list(CATEGORIES)},
            "priority": {"enum": list(PRIORITIES)},
            "queue": {"type": "string", "maxLength": 50},
            "channel": {"type": "string", "maxLength": 50},
            "language": {"enum": list(LANGUAGES)},
            "conversation_id": {"type": "string", "maxLength": 200},
            "customer": {"type": "object"},
            "summary": {"type": "string", "maxLength": 4000},
            "tags": {**_strings(200), "maxItems": 50},
            "reported_activity": {"type": "array", "items": {"type": "object"}, "maxItems": 100},
            "suspicious_ips": {**_strings(200), "maxItems": 50},
            "actions_taken": {**_strings(200), "maxItems": 50},
            "transcript": {"type": "array", "items": {"type": "object"}},
        },
        required=["priority"],
    ),
    "TicketProgressRequest": _object(
        {
            "ticket_id": {"type": "string", "description": "Equals the ticket in the path (it is signed)."},
            "conversation_id": {"type": "string", "maxLength": 200},
            "customer": {"type": "object", "description": "The verified account; a level only rises."},
            "reported_activity": {"type": "array", "items": {"type": "object"}, "maxItems": 100},
            "suspicious_ips": {**_strings(200), "maxItems": 50},
            "actions_taken": {**_strings(200), "maxItems": 10},
        },
        required=["ticket_id", "conversation_id"],
    ),
    "Note": _object({"author": {"type": "string"}, "text": {"type": "string"}, "at": {"type": "string"}}),
    "AuditEntry": _object(
        {
            "at": {"type": "string"},
            "action": {"type": "string"},
            "actor": {"type": "string"},
            "ticket_id": {"type": "string"},
        },
        additionalProperties={"type": "string"},
    ),
    "Incident": _object(
        {
            "id": {"type": "string", "pattern": "^INC-[0-9]{4,}$"},
            "title": {"type": "string"},
            "started_at": {"type": "string"},
            "owner": {"type": "string"},
            "answers": {"type": "object", "additionalProperties": {"type": "string"}},
            "exposed_data": _strings(),
            "needs": _strings(),
            "status": {"enum": ["active", "closed"]},
            "declared_by": {"type": "string"},
            "declared_at": {"type": "string"},
            "closed_at": NULLABLE_STRING,
            "tag": {"type": "string"},
        }
    ),
    "Contact": _object(
        {
            "conversation_id": {"type": "string"},
            "started_at": {"type": "string"},
            "updated_at": {"type": "string"},
            "channel": {"type": "string"},
            "category": {"type": "string"},
            "priority": {"type": "string"},
            "outcome": {"type": "string"},
            "verification": {"type": "string"},
            "tags": _strings(),
            "ticket_id": NULLABLE_STRING,
            "closed": {"type": "boolean"},
        }
    ),
    "Retagged": _object({"changed": _strings(), "not_found": _strings()}),
    "Session": _object({"username": {"type": "string"}, "role": {"type": "string"}, "csrf_token": {"type": "string"}}),
    "DailyReport": {
        "type": "object",
        "required": ["date"],
        "properties": {"date": {"type": "string", "format": "date"}},
        "description": "The daily report's sections (contacts, outcomes, tickets, SLA, backlog...).",
    },
}

# (new) Only the ticket view (GET, claim) carries it: null for web chat, else whether a reply can
# reach the customer on their messenger now (Meta's 24-hour window) and the last failed send.
SCHEMAS["Ticket"]["properties"]["reply_window"] = {
    "type": ["object", "null"],
    "properties": {
        "channel": {"type": "string"},
        "open": {"type": "boolean"},
        "reason": NULLABLE_STRING,
        "agent_open": {"type": "boolean"},
        "agent_reason": NULLABLE_STRING,
        "last_inbound": NULLABLE_STRING,
        "last_failure": {"type": ["object", "null"]},
    },
}

BODIES: dict[str, Any] = {
    "Login": _object(
        {
            "username": {"type": "string"},
            "password": {"type": "string", "format": "password"},
            "totp": {"type": "string", "description": "The agent's current 6-digit code."},
        }
    ),
    "Text": _object({"text": {"type": "string", "minLength": 1, "maxLength": 4000}}),
    "TagChange": TAG_CHANGE,
    "Handback": _object({"summary": {"type": "string", "minLength": 1, "maxLength": 1000}}),
    "Resolve": _object({"resolution": {"type": "string", "minLength": 1, "maxLength": 1000}}),
    "DeclareIncident": _object(
        {
            "title": {"type": "string", "minLength": 1, "maxLength": 200},
            "owner": {"type": "string", "maxLength": 100},
            "answers": {
                "type": "object",
                "properties": {key: {"type": "string", "minLength": 1, "maxLength": 1000} for key in ANSWER_KEYS},
                "required": ["am_i_affected"],
                "additionalProperties": False,
            },
            "exposed_data": {"type": "array", "items": {"enum": list(DATA_KINDS)}},
            "needs": {"type": "array", "items": {"enum": list(NEEDS)}, "minItems": 1},
            "started_at": {"type": "string", "format": "date-time"},
        },
        required=["title", "answers"],
    ),
    "TicketIds": TICKET_IDS,
    "BulkTags": {
        **TAG_CHANGE,
        "properties": {**TAG_CHANGE["properties"], **TICKET_IDS["properties"]},
        "required": ["ticket_ids"],
    },
    "Broadcast": _object({"answer": {"enum": list(ANSWER_KEYS)}}),
}


@dataclass(frozen=True)
class Operation:
    """One route's documentation: what it is for, what it takes and what it answers."""

    summary: str
    tag: str
    ok: int = 200
    answer: Any = None  # a schema, or None for a body that is not JSON (see ``media``)
    media: str = "application/json"
    body: Optional[str] = None  # a BODIES name
    permission: Optional[str] = None
    errors: tuple[int, ...] = ()
    query: tuple[tuple[str, dict[str, Any]], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _list_of(key: str, schema: Any) -> dict[str, Any]:
    return _object({key: {"type": "array", "items": schema}})


LIVE = (404, 409, 503)  # acts on the customer's live conversation through Rasa
OPERATIONS: dict[tuple[str, str], Operation] = {
    ("GET", "/health"): Operation(
        "Liveness: the process answers.", "operations", answer=_object({"status": {"const": "ok"}})
    ),
    ("GET", "/ready"): Operation(
        "Readiness: Redis answers.", "operations", answer=_object({"status": {"const": "ready"}}), errors=(503,)
    ),
    ("GET", "/metrics"): Operation("Prometheus metrics.", "operations", media="text/plain"),
    ("GET", DOCUMENT_PATH): Operation("This document.", "operations", answer={"type": "object"}),
    ("POST", f"{API}/auth/login"): Operation(
        "Signs an agent in with password and TOTP; a uniform 401 on any failure.",
        "agents",
        body="Login",
        answer=_object(
            {
                "token": {"type": "string"},
                "role": {"type": "string"},
                "expires_at": {"type": "string"},
                "csrf_token": {"type": "string"},
            }
        ),
        errors=(400, 401),
    ),
    ("GET", f"{API}/me"): Operation("The signed-in agent.", "agents", answer=_ref("Session"), permission="read"),
    ("POST", f"{API}/auth/logout"): Operation(
        "Ends the agent's session.", "agents", permission="read", answer=_object({"signed_out": {"const": True}})
    ),
    ("POST", f"{API}/tickets"): Operation(
        "Files a ticket (action server only: HMAC-signed, Idempotency-Key); a repeat returns the first ticket.",
        "tickets",
        ok=201,
        body="TicketIntake",
        answer=_ref("Ticket"),
        errors=(400, 401, 409),
        extra={
            "responses": {
                "200": {
                    "description": "The ticket filed earlier under this Idempotency-Key.",
                    "content": {
                        "application/json": {"schema": _object({"id": {"type": "string"}}, additionalProperties=True)}
                    },
                }
            },
            "security": [{"actionServerSignature": []}],
            "parameters": [
                {
                    "name": "Idempotency-Key",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{8,200}$"},
                }
            ],
        },
    ),
    ("GET", f"{API}/tickets"): Operation(
        "The queue, ordered by priority then SLA due time.",
        "tickets",
        permission="read",
        answer=_list_of("tickets", _ref("Ticket")),
        errors=(400,),
        query=(
            ("status", {"enum": list(TICKET_STATUSES)}),
            ("queue", {"type": "string"}),
            ("priority", {"enum": list(PRIORITIES)}),
            ("language", {"enum": list(LANGUAGES)}),
        ),
    ),
    ("GET", f"{API}/tickets/<ticket_id>"): Operation(
        "One ticket; the reading is audited.", "tickets", permission="read", answer=_ref("Ticket"), errors=(404,)
    ),
    ("GET", f"{API}/tickets/<ticket_id>/audit"): Operation(
        "The ticket's audit trail.",
        "tickets",
        permission="audit",
        answer=_list_of("entries", _ref("AuditEntry")),
        errors=(404,),
    ),
    ("POST", f"{API}/tickets/<ticket_id>/claim"): Operation(
        "Takes the live conversation: the bot stops answering that customer.",
        "handoff",
        permission="claim",
        answer=_ref("Ticket"),
        errors=LIVE,
    ),
    ("POST", f"{API}/tickets/<ticket_id>/messages"): Operation(
        "Sends the claiming agent's text to the customer in their channel.",
        "handoff",
        permission="message",
        body="Text",
        answer=_object({"delivered": {"const": True}}),
        errors=(400, *LIVE),
    ),
    ("GET", f"{API}/tickets/<ticket_id>/notes"): Operation(
        "The ticket's internal notes.",
        "tickets",
        permission="read",
        answer=_list_of("notes", _ref("Note")),
        errors=(404,),
    ),
    ("POST", f"{API}/tickets/<ticket_id>/notes"): Operation(
        "Adds an internal note, never shown to the customer.",
        "tickets",
        ok=201,
        permission="note",
        body="Text",
        answer=_ref("Note"),
        errors=(400, 404, 409),
    ),
    ("POST", f"{API}/tickets/<ticket_id>/tags"): Operation(
        "Adds and removes the ticket's tags.",
        "tickets",
        permission="tag",
        body="TagChange",
        answer=_ref("Ticket"),
        errors=(400, 404, 409),
    ),
    ("POST", f"{API}/tickets/<ticket_id>/handback"): Operation(
        "Gives the conversation back to the bot with the agent's summary.",
        "handoff",
        permission="handback",
        body="Handback",
        answer=_ref("Ticket"),
        errors=(400, *LIVE),
    ),
    ("POST", f"{API}/tickets/<ticket_id>/resolve"): Operation(
        "Closes the ticket; the customer is told by email and, if connected, in chat.",
        "handoff",
        permission="resolve",
        body="Resolve",
        answer=_ref("Ticket"),
        errors=(400, *LIVE),
    ),
    ("POST", f"{API}/tickets/<ticket_id>/progress"): Operation(
        "Adds what the bot did after filing (verified account, marked activity, actions taken) to the open"
        " ticket (action server only: HMAC-signed); the console shows it live.",
        "tickets",
        body="TicketProgress",
        answer=_ref("Ticket"),
        errors=(400, 401, 404, 409),
        extra={"security": [{"actionServerSignature": []}]},
    ),
    ("GET", f"{API}/tickets/<ticket_id>/events"): Operation(
        "Server-sent events: `message` for each new line, `ticket` after each change.",
        "tickets",
        permission="read",
        media="text/event-stream",
        errors=(404,),
    ),
    ("GET", f"{API}/events"): Operation(
        "Server-sent events of the whole queue.", "tickets", permission="read", media="text/event-stream"
    ),
    ("POST", f"{API}/incidents"): Operation(
        "Declares an incident with its approved answers.",
        "incidents",
        ok=201,
        permission="incidents",
        body="DeclareIncident",
        answer=_ref("Incident"),
        errors=(400,),
    ),
    ("GET", f"{API}/incidents"): Operation(
        "Every incident.", "incidents", permission="read", answer=_list_of("incidents", _ref("Incident"))
    ),
    ("GET", f"{API}/incidents/<incident_id>"): Operation(
        "One incident.", "incidents", permission="read", answer=_ref("Incident"), errors=(404,)
    ),
    ("POST", f"{API}/incidents/<incident_id>/close"): Operation(
        "Closes the incident; 400 when it is already closed.",
        "incidents",
        permission="incidents",
        answer=_ref("Incident"),
        errors=(400, 404, 409),
    ),
    ("POST", f"{API}/incidents/<incident_id>/link"): Operation(
        "Tags tickets with the incident's tag.",
        "incidents",
        permission="incidents",
        body="TicketIds",
        answer=_ref("Retagged"),
        errors=(400, 404, 409),
    ),
    ("POST", f"{API}/incidents/<incident_id>/broadcast"): Operation(
        "Sends one approved answer to every open ticket of the incident, in each customer's chat.",
        "incidents",
        permission="incidents",
        body="Broadcast",
        answer=_object({"sent": _strings(), "failed": _strings()}),
        errors=(400, 404, 409),
    ),
    ("POST", f"{API}/bulk/tags"): Operation(
        "Adds and removes tags on many tickets.",
        "incidents",
        permission="incidents",
        body="BulkTags",
        answer=_ref("Retagged"),
        errors=(400,),
    ),
    ("GET", f"{API}/contacts/<conversation_id>"): Operation(
        "One conversation's contact record.", "incidents", permission="read", answer=_ref("Contact"), errors=(400, 404)
    ),
    ("POST", f"{API}/contacts/<conversation_id>/tags"): Operation(
        "Corrects a contact's tags.",
        "incidents",
        permission="tag",
        body="TagChange",
        answer={"oneOf": [_ref("Contact"), {"type": "object", "maxProperties": 0}]},
        errors=(400, 404),
    ),
    ("POST", f"{API}/alerts/check"): Operation(
        "Runs the alert rules now.",
        "incidents",
        permission="incidents",
        answer=_list_of("sent", _object({"rule": {"type": "string"}, "ticket_id": {"type": "string"}})),
    ),
    ("GET", f"{API}/reports/daily"): Operation(
        "The daily report as JSON, CSV or a standalone page.",
        "reports",
        permission="report",
        answer=_ref("DailyReport"),
        errors=(400,),
        query=(("date", {"type": "string", "format": "date"}), ("format", {"enum": ["json", "csv", "html"]})),
        extra={
            "alternatives": {"text/csv": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}}
        },
    ),
}
# The agent console: HTML pages behind its own cookie session and forms, listed for completeness.
CONSOLE_PAGES = {
    ("GET", "/console/login"): "The sign-in form.",
    ("POST", "/console/login"): "Signs in from the form (double-submit CSRF cookie).",
    ("POST", "/console/logout"): "Signs out from the form.",
    ("GET", "/console/"): "The queue.",
    ("GET", "/console/tickets/<ticket_id>"): "One ticket, live.",
    ("GET", "/console/incidents"): "Crisis mode.",
    ("GET", "/console/report"): "The daily report page (supervisors).",
    ("GET", "/console/static/<name>"): "The console's stylesheets and scripts.",
}


def openapi_path(route_path: str) -> str:
    """``/tickets/<ticket_id>`` as OpenAPI writes it: ``/tickets/{ticket_id}``."""
    return re.sub(r"<([^>:]+)(:[^>]*)?>", r"{\1}", route_path)


def _error_response(status: int) -> dict[str, Any]:
    return {"description": ERROR_MEANINGS[status], "content": {"application/json": {"schema": _ref("Error")}}}


def _operation(method: str, path: str, op: Operation) -> dict[str, Any]:
    content: dict[str, Any] = {op.media: {"schema": op.answer}} if op.answer is not None else {op.media: {}}
    content.update(op.extra.get("alternatives", {}))
    responses: dict[str, Any] = {str(op.ok): {"description": "Done.", "content": content}}
    responses.update(op.extra.get("responses", {}))
    statuses = set(op.errors) | ({401, 403} if op.permission else set()) | ({413} if method == "POST" else set())
    for status in sorted(statuses):
        responses[str(status)] = _error_response(status)
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{([^}]+)}", openapi_path(path))
    ]
    parameters += [{"name": name, "in": "query", "required": False, "schema": schema} for name, schema in op.query]
    parameters += op.extra.get("parameters", [])
    built: dict[str, Any] = {
        "operationId": f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', path.lower()).strip('_')}",
        "summary": op.summary,
        "tags": [op.tag],
        "responses": responses,
        "security": op.extra.get("security", [{"bearer": []}, {"consoleCookie": []}] if op.permission else []),
    }
    if op.permission:
        built["x-permission"] = op.permission
    if parameters:
        built["parameters"] = parameters
    if op.body:
        built["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(f"{op.body}Request")}},
        }
    return built


def build() -> dict[str, Any]:
    """The whole document, from OPERATIONS and CONSOLE_PAGES."""
    paths: dict[str, dict[str, Any]] = {}
    for (method, path), op in OPERATIONS.items():
        paths.setdefault(openapi_path(path), {})[method.lower()] = _operation(method, path, op)
    for (method, path), summary in CONSOLE_PAGES.items():
        parameters = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{([^}]+)}", openapi_path(path))
        ]
        page = {
            "summary": summary,
            "tags": ["console"],
            "responses": {"200": {"description": "An HTML page.", "content": {"text/html": {}}}},
        }
        paths.setdefault(openapi_path(path), {})[method.lower()] = {
            **page,
            **({"parameters": parameters} if parameters else {}),
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Recovery Desk helpdesk API",
            "version": "1",
            "description": "Tickets, the live handoff, crisis mode and reports. Every error is "
            '`{"error": {"code", "message"}}` with a 4xx/5xx status, never a stack trace.',
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, **{f"{name}Request": schema for name, schema in BODIES.items()}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The token from POST /auth/login."},
                "consoleCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "rd_console",
                    "description": "The console's session; changes also need X-CSRF-Token.",
                },
                "actionServerSignature": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Signature",
                    "description": "HMAC of the body with the action server's key.",
                },
            },
        },
    }


DOCUMENT = build()
_SERVED = json.dumps(DOCUMENT, sort_keys=True)


async def openapi_document(_request: Request) -> response.HTTPResponse:
    return response.text(_SERVED, content_type="application/json")


def render_html(document: dict[str, Any]) -> str:
    """A static page of every route: method, path, who may call it, what it takes and answers."""
    rows = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            takes = body.get("$ref", "").rsplit("/", 1)[-1]
            params = ", ".join(p["name"] for p in op.get("parameters", []) if p["in"] == "query")
            answers = ", ".join(op["responses"])
            who = op.get("x-permission", "console session" if op["tags"] == ["console"] else "public")
            rows.append(
                f"<tr><td><code>{method.upper()}</code></td><td><code>{html.escape(path)}</code></td>"
                f"<td>{html.escape(op['summary'])}</td><td>{html.escape(who)}</td>"
                f"<td>{html.escape(takes)}{(' ?' + html.escape(params)) if params else ''}</td><td>{answers}</td></tr>"
            )
    codes = ", ".join(
        f"<code>{c}</code>"
        for c in document["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
    )
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(document['info']['title'])}</title>\n"
        "<style>body{font:15px/1.4 system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}</style>\n"
        "</head>\n<body>\n"
        f"<h1>{html.escape(document['info']['title'])}</h1>\n"
        f"<p>{html.escape(document['info']['description'])}</p>\n"
        f"<p>Error codes: {codes}. The machine-readable document is <code>GET {DOCUMENT_PATH}</code>; "
        "this page is generated from it by <code>python -m helpdesk_plugin.web.openapi</code>.</p>\n"
        "<table>\n<tr><th>method</th><th>path</th><th>what</th><th>permission</th><th>takes</th>"
        "<th>statuses</th></tr>\n" + "\n".join(rows) + "\n</table>\n</body>\n</html>\n"
    )


if __name__ == "__main__":
    HTML_PAGE.write_text(render_html(DOCUMENT))
