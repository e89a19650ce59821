"""Strategies the fuzz tests share: any JSON value, and request bodies that are JSON, bytes or neither."""

from __future__ import annotations

import json

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

SHORT_TEXT = st.text(max_size=20)


def json_values(text: SearchStrategy = SHORT_TEXT, max_leaves: int = 10) -> SearchStrategy:
    return st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
        max_leaves=max_leaves,
    )


def as_json(strategy: SearchStrategy) -> SearchStrategy:
    return strategy.map(lambda value: json.dumps(value).encode())


def bodies(
    *shaped: SearchStrategy, binary_size: int = 200, text: SearchStrategy = SHORT_TEXT, max_leaves: int = 10
) -> SearchStrategy:
    """Raw bytes, any JSON document, and the ``shaped`` bodies that look almost right."""
    return st.one_of(st.binary(max_size=binary_size), as_json(json_values(text, max_leaves)), *shaped)
