"""The helpdesk driven from its own OpenAPI document: requests generated from the document's
parameter and body schemas (and some that break them), sent to a real plugin on a free port.
Every answer is a status the document lists for that operation, never a 500, and every JSON
answer matches the schema the document gives for that status."""

import json
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, RefResolver

from helpdesk_plugin.web.openapi import DOCUMENT
from tests.support import fuzzing
from tests.support.schema_strategies import from_schema
from tests.support.servers import helpdesk_with_a_ticket

SECRET = "e" * 48
KNOWN_TICKET = "RD-515151"
RESOLVER = RefResolver.from_schema(DOCUMENT)
# Signing out would end the session the test drives with; test_logout_answers_its_schema covers it.
SKIPPED = {("post", "/api/v1/auth/logout")}
OPERATIONS = sorted(
    (method, path)
    for path, item in DOCUMENT["paths"].items()
    if path.startswith("/api/v1/") or path in ("/health", "/ready")
    for method, op in item.items()
    if (method, path) not in SKIPPED and "text/event-stream" not in json.dumps(op["responses"])
)


@pytest.fixture(scope="module")
def helpdesk(redis_server, tmp_path_factory):
    var_dir = tmp_path_factory.mktemp("openapi-var")
    with helpdesk_with_a_ticket(redis_server.url, SECRET, var_dir, "o" * 40, KNOWN_TICKET) as server:
        yield server



def check_against_document(method: str, path: str, reply: requests.Response) -> None:
    responses = DOCUMENT["paths"][path][method]["responses"]
    assert reply.status_code < 500 or str(reply.status_code) in responses, (method, path, reply.status_code)
    assert str(reply.status_code) in responses, (method, path, reply.status_code, reply.text[:300])
    content = responses[str(reply.status_code)]["content"]
    media = reply.headers.get("content-type", "").split(";")[0]
    assert media in content, (method, path, reply.status_code, media)
    schema = content[media].get("schema")
    if media == "application/json" and schema is not None:
        Draft202012Validator(schema, resolver=RESOLVER).validate(reply.json())


path_values = st.one_of(
    st.sampled_from([KNOWN_TICKET, "RD-000000", "INC-0001", "o" * 40]), st.text(min_size=1, max_size=30)
)


@st.composite
def requests_from_document(draw):
    method, path = draw(st.sampled_from(OPERATIONS))
    op = DOCUMENT["paths"][path][method]
    url, query, headers = path, {}, {"Content-Type": "application/json"}
    for parameter in op.get("parameters", []):
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", quote(draw(path_values), safe="") or "x")
        elif parameter["in"] == "query" and draw(st.booleans()):
            query[parameter["name"]] = draw(st.one_of(from_schema(parameter["schema"], DOCUMENT), st.text(max_size=9)))
        elif parameter["in"] == "header":
            headers[parameter["name"]] = draw(from_schema(parameter["schema"], DOCUMENT))
    body = b""
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        # mostly conforming bodies (they reach the use cases), sometimes anything at all
        conforming = from_schema(schema, DOCUMENT).map(lambda v: json.dumps(v).encode())
        body = draw(st.one_of(conforming, conforming, conforming, fuzzing.bodies(max_leaves=5)))
    return method, path, url, query, headers, body


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(request=requests_from_document(), auth=st.sampled_from(["agent", "agent", "agent", "none"]))
def test_requests_from_the_document_get_documented_answers_and_never_a_500(plugin, token, request, auth):
    base, _ = plugin
    method, path, url, query, headers, body = request
    if auth == "agent":
        headers = {**headers, "Authorization": f"Bearer {token}"}
    reply = requests.request(method.upper(), base + url, params=query, data=body, headers=headers, timeout=10)
    check_against_document(method, path, reply)


def test_the_document_is_served_without_sign_in_as_json(plugin):
    base, _ = plugin
    reply = requests.get(f"{base}/api/v1/openapi.json", timeout=10)
    assert reply.status_code == 200
    assert reply.headers["content-type"].split(";")[0] == "application/json"
    assert reply.json() == DOCUMENT


def test_logout_answers_its_schema_and_ends_the_session(plugin, helpdesk):
    base, _redis_url = plugin
    fresh = helpdesk.sign_in()
    headers = {"Authorization": f"Bearer {fresh}"}
    reply = requests.post(f"{base}/api/v1/auth/logout", headers=headers, timeout=10)
    check_against_document("post", "/api/v1/auth/logout", reply)
    assert reply.status_code == 200
    again = requests.get(f"{base}/api/v1/me", headers=headers, timeout=10)
    assert again.status_code == 401
    check_against_document("get", "/api/v1/me", again)


def test_a_response_that_breaks_its_schema_is_caught(plugin, token):
    """The schema check can fail: a ticket answer without its id does not pass as a Ticket."""
    base, _ = plugin
    reply = requests.get(f"{base}/api/v1/tickets/{KNOWN_TICKET}", headers={"Authorization": f"Bearer {token}"})
    check_against_document("get", "/api/v1/tickets/{ticket_id}", reply)
    broken = {k: v for k, v in reply.json().items() if k != "id"}
    schema = DOCUMENT["paths"]["/api/v1/tickets/{ticket_id}"]["get"]["responses"]["200"]["content"]
    assert not Draft202012Validator(schema["application/json"]["schema"], resolver=RESOLVER).is_valid(broken)
