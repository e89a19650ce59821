"""Web chat message ids against a real Redis: a message is taken once per session, whoever asks."""

from __future__ import annotations

import secrets

from redis.asyncio import Redis

from recoverydesk.adapters.webchat_deliveries import REMEMBER_SECONDS, WebchatDeliveries
from recoverydesk.ops.stack import free_port


async def test_a_message_id_is_taken_once_per_session_and_remembered_for_a_day(redis):
    deliveries = WebchatDeliveries(redis)
    session, other = secrets.token_urlsafe(32), secrets.token_urlsafe(32)

    assert await deliveries.first_time(session, "msg-00000001")
    assert not await deliveries.first_time(session, "msg-00000001")
    assert not await WebchatDeliveries(redis).first_time(session, "msg-00000001")  # another worker
    assert await deliveries.first_time(session, "msg-00000002")
    assert await deliveries.first_time(other, "msg-00000001")
    ttl = await redis.ttl(f"rd:webchat:delivered:{session}:msg-00000001")
    assert REMEMBER_SECONDS - 60 < ttl <= REMEMBER_SECONDS


async def test_without_redis_a_message_is_taken_rather_than_dropped():
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    try:
        assert await WebchatDeliveries(unreachable).first_time(secrets.token_urlsafe(32), "msg-00000001")
    finally:
        await unreachable.close()
