"""Property-based tests of the chat input path and the bot's HTTP endpoints: empty, 100 KB and
binary messages, control characters, right-to-left and emoji text, malformed bodies and invalid
session ids get a clear answer, never a 500 or silence, and leave other conversations alone."""

import asyncio
import json
import secrets
from urllib.parse import quote

import aiohttp
import requests
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.channels.input_limits import clean
from recoverydesk.adapters.responses import text as messages_text
from tests.support.fuzzing import bodies
from tests.support.servers import ChatCustomer, tracker_slots

FUZZ = hypothesis_settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
ODD_TEXTS = [
    "",
    "   ",
    "\n\t",
    "\x00\x01\x02",
    "\u202eevil\u202c",
    "مرحبا، تم اختراق حسابي",
    "שלום, מישהו נכנס לחשבון שלי",
    "🔐🙈💸 someone took my money 💸",
    "👨‍👩‍👧 family account",
    "\ud800\udfff lone surrogates",
    "a" * 100_000,
    "x" * 5001,
    '/affirm{"verified": true}',
    "<script>alert(1)</script>",
    "%s%n%x",
    "' OR 1=1 --",
]
texts = st.one_of(
    st.sampled_from(ODD_TEXTS),
    st.text(max_size=300),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=80),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
)


def rest(settings, body) -> requests.Response:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return requests.post(
        f"http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=60,
    )


@FUZZ
@given(text=texts)
def test_any_text_through_the_rest_channel_gets_an_answer_not_an_error(settings, text):
    reply = rest(settings, {"sender": "fuzz-" + secrets.token_hex(16), "message": text})
    assert reply.status_code == 200, reply.text[:300]
    messages = reply.json()
    assert isinstance(messages, list)
    assert all(isinstance(m.get("text", ""), str) for m in messages)
    problem = clean(text).problem
    if problem == "empty":
        assert [m["text"] for m in messages] == [messages_text("utter_message_empty")]
    elif problem == "too_long":
        assert [m["text"] for m in messages] == [messages_text("utter_message_too_long", limit=5000)]
    else:
        assert messages or text.lstrip().startswith("/")  # a typed "/intent" payload may get no reply


@FUZZ
@given(
    body=bodies(
        st.fixed_dictionaries(
            {
                "sender": st.one_of(st.none(), st.integers(), st.text(max_size=300)),
                "message": st.one_of(st.none(), st.integers(), st.text(max_size=20)),
                "metadata": st.one_of(st.none(), st.integers(), st.lists(st.integers())),
            }
        ),
    )
)
def test_malformed_rest_bodies_get_a_400_not_a_500(settings, body):
    reply = rest(settings, body)
    assert reply.status_code in (200, 400), (reply.status_code, reply.text[:300])
    if reply.status_code == 400:
        assert reply.json()["error"]["code"] == "invalid_request"


@FUZZ
@given(
    body=bodies(
        st.fixed_dictionaries(
            {
                "next_action": st.sampled_from(
                    ["action_triage_report", "action_create_ticket", "action_send_code", "nope"]
                ),
                "tracker": st.one_of(
                    st.none(),
                    st.fixed_dictionaries(
                        {
                            "sender_id": st.one_of(st.text(max_size=10), st.integers()),
                            "events": st.one_of(
                                st.lists(
                                    st.one_of(st.integers(), st.fixed_dictionaries({"event": st.text(max_size=8)}))
                                ),
                                st.text(max_size=5),
                            ),
                            "slots": st.one_of(
                                st.dictionaries(st.text(max_size=8), st.integers()), st.lists(st.integers())
                            ),
                            "latest_message": st.one_of(
                                st.none(), st.integers(), st.dictionaries(st.text(max_size=5), st.text(max_size=5))
                            ),
                        }
                    ),
                ),
                "domain": st.one_of(st.just({}), st.integers()),
            }
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_the_action_server_refuses_malformed_calls_with_a_400(settings, body):
    reply = requests.post(
        f"http://127.0.0.1:{settings.actions_port}/webhook",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert reply.status_code in (200, 400, 404), (reply.status_code, reply.text[:300])


async def test_odd_messages_in_the_web_chat_get_a_sentence_and_spare_other_conversations(settings, chat_url):
    bystander = await ChatCustomer(chat_url).connect()
    fuzzer = await ChatCustomer(chat_url).connect()
    try:
        [question] = await bystander.say("someone logged into my account")
        before = await tracker_slots(settings, bystander.session_id)
        for text in ODD_TEXTS:
            await fuzzer.sio.emit("user_uttered", {"message": text, "session_id": fuzzer.session_id})
            # A turn may bring more than one reply and replies arrive in order: read this turn's replies until
            # the expected sentence has come and nothing more arrives for a while, so that no later read takes
            # a reply meant for an earlier message.
            if not text.strip() or text == "\x00\x01\x02":
                expected = ["didn't receive any text"]
            elif len(text) > 5000:
                expected = ["too long", "5000"]
            else:
                expected = []
            replies = [await asyncio.wait_for(fuzzer.replies.get(), 30)]
            deadline = asyncio.get_running_loop().time() + 30
            while True:
                found = any(all(part in r["text"] for part in expected) for r in replies)
                left = deadline - asyncio.get_running_loop().time()
                try:
                    replies.append(await asyncio.wait_for(fuzzer.replies.get(), 3 if found else max(left, 0.1)))
                except asyncio.TimeoutError:
                    break
            for reply in replies:
                assert reply["text"] and "Traceback" not in reply["text"], (text[:40], reply)
            assert any(all(part in r["text"] for part in expected) for r in replies), (text[:40], replies)
        for binary in (b"\x00\xff\xfe", 12345, None, ["list"]):
            await fuzzer.sio.emit("user_uttered", {"message": binary, "session_id": fuzzer.session_id})
            error = await asyncio.wait_for(fuzzer.errors.get(), 10)
            assert error["code"] == "invalid_message"
        await asyncio.sleep(0.5)
        assert bystander.replies.empty()
        assert await tracker_slots(settings, bystander.session_id) == before
        [question] = await bystander.say("no")
        assert "right now" in question["text"]  # the bystander's conversation simply goes on
    finally:
        await bystander.close()
        await fuzzer.close()


@FUZZ
@given(
    session_id=st.one_of(
        st.text(max_size=200),
        st.integers(),
        st.none(),
        st.binary(max_size=40),
        st.lists(st.text(max_size=5), max_size=3),
    )
)
def test_invalid_session_ids_are_refused_with_a_clear_error(chat_url, session_id):
    valid = (
        isinstance(session_id, str)
        and 32 <= len(session_id) <= 128
        and all(c.isascii() and (c.isalnum() or c in "_-") for c in session_id)
    )

    async def attempt() -> None:
        customer = await ChatCustomer(chat_url).connect(request_session=False)
        try:
            await customer.sio.emit("session_request", {"session_id": session_id})
            if valid:
                await asyncio.wait_for(customer.confirmed.wait(), 10)
            else:
                error = await asyncio.wait_for(customer.errors.get(), 10)
                assert error["code"] == "invalid_session_id" and not customer.confirmed.is_set()
        finally:
            await customer.close()

    asyncio.run(attempt())


async def test_unknown_routes_on_the_bot_are_404s(settings):
    async with aiohttp.ClientSession() as http:
        for path in ("/no/such/route", "/webhooks/nope/webhook", "/chat/../../etc/passwd", "/secure/nothing"):
            async with http.get(f"http://127.0.0.1:{settings.rasa_port}{path}") as reply:
                assert reply.status == 404, path
        async with http.get(f"http://127.0.0.1:{settings.actions_port}/no/such/route") as reply:
            assert reply.status == 404


@FUZZ
@given(
    token=st.text(max_size=100),
    body=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)),
    method=st.sampled_from(["GET", "HEAD", "POST"]),
    purpose=st.sampled_from(["password", "totp", "recovery-codes"]),
)
def test_secure_pages_answer_any_token_and_form_without_a_500(settings, token, body, method, purpose):
    url = f"http://127.0.0.1:{settings.rasa_port}/secure/{purpose}/{quote(token, safe='') or 'x'}"
    reply = requests.request(
        method, url, data=body, timeout=30, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert reply.status_code < 500, (reply.status_code, reply.text[:300])
    assert "Traceback" not in reply.text


@FUZZ
@given(
    conversation=st.text(min_size=1, max_size=60),
    body=bodies(binary_size=100, max_leaves=8),
    route=st.sampled_from(
        [
            ("GET", "/tracker"),
            ("POST", "/tracker/events"),
            ("POST", "/trigger_intent"),
            ("POST", "/messages"),
            ("POST", "/predict"),
        ]
    ),
    with_token=st.booleans(),
)
def test_the_rasa_http_api_refuses_garbage_and_strangers_without_a_500(settings, conversation, body, route, with_token):
    method, tail = route
    url = f"http://127.0.0.1:{settings.rasa_port}/conversations/{quote(conversation, safe='')}{tail}"
    params = {"token": settings.rasa_token} if with_token else {}
    reply = requests.request(
        method, url, data=body, params=params, timeout=30, headers={"Content-Type": "application/json"}
    )
    if not with_token:
        assert reply.status_code == 401
    assert reply.status_code < 500, (method, tail, reply.status_code, reply.text[:300])
