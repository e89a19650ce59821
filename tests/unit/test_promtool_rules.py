"""The alert rules in deploy/ pass Prometheus's own check, and that check does catch a broken rule."""

from __future__ import annotations

from recoverydesk.settings import ROOT
from tests.support.promtool import promtool

ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"


def test_promtool_accepts_the_alert_rules():
    checked = promtool("check", "rules", str(ALERTS))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


def test_promtool_refuses_a_rule_with_a_broken_expression(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "groups:\n  - name: broken\n    rules:\n      - alert: Broken\n        expr: rate(recoverydesk_x[5m]\n"
    )
    checked = promtool("check", "rules", str(broken))
    assert checked.returncode != 0


def test_promtool_check_metrics_refuses_what_prometheus_would_not_take():
    for text in ('recoverydesk_x{kind="a" 3\n', "# TYPE recoverydesk_sent counter\nrecoverydesk_sent 1\n"):
        assert promtool("check", "metrics", stdin=text).returncode != 0, text
