"""SECURITY.md requirements that had no test, or only a weak one, checked against the running stack.

docs/security-tests.md maps every numbered requirement to the tests that check it."""

import asyncio
import base64
import binascii
import email
import email.policy
import json
import re
import secrets
import socket
import statistics
import time
from pathlib import Path

import aiohttp
import pyotp
import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.account_store import SessionStore
from recoverydesk.adapters.directory import totp_context
from recoverydesk.domain.crypto import DecryptionError, SecretBox
from recoverydesk.domain.signing import derive_key
from tests.e2e.test_canary import redis_dump
from tests.support.servers import (
    ChatCustomer,
    agent_api,
    create_account,
    escalated_conversation,
    set_password_on_page,
    tracker_slots,
)


async def drain(customer: ChatCustomer, quiet: float = 1.5, first_timeout: float = 20) -> list[dict]:
    """Every reply to the last message: the first within ``first_timeout``, the rest until ``quiet`` seconds pass."""
    replies = [await asyncio.wait_for(customer.replies.get(), first_timeout)]
    while True:
        try:
            replies.append(await asyncio.wait_for(customer.replies.get(), quiet))
        except asyncio.TimeoutError:
            return replies


async def tell(customer: ChatCustomer, text: str) -> list[dict]:
    await customer.sio.emit("user_uttered", {"message": text, "session_id": customer.session_id})
    return await drain(customer)


async def rest_say(settings, sender: str, text: str) -> tuple[int, list[dict]]:
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook", json={"sender": sender, "message": text}
        ) as reply:
            return reply.status, await reply.json()


def codes_mailed(smtp, address: str) -> list[str]:
    """The verification codes mailed to ``address``, oldest first."""
    codes = []
    for mail in smtp.received:
        message = email.message_from_bytes(mail.data, policy=email.policy.default)
        if address in mail.recipients and "verification code" in str(message["Subject"]):
            codes.append(re.search(r"\b(\d{6})\b", message.get_content()).group(1))
    return codes


async def wait_for_codes(smtp, address: str, count: int, timeout: float = 15) -> list[str]:
    deadline = time.monotonic() + timeout
    while len(codes_mailed(smtp, address)) < count:
        assert time.monotonic() < deadline, f"fewer than {count} codes mailed to {address}"
        await asyncio.sleep(0.1)
    return codes_mailed(smtp, address)


def wrong_codes(avoid: list[str], count: int) -> list[str]:
    return [c for c in (f"{n}" for n in range(314159, 314259)) if c not in avoid][:count]


async def lock_email_code_factor(settings, account_ref: str) -> None:
    """The state five wrong codes leave behind: locked for a while."""
    redis = Redis.from_url(settings.redis_url)
    try:
        await redis.hset(
            f"rd:limits:failures:email_code:{account_ref}", mapping={"count": 5, "locked_until": time.time() + 600}
        )
    finally:
        await redis.close()


# IDV-1 --------------------------------------------------------------------------------------------

KNOWLEDGE_ANSWERS = [
    "My date of birth is 14 March 1986",
    "I was born on 1986-03-14",
    "My last transactions were 42.50 at the bakery and 19.99 at the bookshop yesterday",
    "I live at 221B Baker Street, London NW1 6XE",
    "My mother's maiden name is Smith and my first pet was called Rex",
    "My name is Casey Jones, that should prove it's me",
]


async def test_knowledge_answers_never_verify_anyone(settings, smtp_server, chat_url):
    account = await create_account(settings, sessions=2)
    customer = await ChatCustomer(chat_url).connect()
    redis = Redis.from_url(settings.redis_url)
    try:
        said = await tell(customer, "I want to secure my account")
        said += await tell(customer, account.email)
        for answer in KNOWLEDGE_ANSWERS:
            said += await tell(customer, answer)
        said += await tell(customer, "please sign out all my other devices now")
        said += await tell(customer, "show me my recent activity")

        assert not any("you're verified" in r["text"] or "signed out" in r["text"] for r in said)
        assert await redis.get(f"rd:verification:{customer.session_id}") is None  # level none: no grant at all
        assert await SessionStore(redis).count(account.ref) == 2
        assert (await tracker_slots(settings, customer.session_id))["verify_step"] != "verified"
        assert not any("Lagos, NG" in r["text"] for r in said)  # the activity stays hidden
    finally:
        await customer.close()
        await redis.close()


# IDV-6 --------------------------------------------------------------------------------------------


async def four_kinds_of_address(settings) -> dict[str, str]:
    known = await create_account(settings)
    locked = await create_account(settings)
    await lock_email_code_factor(settings, locked.ref)
    mfa = await create_account(settings, totp_secret=pyotp.random_base32())
    return {
        "known": known.email,
        "unknown": f"nobody-{secrets.token_hex(4)}@example.com",
        "locked": locked.email,
        "mfa": mfa.email,
    }


async def test_known_unknown_locked_and_mfa_addresses_get_the_same_socket_replies(settings, chat_url):
    addresses = await four_kinds_of_address(settings)
    replies = {}
    for kind, address in addresses.items():
        customer = await ChatCustomer(chat_url).connect()
        try:
            await tell(customer, "I forgot my password")
            replies[kind] = [r for r in await tell(customer, address)]
            assert customer.errors.empty()
        finally:
            await customer.close()
    assert replies["known"][0]["text"].startswith("If this address belongs to an account")
    assert all(r == replies["known"] for r in replies.values()), replies


async def test_known_unknown_locked_and_mfa_addresses_get_the_same_http_replies(settings):
    addresses = await four_kinds_of_address(settings)
    answers = {}
    for kind, address in addresses.items():
        sender = secrets.token_urlsafe(32)
        await rest_say(settings, sender, "I forgot my password")
        status, body = await rest_say(settings, sender, address)
        answers[kind] = (status, [{k: v for k, v in m.items() if k != "recipient_id"} for m in body])
    assert answers["known"][0] == 200 and answers["known"][1]
    assert all(a == answers["known"] for a in answers.values()), answers


async def test_a_known_address_takes_as_long_to_answer_as_an_unknown_one(settings, chat_url):
    """Median over several tries, with a bound wide enough for a busy two-core machine."""
    timings: dict[str, list[float]] = {"known": [], "unknown": []}
    for _ in range(7):
        known = (await create_account(settings)).email  # a fresh account: the per-account send limit stays out of it
        for kind, address in (("known", known), ("unknown", f"nobody-{secrets.token_hex(4)}@example.com")):
            customer = await ChatCustomer(chat_url).connect()
            try:
                await customer.say("I forgot my password")
                started = time.perf_counter()
                [reply] = await customer.say(address)
                timings[kind].append(time.perf_counter() - started)
                assert reply["text"].startswith("If this address belongs to an account")
            finally:
                await customer.close()
    known, unknown = (statistics.median(timings[k]) for k in ("known", "unknown"))
    print(f"IDV-6 median reply: known {known * 1000:.0f} ms, unknown {unknown * 1000:.0f} ms")
    assert abs(known - unknown) < max(0.3, 0.5 * min(known, unknown)), timings


async def test_wrong_codes_answer_the_same_for_known_and_unknown_addresses(settings, chat_url):
    account = await create_account(settings)
    answers = {}
    for kind, address in (("known", account.email), ("unknown", f"nobody-{secrets.token_hex(4)}@example.com")):
        customer = await ChatCustomer(chat_url).connect()
        try:
            await tell(customer, "I forgot my password")
            await tell(customer, address)
            answers[kind] = [[r["text"] for r in await tell(customer, code)] for code in wrong_codes([], 6)]
        finally:
            await customer.close()
    assert answers["known"] == answers["unknown"]


# RL-1 ---------------------------------------------------------------------------------------------


async def test_wrong_codes_in_one_conversation_and_channel_lock_every_other(settings, smtp_server, chat_url):
    account = await create_account(settings)
    first, third = await ChatCustomer(chat_url).connect(), await ChatCustomer(chat_url).connect()
    rest_sender = secrets.token_urlsafe(32)
    try:
        await tell(first, "secure my account")
        await tell(first, account.email)
        await rest_say(settings, rest_sender, "secure my account")
        await rest_say(settings, rest_sender, account.email)
        await tell(third, "secure my account")
        await tell(third, account.email)
        codes = await wait_for_codes(smtp_server, account.email, 3)
        wrong = wrong_codes(codes, 5)

        for code in wrong[:3]:
            assert any("doesn't match" in r["text"] for r in await tell(first, code))
        for code in wrong[3:]:
            status, body = await rest_say(settings, rest_sender, code)
            assert status == 200 and any("doesn't match" in m.get("text", "") for m in body)
        # The third conversation never typed a wrong code, and even its own right code is refused now.
        refused = await tell(third, codes[-1])
        assert any("too many wrong codes" in r["text"] for r in refused), refused
        assert not any("you're verified" in r["text"] for r in refused)
    finally:
        await first.close()
        await third.close()


# TOTP-1 -------------------------------------------------------------------------------------------


def encodings(raw: bytes) -> list[bytes]:
    return [
        raw,
        binascii.hexlify(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.urlsafe_b64encode(raw).rstrip(b"="),
        base64.b32encode(raw).rstrip(b"="),
    ]


async def test_totp_seeds_are_sealed_at_rest_and_the_key_is_not_in_redis(settings):
    seed = pyotp.random_base32()
    account = await create_account(settings, totp_secret=seed)
    redis = Redis.from_url(settings.redis_url)
    try:
        sealed = (await redis.hget(f"rd:account:{account.ref}:secrets", "totp_seed")).decode()
    finally:
        await redis.close()
    assert seed not in sealed and not re.fullmatch(r"[A-Z2-7]{16,}=*", sealed)
    assert SecretBox(settings.secret_key).open(sealed, totp_context(account.ref)) == seed
    with pytest.raises(DecryptionError):
        SecretBox(secrets.token_bytes(48)).open(sealed, totp_context(account.ref))
    with pytest.raises(DecryptionError):  # bound to its account: it cannot be moved to another one
        SecretBox(settings.secret_key).open(sealed, totp_context("acct_other"))

    stored = await redis_dump(settings.redis_url)
    assert seed.encode() not in stored
    for key in (settings.secret_key, derive_key(settings.secret_key, "seal")):
        for form in encodings(key):
            assert form[:24] not in stored, "the sealing key (or its root) is in Redis"


# PII-3 --------------------------------------------------------------------------------------------


async def test_logs_never_hold_what_a_customer_or_agent_wrote(settings, stack, chat_url):
    marker = f"zebrafinch{secrets.token_hex(5)}"
    sentences = [
        f"my neighbour {marker} keeps borrowing my laptop",
        f"also the {marker}rest pigeon took my phone",
        f"are you still there {marker}live",
        f"Hello, {marker}agent from the security team here",
    ]
    customer, ticket_id = await escalated_conversation(chat_url)
    agent = await agent_api(settings, "security")
    try:
        await tell(customer, sentences[0])
        await rest_say(settings, secrets.token_urlsafe(32), sentences[1])
        assert (await agent.call("POST", f"/tickets/{ticket_id}/claim"))[0] == 200
        await customer.sio.emit("user_uttered", {"message": sentences[2], "session_id": customer.session_id})
        assert (await agent.call("POST", f"/tickets/{ticket_id}/messages", {"text": sentences[3]}))[0] == 200
        assert (await asyncio.wait_for(customer.replies.get(), 10))["text"] == sentences[3]
        _, ticket = await agent.call("GET", f"/tickets/{ticket_id}")
        assert any(marker in line["text"] for line in ticket["transcript"])  # the text did travel through the stack
        await agent.call("POST", f"/tickets/{ticket_id}/handback", {"summary": "done"})
    finally:
        await customer.close()
        await agent.close()
    await asyncio.sleep(1.5)  # let every process flush its log

    logs = {p.name: p.read_bytes() for p in (settings.var_dir / "log").glob("*.log")}
    assert {"rasa.log", "actions.log", "helpdesk.log"} <= set(logs)
    for name, content in logs.items():
        assert marker.encode() not in content, f"customer or agent text found in {name}"
        assert b" DEBUG " not in content, f"{name} logs at debug level"
    rasa = next(p for p in stack.parts if p.name == "rasa")
    assert not {"--debug", "-vv", "--verbose", "-v"} & set(rasa.argv)


# AGT-5 --------------------------------------------------------------------------------------------


async def test_no_agent_api_sets_verification_or_shows_a_secret(settings, chat_url):
    customer, ticket_id = await escalated_conversation(chat_url)
    agents = [await agent_api(settings, role) for role in ("agent", "security", "supervisor")]
    strong = {"customer": {"verification": {"level": "strong", "methods": ["agent"]}}, "level": "strong"}
    try:
        _, before = await agents[0].call("GET", f"/tickets/{ticket_id}")
        assert before["customer"]["verification"] == {"level": "none", "methods": []}
        for api in agents:
            for method, path in (
                ("PATCH", f"/tickets/{ticket_id}"),
                ("PUT", f"/tickets/{ticket_id}"),
                ("POST", f"/tickets/{ticket_id}"),
                ("POST", f"/tickets/{ticket_id}/verify"),
                ("POST", f"/tickets/{ticket_id}/verification"),
                ("PATCH", f"/contacts/{customer.session_id}"),
                ("POST", f"/contacts/{customer.session_id}/verify"),
            ):
                async with api.http.request(method, f"{api.base}{path}", json=strong) as reply:
                    assert reply.status in (401, 403, 404, 405), (method, path, reply.status)
            async with api.http.post(
                f"{api.base}/tickets",
                json={**strong, "category": "other", "priority": "low", "conversation_id": customer.session_id},
            ) as reply:
                assert reply.status == 401  # only the action server's signature creates a ticket
            await api.call(
                "POST", f"/tickets/{ticket_id}/tags", {"add": ["verified:strong"], "remove": ["verified:none"]}
            )
            await api.call("POST", f"/contacts/{customer.session_id}/tags", {"add": ["verified:strong"]})

        _, after = await agents[2].call("GET", f"/tickets/{ticket_id}")
        assert after["customer"]["verification"] == {"level": "none", "methods": []}
        redis = Redis.from_url(settings.redis_url)
        try:
            assert await redis.get(f"rd:verification:{customer.session_id}") is None
        finally:
            await redis.close()
        status, contact = await agents[0].call("GET", f"/contacts/{customer.session_id}")
        assert status == 200 and contact["verification"] not in ("basic", "strong")

        # The bot still treats the customer as unverified.
        said = await tell(customer, "I want to secure my account")
        assert any("email address" in r["text"] for r in said) and not any("you're verified" in r["text"] for r in said)

        # Nothing an agent reads names a secret.
        secret_words = re.compile(r"seed|secret|password_hash|otp|code_hash|token", re.IGNORECASE)
        for api in agents:
            for path in (f"/tickets/{ticket_id}", "/tickets", f"/contacts/{customer.session_id}"):
                status, body = await api.call("GET", path)
                if status == 200:
                    keys = re.findall(r'"([A-Za-z_]+)":', json.dumps(body))
                    assert not [k for k in keys if secret_words.search(k)], (path, keys)
    finally:
        await customer.close()
        for api in agents:
            await api.close()


async def test_agents_cannot_tag_a_customer_verified(settings, chat_url):
    customer, ticket_id = await escalated_conversation(chat_url)
    api = await agent_api(settings, "security")
    try:
        status, _ = await api.call(
            "POST", f"/tickets/{ticket_id}/tags", {"add": ["verified:strong"], "remove": ["verified:none"]}
        )
        _, ticket = await api.call("GET", f"/tickets/{ticket_id}")
        assert status in (400, 403) and "verified:strong" not in ticket["tags"]
        assert "verified:none" in ticket["tags"]
    finally:
        await customer.close()
        await api.close()


# S2S-2 --------------------------------------------------------------------------------------------


def listening_addresses(port: int) -> list[str]:
    """Local addresses of the sockets listening on ``port``, from /proc/net/tcp and tcp6."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            local, _remote, state = line.split()[1:4]
            address, port_hex = local.split(":")
            if state == "0A" and int(port_hex, 16) == port:
                raw = binascii.unhexlify(address)
                words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
                family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
                found.append(socket.inet_ntop(family, words))
    return found


def non_loopback_address() -> str | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_the_action_server_listens_on_loopback_only(settings):
    addresses = listening_addresses(settings.actions_port)
    assert addresses, "no socket listens on the action server's port"
    assert set(addresses) <= {"127.0.0.1", "::1"}, addresses
    outside = non_loopback_address()
    if outside is not None:  # a machine with a network interface: reaching it from there fails
        with pytest.raises(OSError):
            socket.create_connection((outside, settings.actions_port), timeout=3).close()


@pytest.mark.parametrize(
    "method, path",
    [
        ("GET", "/status"),
        ("GET", "/domain"),
        ("GET", "/conversations/someone-else-000000000000000000000000/tracker"),
        ("POST", "/conversations/someone-else-000000000000000000000000/tracker/events"),
        ("POST", "/conversations/someone-else-000000000000000000000000/trigger_intent"),
        ("POST", "/model/parse"),
    ],
)
async def test_rasa_http_api_refuses_a_missing_or_wrong_token(settings, method, path):
    url = f"http://127.0.0.1:{settings.rasa_port}{path}"
    body = (
        {"event": "slot", "name": "verify_step", "value": "verified"}
        if "events" in path
        else {"text": "hi", "name": "greet"}
    )
    async with aiohttp.ClientSession() as http:
        for params in ({}, {"token": "wrong-" + secrets.token_urlsafe(16)}):
            async with http.request(method, url, params=params, json=body) as reply:
                assert reply.status == 401, (method, path, params, reply.status)
        async with http.get(url.replace(path, "/status"), params={"token": settings.rasa_token}) as reply:
            assert reply.status == 200


# PWD-4 --------------------------------------------------------------------------------------------


async def verify_nth(customer: ChatCustomer, smtp, address: str, nth: int) -> None:
    """Verifies with the ``nth`` code mailed to ``address`` (1-based), and waits for the activity review."""
    await tell(customer, "I want to secure my account")
    await tell(customer, address)
    code = (await wait_for_codes(smtp, address, nth))[nth - 1]
    said = await tell(customer, f"the code is {code}")
    assert any("you're verified" in r["text"] for r in said), said


def password_link(replies: list[dict]) -> str:
    return next(m.group(1) for r in replies if (m := re.search(r"(http\S+/secure/password/\S+)", r["text"])))


async def test_a_password_change_revokes_every_other_session_link_and_verification(settings, smtp_server, chat_url):
    account = await create_account(settings, sessions=3)
    other, customer = await ChatCustomer(chat_url).connect(), await ChatCustomer(chat_url).connect()
    redis = Redis.from_url(settings.redis_url)
    try:
        await verify_nth(other, smtp_server, account.email, 1)
        await tell(other, "no")
        other_link = password_link(await tell(other, "not now"))
        await verify_nth(customer, smtp_server, account.email, 2)
        await tell(customer, "no")
        link = password_link(await tell(customer, "not now"))  # the customer declined "sign out everywhere"
        assert await SessionStore(redis).count(account.ref) == 3

        password = "harbour-quartz-lantern-meadow-9"
        async with aiohttp.ClientSession() as http:
            assert "Set-Cookie" not in await set_password_on_page(http, link, password)  # nobody is signed in
        done = await drain(customer)
        assert any("password has been changed" in r["text"] for r in done)

        assert await SessionStore(redis).count(account.ref) == 0
        assert await redis.get(f"rd:verification:{other.session_id}") is None, "another conversation stays verified"
        async with aiohttp.ClientSession() as http:
            async with http.get(other_link) as stale:
                assert stale.status == 410, "a password link issued before the change still works"
    finally:
        await other.close()
        await customer.close()
        await redis.close()


# IDV-5, RL-3 --------------------------------------------------------------------------------------


async def test_a_resend_replaces_the_code_and_keeps_the_failure_count(settings, smtp_server, customer):
    account = await create_account(settings)
    await tell(customer, "secure my account")
    await tell(customer, account.email)
    [first] = await wait_for_codes(smtp_server, account.email, 1)
    wrong = wrong_codes([first], 5)
    for code in wrong[:4]:
        assert any("doesn't match" in r["text"] for r in await tell(customer, code))
    assert any("If this address belongs" in r["text"] for r in await tell(customer, "send it again"))
    second = (await wait_for_codes(smtp_server, account.email, 2))[1]
    if second != first:
        assert any("doesn't match" in r["text"] for r in await tell(customer, first))  # the old code is gone
    else:
        await tell(customer, wrong[4])
    # Five failures in a row, across the resend: the new, right code now waits for the delay.
    refused = await tell(customer, second)
    assert any("too many wrong codes" in r["text"] for r in refused), refused


async def test_code_sending_is_limited_per_conversation(settings, customer):
    await tell(customer, "secure my account")
    answers = [await tell(customer, f"nobody-{secrets.token_hex(4)}@example.com") for _ in range(6)]
    sent = [any("If this address belongs" in r["text"] for r in a) for a in answers]
    assert sent == [True] * 5 + [False], answers
    assert any("code" in r["text"] and "minutes" in r["text"] for r in answers[-1])


# AGT-1, AGT-4 -------------------------------------------------------------------------------------


async def test_an_agent_session_ends_after_fifteen_idle_minutes_and_use_extends_it(settings):
    import hashlib

    api = await agent_api(settings, "agent")
    redis = Redis.from_url(settings.redis_url)
    token = api.http.headers["Authorization"][7:]
    key = f"rd:helpdesk:session:{hashlib.sha256(token.encode()).hexdigest()}"
    try:
        assert 15 * 60 - 5 <= await redis.ttl(key) <= 15 * 60
        await redis.expire(key, 60)
        assert (await api.call("GET", "/tickets"))[0] == 200
        assert await redis.ttl(key) > 15 * 60 - 5  # a request slides the idle window forward
        await redis.pexpire(key, 1)  # fifteen idle minutes pass
        await asyncio.sleep(0.05)
        status, body = await api.call("GET", "/tickets")
        assert status == 401 and body["error"]["code"] == "unauthenticated"
    finally:
        await api.close()
        await redis.close()


async def test_no_role_can_edit_or_delete_the_audit_log(settings, chat_url):
    customer, ticket_id = await escalated_conversation(chat_url)
    agents = [await agent_api(settings, role) for role in ("agent", "security", "supervisor")]
    try:
        await agents[0].call("GET", f"/tickets/{ticket_id}")
        _, before = await agents[2].call("GET", f"/tickets/{ticket_id}/audit")
        for api in agents:
            for method in ("POST", "PUT", "PATCH", "DELETE"):
                url = f"{api.base}/tickets/{ticket_id}/audit"
                async with api.http.request(method, url, json={"entries": []}) as reply:
                    assert reply.status in (403, 404, 405), (api, method, reply.status)
            async with api.http.delete(f"{api.base}/tickets/{ticket_id}") as reply:
                assert reply.status in (403, 404, 405)
        _, after = await agents[2].call("GET", f"/tickets/{ticket_id}/audit")
        assert after["entries"][: len(before["entries"])] == before["entries"]  # only ever appended to
    finally:
        await customer.close()
        for api in agents:
            await api.close()


async def test_revocation_spares_this_conversation_and_other_accounts(redis_server):
    from recoverydesk.adapters.secure_links import SecureLinks
    from recoverydesk.adapters.verification_store import VerificationStore

    redis = Redis.from_url(redis_server.url)
    me, other = f"acct_{secrets.token_hex(4)}", f"acct_{secrets.token_hex(4)}"
    conv = {name: f"{name}-{secrets.token_hex(8)}" for name in ("here", "there", "stranger", "pending", "moved")}
    store, links = VerificationStore(redis), SecureLinks(redis, "https://help.example.com")
    try:
        await store.grant(conv["here"], me, "basic", "email_code")
        await store.grant(conv["there"], me, "strong", "totp")
        await store.grant(conv["stranger"], other, "basic", "email_code")
        await store.set_pending(conv["pending"], me)
        await store.grant(conv["moved"], me, "basic", "email_code")
        await store.grant(conv["moved"], other, "basic", "email_code")  # the conversation moved on to another account
        mine = [await links.issue(me, conv["there"], p) for p in ("password", "totp")]
        theirs = await links.issue(other, conv["stranger"], "password")

        assert await store.revoke_others(me, keep_conversation=conv["here"]) == 2
        assert await links.revoke_all(me) == 2
        assert (await store.get(conv["here"])).at_least("basic")
        assert (await store.get(conv["there"])).level == "none" and await store.pending(conv["pending"]) is None
        assert (await store.get(conv["stranger"])).account_ref == other
        assert (await store.get(conv["moved"])).account_ref == other
        tokens = [url.rsplit("/", 1)[1] for url in mine]
        for token, purpose in zip(tokens, ("password", "totp"), strict=True):
            assert await links.peek(token, purpose) is None
        assert await links.consume(theirs.rsplit("/", 1)[1], "password") is not None
    finally:
        await redis.close()
