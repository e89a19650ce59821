"""Hypothesis strategies from the JSON Schemas of the OpenAPI document: values that conform.

Only the keywords the helpdesk's document uses are understood; anything else fails loudly so
that a new keyword cannot silently widen what is generated."""

from __future__ import annotations

from datetime import timezone
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

KNOWN = {
    "$ref", "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
    "minLength", "maxLength", "pattern", "enum", "const", "format", "description", "oneOf", "maxProperties",
}  # fmt: skip


def from_schema(schema: dict[str, Any], document: dict[str, Any]) -> SearchStrategy:
    unknown = set(schema) - KNOWN
    assert not unknown, f"schema keywords this generator does not know: {unknown}"
    if "$ref" in schema:
        target: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return from_schema(target, document)
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "oneOf" in schema:
        return st.one_of(*(from_schema(s, document) for s in schema["oneOf"]))
    kind = schema.get("type")
    if kind == "object":
        properties = {name: from_schema(sub, document) for name, sub in schema.get("properties", {}).items()}
        required = set(schema.get("required", []))
        return st.fixed_dictionaries(
            {k: v for k, v in properties.items() if k in required},
            optional={k: v for k, v in properties.items() if k not in required},
        )
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {"type": "string"}), document),
            min_size=schema.get("minItems", 0),
            max_size=min(schema.get("maxItems", 5), 5),
        )
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat())
        if schema.get("format") == "date":
            return st.dates().map(lambda d: d.isoformat())
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 60), 60))
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        return st.integers()
    raise AssertionError(f"no strategy for schema {schema}")
