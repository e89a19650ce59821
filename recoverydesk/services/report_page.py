"""The daily report as an HTML page: tables and bar charts drawn server-side as SVG.

No script and no inline style: colours are SVG presentation attributes, layout comes from
report.css, so the console's strict Content-Security-Policy holds. Every value is escaped.
"""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any, Iterable, Optional

from recoverydesk.domain.triage import PRIORITIES
from recoverydesk.settings import ROOT

STYLESHEET = ROOT / "helpdesk_plugin" / "web" / "static" / "report.css"  # the console serves the same file
BAR_COLOUR = "#2f6fb0"
SECOND_COLOUR = "#e0913a"
ROW_HEIGHT = 22
LABEL_WIDTH = 190
BAR_WIDTH = 360


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _label(key: str) -> str:
    return key.split(":", 1)[-1].replace("_", " ")


def minutes(seconds: Optional[float]) -> str:
    return "—" if seconds is None else f"{seconds / 60:.1f} min"


def percent(rate: Optional[float]) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def bar_chart(chart_id: str, title: str, items: list[tuple[str, float, str]], scale: Optional[float] = None) -> str:
    """Horizontal bars: (label, value, shown text) per row."""
    top = max([scale or 0.0] + [value for _, value, _ in items]) or 1.0
    height = max(1, len(items)) * ROW_HEIGHT + 8
    rows = []
    for index, (label, value, shown) in enumerate(items):
        y = 4 + index * ROW_HEIGHT
        width = round(BAR_WIDTH * value / top, 1)
        rows.append(
            f'<g class="bar" data-label="{_e(label)}" data-value="{_e(value)}">'
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" font-size="12" fill="#333">{_e(label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 2}" width="{width}" height="{ROW_HEIGHT - 6}" fill="{BAR_COLOUR}"></rect>'
            f'<text x="{LABEL_WIDTH + width + 4}" y="{y + 14}" font-size="12" fill="#333">{_e(shown)}</text></g>'
        )
    if not items:
        rows.append(f'<text x="{LABEL_WIDTH}" y="16" font-size="12" fill="#777">No data</text>')
    total_width = LABEL_WIDTH + BAR_WIDTH + 90
    return (
        f'<figure class="chart" id="chart-{_e(chart_id)}" data-chart="{_e(chart_id)}">'
        f"<figcaption>{_e(title)}</figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(title)}" width="{total_width}" '
        f'height="{height}" viewBox="0 0 {total_width} {height}">{"".join(rows)}</svg></figure>'
    )


def paired_chart(chart_id: str, title: str, items: list[tuple[str, Optional[float], Optional[float]]]) -> str:
    """Two bars per row (p50 and p90 first-response minutes)."""
    values = [v for _, a, b in items for v in (a, b) if v is not None]
    top = max(values + [1.0])
    height = max(1, len(items)) * ROW_HEIGHT * 2 + 28
    rows = []
    for index, (label, first, second) in enumerate(items):
        y = 4 + index * ROW_HEIGHT * 2
        parts = [
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 18}" text-anchor="end" font-size="12" fill="#333">{_e(label)}</text>'
        ]
        for offset, value, colour, name in (
            (0, first, BAR_COLOUR, "p50"),
            (ROW_HEIGHT - 4, second, SECOND_COLOUR, "p90"),
        ):
            width = 0.0 if value is None else round(BAR_WIDTH * value / top, 1)
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + offset + 2}" width="{width}" height="{ROW_HEIGHT - 8}" '
                f'fill="{colour}" data-series="{name}"></rect>'
                f'<text x="{LABEL_WIDTH + width + 4}" y="{y + offset + 13}" font-size="11" fill="#333">'
                f"{name} {_e(minutes(None if value is None else value * 60))}</text>"
            )
        rows.append(f'<g class="bar" data-label="{_e(label)}">{"".join(parts)}</g>')
    total_width = LABEL_WIDTH + BAR_WIDTH + 120
    return (
        f'<figure class="chart" id="chart-{_e(chart_id)}" data-chart="{_e(chart_id)}">'
        f"<figcaption>{_e(title)}</figcaption>"
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(title)}" width="{total_width}" '
        f'height="{height}" viewBox="0 0 {total_width} {height}">{"".join(rows)}</svg></figure>'
    )


def table(table_id: str, caption: str, head: list[str], rows: list[Iterable[Any]], empty: str = "None.") -> str:
    header = "".join(f'<th scope="col">{_e(h)}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    body = body or f'<tr class="empty"><td colspan="{len(head)}">{_e(empty)}</td></tr>'
    return (
        f'<div class="table-wrap"><table class="report-table" id="table-{_e(table_id)}">'
        f"<caption>{_e(caption)}</caption>"
        f"<thead><tr>{header}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def report_body(report: dict[str, Any]) -> str:
    contacts, outcomes = report["contacts"], report["outcomes"]
    needs = [(n, c) for n, c in contacts["by_need"].items()]
    channels = sorted(contacts["by_channel"])
    summary = (
        '<dl class="kpis" id="kpis">'
        f'<div><dt>Contacts</dt><dd data-kpi="contacts">{_e(contacts["total"])}</dd></div>'
        "<div><dt>Contained by the bot</dt>"
        f'<dd data-kpi="containment">{_e(percent(outcomes["containment_rate"]))}</dd></div>'
        f'<div><dt>Handed off</dt><dd data-kpi="handoff">{_e(percent(outcomes["handoff_rate"]))}</dd></div>'
        f'<div><dt>Tickets created</dt><dd data-kpi="tickets">{_e(report["tickets"]["created"])}</dd></div>'
        f'<div><dt>SLA breaches</dt><dd data-kpi="breaches">{_e(len(report["breaches"]))}</dd></div>'
        f'<div><dt>Backlog</dt><dd data-kpi="backlog">{_e(report["backlog"]["total"])}</dd></div>'
        f'<div><dt>Alerts</dt><dd data-kpi="alerts">{_e(report["escalations"]["total"])}</dd></div></dl>'
    )
    charts = "".join(
        [
            bar_chart(
                "channels",
                "Contacts by channel",
                [(c, contacts["by_channel"][c], str(contacts["by_channel"][c])) for c in channels],
            ),
            bar_chart("needs", "Contacts by need", [(_label(n), c, str(c)) for n, c in needs]),
            bar_chart(
                "outcomes",
                "Outcome of contacts",
                [
                    ("contained by the bot", outcomes["contained"], str(outcomes["contained"])),
                    ("handed off", outcomes["handed_off"], str(outcomes["handed_off"])),
                ],
            ),
            bar_chart(
                "verification",
                "Verification outcomes",
                [(_label(k), v, str(v)) for k, v in report["verification"].items()],
            ),
            paired_chart(
                "first-response",
                "First response time by priority (minutes)",
                [
                    (
                        p,
                        _min(report["first_response"][p]["p50_seconds"]),
                        _min(report["first_response"][p]["p90_seconds"]),
                    )
                    for p in PRIORITIES
                ],
            ),
            bar_chart(
                "sla",
                "SLA compliance by priority",
                [
                    (p, report["sla"][p]["compliance"] or 0.0, percent(report["sla"][p]["compliance"]))
                    for p in PRIORITIES
                ],
                scale=1.0,
            ),
            bar_chart(
                "backlog", "Backlog by age", [(_label(k), v, str(v)) for k, v in report["backlog"]["by_age"].items()]
            ),
        ]
    )
    by_channel_need = contacts["by_channel_and_need"]
    need_names = [n for n, _ in needs]
    tables = "".join(
        [
            table(
                "contacts",
                "Contacts by channel and need",
                ["channel", *(_label(n) for n in need_names), "contacts"],
                [
                    [c, *(by_channel_need.get(c, {}).get(n, 0) for n in need_names), contacts["by_channel"][c]]
                    for c in channels
                ],
                "No contacts this day.",
            ),
            table(
                "priorities",
                "First response and SLA by priority",
                ["priority", "tickets", "responded", "p50", "p90", "met", "breached", "pending", "compliance"],
                [
                    [
                        p,
                        report["first_response"][p]["tickets"],
                        report["first_response"][p]["responded"],
                        minutes(report["first_response"][p]["p50_seconds"]),
                        minutes(report["first_response"][p]["p90_seconds"]),
                        report["sla"][p]["met"],
                        report["sla"][p]["breached"],
                        report["sla"][p]["pending"],
                        percent(report["sla"][p]["compliance"]),
                    ]
                    for p in PRIORITIES
                ],
            ),
            table(
                "breaches",
                "SLA breaches",
                ["ticket", "priority", "created", "due", "first response", "late by"],
                [
                    [
                        b["ticket_id"],
                        b["priority"],
                        b["created_at"],
                        b["sla_due_at"],
                        b["first_response_at"] or "none yet",
                        minutes(b["late_by_seconds"]),
                    ]
                    for b in report["breaches"]
                ],
                "No SLA breaches.",
            ),
            table(
                "escalations",
                "Escalations (alerts to on-call)",
                ["ticket", "rule", "priority", "condition since", "alerted at", "time to alert", "mailed"],
                [
                    [
                        a["ticket_id"],
                        _label(a["rule"]),
                        a["priority"],
                        a["condition_at"],
                        a["sent_at"],
                        minutes(a["time_to_alert_seconds"]),
                        "yes" if a["delivered"] else "no",
                    ]
                    for a in report["escalations"]["alerts"]
                ],
                "No alerts.",
            ),
            table(
                "backlog",
                f"Backlog as of {report['backlog']['as_of']}",
                ["age", "tickets"],
                [[_label(k), v] for k, v in report["backlog"]["by_age"].items()],
            ),
        ]
    )
    return (
        f'<main class="page report" data-date="{_e(report["date"])}"><div class="page__head">'
        f"<h1>Daily report {_e(report['date'])}</h1>"
        f'<form class="filters" method="get" action="/console/report"><label>Day (UTC) '
        f'<input type="date" name="date" value="{_e(report["date"])}"></label>'
        '<button type="submit" class="button button--quiet">Show</button></form></div>'
        f'<p class="muted">Generated {_e(report["generated_at"])}; times in UTC.</p>'
        f'{summary}<section class="charts">{charts}</section><section class="tables">{tables}</section></main>'
    )


def _min(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else seconds / 60


def _embedded_style() -> str:
    return "\n" + STYLESHEET.read_text()


def embedded_style_hash() -> str:
    """For a Content-Security-Policy that allows exactly this embedded stylesheet and nothing else."""
    return "sha256-" + base64.b64encode(hashlib.sha256(_embedded_style().encode()).digest()).decode()


def standalone_page(report: dict[str, Any]) -> str:
    """The page as one file (the CLI's --format html): the stylesheet is embedded."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>Recovery Desk daily report {_e(report['date'])}</title>\n"
        f"<style>{_embedded_style()}</style>\n</head>\n<body>\n{report_body(report)}\n</body>\n</html>\n"
    )
