"""The agent console: server-rendered pages over the ticket store, made live by console.js.

Every dynamic value goes through ``_e`` (html.escape): customer text is hostile. The pages carry
no inline script or style, so a strict Content-Security-Policy holds (AGT-3).
"""

from __future__ import annotations

import html
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sanic import response
from sanic.request import Request

from helpdesk_plugin.web.routes import Route, services
from recoverydesk.domain.errors import NotFound, SignInFailed
from recoverydesk.domain.incidents import ANSWER_KEYS, DATA_KINDS, MAX_ANSWER, MAX_TITLE
from recoverydesk.domain.languages import SUPPORTED as LANGUAGES
from recoverydesk.domain.tickets import PRIORITIES, STATUSES, is_ticket_id
from recoverydesk.services.agents import AgentSession

STATIC = Path(__file__).parent / "static"
ASSETS = ("console.js", "console.css", "report.css", "incidents.js", "incidents.css")
SESSION_COOKIE = "rd_console"
LOGIN_CSRF_COOKIE = "rd_login_csrf"
LOGIN_PATH = "/console/login"
HOME_PATH = "/console/"
OPEN_STATUSES = ("new", "open", "pending")
SIGN_IN_FAILED = "Wrong username, password or code."
FORM_EXPIRED = "This sign-in form has expired. Please try again."
MAX_FIELD = 1024
_ISO_MINUTE = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)")
CONSOLE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
REPORT_LINK = ' <a href="/console/report" id="report-link">Daily report</a>'
INCIDENTS_LINK = ' <a href="/console/incidents" id="incidents-link">Incidents</a>'
ANSWER_LABELS = {
    "am_i_affected": "Am I affected? (required: the bot's default answer)",
    "what_data": "What data was exposed?",
    "what_to_do": "What should customers do?",
    "update": "Update (for a broadcast)",
}
OWNER_LABELS = {"bot": "With the bot", "pending_agent": "Waiting for an agent"}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _words(value: Any) -> str:
    return str(value or "").replace("_", " ")


# ---------------------------------------------------------------- formatting shared with console.js


def _parse_iso(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _clock(seconds: int) -> str:
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def sla_text(due_at: str, now: datetime | None = None) -> str:
    """'12:34 left' or 'overdue 3:10', as console.js keeps it ticking."""
    due = _parse_iso(due_at)
    if due is None:
        return "no SLA"
    remaining = int((due - (now or datetime.now(timezone.utc))).total_seconds())
    return f"{_clock(remaining)} left" if remaining >= 0 else f"overdue {_clock(remaining)}"


def short_time(value: str) -> str:
    """'2026-11-23 19:24' from an ISO time (UTC), or '' when it is not one."""
    match = _ISO_MINUTE.match(value or "")
    return f"{match.group(1)} {match.group(2)}" if match else ""


def clock_time(value: str) -> str:
    match = _ISO_MINUTE.match(value or "")
    return match.group(2) if match else ""


def owner_text(control: Mapping[str, Any]) -> str:
    owner = control.get("owner") or "bot"
    if owner == "agent":
        return f"Held by {control.get('agent') or 'an agent'}"
    return OWNER_LABELS.get(owner, "With the bot")


def owner_short(control: Mapping[str, Any]) -> str:
    owner = control.get("owner") or "bot"
    if owner == "agent":
        return str(control.get("agent") or "agent")
    return "waiting for agent" if owner == "pending_agent" else "bot"


def held_by(ticket: Mapping[str, Any], username: str) -> bool:
    control = ticket.get("control") or {}
    return control.get("owner") == "agent" and control.get("agent") == username


def is_open(ticket: Mapping[str, Any]) -> bool:
    return ticket.get("status") in OPEN_STATUSES


# ---------------------------------------------------------------- small pieces of HTML


def badge(kind: str, value: Any, label: str | None = None) -> str:
    return f'<span class="badge badge--{_e(kind)}-{_e(value)}">{_e(label or value)}</span>'


def verification_badge(level: Any, large: bool = False) -> str:
    size = " verif--large" if large else ""
    text = f"Verification: {level}" if large else level
    return f'<span class="verif verif--{_e(level)}{size}" data-field="verification">{_e(text)}</span>'


def sla_element(ticket: Mapping[str, Any]) -> str:
    if not is_open(ticket):
        return '<span class="sla sla--done" title="The ticket is closed">—</span>'
    due = ticket.get("sla_due_at") or ""
    return f'<time class="sla" data-due="{_e(due)}" datetime="{_e(due)}">{_e(sla_text(due))}</time>'


def hidden_csrf(token: str) -> str:
    return f'<input type="hidden" name="csrf" value="{_e(token)}">'


def text_list(items: Iterable[Any], empty: str, field: str) -> str:
    rows = "".join(f"<li>{_e(item)}</li>" for item in items) or f'<li class="empty">{_e(empty)}</li>'
    return f'<ul class="plain-list" data-field="{field}" data-empty="{_e(empty)}">{rows}</ul>'


def activity_item(entry: Mapping[str, Any]) -> str:
    parts = []
    for key, value in entry.items():
        shown = value if isinstance(value, str) else json.dumps(value)
        parts.append(f'<span class="kv"><span class="kv__key">{_e(_words(key))}</span> {_e(shown)}</span>')
    return f"<li>{' '.join(parts)}</li>"


def document(
    title: str,
    body: str,
    page: str,
    session: AgentSession | None = None,
    data: str = "",
    extra: tuple[str, ...] = (),
) -> str:
    """``extra`` names a page's own assets (``incidents``): its stylesheet and its script after console.js."""
    csrf = f'<meta name="csrf-token" content="{_e(session.csrf_token)}">' if session else ""
    styles = "".join(f'<link rel="stylesheet" href="/console/static/{_e(name)}.css">\n' for name in extra)
    scripts = "".join(f'<script src="/console/static/{_e(name)}.js"></script>\n' for name in extra)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{csrf}<title>{_e(title)} · Recovery Desk console</title>\n"
        '<link rel="icon" href="data:,">\n<link rel="stylesheet" href="/console/static/console.css">\n'
        f'{styles}</head>\n<body data-page="{_e(page)}"{data}>\n{top_bar(session)}\n{body}\n'
        f'<script src="/console/static/console.js"></script>\n{scripts}</body>\n</html>\n'
    )


def top_bar(session: AgentSession | None) -> str:
    if session is None:
        return '<header class="topbar"><span class="brand">Recovery Desk <small>agent console</small></span></header>'
    return (
        '<header class="topbar"><a class="brand" href="/console/">Recovery Desk <small>agent console</small></a>'
        f'<nav class="topbar__nav"><a href="/console/">Queue</a>{REPORT_LINK if session.can("report") else ""}'
        f"{INCIDENTS_LINK if session.can('incidents') else ''}</nav>"
        f'<div class="topbar__who"><span class="who">{_e(session.username)}</span>'
        f'<span class="role role--{_e(session.role)}">{_e(session.role)}</span>'
        f'<form method="post" action="/console/logout" class="inline-form">{hidden_csrf(session.csrf_token)}'
        '<button type="submit" class="button button--quiet">Sign out</button></form></div></header>'
    )


# ---------------------------------------------------------------- pages


def login_page(csrf: str, error: str = "") -> str:
    alert = f'<p class="alert alert--error" role="alert">{_e(error)}</p>' if error else ""
    body = (
        '<main class="login"><h1>Agent sign-in</h1>'
        '<p class="muted">Use your password and the 6-digit code from your own authenticator app.</p>'
        f'{alert}<form method="post" action="/console/login" class="stack" autocomplete="off">{hidden_csrf(csrf)}'
        '<label>Username <input name="username" autocomplete="username" required maxlength="64" autofocus></label>'
        '<label>Password <input type="password" name="password" autocomplete="current-password" required '
        'maxlength="1024"></label>'
        '<label>6-digit code <input name="totp" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" '
        'autocomplete="one-time-code" required></label>'
        '<button type="submit" class="button button--primary">Sign in</button></form></main>'
    )
    return document("Sign in", body, "login")


def language_badge(ticket: Mapping[str, Any]) -> str:
    """The conversation's language (issue 16): tickets filed before languages are English."""
    language = ticket.get("language") or "en"
    return badge("lang", language, str(language).upper())


def filter_form(status: str | None, priority: str | None, language: str | None = None) -> str:
    def options(values: Iterable[str], chosen: str | None, blank: str) -> str:
        first = f'<option value="">{_e(blank)}</option>'
        return first + "".join(
            f'<option value="{_e(v)}"{" selected" if v == chosen else ""}>{_e(v)}</option>' for v in values
        )

    return (
        '<form class="filters" method="get" action="/console/" id="filters">'
        f'<label>Status <select name="status">{options(STATUSES, status, "all open")}</select></label>'
        f'<label>Priority <select name="priority">{options(PRIORITIES, priority, "any")}</select></label>'
        f'<label>Language <select name="language">{options(LANGUAGES, language, "any")}</select></label>'
        '<button type="submit" class="button button--quiet">Filter</button></form>'
    )


def queue_row(ticket: Mapping[str, Any]) -> str:
    customer = ticket.get("customer") or {}
    level = (customer.get("verification") or {}).get("level", "none")
    ticket_id = ticket.get("id", "")
    created = ticket.get("created_at", "")
    return (
        f'<tr data-id="{_e(ticket_id)}">'
        f'<td><a href="/console/tickets/{_e(ticket_id)}">{_e(ticket_id)}</a></td>'
        f"<td>{badge('priority', ticket.get('priority'))}</td>"
        f"<td>{badge('status', ticket.get('status'))}</td>"
        f"<td>{_e(_words(ticket.get('category')))}</td>"
        f"<td>{_e(ticket.get('channel'))}</td>"
        f"<td>{language_badge(ticket)}</td>"
        f"<td>{verification_badge(level)}</td>"
        f"<td>{_e(owner_short(ticket.get('control') or {}))}</td>"
        f"<td>{sla_element(ticket)}</td>"
        f'<td><time datetime="{_e(created)}">{_e(short_time(created))}</time></td>'
        "</tr>"
    )


def queue_page(
    session: AgentSession,
    tickets: list[Mapping[str, Any]],
    status: str | None,
    priority: str | None,
    language: str | None = None,
) -> str:
    rows = "".join(queue_row(t) for t in tickets) or '<tr class="empty"><td colspan="10">No tickets match.</td></tr>'
    body = (
        '<main class="page">'
        '<div class="page__head"><h1>Queue</h1><span class="live" id="live" data-state="off">Connecting…</span></div>'
        f"{filter_form(status, priority, language)}"
        '<div id="status" class="status" role="status" aria-live="polite"></div>'
        '<div class="table-wrap"><table class="queue"><thead><tr>'
        "<th>Ticket</th><th>Priority</th><th>Status</th><th>Category</th><th>Channel</th><th>Language</th>"
        "<th>Verification</th>"
        "<th>Owner</th><th>SLA</th><th>Created (UTC)</th></tr></thead>"
        f'<tbody id="queue-rows">{rows}</tbody></table></div></main>'
    )
    return document("Queue", body, "queue", session)


def transcript_line(line: Mapping[str, Any]) -> str:
    role = line.get("role") if line.get("role") in ("customer", "bot", "agent") else "bot"
    at = line.get("at") or ""
    return (
        f'<li class="line line--{role}" data-role="{role}">'
        f'<div class="line__meta"><span class="line__who">{_e(role)}</span>'
        f'<time class="line__at" datetime="{_e(at)}">{_e(clock_time(at))}</time></div>'
        f'<p class="line__text">{_e(line.get("text"))}</p></li>'
    )


def ticket_header(ticket: Mapping[str, Any]) -> str:
    customer = ticket.get("customer") or {}
    level = (customer.get("verification") or {}).get("level", "none")
    priority = ticket.get("priority")
    return (
        '<div class="ticket-head">'
        f'<div class="ticket-head__title"><h1>{_e(ticket.get("id"))}</h1>{verification_badge(level, large=True)}</div>'
        '<div class="ticket-head__facts">'
        f'<span data-field="priority">{badge("priority", priority, f"{priority} priority")}</span>'
        f'<span data-field="status">{badge("status", ticket.get("status"))}</span>'
        f'<span class="fact">{_e(_words(ticket.get("category")))}</span>'
        f'<span class="fact">via {_e(ticket.get("channel"))}</span>'
        f'<span data-field="language">{language_badge(ticket)}</span>'
        f'<span class="fact" data-field="sla">SLA {sla_element(ticket)}</span>'
        "</div>"
        f'<p class="owner" id="owner">{_e(owner_text(ticket.get("control") or {}))}</p>'
        f"{reply_window_note(ticket)}</div>"
    )


def reply_window_note(ticket: Mapping[str, Any]) -> str:
    """For a messenger conversation: whether a reply can reach the customer, and why not."""
    window = ticket.get("reply_window")
    if not window:
        return ""
    channel = _e(window.get("channel"))
    if not window.get("open") and window.get("agent_open"):
        return (
            '<p class="reply-window reply-window--closed" id="reply-window" role="alert">'
            f"The bot can no longer reply on {channel} ({_e(window.get('reason'))}); your own replies "
            "still go, marked as from a person, for 7 days after the customer's last message.</p>"
        )
    if not window.get("open"):
        return (
            '<p class="reply-window reply-window--closed" id="reply-window" role="alert">'
            f"The {channel} reply window is closed: {_e(window.get('reason'))}</p>"
        )
    failure = window.get("last_failure")
    if failure:
        return (
            '<p class="reply-window reply-window--failed" id="reply-window" role="alert">'
            f"The last reply on {channel} did not reach the customer ({_e(failure.get('kind'))}, "
            f"{_e(failure.get('at'))}).</p>"
        )
    return (
        f'<p class="reply-window" id="reply-window">On {channel}; the customer last wrote at '
        f"{_e(window.get('last_inbound'))}.</p>"
    )


def conversation_column(ticket: Mapping[str, Any], session: AgentSession) -> str:
    lines = "".join(transcript_line(line) for line in ticket.get("transcript") or [])
    mine = held_by(ticket, session.username)
    can_work = is_open(ticket)
    claim_hidden = " hidden" if mine or not can_work else ""
    locked = "" if mine and can_work else " disabled"
    return (
        '<section class="card conversation"><h2>Conversation</h2>'
        f'<ol class="transcript" id="transcript" aria-live="polite">{lines}</ol>'
        f'<form id="claim-form" class="actions"{claim_hidden} method="post">'
        '<button type="submit" class="button button--primary">Claim conversation</button>'
        '<span class="muted">Claiming stops the bot and lets you reply.</span></form>'
        f'<form id="message-form" class="stack" method="post"><fieldset{locked}>'
        '<label>Reply to the customer <textarea name="text" rows="3" maxlength="4000" required '
        'placeholder="Claim the conversation to reply. Ctrl+Enter sends."></textarea></label>'
        '<button type="submit" class="button button--primary">Send message</button></fieldset></form>'
        f'<form id="handback-form" class="stack" method="post"><fieldset{locked}>'
        "<label>Hand back to the bot: summary for the record "
        '<textarea name="summary" rows="2" maxlength="4000" required></textarea></label>'
        '<button type="submit" class="button">Hand back to bot</button></fieldset></form></section>'
    )


def case_card(ticket: Mapping[str, Any]) -> str:
    customer = ticket.get("customer") or {}
    verification = customer.get("verification") or {}
    methods = ", ".join(verification.get("methods") or []) or "none"
    activity = "".join(activity_item(a) for a in ticket.get("reported_activity") or [] if isinstance(a, dict))
    activity = activity or '<li class="empty">None reported.</li>'
    return (
        '<section class="card"><h2>Case</h2><dl class="facts">'
        f"<dt>Customer</dt><dd data-field=\"customer_name\">{_e(customer.get('display_name_masked') or 'unknown')}</dd>"
        f"<dt>Account ref</dt><dd><code data-field=\"account_ref\">{_e(customer.get('account_ref') or 'not linked')}"
        "</code></dd>"
        f"<dt>Verified by</dt><dd data-field=\"verified_by\">{_e(methods)}</dd>"
        f"<dt>Created</dt><dd>{_e(short_time(ticket.get('created_at', '')))} UTC</dd>"
        f"<dt>Queue</dt><dd>{_e(ticket.get('queue'))}</dd></dl>"
        f'<h3>Summary</h3><p class="summary" data-field="summary">{_e(ticket.get("summary") or "No summary.")}</p>'
        "<h3>Reported activity</h3>"
        f'<ul class="plain-list" data-field="reported_activity">{activity}</ul>'
        f"<h3>Suspicious IPs</h3>{text_list(ticket.get('suspicious_ips') or [], 'None.', 'suspicious_ips')}"
        f"<h3>Actions taken</h3>{text_list(ticket.get('actions_taken') or [], 'None yet.', 'actions_taken')}"
        "</section>"
    )


def tags_card(ticket: Mapping[str, Any]) -> str:
    chips = "".join(
        f'<li class="tag"><span>{_e(tag)}</span><button type="button" class="tag__remove" data-tag="{_e(tag)}" '
        f'aria-label="Remove tag {_e(tag)}">×</button></li>'
        for tag in ticket.get("tags") or []
    )
    return (
        '<section class="card"><h2>Tags</h2>'
        f'<ul class="tags" id="tags">{chips}</ul>'
        '<form id="tag-form" class="inline-form" method="post">'
        '<label class="visually-hidden" for="tag-input">Tags to add</label>'
        '<input id="tag-input" name="tags" placeholder="word or word:value" maxlength="200" required>'
        '<button type="submit" class="button">Add</button></form></section>'
    )


def notes_card() -> str:
    return (
        '<section class="card card--internal"><h2>Notes <span class="internal">internal, never shown to the customer'
        '</span></h2><ol class="notes" id="notes"><li class="empty">Loading…</li></ol>'
        '<form id="note-form" class="stack" method="post"><label>Add a note '
        '<textarea name="text" rows="2" maxlength="4000" required></textarea></label>'
        '<button type="submit" class="button">Add note</button></form></section>'
    )


UNVERIFIED_NOTICE = (
    "This customer was never verified, so no email can reach them: only the chat can be used. "
    "Ask them in the chat to verify (the bot sends a code to their account's address) before resolving."
)


def customer_verified(ticket: Mapping[str, Any]) -> bool:
    customer = ticket.get("customer") or {}
    return bool(customer.get("account_ref")) and (customer.get("verification") or {}).get("level", "none") != "none"


def resolve_card(ticket: Mapping[str, Any]) -> str:
    disabled = "" if is_open(ticket) else " disabled"
    hidden = " hidden" if customer_verified(ticket) else ""
    return (
        '<section class="card"><h2>Resolve</h2>'
        f'<p class="notice notice--warning" id="unverified-notice" role="status"{hidden}>{_e(UNVERIFIED_NOTICE)}</p>'
        f'<form id="resolve-form" class="stack" method="post"><fieldset{disabled}>'
        "<label>Resolution (a verified customer is also told by email) "
        '<textarea name="resolution" rows="2" maxlength="4000" required></textarea></label>'
        '<button type="submit" class="button button--danger">Resolve ticket</button></fieldset></form></section>'
    )


def audit_card() -> str:
    return (
        '<section class="card"><h2>Audit trail</h2>'
        '<button type="button" class="button button--quiet" id="audit-refresh">Refresh</button>'
        '<div class="table-wrap"><table class="audit"><thead><tr><th>At (UTC)</th><th>Action</th><th>Actor</th>'
        '<th>Detail</th></tr></thead><tbody id="audit-rows"><tr><td colspan="4">Loading…</td></tr></tbody>'
        "</table></div></section>"
    )


def ticket_page(session: AgentSession, ticket: Mapping[str, Any]) -> str:
    side = case_card(ticket) + tags_card(ticket) + notes_card()
    if session.can("resolve"):
        side += resolve_card(ticket)
    if session.can("audit"):
        side += audit_card()
    body = (
        '<main class="page">'
        '<p class="crumbs"><a href="/console/">← Queue</a> <span class="live" id="live" data-state="off">'
        "Connecting…</span></p>"
        f'{ticket_header(ticket)}<div id="status" class="status" role="status" aria-live="polite"></div>'
        f'<div class="columns"><div class="columns__main">{conversation_column(ticket, session)}</div>'
        f'<aside class="columns__side">{side}</aside></div></main>'
    )
    data = f' data-ticket-id="{_e(ticket.get("id"))}" data-agent="{_e(session.username)}"'
    return document(str(ticket.get("id")), body, "ticket", session, data)


def declare_form() -> str:
    answers = "".join(
        f'<label>{_e(label)} <textarea name="answer_{_e(key)}" rows="2" maxlength="{MAX_ANSWER}"'
        f"{' required' if key == 'am_i_affected' else ''}></textarea></label>"
        for key, label in ANSWER_LABELS.items()
        if key in ANSWER_KEYS
    )
    kinds = "".join(
        f'<label class="choice"><input type="checkbox" name="exposed_data" value="{_e(kind)}"> '
        f"{_e(_words(kind))}</label>"
        for kind in DATA_KINDS
    )
    return (
        '<section class="card"><h2>Declare an incident</h2>'
        '<form id="declare-form" class="stack" method="post" autocomplete="off">'
        f'<label>Title <input name="title" maxlength="{MAX_TITLE}" required></label>'
        '<label>Started (your local time; empty means now) <input type="datetime-local" name="started_at"></label>'
        '<label>Owner <input name="owner" maxlength="100" required placeholder="who leads the response"></label>'
        f'<fieldset class="group"><legend>Approved answers</legend>{answers}</fieldset>'
        f'<fieldset class="group choices"><legend>Data known to be exposed</legend>{kinds}</fieldset>'
        '<button type="submit" class="button button--primary">Declare incident</button>'
        '<p class="form-status" role="status" aria-live="polite"></p></form></section>'
    )


def bulk_tag_form() -> str:
    return (
        '<section class="card"><h2>Tag tickets in bulk</h2>'
        '<form id="bulk-tag-form" class="stack" method="post" autocomplete="off">'
        "<label>Ticket ids (separated by spaces or commas) "
        '<textarea name="ticket_ids" rows="2" maxlength="20000" required placeholder="RD-12 RD-15"></textarea></label>'
        '<label>Tags to add <input name="add" maxlength="400" placeholder="need:complaint"></label>'
        '<label>Tags to remove <input name="remove" maxlength="400"></label>'
        '<button type="submit" class="button">Apply tags</button>'
        '<p class="form-status" role="status" aria-live="polite"></p></form></section>'
    )


def incidents_page(session: AgentSession) -> str:
    body = (
        '<main class="page">'
        '<div class="page__head"><h1>Incidents</h1>'
        '<button type="button" class="button button--quiet" id="incidents-refresh">Refresh</button></div>'
        '<div id="status" class="status" role="status" aria-live="polite"></div>'
        '<div class="columns"><div class="columns__main">'
        '<ol class="incident-list" id="incident-list" aria-live="polite"><li class="empty">Loading…</li></ol></div>'
        f'<aside class="columns__side">{declare_form()}{bulk_tag_form()}</aside></div></main>'
    )
    return document("Incidents", body, "incidents", session, extra=("incidents",))


def message_page(session: AgentSession | None, title: str, text: str) -> str:
    body = (
        f'<main class="page"><h1>{_e(title)}</h1><p>{_e(text)}</p>'
        '<p><a href="/console/">Back to the queue</a></p></main>'
    )
    return document(title, body, "message", session)


# ---------------------------------------------------------------- HTTP plumbing


def _set_cookie(resp: response.HTTPResponse, name: str, value: str, path: str, secure: bool) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["path"] = path
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    if secure:
        cookie["secure"] = True


def _clear_cookie(resp: response.HTTPResponse, name: str, path: str) -> None:
    resp.cookies[name] = ""
    resp.cookies[name]["path"] = path
    resp.cookies[name]["max-age"] = 0


def _html(body: str, status: int = 200) -> response.HTTPResponse:
    return response.html(body, status=status)


def _see_other(location: str) -> response.HTTPResponse:
    return response.redirect(location, status=303)


def _form_field(request: Request, name: str) -> str:
    value = request.form.get(name) if request.form else None
    return value if isinstance(value, str) and len(value) <= MAX_FIELD else ""


async def current_session(request: Request) -> AgentSession | None:
    token = request.cookies.get(SESSION_COOKIE, "")
    return await services(request).agents.session(token) if token else None


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def _login_form(error: str = "", status: int = 200, secure: bool = False) -> response.HTTPResponse:
    token = secrets.token_urlsafe(24)
    resp = _html(login_page(token, error), status)
    _set_cookie(resp, LOGIN_CSRF_COOKIE, token, LOGIN_PATH, secure)
    return resp


async def console_headers(request: Request, resp: response.HTTPResponse) -> None:
    if request.path == "/console" or request.path.startswith("/console/"):
        for name, value in CONSOLE_HEADERS.items():
            resp.headers[name] = value


async def login_form(request: Request) -> response.HTTPResponse:
    if await current_session(request):
        return _see_other(HOME_PATH)
    return _login_form(secure=request.scheme == "https")


async def console_login(request: Request) -> response.HTTPResponse:
    secure = request.scheme == "https"
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    # Double-submit: a cross-site form cannot read or set our cookie, so it cannot match it.
    if not expected or not secrets.compare_digest(expected, _form_field(request, "csrf")):
        return _login_form(FORM_EXPIRED, 403, secure)
    username, password, code = (_form_field(request, name) for name in ("username", "password", "totp"))
    agents = services(request).agents
    try:
        token, _session = await agents.sign_in(username, password, code, via="console")
    except SignInFailed:
        return _login_form(SIGN_IN_FAILED, 401, secure)
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await agents.end_session(previous)
    resp = _see_other(HOME_PATH)
    _set_cookie(resp, SESSION_COOKIE, token, "/", secure)
    _clear_cookie(resp, LOGIN_CSRF_COOKIE, LOGIN_PATH)
    return resp


async def console_logout(request: Request) -> response.HTTPResponse:
    session = await current_session(request)
    if session is not None:
        if not secrets.compare_digest(session.csrf_token, _form_field(request, "csrf")):
            return _html(message_page(session, "Not signed out", "The page was stale; sign out again."), 403)
        await services(request).agents.sign_out(request.cookies.get(SESSION_COOKIE, ""), session, via="console")
    resp = _see_other(LOGIN_PATH)
    _clear_cookie(resp, SESSION_COOKIE, "/")
    return resp


async def queue(request: Request) -> response.HTTPResponse:
    session = await current_session(request)
    if session is None:
        return _see_other(LOGIN_PATH)
    status = _choice(request.args.get("status"), STATUSES)
    priority = _choice(request.args.get("priority"), PRIORITIES)
    language = _choice(request.args.get("language"), LANGUAGES)
    tickets = await services(request).tickets.queue(status, None, priority, language)
    return _html(queue_page(session, [t.to_dict() for t in tickets], status, priority, language))


async def ticket(request: Request, ticket_id: str) -> response.HTTPResponse:
    session = await current_session(request)
    if session is None:
        return _see_other(LOGIN_PATH)
    if not session.can("read"):
        return _html(message_page(session, "Cannot open this ticket", f"The {session.role} role cannot do this."), 403)
    try:
        found = await services(request).tickets.read(session, ticket_id) if is_ticket_id(ticket_id) else None
    except NotFound:
        found = None
    if found is None:
        return _html(message_page(session, "No such ticket", f"There is no ticket {ticket_id}."), 404)
    return _html(ticket_page(session, found))


async def incidents(request: Request) -> response.HTTPResponse:
    session = await current_session(request)
    if session is None:
        return _see_other(LOGIN_PATH)
    if not session.can("incidents"):
        return _html(message_page(session, "Not allowed", "Only supervisors can manage incidents."), 403)
    return _html(incidents_page(session))


async def asset(_request: Request, name: str) -> response.HTTPResponse:
    if name not in ASSETS:
        return _html(message_page(None, "Not found", "There is no such file."), 404)
    return await response.file(STATIC / name)


ROUTES = [
    Route("GET", LOGIN_PATH, login_form),
    Route("POST", LOGIN_PATH, console_login),
    Route("POST", "/console/logout", console_logout),
    Route("GET", HOME_PATH, queue),
    Route("GET", "/console/tickets/<ticket_id>", ticket),
    Route("GET", "/console/incidents", incidents),
    Route("GET", "/console/static/<name>", asset),
]
