"""One ticket number format and one ticket id pattern (recoverydesk.domain.tickets)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recoverydesk.domain.tickets import TICKET_ID_IN_TEXT, is_ticket_id, ticket_number


@given(st.integers(min_value=0, max_value=10**12 - 1))
def test_every_number_the_format_makes_is_a_ticket_id(sequence):
    number = ticket_number(sequence)
    assert is_ticket_id(number)
    assert TICKET_ID_IN_TEXT.search(f"Your case number is {number}.").group(0) == number


def test_the_format_pads_to_six_digits():
    assert ticket_number(1) == "RD-000001"
    assert ticket_number(1234567) == "RD-1234567"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "RD-",
        "RD-1",
        "RD-12345",
        "rd-000001",
        "RD000001",
        "RD-0000001234567",
        "RD-00000a",
        "RD-000001\n",
        " RD-000001",
        "RD-000001 ",
        "INC-000001",
        "RD-000001/../x",
        "RD-\uff10\uff10\uff10\uff10\uff10\uff11",  # full-width digits are not ASCII digits
        None,
        123456,
    ],
)
def test_anything_else_is_not_a_ticket_id(bad):
    assert not is_ticket_id(bad)


def test_a_number_inside_a_longer_word_is_not_found_in_text():
    assert TICKET_ID_IN_TEXT.search("XRD-000001") is None
    assert TICKET_ID_IN_TEXT.search("RD-0000011234567") is None
