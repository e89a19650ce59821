"""Property-based tests of every helpdesk HTTP route: whatever arrives (malformed JSON, wrong
types, binary, oversized bodies, odd ids, forged or replayed signatures), the answer is a clear
4xx JSON error or a success, never a 500 and never a stack trace."""

import json
import re
import secrets
import time
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpdesk_plugin.app import create_app
from recoverydesk.domain.signing import derive_key, sign
from recoverydesk.settings import ROOT, Settings
from tests.support import fuzzing
from tests.support.servers import helpdesk_with_a_ticket

SECRET = "f" * 48
KNOWN_TICKET = "RD-424242"
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def helpdesk(redis_server, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("fuzz-var")
    with helpdesk_with_a_ticket(redis_server.url, SECRET, var_dir, "k" * 40, KNOWN_TICKET) as server:
        yield server



def routes() -> list[tuple[str, str]]:
    app = create_app(
        Settings.from_env(
            {"REDIS_URL": "redis://127.0.0.1:1/0", "RECOVERYDESK_SECRET_KEY": SECRET, "RECOVERYDESK_VAR_DIR": "/tmp"},
            ROOT,
        ),
        name=f"fuzz_{secrets.token_hex(4)}",
    )
    found = set()
    for route in app.router.routes:
        for method in route.methods:
            if method not in ("HEAD", "OPTIONS"):
                found.add((method, "/" + route.path.lstrip("/")))
    return sorted(found)


ROUTES = routes()
json_values = fuzzing.json_values(st.text(max_size=50), max_leaves=20)
bodies = fuzzing.bodies(
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from([b"", b"{", b"[]", b'{"text": 5}', b'{"text": ""}', b'{"summary": null}', b"\x00\xff" * 50]),
    binary_size=300,
    text=st.text(max_size=50),
    max_leaves=20,
)
path_values = st.one_of(
    st.text(max_size=40), st.sampled_from([KNOWN_TICKET, KNOWN_TICKET, "..", "%00", "RD-" + "9" * 40])
)


def fill(path: str, value: str) -> str:
    return re.sub(r"<[^>]+>", quote(value, safe="") or "x", path)


def assert_clear(reply: requests.Response) -> None:
    if reply.status_code == 503:  # a clear "try again": the plugin could not reach Rasa for a live action
        assert reply.json()["error"]["code"] == "unavailable"
        return
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])
    assert "Traceback" not in reply.text
    if reply.url.split("/", 3)[-1].startswith("api/") and reply.status_code >= 400:
        error = reply.json()["error"]
        assert error["code"] and error["message"]


@settings(FUZZ, max_examples=250)
@given(
    route=st.sampled_from(ROUTES), value=path_values, body=bodies, auth=st.sampled_from(["none", "garbage", "agent"])
)
def test_every_route_answers_any_input_without_a_500(plugin, token, route, value, body, auth):
    base, _ = plugin
    method, path = route
    headers = {"Content-Type": "application/json"}
    if auth == "garbage":
        headers["Authorization"] = "Bearer " + secrets.token_urlsafe(8)
    elif auth == "agent":
        headers["Authorization"] = f"Bearer {token}"
    with requests.request(
        method, base + fill(path, value), data=body, headers=headers, timeout=10, stream=True
    ) as reply:
        if reply.headers.get("content-type", "").startswith("text/event-stream"):
            assert reply.status_code == 200  # a live feed: its first line is enough
            return
        assert_clear(reply)


ticket_fields = st.fixed_dictionaries(
    {},
    optional={
        "category": st.one_of(st.sampled_from(["other", "unrecognized_login"]), json_values),
        "priority": st.one_of(st.sampled_from(["low", "urgent"]), json_values),
        "conversation_id": st.one_of(st.text(max_size=250), json_values),
        "customer": json_values,
        "summary": st.one_of(st.text(max_size=5000), json_values),
        "transcript": st.one_of(
            st.lists(
                st.fixed_dictionaries({"role": st.sampled_from(["customer", "x"]), "text": json_values}), max_size=3
            ),
            json_values,
        ),
        "tags": st.one_of(st.lists(st.text(max_size=30), max_size=5), json_values),
        "reported_activity": json_values,
        "id": st.one_of(st.sampled_from(["RD-123456", "RD-1", "nope"]), json_values),
    },
)


@FUZZ
@given(payload=ticket_fields)
def test_signed_intake_rejects_wrong_types_with_a_400_not_a_500(plugin, payload):
    base, _ = plugin
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": f"fuzz-{secrets.token_hex(8)}",
        **sign(derive_key(SECRET.encode(), "tickets"), body),
    }
    reply = requests.post(f"{base}/api/v1/tickets", data=body, headers=headers, timeout=10)
    assert reply.status_code in (201, 400, 409), (reply.status_code, reply.text[:300])
    assert_clear(reply)


def test_unknown_routes_and_oversized_bodies_get_json_errors(plugin, token):
    base, _ = plugin
    reply = requests.get(f"{base}/api/v1/no-such-thing", timeout=10)
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"
    reply = requests.post(
        f"{base}/api/v1/tickets/RD-000001/notes",
        data=b"x" * 2_000_000,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert reply.status_code == 413 and reply.json()["error"]["code"] == "too_large"


def test_replayed_altered_and_stale_signatures_change_nothing(plugin):
    base, _ = plugin
    key = derive_key(SECRET.encode(), "tickets")
    idem = f"replay-{secrets.token_hex(6)}"
    body = json.dumps(
        {"category": "other", "priority": "low", "conversation_id": "c" * 40, "idempotency_key": idem}
    ).encode()
    signed = sign(key, body)

    def post(data: bytes, headers: dict) -> requests.Response:
        return requests.post(
            f"{base}/api/v1/tickets", data=data, timeout=10, headers={"Content-Type": "application/json", **headers}
        )

    first = post(body, {"Idempotency-Key": idem, **signed})
    again = post(body, {"Idempotency-Key": idem, **signed})
    assert (first.status_code, again.status_code) == (201, 200) and first.json()["id"] == again.json()["id"]
    other_key = post(body, {"Idempotency-Key": f"replay-{secrets.token_hex(6)}", **signed})
    assert other_key.status_code == 401
    altered = post(body.replace(b"low", b"urgent"), {"Idempotency-Key": idem, **signed})
    assert altered.status_code == 401
    stale = post(body, {"Idempotency-Key": idem, **sign(key, body, now=time.time() - 3600)})
    assert stale.status_code == 401
    for reply in (other_key, altered, stale):
        assert reply.json()["error"]["code"] == "unauthenticated"


def test_a_reserved_ticket_number_is_kept_and_never_taken_over(plugin):
    base, _ = plugin
    key = derive_key(SECRET.encode(), "tickets")
    number = f"RD-{secrets.randbelow(10**9) + 10**8}"

    def post(conversation: str) -> requests.Response:
        body = json.dumps({"priority": "high", "conversation_id": conversation, "id": number}).encode()
        return requests.post(
            f"{base}/api/v1/tickets",
            data=body,
            timeout=10,
            headers={
                "Content-Type": "application/json",
                "Idempotency-Key": f"reserve-{secrets.token_hex(6)}",
                **sign(key, body),
            },
        )

    first = post("a" * 40)
    assert first.status_code == 201 and first.json()["id"] == number
    other = post("b" * 40)
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"


def test_metrics_count_tickets_requests_and_errors(plugin):
    base, _ = plugin
    requests.get(f"{base}/api/v1/no-such-thing", timeout=10)
    text = requests.get(f"{base}/metrics", timeout=10).text
    for name in (
        "recoverydesk_turns_total",
        "recoverydesk_tickets_created_total",
        "recoverydesk_handoffs_total",
        "recoverydesk_errors_total",
        "recoverydesk_http_request_seconds",
    ):
        assert f"# TYPE {name} " in text
    assert re.search(r'^recoverydesk_http_requests_total\{status="4xx"\} [1-9]', text, re.M)
    assert re.search(r'^recoverydesk_tickets_created_total\{priority="low"\} [1-9]', text, re.M)
    assert re.search(r'^recoverydesk_http_request_seconds_bucket\{le="\+Inf"\} [1-9]', text, re.M)
