"""`recoverydesk report daily` on a generated day of traffic, checked against the plan's own counts."""

import csv
import io
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.database import create_engine
from recoverydesk.settings import ROOT
from tests.support import crisis_traffic as traffic
from tests.support.databases import AUDIT_KEY, sqlalchemy_url, sqlite_database

REPORT_DB = 7


@dataclass(frozen=True)
class Stores:
    """Where the generated day was played: a Redis database and a SQL database of its own."""

    redis_url: str
    database_url: str


@pytest.fixture(scope="module")
def generated_day(redis_server, smtp_server, tmp_path_factory):
    """The plan, played once into a Redis database and a SQLite file of its own; returns (plan, stores)."""
    import asyncio

    url = f"redis://127.0.0.1:{redis_server.port}/{REPORT_DB}"
    database_url = sqlite_database(tmp_path_factory.mktemp("report-sql"))
    plan = traffic.make_plan()

    async def run() -> None:
        client = Redis.from_url(url)
        engine = create_engine(sqlalchemy_url(database_url))
        try:
            await traffic.play(plan, client, smtp_server.port, AuditLog(engine, AUDIT_KEY))
        finally:
            await client.close()
            await engine.dispose()

    asyncio.run(run())
    return plan, Stores(url, database_url)


def report_cli(stores: Stores, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "REDIS_URL": stores.redis_url,
        "DATABASE_URL": stores.database_url,
        "RECOVERYDESK_SECRET_KEY": secrets.token_urlsafe(48),
        "RECOVERYDESK_VAR_DIR": str(tmp_path),
        "PYTHONPATH": str(ROOT),
    }
    return subprocess.run(
        [sys.executable, "-m", "recoverydesk.ops.cli", "report", "daily", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_generated_day_is_big_enough_to_mean_something(generated_day):
    plan, _ = generated_day
    day = [c for c in plan.contacts if 0 <= c.started < 86_400]
    assert len(day) >= 400 and sum(1 for c in day if c.ticket) >= 150
    assert {c.channel for c in day} == set(traffic.CHANNELS)
    assert {t.priority for t in plan.tickets} == set(traffic.PRIORITIES)


def test_report_figures_match_counts_computed_from_the_plan(generated_day, tmp_path):
    plan, url = generated_day
    want = traffic.expected(plan)
    result = report_cli(url, tmp_path, "--date", traffic.DAY.isoformat(), "--format", "json")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)

    assert got["date"] == "2026-03-14"
    assert got["contacts"]["total"] == want["contacts_total"]
    assert got["contacts"]["by_channel"] == want["by_channel"]
    assert got["contacts"]["by_need"] == want["by_need"]
    assert got["contacts"]["by_channel_and_need"] == want["by_channel_and_need"]
    assert got["contacts"]["by_incident"] == {traffic.INCIDENT_ID: 9}
    assert (got["outcomes"]["contained"], got["outcomes"]["handed_off"]) == (want["contained"], want["handed_off"])
    assert got["outcomes"]["containment_rate"] == round(want["contained"] / want["contacts_total"], 4)
    assert got["outcomes"]["handoff_rate"] == round(want["handed_off"] / want["contacts_total"], 4)
    assert got["verification"] == want["verification"]
    assert got["tickets"]["by_priority"] == want["tickets_by_priority"]
    assert got["first_response"] == want["first_response"]
    assert got["sla"] == want["sla"]
    assert sorted(b["ticket_id"] for b in got["breaches"]) == want["breach_ids"]
    assert got["backlog"]["as_of"] == "2026-03-15T00:00:00Z"
    assert got["backlog"]["total"] == want["backlog_total"]
    assert {k: v for k, v in got["backlog"]["by_age"].items() if v} == want["backlog_by_age"]
    assert got["backlog"]["by_priority"] == want["backlog_by_priority"]
    alerts = sorted((a["rule"], a["ticket_id"], a["time_to_alert_seconds"]) for a in got["escalations"]["alerts"])
    assert alerts == want["alerts"]
    assert {rule for rule, _, _ in alerts} == {"urgent_unclaimed", "sla_breach", "new_exposed_data"}
    assert all(a["delivered"] for a in got["escalations"]["alerts"])
    # A check a minute: no alert waits longer than that once its condition holds within the day.
    assert all(0 <= delay < 60 for rule, ticket, delay in alerts if rule == "new_exposed_data")


def test_new_exposed_data_alerts_once_per_kind(generated_day, tmp_path):
    plan, url = generated_day
    got = json.loads(report_cli(url, tmp_path, "--date", traffic.DAY.isoformat()).stdout)
    exposed = [a for a in got["escalations"]["alerts"] if a["rule"] == "new_exposed_data"]
    assert len(exposed) == 2  # a passport and a date of birth; the email was already known


def test_report_csv_carries_the_same_figures(generated_day, tmp_path):
    plan, url = generated_day
    want = traffic.expected(plan)
    result = report_cli(url, tmp_path, "--date", traffic.DAY.isoformat(), "--format", "csv")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == ["section", "metric", "value"]
    table = {(section, metric): value for section, metric, value in rows[1:]}
    assert table[("contacts", "total")] == str(want["contacts_total"])
    assert table[("outcomes", "handed_off")] == str(want["handed_off"])
    assert table[("sla", "urgent.breached")] == str(want["sla"]["urgent"]["breached"])
    assert table[("backlog", "total")] == str(want["backlog_total"])


def test_report_html_has_svg_charts_and_no_script(generated_day, tmp_path):
    _, url = generated_day
    result = report_cli(url, tmp_path, "--date", traffic.DAY.isoformat(), "--format", "html")
    assert result.returncode == 0, result.stderr
    page = result.stdout
    assert page.startswith("<!doctype html>") and page.count("<svg") >= 7
    assert "<script" not in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert 'id="table-breaches"' in page and 'id="table-escalations"' in page


def test_a_malformed_date_is_one_sentence_on_stderr(generated_day, tmp_path):
    _, url = generated_day
    result = report_cli(url, tmp_path, "--date", "14/03/2026")
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.strip().count("\n") == 0 and "YYYY-MM-DD" in result.stderr


def test_a_day_without_traffic_reports_zeros_not_errors(generated_day, tmp_path):
    _, url = generated_day
    got = json.loads(report_cli(url, tmp_path, "--date", "2020-01-01").stdout)
    assert got["contacts"]["total"] == 0 and got["outcomes"]["containment_rate"] is None
    assert got["first_response"]["urgent"]["p50_seconds"] is None and got["breaches"] == []
