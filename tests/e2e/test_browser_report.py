"""The daily report page in a real browser: SVG charts and tables render under the console's CSP."""

import asyncio
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.contact_log import ContactLog
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.contacts import contact_for
from recoverydesk.domain.tickets import claim, iso, new_ticket
from recoverydesk.services.bootstrap import audit_log_for, database_for
from recoverydesk.settings import Settings
from tests.support.browser import sign_in_to_console, signed_in_page, watch_problems
from tests.support.servers import sign_in as api_sign_in

pytestmark = pytest.mark.browser

DAY = "2025-07-01"
START = datetime(2025, 7, 1, tzinfo=timezone.utc)
CHANNELS = {"webchat": 7, "telegram": 4, "whatsapp": 2}


async def seed_day(settings: Settings) -> int:
    """Contacts on three channels, some handed off, one ticket answered late; returns the contacts."""
    client = Redis.from_url(settings.require_redis_url())
    database = database_for(settings)  # the stack's own system of record, where its plugin reads
    try:
        contacts, store, audit = ContactLog(client), TicketStore(client), audit_log_for(settings, database)
        number = 0
        for channel, count in CHANNELS.items():
            for index in range(count):
                number += 1
                started = START + timedelta(hours=number)
                ticket_id = None
                if index % 2 == 0:
                    payload = {
                        "priority": "urgent" if index == 0 else "high",
                        "channel": channel,
                        "conversation_id": f"browser-{secrets.token_hex(8)}",
                        "tags": ["need:password_reset"],
                    }
                    ticket = new_ticket(await store.next_id(), payload, started)
                    await store.create(ticket, secrets.token_hex(8), started.timestamp())
                    answered = started + timedelta(minutes=5 if index else 40)
                    await store.update(ticket.id, lambda t: claim(t, "sam"))
                    await audit.record("ticket.claimed", "sam", ticket.id, at=answered)
                    ticket_id = ticket.id
                record = contact_for(
                    f"browser-{secrets.token_hex(8)}",
                    iso(started),
                    iso(started),
                    channel,
                    "other",
                    "low",
                    ["need:password_reset"],
                    "basic",
                    ticket_id,
                )
                await contacts.save(record, started.timestamp())
        return number
    finally:
        await client.close()
        await database.dispose()


@pytest.fixture(scope="module")
def seeded(stack):
    return asyncio.run(seed_day(stack.settings))


def test_supervisor_sees_svg_charts_and_tables_of_the_day(seeded, supervisor, context, settings):
    page = context.new_page()
    problems = watch_problems(page)
    sign_in_to_console(page, settings.helpdesk_url, supervisor)
    page.click("#report-link")
    page.wait_for_url(f"{settings.helpdesk_url}/console/report")
    page.goto(f"{settings.helpdesk_url}/console/report?date={DAY}")

    assert page.inner_text("h1") == f"Daily report {DAY}"
    assert page.inner_text("[data-kpi=contacts]") == str(seeded)
    charts = page.locator("figure.chart")
    assert charts.count() == 7
    for index in range(charts.count()):
        box = charts.nth(index).locator("svg").bounding_box()
        assert box and box["width"] > 300 and box["height"] > 10

    bars = page.locator("#chart-channels g.bar")
    assert bars.count() == len(CHANNELS)
    widths = {
        bars.nth(i).get_attribute("data-label"): float(bars.nth(i).locator("rect").get_attribute("width"))
        for i in range(bars.count())
    }
    assert widths["webchat"] > widths["telegram"] > widths["whatsapp"] > 0
    rendered = page.locator("#chart-channels rect").first.bounding_box()
    assert rendered and rendered["width"] > 50  # drawn, not just present in the markup

    rows = page.locator("#table-contacts tbody tr")
    assert rows.count() == len(CHANNELS)
    assert page.locator("#table-contacts tbody tr", has_text="webchat").locator("td").last.inner_text() == "7"
    breaches = page.locator("#table-breaches tbody tr")
    assert breaches.count() == len(CHANNELS)  # each channel's urgent ticket was answered after 40 minutes
    assert all("urgent" in breaches.nth(i).inner_text() for i in range(breaches.count()))
    assert "No alerts." in page.inner_text("#table-escalations")
    assert page.locator("script").count() == 0
    assert problems == []

    page.fill("input[name=date]", "2025-06-30")
    page.click("form.filters button")
    page.wait_for_url(f"{settings.helpdesk_url}/console/report?date=2025-06-30")
    assert page.inner_text("[data-kpi=contacts]") == "0"
    assert "No contacts this day." in page.inner_text("#table-contacts")


def test_the_report_page_is_for_supervisors_only(agent, context, settings):
    page = signed_in_page(context, settings.helpdesk_url, agent)
    assert page.locator("#report-link").count() == 0
    reply = page.goto(f"{settings.helpdesk_url}/console/report")
    assert reply.status == 403 and "Only supervisors" in page.inner_text("main")


@pytest.fixture
def supervisor_token(settings, supervisor):
    return asyncio.run(api_sign_in(settings.helpdesk_url, supervisor))


def test_the_downloadable_page_is_styled_under_a_hash_only_policy(seeded, supervisor_token, context, settings):
    """The html format embeds its stylesheet; the policy allows exactly that block, no inline anything else."""
    token = supervisor_token
    page = context.new_page()
    blocked = []
    page.on("console", lambda msg: blocked.append(msg.text) if "Content Security Policy" in msg.text else None)
    page.set_extra_http_headers({"Authorization": f"Bearer {token}"})
    reply = page.goto(f"{settings.helpdesk_url}/api/v1/reports/daily?date={DAY}&format=html")
    assert "unsafe-inline" not in reply.headers["content-security-policy"]
    assert page.locator("figure.chart svg").count() == 7
    assert "system-ui" in page.evaluate("getComputedStyle(document.querySelector('.report')).fontFamily")
    assert blocked == []
