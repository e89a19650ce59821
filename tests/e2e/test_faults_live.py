"""Faults during live conversations: a real redis-server, action server, SMTP server and helpdesk
plugin are stopped and started again while customers talk, and we check what each customer saw
and what is stored afterwards (no ticket, code or notification lost or duplicated).

The module runs its own stack on its own persistent Redis and SMTP server, so stopping them
disturbs no other test."""

import asyncio
import json
import os
import re
import signal
import time

import aiohttp
import pytest
from redis.asyncio import Redis

from recoverydesk.adapters import keys
from recoverydesk.ops.stack import Stack, loopback_environment
from recoverydesk.ops.training import ensure_model
from recoverydesk.settings import ROOT, Settings
from tests.support.servers import (
    ChatCustomer,
    RedisServer,
    SmtpServer,
    agent_api,
    create_account,
    tracker,
    tracker_slots,
    type_mailed_code,
    verify_by_email_code,
    wait_for_mail,
)

ACTION_TIMEOUT_SECONDS = 4
SUPPORT_PHONE = "+44 20 7946 0000"
MESSAGES_PER_MINUTE = 8
TICKETS_PER_HOUR = 2


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """Our own stack whose Redis, SMTP server, action server and plugin the tests may stop."""
    redis = RedisServer(tmp_path_factory.mktemp("fault-redis"), persistent=True).start()
    smtp = SmtpServer().start()
    env = loopback_environment(
        os.environ,
        redis.url,
        smtp.port,
        tmp_path_factory.mktemp("fault-var"),
        ACTION_TIMEOUT_SECONDS=str(ACTION_TIMEOUT_SECONDS),
        SUPPORT_PHONE=SUPPORT_PHONE,
        RL_MESSAGES_PER_SESSION=f"{MESSAGES_PER_MINUTE}/60",
        RL_TICKETS_PER_SESSION=f"{TICKETS_PER_HOUR}/3600",
    )
    model, _ = ensure_model(ROOT)
    stack = Stack(Settings.from_env(env, ROOT), model, env)
    try:
        stack.start(say=lambda _line: None)
        yield stack, redis, smtp
    finally:
        stack.stop()
        smtp.stop()
        redis.stop()


@pytest.fixture
def stack(faulty):
    return faulty[0]


@pytest.fixture
def settings(faulty):
    return faulty[0].settings


@pytest.fixture
def chat_url(settings):
    return f"http://127.0.0.1:{settings.rasa_port}"


def pids(stack: Stack) -> dict:
    return {part.name: part.process.pid for part in stack.parts}


async def stored_tickets_for(settings, conversation_id: str) -> list[dict]:
    redis = Redis.from_url(settings.redis_url)
    try:
        found = []
        async for key in redis.scan_iter("rd:helpdesk:ticket:*", count=1000):
            ticket = json.loads(await redis.get(key))
            if ticket["conversation_id"] == conversation_id:
                found.append(ticket)
        return found
    finally:
        await redis.close()


async def turn_finished(redis_url: str, conversation_id: str) -> None:
    """Waits until Rasa has saved the turn and released the conversation's lock (the reply is sent
    before both, so stopping Redis at once could cut the turn itself short)."""
    client = Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 10
        while await client.exists(f"{keys.LOCK_PREFIX}:{conversation_id}"):
            assert time.monotonic() < deadline, "the turn never released its lock"
            await asyncio.sleep(0.05)
    finally:
        await client.close()


async def test_redis_down_mid_conversation_gets_a_sentence_and_the_conversation_resumes(faulty, settings, chat_url):
    stack, redis, _smtp = faulty
    before = pids(stack)
    customer = await ChatCustomer(chat_url).connect()
    try:
        [question] = await customer.say("someone logged into my account")
        assert "money" in question["text"]
        await turn_finished(redis.url, customer.session_id)  # Redis goes down between turns

        redis.stop()
        [apology] = await customer.say("no", timeout=30)
        assert "isn't answering" in apology["text"] and "try again in a minute" in apology["text"]
        assert SUPPORT_PHONE in apology["text"] and "Traceback" not in apology["text"]

        redis.start()  # same port, same append-only file
        [question] = await customer.say("no", timeout=30)
        assert "right now" in question["text"]  # the next evidence question: the form went on
        [question] = await customer.say("no")
        assert "two-factor" in question["text"]
    finally:
        await customer.close()
    slots = await tracker_slots(settings, customer.session_id)
    assert slots["triage_category"] == "unrecognized_login" and slots["money_moved"] is False
    assert pids(stack) == before and stack.alive() is None  # nothing was restarted


async def test_action_server_down_tells_the_customer_and_offers_a_person(stack, settings, chat_url):
    customer = await ChatCustomer(chat_url).connect()
    try:
        [greeting] = await customer.say("hello")
        stack.stop_part("actions")
        started = time.monotonic()
        [apology] = await customer.say("someone logged into my account", timeout=30)
        assert "couldn't finish that step" in apology["text"] and SUPPORT_PHONE in apology["text"]
        assert [b["payload"] for b in apology.get("quick_replies") or apology.get("buttons") or []] == [
            "/request_human"
        ]
        assert time.monotonic() - started < ACTION_TIMEOUT_SECONDS + 5
        await asyncio.sleep(1)
        assert customer.replies.empty()  # one clear sentence, nothing after it

        stack.start_part("actions")
        [question] = await customer.say("someone logged into my account")
        assert "money" in question["text"]
    finally:
        await customer.close()


async def test_a_hanging_action_server_is_cut_off_by_the_timeout(stack, chat_url):
    customer = await ChatCustomer(chat_url).connect()
    actions = stack.part("actions").process
    try:
        os.killpg(actions.pid, signal.SIGSTOP)  # accepts connections, never answers
        started = time.monotonic()
        [apology] = await customer.say("money left my account without me", timeout=60)
        waited = time.monotonic() - started
        assert "couldn't finish that step" in apology["text"]
        assert ACTION_TIMEOUT_SECONDS - 0.5 <= waited < ACTION_TIMEOUT_SECONDS + 6
    finally:
        os.killpg(actions.pid, signal.SIGCONT)
        await customer.close()
    again = await ChatCustomer(chat_url).connect()
    try:
        [question] = await again.say("someone logged into my account")
        assert "money" in question["text"]
    finally:
        await again.close()


async def test_helpdesk_down_the_customer_gets_a_number_and_the_ticket_arrives_once(stack, settings, chat_url):
    customer = await ChatCustomer(chat_url).connect()
    stack.stop_part("helpdesk")
    try:
        await customer.say("someone logged into my account")
        for _question in ("money moved", "access ongoing", "contacts changed"):
            await customer.say("no")
        [told] = await customer.say("yes", timeout=30)
    finally:
        stack.start_part("helpdesk")
    try:
        assert "I've saved your case" in told["text"] and SUPPORT_PHONE in told["text"]
        ticket_id = re.search(r"case number is (RD-\d{6})\.", told["text"]).group(1)
        deadline = time.monotonic() + 30
        while not await stored_tickets_for(settings, customer.session_id):
            assert time.monotonic() < deadline, "the queued ticket never reached the plugin"
            await asyncio.sleep(0.25)
        await asyncio.sleep(3)  # let any duplicate delivery happen if it would
        [ticket] = await stored_tickets_for(settings, customer.session_id)
        assert ticket["id"] == ticket_id and ticket["category"] == "unrecognized_login"
        agent = await agent_api(settings, "agent")
        try:
            status, listed = await agent.call("GET", "/tickets")
            assert status == 200 and [t["id"] for t in listed["tickets"]].count(ticket_id) == 1
        finally:
            await agent.close()
        summary, _tips, _bye = await customer.say("bye", expect=3)
        assert ticket_id in summary["text"]
    finally:
        await customer.close()


async def test_mail_server_down_the_customer_is_told_and_the_code_is_sent_once_later(faulty, settings, chat_url):
    _stack, _redis, smtp = faulty
    account = await create_account(settings)
    customer = await ChatCustomer(chat_url).connect()
    smtp.stop()
    try:
        [ask] = await customer.say("I want to secure my account")
        assert "email address" in ask["text"]
        [told] = await customer.say(account.email)
        assert "couldn't send the code" in told["text"] and SUPPORT_PHONE in told["text"]
        await asyncio.sleep(3)  # the outbox tries, fails and backs off
        assert not [m for m in smtp.received if account.email in m.recipients]
    finally:
        smtp.start()
    try:
        replies = await type_mailed_code(customer, smtp, account.email, timeout=30)
        assert any("you're verified" in r["text"] for r in replies)
        await asyncio.sleep(3)
        assert len([m for m in smtp.received if account.email in m.recipients]) == 1  # sent once
    finally:
        await customer.close()


async def test_resolution_notice_waits_for_the_mail_server_and_is_sent_once(faulty, settings, chat_url):
    _stack, _redis, smtp = faulty
    account = await create_account(settings)
    customer = await ChatCustomer(chat_url).connect()
    try:
        await verify_by_email_code(customer, smtp, account.email)
        [handed] = await customer.say("I want to talk to a human")
        ticket_id = re.search(r"RD-\d{6}", handed["text"]).group(0)
    finally:
        await customer.close()
    smtp.stop()
    agent = await agent_api(settings, "security")
    try:
        status, _ = await agent.call("POST", f"/tickets/{ticket_id}/resolve", {"resolution": "We reset your sign-in."})
        assert status == 200
        await asyncio.sleep(3)
    finally:
        await agent.close()
        smtp.start()
    await wait_for_mail(smtp, account.email, "is resolved", timeout=30)
    await asyncio.sleep(3)
    resolved = [m for m in smtp.received if account.email in m.recipients and b"is resolved" in m.data]
    assert len(resolved) == 1


async def test_a_customer_sending_too_fast_is_told_when_to_go_on_and_others_are_not_slowed(settings, chat_url):
    hasty = await ChatCustomer(chat_url).connect()
    other = await ChatCustomer(chat_url).connect()
    try:
        for _ in range(MESSAGES_PER_MINUTE):
            await hasty.say("hello")
        [told] = await hasty.say("hello again")
        assert "faster than I can read" in told["text"]
        seconds = int(re.search(r"about (\d+) seconds", told["text"]).group(1))
        assert 0 < seconds <= 60
        [greeting] = await other.say("hello")
        assert "Recovery Desk" in greeting["text"]
        said = [e["text"] for e in (await tracker(settings, hasty.session_id))["events"] if e["event"] == "user"]
        assert said == ["hello"] * MESSAGES_PER_MINUTE  # the refused message never became a turn
    finally:
        await hasty.close()
        await other.close()


async def test_escalations_beyond_the_session_limit_are_refused_in_words(settings, chat_url):
    customer = await ChatCustomer(chat_url).connect()
    try:
        numbers = []
        for _ in range(TICKETS_PER_HOUR):
            [handed] = await customer.say("I want to talk to a human")
            numbers.append(re.search(r"RD-\d{6}", handed["text"]).group(0))
        [refused] = await customer.say("I want to talk to a human")
        assert "several times" in refused["text"] and "minutes" in refused["text"] and SUPPORT_PHONE in refused["text"]
    finally:
        await customer.close()
    await asyncio.sleep(1)
    stored = sorted(t["id"] for t in await stored_tickets_for(settings, customer.session_id))
    assert stored == sorted(numbers)


def status_of(url: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code


async def test_every_process_reports_health_and_readiness_and_the_plugin_serves_metrics(faulty, settings, chat_url):
    stack, redis, _smtp = faulty
    rasa, actions, helpdesk = (
        f"http://127.0.0.1:{settings.rasa_port}/chat",
        f"http://127.0.0.1:{settings.actions_port}",
        settings.helpdesk_url,
    )
    for base in (rasa, actions, helpdesk):
        assert (status_of(f"{base}/health"), status_of(f"{base}/ready")) == (200, 200), base

    customer = await ChatCustomer(chat_url).connect()
    try:
        await customer.say("someone logged into my account")
        await turn_finished(redis.url, customer.session_id)
        redis.stop()
        try:
            for base in (rasa, actions, helpdesk):
                assert (status_of(f"{base}/health"), status_of(f"{base}/ready")) == (200, 503), base
            [apology] = await customer.say("no", timeout=30)
            assert "isn't answering" in apology["text"]
        finally:
            redis.start()
        for base in (rasa, actions, helpdesk):
            assert status_of(f"{base}/ready") == 200, base
        for _question in ("money moved", "access ongoing", "contacts changed"):
            await customer.say("no")
        [done] = await customer.say("yes")
        ticket_id = re.search(r"RD-\d{6}", done["text"]).group(0)
        agent = await agent_api(settings, "agent")
        try:
            status, _ = await agent.call("POST", f"/tickets/{ticket_id}/claim")
            assert status == 200
        finally:
            await agent.close()
    finally:
        await customer.close()

    await asyncio.sleep(2)  # every process adds its counts to Redis about once a second
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{helpdesk}/metrics") as reply:
            assert reply.status == 200 and reply.content_type == "text/plain"
            text = await reply.text()

    def value(series: str) -> float:
        found = re.search(rf"^{re.escape(series)} (\S+)$", text, re.M)
        return float(found.group(1)) if found else 0.0

    assert value('recoverydesk_turns_total{channel="webchat",outcome="answered"}') >= 5
    assert value('recoverydesk_turns_total{channel="webchat",outcome="unavailable"}') >= 1
    assert value('recoverydesk_errors_total{component="rasa",kind="redis_unavailable"}') >= 1
    assert value("recoverydesk_turn_seconds_count") >= 5 and value('recoverydesk_turn_seconds_bucket{le="+Inf"}') >= 5
    assert value("recoverydesk_handoffs_total") >= 1
    assert value('recoverydesk_tickets_created_total{priority="normal"}') >= 1
