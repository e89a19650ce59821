"""PII-1 canary: planted passwords, codes, TOTP seeds, recovery codes and link tokens never reach
Redis, logs, tickets, API responses or emails (the code's own delivery email is the one place a code is meant to be)."""

import asyncio
import email
import email.policy
import json
import re
import secrets

import aiohttp
import pyotp
from redis.asyncio import Redis

from tests.support.messengers import MessengerCustomer
from tests.support.servers import (
    AgentApi,
    ChatCustomer,
    add_agent,
    collect_until,
    create_account,
    reveal_on_page,
    set_password_on_page,
    sign_in,
    tracker,
    wait_for_mail,
)


async def redis_dump(url: str) -> bytes:
    """Every value of every key, whatever its type."""
    redis = Redis.from_url(url)
    chunks = []
    try:
        async for key in redis.scan_iter(count=1000):
            kind = (await redis.type(key)).decode()
            chunks.append(key)
            if kind == "string":
                chunks.append(await redis.get(key) or b"")
            elif kind == "hash":
                chunks.extend(b"%s=%s" % kv for kv in (await redis.hgetall(key)).items())
            elif kind == "list":
                chunks.extend(await redis.lrange(key, 0, -1))
            elif kind == "set":
                chunks.extend(await redis.smembers(key))
            elif kind == "zset":
                chunks.extend(await redis.zrange(key, 0, -1))
            elif kind == "stream":
                for _, fields in await redis.xrange(key):
                    chunks.extend(b"%s=%s" % kv for kv in fields.items())
    finally:
        await redis.close()
    return b"\n".join(chunks)


def appears(canary: str, blob: bytes) -> bool:
    """A 6-digit code counts only on its own, not as part of a longer number such as a timestamp."""
    if canary.isdigit():
        return re.search(rb"(?<![0-9])" + canary.encode() + rb"(?![0-9])", blob) is not None
    return canary.encode() in blob


async def test_secrets_never_leave_their_one_place(settings, smtp_server, chat_url, fake_platform):
    chat_password = f"Canary-Chat-{secrets.token_hex(6)}"
    page_password = f"canary-page-{secrets.token_hex(8)}-orbit"
    rest_code = f"{secrets.randbelow(900000) + 100000}"
    account = await create_account(settings)
    customer = await ChatCustomer(chat_url).connect()
    try:
        await customer.say(f"my password is {chat_password} and someone changed it")
        [ask] = await customer.say("secure my account")
        await customer.say(account.email)
        code = re.search(r"\b(\d{6})\b", await wait_for_mail(smtp_server, account.email, "verification code")).group(1)
        await customer.sio.emit("user_uttered", {"message": f"code {code}", "session_id": customer.session_id})
        await collect_until(customer, "Were any of these not you?")
        await customer.say("no", expect=2)
        _, link_message = await customer.say("yes", expect=2)
        link = re.search(r"(http\S+/secure/password/\S+)", link_message["text"]).group(1)
        token = link.rsplit("/", 1)[1]
        async with aiohttp.ClientSession() as http:
            await set_password_on_page(http, link, page_password)
            async with http.post(
                f"http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook",
                json={"sender": customer.session_id + "-rest", "message": f"my code is {rest_code}"},
            ) as reply:
                assert reply.status == 200
            changed = await asyncio.wait_for(customer.replies.get(), 15)
            assert "password has been changed" in changed["text"]
            await asyncio.wait_for(customer.replies.get(), 15)  # the offer of two-factor
            _, totp_message = await customer.say("yes", expect=2)
            totp_link = re.search(r"(http\S+/secure/totp/\S+)", totp_message["text"]).group(1)
            seed = re.search(r"id=totp-secret>([A-Z2-7]{32})<", (await reveal_on_page(http, totp_link))[2]).group(1)
            totp_code = pyotp.TOTP(seed).now()
            await customer.sio.emit("user_uttered", {"message": totp_code, "session_id": customer.session_id})
            enabled = await collect_until(customer, "recovery codes")
            recovery_link = re.search(r"(http\S+/secure/recovery-codes/\S+)", enabled[-1]["text"]).group(1)
            recovery_codes = re.findall(r"<li>([A-Z2-9-]{19})</li>", (await reveal_on_page(http, recovery_link))[2])
        assert len(recovery_codes) == 10
        await customer.sio.emit(
            "user_uttered", {"message": f"backup code {recovery_codes[0]}", "session_id": customer.session_id}
        )
        await customer.sio.emit(
            "user_uttered", {"message": "I want to talk to a human", "session_id": customer.session_id}
        )
        await collect_until(customer, "RD-")
    finally:
        await customer.close()

    # Every messenger channel's webhook is an input path too; a WhatsApp phone number is never stored in clear.
    messenger_canaries, messenger_trackers = [], []
    for channel in ("telegram", "whatsapp", "facebook"):
        someone = MessengerCustomer(chat_url, fake_platform, settings.secret_key, channel)
        typed_password, typed_code = f"Canary-{channel}-{secrets.token_hex(6)}", f"{secrets.randbelow(900000) + 100000}"
        someone.say(f"my password is {typed_password} and someone changed it")
        someone.say(f"my code is {typed_code}")
        messenger_canaries += [typed_password, typed_code, *([someone.user_id] if channel == "whatsapp" else [])]
        messenger_trackers.append(json.dumps(await tracker(settings, someone.conversation_id)))

    # The same secrets typed in Spanish, Italian and Russian (issue 16): removed before Rasa stores anything.
    phrasings = (
        ("mi contraseña es {} y alguien la cambió", "el código es {}"),
        ("la mia password è {} e qualcuno l'ha cambiata", "il codice è {}"),
        ("мой пароль: {} и его кто-то поменял", "код {}"),
    )
    for password_phrase, code_phrase in phrasings:
        typed_password, typed_code = f"Canary-{secrets.token_hex(6)}", f"{secrets.randbelow(900000) + 100000}"
        speaker = await ChatCustomer(chat_url).connect()
        try:
            await speaker.say(password_phrase.format(typed_password))
            await speaker.say(code_phrase.format(typed_code))
        finally:
            await speaker.close()
        messenger_canaries += [typed_password, typed_code]
        messenger_trackers.append(json.dumps(await tracker(settings, speaker.session_id)))

    link_tokens = [link.rsplit("/", 1)[1] for link in (totp_link, recovery_link)]
    canaries = [chat_password, page_password, code, rest_code, token, seed, totp_code, *recovery_codes, *link_tokens]
    canaries += messenger_canaries

    agent = await add_agent(settings, "supervisor")
    api = AgentApi(settings.helpdesk_url, await sign_in(settings.helpdesk_url, agent))
    try:
        _, listing = await api.call("GET", "/tickets")
        responses = [str(listing)]
        for ticket in listing["tickets"]:
            responses.append(str(await api.call("GET", f"/tickets/{ticket['id']}")))
            responses.append(str(await api.call("GET", f"/tickets/{ticket['id']}/audit")))
    finally:
        await api.close()
    responses.append(json.dumps(await tracker(settings, customer.session_id)))
    responses += messenger_trackers

    await wait_for_mail(smtp_server, account.email, "password was changed")
    stored = await redis_dump(settings.redis_url)
    logs = b"".join(p.read_bytes() for p in (settings.var_dir / "log").glob("*.log"))
    mails = []
    for mail in smtp_server.received:
        message = email.message_from_bytes(mail.data, policy=email.policy.default)
        if "verification code" not in str(message["Subject"]):
            mails.append(mail.data.decode(errors="replace"))
    assert len(mails) >= 1  # the password-changed notice at least
    assert len(listing["tickets"]) >= 1

    for canary in canaries:
        assert not appears(canary, stored), f"{canary} found in Redis"
        assert not appears(canary, logs), f"{canary} found in a log"
        assert not any(appears(canary, r.encode()) for r in responses), f"{canary} found in an API response"
        assert not any(appears(canary, m.encode()) for m in mails), f"{canary} found in an email"
