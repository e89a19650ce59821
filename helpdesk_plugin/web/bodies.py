"""Reading JSON request bodies and their text fields, with the API's error sentences."""

from __future__ import annotations

import json
from typing import Any

from sanic.request import Request

from recoverydesk.domain.errors import InvalidRequest


def json_body(request: Request) -> Any:
    try:
        return json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest("The request body must be valid JSON.") from exc


def json_object(request: Request) -> dict[str, Any]:
    body = json_body(request)
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


def required_text(body: dict[str, Any], name: str, limit: int = 4000) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"'{name}' must be a non-empty string.")
    if len(value) > limit:
        raise InvalidRequest(f"'{name}' is longer than {limit} characters.")
    return value.strip()


def tag_lists(body: dict[str, Any]) -> tuple[list[str], list[str]]:
    """'add' and 'remove' as given (the ticket's own transition validates the tags)."""
    add, remove = body.get("add", []), body.get("remove", [])
    if not all(isinstance(v, list) and all(isinstance(t, str) for t in v) for v in (add, remove)):
        raise InvalidRequest("'add' and 'remove' must be lists of tags.")
    return add, remove
