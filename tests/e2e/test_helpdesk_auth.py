"""Agent sign-in (AGT-1): password plus the agent's own TOTP, uniform failures, lockout."""

import time

import aiohttp
import pytest

from tests.support.servers import add_agent


async def login(settings, **body):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{settings.helpdesk_url}/api/v1/auth/login", json=body) as reply:
            return reply.status, await reply.json()


async def test_password_and_current_totp_sign_in(settings):
    agent = await add_agent(settings, "security")
    status, body = await login(
        settings, username=agent["username"], password=agent["password"], totp=agent["totp"].now()
    )
    assert status == 200
    assert body["role"] == "security" and body["token"] and body["expires_at"].endswith("Z")


async def test_every_failure_looks_the_same(settings):
    agent = await add_agent(settings, "agent")
    attempts = [
        dict(username=agent["username"], password="wrong-password-123", totp=agent["totp"].now()),
        dict(username=agent["username"], password=agent["password"], totp="000000"),
        dict(username="nobody-here", password=agent["password"], totp=agent["totp"].now()),
        dict(username=agent["username"], password=agent["password"]),
    ]
    answers = [await login(settings, **attempt) for attempt in attempts]
    assert {status for status, _ in answers} == {401}
    assert len({body["error"]["message"] for _, body in answers}) == 1


async def test_a_totp_code_signs_in_only_once(settings):
    agent = await add_agent(settings, "agent")
    code = agent["totp"].now()
    first, _ = await login(settings, username=agent["username"], password=agent["password"], totp=code)
    second, _ = await login(settings, username=agent["username"], password=agent["password"], totp=code)
    assert (first, second) == (200, 401)


async def test_repeated_failures_lock_the_agent_out(settings):
    agent = await add_agent(settings, "agent")
    for _ in range(5):
        await login(settings, username=agent["username"], password="not-the-password", totp="123456")
    status, _ = await login(settings, username=agent["username"], password=agent["password"], totp=agent["totp"].now())
    assert status == 401


async def test_ticket_list_needs_a_session(settings):
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{settings.helpdesk_url}/api/v1/tickets") as reply:
            assert reply.status == 401
            assert (await reply.json())["error"]["code"] == "unauthenticated"
        async with http.get(
            f"{settings.helpdesk_url}/api/v1/tickets", headers={"Authorization": "Bearer forged"}
        ) as reply:
            assert reply.status == 401


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"username": 5}'])
async def test_malformed_sign_in_is_a_clear_error(settings, body):
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{settings.helpdesk_url}/api/v1/auth/login", data=body) as reply:
            assert reply.status in (400, 401)
            assert "error" in await reply.json()


async def test_unsigned_ticket_requests_are_rejected(settings):
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{settings.helpdesk_url}/api/v1/tickets",
            json={"category": "other", "priority": "low", "conversation_id": "x" * 40},
            headers={"Idempotency-Key": "unsigned-0001", "X-RecoveryDesk-Timestamp": str(int(time.time()))},
        ) as reply:
            assert reply.status == 401


async def post_signed(settings, body: bytes, headers: dict):
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{settings.helpdesk_url}/api/v1/tickets",
            data=body,
            headers={"Content-Type": "application/json", **headers},
        ) as reply:
            return reply.status, await reply.json()


async def test_stale_and_altered_ticket_requests_are_rejected(settings):
    from recoverydesk.domain.signing import derive_key, sign

    key = derive_key(settings.secret_key, "tickets")
    body = b'{"category": "other", "priority": "low", "conversation_id": "sig-test-conversation-000000000000"}'
    stale = sign(key, body, now=time.time() - 301)
    status, error = await post_signed(settings, body, {"Idempotency-Key": "stale-0001", **stale})
    assert status == 401 and error["error"]["code"] == "unauthenticated"
    fresh = sign(key, body)
    status, _ = await post_signed(
        settings, body.replace(b"low", b"urgent"), {"Idempotency-Key": "altered-0001", **fresh}
    )
    assert status == 401
    status, error = await post_signed(settings, body, {**fresh})
    assert status == 400 and "Idempotency-Key" in error["error"]["message"]
    status, created = await post_signed(settings, body, {"Idempotency-Key": "valid-0001", **fresh})
    assert status == 201 and created["id"].startswith("RD-")
