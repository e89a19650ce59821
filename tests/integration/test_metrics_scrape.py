"""``/metrics`` of a real helpdesk plugin (its own process, its own Redis), read the way Prometheus
reads it: through prometheus-client's text parser, with the on-call gauges checked against what
was put in Redis and the histogram buckets in numeric order."""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.outbox import Outbox
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.signing import derive_key, sign
from recoverydesk.ops.stack import free_port
from tests.support.promtool import promtool
from tests.support.servers import HelpdeskPlugin, RedisServer

SECRET = "m" * 48
TURN_SECONDS = (0.3, 7.0, 40.0)  # the last beyond every finite bucket


async def _seed(redis_url: str) -> None:
    """Outbox items waiting for two minutes and turn timings, as other processes would leave them."""
    redis = Redis.from_url(redis_url)
    try:
        box = SecretBox(SECRET.encode())
        before = time.time() - 120
        # held for an hour so the plugin's own mail worker leaves it waiting
        await Outbox(redis, "mail", box).put("scrape-mail", {"to": "x@example.test"}, hold_seconds=3600, now=before)
        await Outbox(redis, "tickets", box).put("scrape-ticket-1", {"priority": "urgent"}, now=before)
        await Outbox(redis, "tickets", box).put("scrape-ticket-2", {"priority": "low"}, now=time.time())
        metrics = Metrics(redis)
        for seconds in TURN_SECONDS:
            metrics.observe("recoverydesk_turn_seconds", seconds)
        await metrics.flush()
    finally:
        await redis.close()


def _file_ticket(base: str, priority: str) -> None:
    body = json.dumps({"priority": priority, "conversation_id": secrets.token_hex(20)}).encode()
    headers = {
        "Idempotency-Key": f"scrape-{secrets.token_hex(6)}",
        "Content-Type": "application/json",
        **sign(derive_key(SECRET.encode(), "tickets"), body),
    }
    assert requests.post(f"{base}/api/v1/tickets", data=body, headers=headers, timeout=10).status_code == 201


def _start(tmp_path_factory: pytest.TempPathFactory) -> tuple[RedisServer, HelpdeskPlugin]:
    redis = RedisServer(tmp_path_factory.mktemp("scrape-redis")).start()
    smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(free_port())}  # nothing listens: mail stays queued
    return redis, HelpdeskPlugin(redis.url, SECRET, tmp_path_factory.mktemp("scrape-var"), smtp)


@pytest.fixture(scope="module")
def plugin(tmp_path_factory):
    redis, server = _start(tmp_path_factory)
    try:
        asyncio.run(_seed(redis.url))
        server.start()
        for priority in ("urgent", "urgent", "low"):
            _file_ticket(server.url, priority)
        yield server
    finally:
        server.stop()
        redis.stop()


def _scrape(base: str) -> tuple[requests.Response, dict]:
    reply = requests.get(f"{base}/metrics", timeout=10)
    assert reply.status_code == 200
    return reply, {family.name: family for family in text_string_to_metric_families(reply.text)}


def _values(family, sample_name: str, label: str = "") -> dict:
    return {s.labels.get(label, ""): s.value for s in family.samples if s.name == sample_name}


def test_the_scrape_parses_as_prometheus_text_with_buckets_in_numeric_order(plugin):
    reply, families = _scrape(plugin.url)
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")

    turns = families["recoverydesk_turn_seconds"]
    assert turns.type == "histogram"
    buckets = [s for s in turns.samples if s.name == "recoverydesk_turn_seconds_bucket"]
    bounds = [float(s.labels["le"]) for s in buckets]
    assert bounds == sorted(bounds) and len(set(bounds)) == len(bounds) and bounds[-1] == math.inf
    assert [b for b in bounds if b in (2.5, 10.0)] == [2.5, 10.0]
    counts = [s.value for s in buckets]
    assert counts == sorted(counts)  # cumulative
    by_bound = dict(zip(bounds, counts, strict=True))
    assert (by_bound[0.25], by_bound[0.5], by_bound[5.0], by_bound[10.0], by_bound[30.0]) == (0, 1, 1, 2, 2)
    assert by_bound[math.inf] == 3
    assert _values(turns, "recoverydesk_turn_seconds_count") == {"": 3}
    assert _values(turns, "recoverydesk_turn_seconds_sum")[""] == pytest.approx(sum(TURN_SECONDS))

    assert families["recoverydesk_tickets_created"].type == "counter"
    created = _values(families["recoverydesk_tickets_created"], "recoverydesk_tickets_created_total", "priority")
    assert created == {"urgent": 2, "low": 1}


def test_the_on_call_gauges_show_the_queue_the_outboxes_and_redis(plugin):
    _, families = _scrape(plugin.url)
    assert all(families[name].type == "gauge" for name in ("recoverydesk_redis_up", "recoverydesk_outbox_depth"))
    assert _values(families["recoverydesk_redis_up"], "recoverydesk_redis_up") == {"": 1}
    assert _values(families["recoverydesk_database_up"], "recoverydesk_database_up") == {"": 1}

    depth = _values(families["recoverydesk_outbox_depth"], "recoverydesk_outbox_depth", "outbox")
    assert depth == {"mail": 1, "tickets": 2}
    oldest = _values(families["recoverydesk_outbox_oldest_seconds"], "recoverydesk_outbox_oldest_seconds", "outbox")
    assert 120 <= oldest["mail"] < 600 and 120 <= oldest["tickets"] < 600

    open_tickets = _values(families["recoverydesk_open_tickets"], "recoverydesk_open_tickets", "priority")
    assert open_tickets == {"urgent": 2, "high": 0, "normal": 0, "low": 1}
    ages = _values(
        families["recoverydesk_open_ticket_oldest_seconds"], "recoverydesk_open_ticket_oldest_seconds", "priority"
    )
    assert ages["high"] == 0 and 0 <= ages["urgent"] < 600
    unclaimed = families["recoverydesk_unclaimed_urgent_tickets"]
    assert _values(unclaimed, "recoverydesk_unclaimed_urgent_tickets") == {"": 2}


def test_without_redis_the_scrape_still_answers_and_says_redis_is_down(tmp_path_factory):
    redis, server = _start(tmp_path_factory)
    try:
        server.start()
        redis.stop()
        _, families = _scrape(server.url)
        assert _values(families["recoverydesk_redis_up"], "recoverydesk_redis_up") == {"": 0}
        assert "recoverydesk_turns" not in families  # the counters live in Redis: none is made up
    finally:
        server.stop()
        redis.stop()


def test_promtool_check_metrics_accepts_a_real_scrape(plugin):
    reply, _ = _scrape(plugin.url)
    checked = promtool("check", "metrics", stdin=reply.text)
    assert checked.returncode == 0, checked.stdout + checked.stderr
