"""The web chat's delivery receipts over Rasa's socket.io protocol: a message that carries an id is
acknowledged once the server has it, and the page's re-send of it after a reconnect (same id, maybe
another socket) causes no second turn."""

from __future__ import annotations

import asyncio
import secrets

from tests.support.servers import ChatCustomer, tracker


def user_texts(stored: dict) -> list[str]:
    return [event.get("text") for event in stored["events"] if event["event"] == "user"]


async def test_a_message_with_an_id_is_acknowledged_and_a_resend_causes_no_second_turn(settings, chat_url, customer):
    message = {"message": "hello there", "session_id": customer.session_id, "message_id": secrets.token_urlsafe(12)}

    assert await customer.sio.call("user_uttered", message, timeout=10) == {"received": True}
    first = await asyncio.wait_for(customer.replies.get(), 20)
    assert "Recovery Desk" in first["text"]

    again = await ChatCustomer(chat_url, session_id=customer.session_id).connect()  # the page, reconnected
    try:
        assert await again.sio.call("user_uttered", message, timeout=10) == {"received": True}
        assert await customer.sio.call("user_uttered", message, timeout=10) == {"received": True}
        [answer] = await again.say("what can you do?")  # the next new message is answered, in turn
        assert answer["text"]
    finally:
        await again.close()
    assert user_texts(await tracker(settings, customer.session_id)) == ["hello there", "what can you do?"]


async def test_a_malformed_message_id_is_refused_with_a_clear_error(customer):
    bad = {"message": "hello", "session_id": customer.session_id, "message_id": "../../x"}
    await customer.sio.emit("user_uttered", bad)
    error = await asyncio.wait_for(customer.errors.get(), 10)
    assert error["code"] == "invalid_message_id"
    assert customer.replies.empty()


async def test_messages_sent_in_quick_succession_are_handled_in_the_order_they_arrived(settings, customer):
    said = ["hello", "someone logged into my account", "no", "no"]
    for message in said:
        ack = await customer.sio.call(
            "user_uttered",
            {"message": message, "session_id": customer.session_id, "message_id": secrets.token_urlsafe(12)},
            timeout=10,
        )
        assert ack == {"received": True}
    for _ in range(200):
        stored = user_texts(await tracker(settings, customer.session_id))
        if len(stored) == len(said):
            break
        await asyncio.sleep(0.3)
    assert stored == said
