"""The daily report for supervisors: as JSON, CSV or a standalone page from the API, and as a
page of the console."""

from __future__ import annotations

import time
from datetime import date

from sanic import response
from sanic.request import Request

from helpdesk_plugin.web.console import current_session, message_page, top_bar
from helpdesk_plugin.web.routes import API, Route, services
from recoverydesk.domain.errors import InvalidRequest
from recoverydesk.domain.reports import to_csv
from recoverydesk.domain.tickets import utc_now
from recoverydesk.services.agents import AgentSession
from recoverydesk.services.report_page import embedded_style_hash, report_body, standalone_page

FORMATS = ("json", "csv", "html")
# The downloadable page embeds its stylesheet and runs no script at all.
STANDALONE_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src '{embedded_style_hash()}'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def report_day(value: str | None, today: date) -> date:
    if not value:
        return today
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequest("'date' must be a day in the form YYYY-MM-DD.") from None


async def daily(request: Request, session: AgentSession) -> response.HTTPResponse:
    now = utc_now()
    day = report_day(request.args.get("date"), now.date())
    chosen = request.args.get("format", "json")
    if chosen not in FORMATS:
        raise InvalidRequest(f"'format' must be one of: {', '.join(FORMATS)}.")
    report = await services(request).reports.read(session, day, now)
    if chosen == "csv":
        return response.text(to_csv(report), content_type="text/csv; charset=utf-8")
    if chosen == "html":
        return response.html(standalone_page(report), headers=STANDALONE_HEADERS)
    return response.json(report)


async def report_console_page(request: Request) -> response.HTTPResponse:
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
    report = await services(request).reports.read(session, day, now, via="console")
    page = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Daily report {report['date']} · Recovery Desk console</title>\n"
        '<link rel="icon" href="data:,">\n<link rel="stylesheet" href="/console/static/console.css">\n'
        '<link rel="stylesheet" href="/console/static/report.css">\n</head>\n'
        f'<body data-page="report">\n{top_bar(session)}\n{report_body(report)}\n</body>\n</html>\n'
    )
    return response.html(page, headers={"Server-Timing": f"report;dur={(time.perf_counter() - started) * 1000:.0f}"})


ROUTES = [
    Route("GET", f"{API}/reports/daily", daily, "report"),
    Route("GET", "/console/report", report_console_page),
]
