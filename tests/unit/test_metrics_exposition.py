"""The ``/metrics`` exposition without a server: the Redis hash turned into prometheus-client
families (numeric bucket order), the on-call gauges, and the deploy kit's alert rules and Grafana
dashboard naming only metrics the exposition has."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from recoverydesk.adapters.metrics import counter_families, exposition
from recoverydesk.adapters.outbox_backlog import Backlog
from recoverydesk.domain.tickets import new_ticket
from recoverydesk.services.operations import gauge_families, summarise_queue

ROOT = Path(__file__).resolve().parents[2]
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "recoverydesk.json"
METRIC_NAME = re.compile(r"\brecoverydesk_[a-z0-9_]+\b")
# Stored as the Metrics adapter writes them, in the string order that used to break the format.
STORED = {
    'recoverydesk_turn_seconds_bucket{le="+Inf"}': 3.0,
    'recoverydesk_turn_seconds_bucket{le="10.0"}': 2.0,
    'recoverydesk_turn_seconds_bucket{le="2.5"}': 1.0,
    'recoverydesk_turn_seconds_bucket{le="30.0"}': 2.0,
    'recoverydesk_turn_seconds_bucket{le="5.0"}': 1.0,
    "recoverydesk_turn_seconds_count": 3.0,
    "recoverydesk_turn_seconds_sum": 51.5,
    'recoverydesk_turns_total{channel="webchat",outcome="answered"}': 7.0,
}


def _parse(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def _full_exposition() -> str:
    """Everything ``/metrics`` can export: every counter and histogram and every gauge with a value."""
    queue = summarise_queue([], now=0.0)
    backlogs = [Backlog("mail", 0, 0.0), Backlog("tickets", 0, 0.0)]
    return exposition(counter_families({}) + gauge_families(True, backlogs, queue, True)).decode()


def exported_names() -> set[str]:
    return {sample.name for family in _parse(_full_exposition()).values() for sample in family.samples}


def test_histogram_buckets_come_out_in_numeric_order_with_the_missing_ones_at_zero():
    text = exposition(counter_families(STORED)).decode()
    bucket_lines = [line for line in text.splitlines() if line.startswith("recoverydesk_turn_seconds_bucket")]
    bounds = [re.search(r'le="([^"]+)"', line).group(1) for line in bucket_lines]
    assert bounds == ["0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "10.0", "30.0", "+Inf"]
    values = [float(line.split(" ")[-1]) for line in bucket_lines]
    assert values == [0, 0, 0, 0, 0, 1, 1, 2, 2, 3]
    turns = _parse(text)["recoverydesk_turn_seconds"]
    assert [s.name for s in turns.samples][-2:] == ["recoverydesk_turn_seconds_sum", "recoverydesk_turn_seconds_count"]
    assert 'recoverydesk_turns_total{channel="webchat",outcome="answered"} 7.0' in text
    assert "recoverydesk_handoffs_total 0.0" in text  # a counter nobody incremented yet is there, at 0


def test_the_queue_summary_counts_open_tickets_by_priority_and_the_urgent_ones_nobody_holds():
    created = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
    tickets = [
        new_ticket(f"RD-00000{n}", {"priority": priority, "conversation_id": f"c{n}" * 20}, created)
        for n, priority in enumerate(["urgent", "urgent", "low"])
    ]
    tickets[1].control = {"owner": "agent", "agent": "alice"}
    queue = summarise_queue(tickets, now=created.timestamp() + 90)
    assert queue.open_by_priority == {"urgent": 2, "high": 0, "normal": 0, "low": 1}
    assert queue.oldest_by_priority == {"urgent": 90.0, "high": 0.0, "normal": 0.0, "low": 90.0}
    assert queue.unclaimed_urgent == 1


def test_gauges_without_redis_say_only_that_redis_is_down():
    families = _parse(exposition(gauge_families(False, (), None)).decode())
    values = {s.name: s.value for family in families.values() for s in family.samples}
    assert values == {"recoverydesk_redis_up": 0.0}


def test_the_database_gauge_reports_the_system_of_record_whether_or_not_redis_answers():
    for redis_up, database_up in ((False, True), (True, False)):
        families = _parse(exposition(gauge_families(redis_up, (), None, database_up)).decode())
        values = {s.name: s.value for family in families.values() for s in family.samples}
        assert values["recoverydesk_database_up"] == float(database_up)
        assert values["recoverydesk_redis_up"] == float(redis_up)


def _alert_expressions() -> list[str]:
    rules = [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]
    assert rules and all(rule.get("alert") and rule.get("expr") for rule in rules)
    return [str(rule["expr"]) for rule in rules]


def _dashboard_expressions() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_every_alert_and_dashboard_expression_names_only_exported_metrics():
    exported = exported_names()
    expressions = _alert_expressions() + _dashboard_expressions()
    assert len(expressions) >= 10
    for expr in expressions:
        named = set(METRIC_NAME.findall(expr))
        assert named, f"names no Recovery Desk metric: {expr}"
        assert named <= exported, f"not exported by /metrics: {named - exported} in {expr}"


def test_the_check_catches_a_misspelt_metric():
    assert "recoverydesk_outbox_depth" in exported_names()
    assert not {"recoverydesk_outbox_depths", "recoverydesk_turns", "recoverydesk_turn_seconds"} & exported_names()


def test_the_on_call_gauges_each_have_an_alert_or_a_panel():
    gauges = {f.name for f in _parse(_full_exposition()).values() if f.type == "gauge"}
    used = {name for expr in _alert_expressions() + _dashboard_expressions() for name in METRIC_NAME.findall(expr)}
    assert len(gauges) == 7 and gauges <= used
