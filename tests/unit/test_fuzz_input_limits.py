"""Properties of the input checks themselves: they never raise, whatever they are given."""

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from actions.server import malformed_call
from bot.channels.input_limits import DEFAULT_MAX_CHARS, clean, malformed_api_call, malformed_rest_message
from tests.support import fuzzing

any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=400)
json_values = fuzzing.json_values(any_text, max_leaves=12)
bodies = fuzzing.bodies(binary_size=300, text=any_text, max_leaves=12)


@settings(max_examples=500)
@given(text=any_text)
def test_cleaned_text_has_no_control_characters_or_lone_surrogates_and_is_stable(text):
    cleaned = clean(text)
    assert cleaned.problem in (None, "empty")
    cleaned.text.encode("utf-8")  # storable: no lone surrogate survives (raises otherwise)
    assert not any(unicodedata.category(c) in ("Cc", "Cs") and c not in "\n\t" for c in cleaned.text)
    assert clean(cleaned.text).text == cleaned.text


def test_right_to_left_and_emoji_text_pass_unchanged():
    for text in ("مرحبا، تم اختراق حسابي", "שלום", "👨‍👩‍👧 🔐 family account", "Ça a été changé"):
        assert clean(text).text == unicodedata.normalize("NFC", text)


def test_empty_and_oversized_messages_are_named():
    assert clean("  \x00\n ").problem == "empty"
    assert clean("a" * (DEFAULT_MAX_CHARS + 1)).problem == "too_long"
    assert clean("a" * 100_000).problem == "too_long"
    assert clean("a" * DEFAULT_MAX_CHARS).problem is None


@settings(max_examples=300)
@given(body=bodies)
def test_the_body_checks_never_raise(body):
    for check in (
        malformed_rest_message,
        lambda b: malformed_api_call("/conversations/abc/trigger_intent", b),
        lambda b: malformed_api_call("/conversations/abc/tracker/events", b),
        lambda b: malformed_api_call("/conversations/abc/messages", b),
    ):
        assert check(body) is None or isinstance(check(body), str)

    class Request:
        pass

    request = Request()
    request.body = body
    assert malformed_call(request) is None or isinstance(malformed_call(request), str)
