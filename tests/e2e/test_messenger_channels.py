"""Telegram, WhatsApp and Messenger end to end: signed platform webhooks posted to the running Rasa
server, the bot's replies read from the fake platform, the stored tracker read through Rasa's API."""

from __future__ import annotations

import json
import re
import time

import aiohttp
import pytest
import requests
from redis.asyncio import Redis

from recoverydesk.ops.channel_registration import register
from tests.support.messengers import (
    FACEBOOK_VERIFY_TOKEN,
    WHATSAPP_VERIFY_TOKEN,
    MessengerCustomer,
    buttons_of,
    text_of,
)
from tests.support.servers import agent_api, create_account, tracker, wait_for_mail

CHANNELS = ("telegram", "whatsapp", "facebook")


@pytest.fixture
def platform(fake_platform, stack):
    fake_platform.reset()
    yield fake_platform
    fake_platform.reset()


def customer_on(channel: str, settings, platform) -> MessengerCustomer:
    return MessengerCustomer(f"http://127.0.0.1:{settings.rasa_port}", platform, settings.secret_key, channel)


def until(customer: MessengerCustomer, text: str, marker: str) -> list[str]:
    """Says ``text``; the texts the bot sent back, which must include one containing ``marker``."""
    texts = customer.say(text)
    assert any(marker in t for t in texts), texts
    return texts


def user_texts(stored: dict) -> list[str]:
    return [event.get("text") or "" for event in stored["events"] if event["event"] == "user"]


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_messenger_customer_gets_the_whole_product(channel, settings, smtp_server, platform):
    customer = customer_on(channel, settings, platform)
    account = await create_account(settings)

    assert customer.say("hello")  # greeting
    questions = customer.say("someone logged into my account")  # triage
    assert any("money" in t for t in questions), questions
    customer.say("no")
    customer.say("no")
    offer_team = customer.say_raw(customer.message("no"))
    assert buttons_of(offer_team[-1]), [text_of(c) for c in offer_team]
    assert (await tracker(settings, customer.conversation_id))["slots"]["triage_category"] == "unrecognized_login"
    declined = customer.say_raw(customer.message("not now"))
    secure_titles = [title for call in declined for title, payload in buttons_of(call)]
    assert secure_titles == (["Secure my account now"] if channel == "telegram" else ["Secure my account"])

    asked = customer.press("/request_secure_account", secure_titles[0])
    assert any("email" in t for t in asked), asked
    if channel == "telegram":  # the button press is acknowledged, so the app stops its spinner
        assert len(platform.received(lambda c: c.name == "answerCallbackQuery")) == 1
    customer.say(account.email)
    body = await wait_for_mail(smtp_server, account.email, "verification code")
    code = re.search(r"\b(\d{6})\b", body).group(1)
    code_update = customer.message(f"the code is {code}")
    replies = [text_of(call) for call in customer.say_raw(code_update)]
    assert any("Were any of these not you?" in t for t in replies), replies
    if channel == "telegram":
        deleted = platform.received(lambda c: c.name == "deleteMessage")
        assert [c.body for c in deleted] == [
            {"chat_id": int(customer.user_id), "message_id": code_update["message"]["message_id"]}
        ]
    else:  # the message cannot be deleted there: the customer is told so, once
        assert sum("can't delete your message" in t for t in replies) == 1
    stored = json.dumps(await tracker(settings, customer.conversation_id))
    assert code not in stored and "[code removed]" in stored

    offer = [c for c in customer.say_raw(customer.message("no")) if buttons_of(c)]
    titles = [title for title, _ in buttons_of(offer[-1])]
    assert titles == (
        ["Yes, sign out everywhere", "Not now"] if channel == "telegram" else ["Yes, sign out all", "Not now"]
    )
    link_calls = [c for c in customer.say_raw(customer.message("/deny")) if "/secure/password/" in text_of(c)]
    assert len(link_calls) == 1
    sent = link_calls[0].body
    if channel == "telegram":
        assert sent["link_preview_options"] == {"is_disabled": True}
    elif channel == "whatsapp":
        assert sent["text"]["preview_url"] is False

    handed = []
    for _ in range(4):
        handed = customer.say("I want to talk to a human")
        if any("RD-" in t for t in handed):
            break
    ticket_id = re.search(r"(RD-\d+)", " ".join(handed)).group(1)

    agent = await agent_api(settings, "security")
    try:
        status, _ = await agent.call("POST", f"/tickets/{ticket_id}/claim")
        assert status == 200
        assert (await tracker(settings, customer.conversation_id))["paused"] is True
        assert customer.say("are you there?") == []  # the bot is silent while the agent holds it

        before = len(customer.sent())
        status, _ = await agent.call("POST", f"/tickets/{ticket_id}/messages", {"text": "Hi, Sam from security here."})
        assert status == 200
        agent_lines = [text_of(c) for c in customer.sent()[before:]]
        assert agent_lines == ["Hi, Sam from security here."]  # once, and no agent marker as a message
        status, ticket = await agent.call("GET", f"/tickets/{ticket_id}")
        assert ticket["reply_window"]["open"] is True and ticket["reply_window"]["channel"] == channel
        if channel != "telegram":  # Meta's windows: closed, the agent is told why and nothing is sent
            redis = Redis.from_url(settings.redis_url)
            key = f"rd:messenger:conversation:{customer.conversation_id}"
            kept = await redis.hget(key, "last_inbound")
            try:
                await redis.hset(key, "last_inbound", repr(time.time() - 25 * 3600))
                before = len(customer.sent())
                status, answer = await agent.call("POST", f"/tickets/{ticket_id}/messages", {"text": "Still there?"})
                _, ticket = await agent.call("GET", f"/tickets/{ticket_id}")
                assert ticket["reply_window"]["open"] is False and "24 hours" in ticket["reply_window"]["reason"]
                if channel == "whatsapp":  # a template would be needed: refused
                    assert status == 503 and "24 hours" in answer["error"]["message"]
                    assert len(customer.sent()) == before
                else:  # Messenger: a person may still answer, with the HUMAN_AGENT tag
                    assert status == 200 and ticket["reply_window"]["agent_open"] is True
                    [late] = customer.sent()[before:]
                    assert late.body["messaging_type"] == "MESSAGE_TAG" and late.body["tag"] == "HUMAN_AGENT"
                    await redis.hset(key, "last_inbound", repr(time.time() - 8 * 24 * 3600))
                    status, answer = await agent.call("POST", f"/tickets/{ticket_id}/messages", {"text": "Hello?"})
                    assert status == 503 and "7 days" in answer["error"]["message"]
                    assert len(customer.sent()) == before + 1
            finally:
                await redis.hset(key, "last_inbound", kept)
                await redis.close()

        before = len(customer.sent())
        status, _ = await agent.call("POST", f"/tickets/{ticket_id}/handback", {"summary": "we checked your sign-ins"})
        assert status == 200
        assert any("we checked your sign-ins" in text_of(c) for c in customer.sent()[before:])
        assert (await tracker(settings, customer.conversation_id))["paused"] is False

        before = len(customer.sent())
        status, _ = await agent.call("POST", f"/tickets/{ticket_id}/resolve", {"resolution": "Nothing was taken."})
        assert status == 200
        assert any("resolved your case" in text_of(c) for c in customer.sent()[before:])
    finally:
        await agent.close()

    stored = await tracker(settings, customer.conversation_id)
    assert customer.user_id not in json.dumps(stored)  # the platform id is never the conversation's key
    assert stored["latest_input_channel"] == channel


def log_lines(settings, event: str) -> list[dict]:
    """Our structured lines of one kind in the Rasa server's log."""
    path = settings.var_dir / "log" / "rasa.log"
    found = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{") and f'"{event}"' in line:
            found.append(json.loads(line))
    return found


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_bad_or_missing_signature_gets_403_one_log_line_and_no_turn(channel, settings, platform):
    customer = customer_on(channel, settings, platform)
    marker = f"forged-{customer.user_id}"
    update = customer.message(marker)
    wrong = (
        {"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"}
        if channel == "telegram"
        else {"X-Hub-Signature-256": "sha256=" + "0" * 64}
    )
    before = len(log_lines(settings, "messenger.refused"))
    assert customer.post(update, headers=wrong).status_code == 403
    assert customer.post(update, headers={}).status_code == 403
    assert customer.sent() == []
    time.sleep(0.5)
    refused = log_lines(settings, "messenger.refused")[before:]
    assert [(line["channel"], line["reason"]) for line in refused] == (
        [("telegram", "wrong_secret"), ("telegram", "missing_secret")]
        if channel == "telegram"
        else [(channel, "signature_mismatch"), (channel, "signature_missing")]
    )
    assert marker not in (settings.var_dir / "log" / "rasa.log").read_text(errors="replace")


async def test_on_whatsapp_the_customer_is_told_once_that_a_typed_secret_stays_in_the_chat(settings, platform):
    customer = customer_on("whatsapp", settings, platform)
    first = customer.say("my password is Hunter-2-Canary and it was changed")
    second = customer.say("my password is Hunter-3-Canary now")
    assert sum("can't delete your message" in t for t in first + second) == 1


@pytest.mark.parametrize("channel", CHANNELS)
async def test_every_choice_of_a_six_button_question_reaches_the_customer_within_the_platform_limits(
    channel, settings, platform
):
    customer = customer_on(channel, settings, platform)
    calls = customer.say_raw(customer.message("I think I've been hacked"))
    choices = [button for call in calls for button in buttons_of(call)]
    assert [payload for _title, payload in choices] == [
        "/report_unauthorized_transaction",
        "/report_unrecognized_login",
        "/report_data_change",
        "/report_phishing",
        "/report_account_locked",
        "/inform_unsure",
    ]
    assert all(len(title) <= 20 for title, _payload in choices)
    if channel == "whatsapp":  # three reply buttons a message: the question, then the rest under an ellipsis
        assert [len(buttons_of(call)) for call in calls[-2:]] == [3, 3]
        assert "What did you notice?" in text_of(calls[-2]) and text_of(calls[-1]) == "…"


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_replayed_platform_message_makes_one_turn(channel, settings, platform):
    customer = customer_on(channel, settings, platform)
    update = customer.message("hello")
    first = customer.say_raw(update)
    again = customer.say_raw(update)
    assert first and again == []
    assert user_texts(await tracker(settings, customer.conversation_id)) == ["hello"]
    redis = Redis.from_url(settings.redis_url)
    try:  # where the no-turn tests look for a tracker that must not exist
        assert await redis.exists(f"rdtracker:events:{customer.conversation_id}")
    finally:
        await redis.close()


async def test_telegram_groups_and_block_notices_make_no_turn(settings, platform):
    customer = customer_on("telegram", settings, platform)
    assert customer.say_raw(customer.telegram_update("hello", chat_type="group")) == []
    uid = int(customer.user_id)
    blocked = {
        "update_id": 1,
        "my_chat_member": {
            "chat": {"id": uid, "type": "private"},
            "from": {"id": uid, "is_bot": False, "first_name": "Casey"},
            "date": 1,
            "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "Bot"}},
            "new_chat_member": {
                "status": "kicked",
                "until_date": 0,
                "user": {"id": 1, "is_bot": True, "first_name": "Bot"},
            },
        },
    }
    assert customer.say_raw(blocked) == []
    assert platform.received() == []
    redis = Redis.from_url(settings.redis_url)
    try:
        assert not await redis.exists(f"rdtracker:events:{customer.conversation_id}")
    finally:
        await redis.close()


async def test_whatsapp_statuses_and_messenger_echoes_make_no_turn(settings, platform):
    whatsapp = customer_on("whatsapp", settings, platform)
    status = {"id": "wamid.x", "status": "delivered", "timestamp": "1", "recipient_id": whatsapp.user_id}
    assert whatsapp.say_raw(whatsapp.whatsapp_batch(statuses=[status, {**status, "status": "read"}])) == []
    facebook = customer_on("facebook", settings, platform)
    echo = facebook.facebook_event("our own words")
    echo["message"]["is_echo"] = True
    delivery = {
        "sender": {"id": facebook.user_id},
        "recipient": {"id": "1"},
        "delivery": {"mids": ["m_1"], "watermark": 1},
    }
    read = {"sender": {"id": facebook.user_id}, "recipient": {"id": "1"}, "read": {"watermark": 1}}
    assert facebook.say_raw(facebook.facebook_batch([echo, delivery, read])) == []
    assert platform.received() == []


async def test_a_batch_of_two_messages_makes_two_turns_in_order(settings, platform):
    whatsapp = customer_on("whatsapp", settings, platform)
    whatsapp.say_raw(whatsapp.whatsapp_batch([whatsapp.whatsapp_message("hello"), whatsapp.whatsapp_message("thanks")]))
    assert user_texts(await tracker(settings, whatsapp.conversation_id)) == ["hello", "thanks"]
    facebook = customer_on("facebook", settings, platform)
    facebook.say_raw(facebook.facebook_batch([facebook.facebook_event("hello"), facebook.facebook_event("thanks")]))
    assert user_texts(await tracker(settings, facebook.conversation_id)) == ["hello", "thanks"]


@pytest.mark.parametrize("mode", ["down", "slow"])
async def test_when_the_platform_api_fails_the_turn_is_kept_and_the_failure_counted(mode, settings, platform):
    customer = customer_on("telegram", settings, platform)
    redis = Redis.from_url(settings.redis_url)
    try:
        series = 'recoverydesk_channel_send_failures_total{channel="telegram",kind="%s"}' % (
            "http_503" if mode == "down" else "timeout"
        )
        before = float(await redis.hget("rd:metrics", series) or 0)
        platform.mode, platform.delay = mode, 5.0  # MESSENGER_SEND_TIMEOUT_SECONDS is 2 in the test stack
        reply = customer.post(customer.message("hello"))
        assert reply.status_code == 200
        platform.mode = "normal"
        assert user_texts(await tracker(settings, customer.conversation_id)) == ["hello"]
        for _ in range(50):
            if float(await redis.hget("rd:metrics", series) or 0) > before:
                break
            import asyncio

            await asyncio.sleep(0.1)
        assert float(await redis.hget("rd:metrics", series) or 0) > before
        state = await redis.hget(f"rd:messenger:conversation:{customer.conversation_id}", "last_failure")
        assert state and state.decode().split()[0] in ("http_503", "timeout")
        failed = [line for line in log_lines(settings, "messenger.send_failed") if line["channel"] == "telegram"]
        assert failed and failed[-1]["kind"] == ("http_503" if mode == "down" else "timeout")
    finally:
        await redis.close()


@pytest.mark.parametrize("channel", ("whatsapp", "facebook"))
def test_meta_subscription_check_echoes_the_challenge_only_for_the_verify_token(channel, settings, platform):
    url = f"http://127.0.0.1:{settings.rasa_port}/webhooks/{channel}/webhook"
    token = WHATSAPP_VERIFY_TOKEN if channel == "whatsapp" else FACEBOOK_VERIFY_TOKEN
    good = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"})
    assert good.status_code == 200 and good.text == "1158201444"
    bad = requests.get(url, params={"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"})
    assert bad.status_code == 403 and "1" not in bad.text.replace("403", "")


def test_register_tells_each_platform_about_the_running_stack(settings, platform):
    said: list[str] = []
    for channel in ("telegram", "whatsapp", "facebook"):
        register(settings, channel, said.append)
    [webhook] = platform.received(lambda c: c.name == "setWebhook")
    assert webhook.body["url"] == f"{settings.public_base_url}/webhooks/telegram/webhook"
    [subscribed] = platform.received(lambda c: c.path.endswith("/me/subscribed_apps"))
    assert subscribed.body == {"subscribed_fields": ["messages", "messaging_postbacks"]}
    assert any(f"{settings.public_base_url}/webhooks/whatsapp/webhook" in line for line in said)
    assert any(f"{settings.public_base_url}/webhooks/facebook/webhook" in line for line in said)


@pytest.mark.parametrize("channel", CHANNELS)
async def test_a_photo_or_voice_note_gets_asked_to_type_and_makes_no_turn(channel, settings, platform):
    customer = customer_on(channel, settings, platform)
    if channel == "telegram":
        update = customer.telegram_update("unused")
        del update["message"]["text"]
        update["message"]["photo"] = [{"file_id": "AgAD", "file_unique_id": "u1", "width": 90, "height": 90}]
    elif channel == "whatsapp":
        image = {"from": customer.user_id, "id": f"wamid.{customer.user_id}", "timestamp": "1", "type": "image"}
        image["image"] = {"mime_type": "image/jpeg", "sha256": "abc", "id": "1234"}
        update = customer.whatsapp_batch([image])
    else:
        event = customer.facebook_event("unused")
        del event["message"]["text"]
        event["message"]["attachments"] = [{"type": "audio", "payload": {"url": "https://cdn.example/a.mp4"}}]
        update = customer.facebook_batch([event])
    replies = [text_of(call) for call in customer.say_raw(update)]
    assert len(replies) == 1 and "only read typed messages" in replies[0]
    assert customer.say_raw(update) == []  # a retry of the same message: nothing again
    redis = Redis.from_url(settings.redis_url)
    try:
        assert not await redis.exists(f"rdtracker:events:{customer.conversation_id}")
    finally:
        await redis.close()


async def test_a_web_chat_or_rest_sender_cannot_speak_in_a_messenger_conversation(settings, platform):
    customer = customer_on("telegram", settings, platform)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook",
            json={"sender": customer.conversation_id, "message": "hello"},
        ) as reply:
            assert reply.status == 200 and await reply.json() == []
    redis = Redis.from_url(settings.redis_url)
    try:
        assert not await redis.exists(f"rdtracker:events:{customer.conversation_id}")
    finally:
        await redis.close()
