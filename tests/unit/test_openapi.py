"""The OpenAPI document against the routes the helpdesk really mounts: none missing, none invented,
every schema valid JSON Schema with resolvable references, and docs/api.html generated from it."""

import json
import re
import secrets

import pytest
from jsonschema import Draft202012Validator, RefResolver

from helpdesk_plugin.app import ROUTE_TABLES, create_app
from helpdesk_plugin.web import openapi
from recoverydesk.settings import ROOT, Settings


def key(method: str, path: str) -> tuple[str, str]:
    """A route as the router keeps it: OpenAPI's path syntax, no trailing slash (Sanic drops it)."""
    return method.upper(), openapi.openapi_path(path).rstrip("/") or "/"


def mounted() -> set[tuple[str, str]]:
    """(method, path) of every route on a freshly built app's router."""
    app = create_app(
        Settings.from_env(
            {"REDIS_URL": "redis://127.0.0.1:1/0", "RECOVERYDESK_SECRET_KEY": "f" * 48, "RECOVERYDESK_VAR_DIR": "/tmp"},
            ROOT,
        ),
        name=f"openapi_{secrets.token_hex(4)}",
    )
    found = set()
    for route in app.router.routes:
        for method in route.methods - {"HEAD", "OPTIONS"}:
            found.add(key(method, "/" + route.path))
    return found


def documented(document: dict) -> set[tuple[str, str]]:
    return {key(method, path) for path, item in document["paths"].items() for method in item}


def test_every_mounted_route_is_documented_and_every_documented_route_is_mounted():
    routes, paths = mounted(), documented(openapi.DOCUMENT)
    assert routes - paths == set(), "mounted but missing from the OpenAPI document"
    assert paths - routes == set(), "in the OpenAPI document but not mounted"
    assert len(routes) == sum(len(table) for table in ROUTE_TABLES)  # the router was walked, every table


def test_the_route_tables_and_the_router_agree_so_the_walk_sees_every_table():
    tables = {key(r.method, r.path) for table in ROUTE_TABLES for r in table}
    assert tables == mounted()


def test_a_route_missing_from_the_document_is_caught(monkeypatch):
    """The check above is not vacuous: drop one operation and the comparison names it."""
    trimmed = {k: v for k, v in openapi.OPERATIONS.items() if k != ("POST", "/api/v1/tickets/<ticket_id>/claim")}
    monkeypatch.setattr(openapi, "OPERATIONS", trimmed)
    missing = mounted() - documented(openapi.build())
    assert missing == {("POST", "/api/v1/tickets/{ticket_id}/claim")}


def test_a_documented_route_that_does_not_exist_is_caught(monkeypatch):
    invented = {**openapi.OPERATIONS, ("DELETE", "/api/v1/tickets/<ticket_id>"): openapi.Operation("x", "tickets")}
    monkeypatch.setattr(openapi, "OPERATIONS", invented)
    assert documented(openapi.build()) - mounted() == {("DELETE", "/api/v1/tickets/{ticket_id}")}


def test_every_api_route_has_an_answer_schema_and_guarded_routes_declare_401_and_403():
    guarded = {key(r.method, r.path): r.permission for table in ROUTE_TABLES for r in table}
    for path, item in openapi.DOCUMENT["paths"].items():
        for method, op in item.items():
            permission = guarded[key(method, path)]
            assert op.get("x-permission") == permission, (method, path)
            if permission:
                assert {"401", "403"} <= set(op["responses"]), (method, path)
            if path.startswith("/api/v1/") and op["responses"].keys() & {"200", "201"}:
                ok = op["responses"].get("200") or op["responses"]["201"]
                media = next(iter(ok["content"]))
                assert media == "text/event-stream" or "schema" in ok["content"][media], (method, path)


def test_every_schema_is_valid_json_schema_and_every_reference_resolves():
    document = openapi.DOCUMENT
    assert document["openapi"].startswith("3.1")
    resolver = RefResolver.from_schema(document)
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        assert resolver.resolve(ref)[1] is not None, ref
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    operation_ids = [
        op["operationId"] for item in document["paths"].values() for op in item.values() if "operationId" in op
    ]
    assert len(operation_ids) == len(set(operation_ids))


@pytest.mark.parametrize("status", ["400", "401", "403", "404", "409", "413", "503"])
def test_the_error_schema_accepts_what_errors_py_sends_and_refuses_other_shapes(status):
    error = Draft202012Validator(openapi.SCHEMAS["Error"])
    codes = {
        "400": "invalid_request",
        "401": "unauthenticated",
        "403": "csrf",
        "404": "not_found",
        "409": "conflict",
        "413": "too_large",
        "503": "unavailable",
    }
    assert error.is_valid({"error": {"code": codes[status], "message": "A sentence."}})
    assert not error.is_valid({"error": {"code": "made_up", "message": "A sentence."}})
    assert not error.is_valid({"detail": "A sentence."})


def test_docs_api_html_is_generated_from_the_current_document():
    page = openapi.HTML_PAGE.read_text()
    assert page == openapi.render_html(openapi.DOCUMENT), "run: python -m helpdesk_plugin.web.openapi"
    assert "<script" not in page and "http" not in page.split("<body>")[1]  # no CDN, no script
    for path in openapi.DOCUMENT["paths"]:
        assert f"<code>{path}</code>" in page
