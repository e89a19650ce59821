"""Crisis mode on the plugin: incidents, bulk actions, contacts' tags, the daily report, alerts.

Registered by ``create_app`` with its ``agent_only`` guard, so roles and CSRF work as for
every other route. The alert monitor runs here as a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from datetime import date
from typing import Any, Callable

from sanic import Sanic, response
from sanic.request import Request

from helpdesk_plugin.web.console import current_session, message_page, top_bar
from helpdesk_plugin.web.report_page import embedded_style_hash, report_body, standalone_page
from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.agent_store import AgentSession
from recoverydesk.adapters.contact_log import ContactLog
from recoverydesk.adapters.incident_store import IncidentStore
from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.rasa_client import ConversationUnavailable
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain import incidents as incident_rules
from recoverydesk.domain.errors import InvalidRequest, NotFound
from recoverydesk.domain.reports import to_csv
from recoverydesk.domain.tickets import Ticket, change_tags, check_agent_tag_change, utc_now, validate_tags
from recoverydesk.services.alert_monitor import AlertMonitor
from recoverydesk.services.daily_report import load_daily_report
from recoverydesk.settings import Settings

API = "/api/v1"
MAX_BULK = 1000
FORMATS = ("json", "csv", "html")
_INCIDENT_ID = re.compile(r"^INC-[0-9]{4,}$")
_CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")
# The downloadable page embeds its stylesheet and runs no script at all.
STANDALONE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src '{embedded_style_hash()}'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _tag_lists(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    add, remove = body.get("add", []), body.get("remove", [])
    if not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in (add, remove)):
        raise InvalidRequest("'add' and 'remove' must be lists of tags.")
    check_agent_tag_change(add, remove)
    return validate_tags(add), list(remove)


def _ticket_ids(body: dict[str, Any]) -> list[str]:
    ids = body.get("ticket_ids")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and len(i) <= 40 for i in ids):
        raise InvalidRequest("'ticket_ids' must be a non-empty list of ticket ids.")
    if len(ids) > MAX_BULK:
        raise InvalidRequest(f"At most {MAX_BULK} tickets at a time.")
    return list(dict.fromkeys(ids))


def report_day(value: str | None, today: date) -> date:
    if not value:
        return today
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("'date' must be a day in the form YYYY-MM-DD.") from None


def add_crisis_routes(
    app: Sanic,
    settings: Settings,
    agent_only: Callable[[str], Callable],
    json_object: Callable[[Request], dict[str, Any]],
) -> None:
    """``agent_only`` and ``json_object`` are the app's own guard and body parser."""
    _body = json_object

    @app.after_server_start
    async def start_alerts(app: Sanic, _loop: Any) -> None:
        smtp = settings.smtp
        mailer = Mailer(smtp.host or "127.0.0.1", smtp.port, smtp.sender, smtp.tls, smtp.username, smtp.password)
        app.ctx.incidents = IncidentStore(app.ctx.redis)
        app.ctx.contacts = ContactLog(app.ctx.redis)
        app.ctx.alerts = AlertMonitor(app.ctx.redis, mailer, settings.oncall_email, settings.helpdesk_url)
        app.ctx.alert_task = asyncio.ensure_future(app.ctx.alerts.run(max(1, settings.alert_interval_seconds)))

    @app.before_server_stop
    async def stop_alerts(app: Sanic, _loop: Any) -> None:
        task = getattr(app.ctx, "alert_task", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def find_incident(request: Request, incident_id: str) -> incident_rules.Incident:
        found = await request.app.ctx.incidents.get(incident_id) if _INCIDENT_ID.match(incident_id) else None
        if found is None:
            raise NotFound(f"No incident {incident_id}.")
        return found

    @app.post(f"{API}/incidents")
    @agent_only("incidents")
    async def declare_incident(request: Request, session: AgentSession) -> response.HTTPResponse:
        store: IncidentStore = request.app.ctx.incidents
        now = utc_now()
        incident = incident_rules.declare(await store.next_id(), _body(request), session.username, now)
        started = incident_rules.parse_time(incident.started_at).timestamp()
        await store.save_new(incident, started)
        await request.app.ctx.audit.record("incident.declared", session.username, incident=incident.id)
        return response.json(incident.to_dict(), status=201)

    @app.get(f"{API}/incidents")
    @agent_only("read")
    async def list_incidents(request: Request, session: AgentSession) -> response.HTTPResponse:
        return response.json({"incidents": [i.to_dict() for i in await request.app.ctx.incidents.list()]})

    @app.get(f"{API}/incidents/<incident_id>")
    @agent_only("read")
    async def get_incident(request: Request, session: AgentSession, incident_id: str) -> response.HTTPResponse:
        return response.json((await find_incident(request, incident_id)).to_dict())

    @app.post(f"{API}/incidents/<incident_id>/close")
    @agent_only("incidents")
    async def close_incident(request: Request, session: AgentSession, incident_id: str) -> response.HTTPResponse:
        await find_incident(request, incident_id)
        closed = await request.app.ctx.incidents.update(incident_id, lambda i: incident_rules.close(i, utc_now()))
        await request.app.ctx.audit.record("incident.closed", session.username, incident=incident_id)
        return response.json(closed.to_dict())

    async def retag(request: Request, session: AgentSession, ids: list[str], add: list[str], remove: list[str]) -> dict:
        store: TicketStore = request.app.ctx.tickets
        changed, missing = [], []
        for ticket_id in ids:
            try:
                await store.update(ticket_id, lambda t: change_tags(t, add, remove))
            except NotFound:
                missing.append(ticket_id)
                continue
            await request.app.ctx.audit.record("ticket.tags_changed", session.username, ticket_id, via="bulk")
            changed.append(ticket_id)
        return {"changed": changed, "not_found": missing}

    @app.post(f"{API}/bulk/tags")
    @agent_only("incidents")
    async def bulk_tags(request: Request, session: AgentSession) -> response.HTTPResponse:
        body = _body(request)
        ids = _ticket_ids(body)
        add, remove = _tag_lists(body)
        return response.json(await retag(request, session, ids, add, remove))

    @app.post(f"{API}/incidents/<incident_id>/link")
    @agent_only("incidents")
    async def link_tickets(request: Request, session: AgentSession, incident_id: str) -> response.HTTPResponse:
        incident = await find_incident(request, incident_id)
        result = await retag(request, session, _ticket_ids(_body(request)), [incident.tag], [])
        await request.app.ctx.audit.record(
            "incident.tickets_linked", session.username, incident=incident.id, count=str(len(result["changed"]))
        )
        return response.json(result)

    @app.post(f"{API}/incidents/<incident_id>/broadcast")
    @agent_only("incidents")
    async def broadcast(request: Request, session: AgentSession, incident_id: str) -> response.HTTPResponse:
        """An approved answer to every open ticket of the incident, in each customer's chat."""
        incident = await find_incident(request, incident_id)
        key = _body(request).get("answer")
        if key not in incident.answers:
            raise InvalidRequest(
                f"'answer' must name one of the incident's approved texts: {', '.join(incident.answers)}."
            )
        text = messages.text(
            "utter_incident_update", incident_title=incident.title, incident_answer=incident.answers[key]
        )
        tickets: list[Ticket] = [
            t for t in await request.app.ctx.tickets.list(limit=1_000_000) if incident.tag in t.tags
        ]
        sent, failed = [], []
        for ticket in tickets:
            try:
                await request.app.ctx.rasa.say_as_agent(ticket.conversation_id, session.username, text)
            except ConversationUnavailable:
                failed.append(ticket.id)
                continue
            await request.app.ctx.audit.record(
                "ticket.broadcast_sent", session.username, ticket.id, incident=incident.id, answer=key
            )
            sent.append(ticket.id)
        await request.app.ctx.audit.record(
            "incident.broadcast",
            session.username,
            incident=incident.id,
            answer=key,
            sent=str(len(sent)),
            failed=str(len(failed)),
        )
        return response.json({"sent": sent, "failed": failed})

    @app.get(f"{API}/contacts/<conversation_id>")
    @agent_only("read")
    async def get_contact(request: Request, session: AgentSession, conversation_id: str) -> response.HTTPResponse:
        found = await request.app.ctx.contacts.get(conversation_id) if _CONVERSATION_ID.match(conversation_id) else None
        if found is None:
            raise NotFound("No contact for this conversation.")
        return response.json(found.to_dict())

    @app.post(f"{API}/contacts/<conversation_id>/tags")
    @agent_only("tag")
    async def edit_contact_tags(request: Request, session: AgentSession, conversation_id: str) -> response.HTTPResponse:
        if not _CONVERSATION_ID.match(conversation_id) or await request.app.ctx.contacts.get(conversation_id) is None:
            raise NotFound("No contact for this conversation.")
        add, remove = _tag_lists(_body(request))
        contact = await request.app.ctx.contacts.edit_tags(conversation_id, add, remove)
        await request.app.ctx.audit.record("contact.tags_changed", session.username)
        return response.json(contact.to_dict() if contact else {})

    @app.get(f"{API}/reports/daily")
    @agent_only("report")
    async def daily(request: Request, session: AgentSession) -> response.HTTPResponse:
        now = utc_now()
        day = report_day(request.args.get("date"), now.date())
        chosen = request.args.get("format", "json")
        if chosen not in FORMATS:
            raise InvalidRequest(f"'format' must be one of: {', '.join(FORMATS)}.")
        report = await load_daily_report(request.app.ctx.redis, day, now)
        await request.app.ctx.audit.record("report.read", session.username, day=day.isoformat())
        if chosen == "csv":
            return response.text(to_csv(report), content_type="text/csv; charset=utf-8")
        if chosen == "html":
            return response.html(standalone_page(report), headers=STANDALONE_HEADERS)
        return response.json(report)

    @app.post(f"{API}/alerts/check")
    @agent_only("incidents")
    async def check_alerts(request: Request, session: AgentSession) -> response.HTTPResponse:
        sent = await request.app.ctx.alerts.check()
        return response.json({"sent": [{"rule": a.rule, "ticket_id": a.ticket_id} for a in sent]})

    @app.get("/console/report")
    async def report_page(request: Request) -> response.HTTPResponse:
        session = await current_session(request)
        if session is None:
            return response.redirect("/console/login", status=303)
        if not session.can("report"):
            return response.html(message_page(session, "Not allowed", "Only supervisors can read the report."), 403)
        now = utc_now()
        try:
            day = report_day(request.args.get("date"), now.date())
        except InvalidRequest as bad:
            return response.html(message_page(session, "No such day", bad.message), 400)
        started = time.perf_counter()
        report = await load_daily_report(request.app.ctx.redis, day, now)
        await request.app.ctx.audit.record("report.read", session.username, day=day.isoformat(), via="console")
        page = (
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>Daily report {report['date']} · Recovery Desk console</title>\n"
            '<link rel="icon" href="data:,">\n<link rel="stylesheet" href="/console/static/console.css">\n'
            '<link rel="stylesheet" href="/console/static/report.css">\n</head>\n'
            f'<body data-page="report">\n{top_bar(session)}\n{report_body(report)}\n</body>\n</html>\n'
        )
        return response.html(
            page, headers={"Server-Timing": f"report;dur={(time.perf_counter() - started) * 1000:.0f}"}
        )
