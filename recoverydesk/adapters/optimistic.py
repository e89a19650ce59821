"""Read-modify-write of one JSON document in Redis under WATCH: a concurrent writer makes us retry."""

from __future__ import annotations

import json
from typing import Any, Callable, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import WatchError

from recoverydesk.domain.errors import NotFound

T = TypeVar("T")


async def update_document(
    redis: Redis,
    key: str,
    decode: Callable[[dict[str, Any]], T],
    change: Callable[[T], None],
    stage: Callable[[Pipeline, T], None],
    missing: str,
) -> T:
    """Applies ``change`` to the stored document and queues its writes (``stage``) in one
    transaction; if anyone wrote the key meanwhile, reads it again. Raises NotFound(missing)."""
    async with redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(key)
                raw = await pipe.get(key)
                if not raw:
                    raise NotFound(missing)
                document = decode(json.loads(raw))
                change(document)
                pipe.multi()
                stage(pipe, document)
                await pipe.execute()
                return document
            except WatchError:
                continue
