"""The action server down or slow: the customer is told, and offered a person; nothing hangs.

Rasa 3.6 waits up to ``DEFAULT_REQUEST_TIMEOUT`` (300 s) for a custom action, read from
``rasa.core.actions.action`` at call time, and when the call fails it logs a stack trace and
says nothing to the customer. Here the wait is bounded by ``ACTION_TIMEOUT_SECONDS`` (default
15) and a failed call becomes the ``utter_action_failed`` response, after which the bot listens.
Switched on by ``bot.rasa_plugins.patches.install()``, like ``rasa_speedups``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, List

import aiohttp
import rasa.core.actions.action as rasa_action
from rasa.core.actions.action import ActionExecutionRejection, RemoteAction, create_bot_utterance
from rasa.shared.core.events import Event, FollowupAction
from rasa.shared.exceptions import RasaException

from bot.rasa_plugins.replacement import Replacement
from recoverydesk.services.notices import support_phone

log = logging.getLogger("recoverydesk.actions_client")
DEFAULT_ACTION_TIMEOUT_SECONDS = 15
FAILED_RESPONSE = "utter_action_failed"


_rasa_run = RemoteAction.run


async def _run_or_apologise(
    self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
) -> List[Event]:
    try:
        return await _rasa_run(self, output_channel, nlg, tracker, domain)
    except ActionExecutionRejection:
        raise  # a form's "try another action": Rasa handles it
    except (RasaException, aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
        log.warning("actions.call_failed", extra={"action": self.name(), "kind": type(exc).__name__})
        draft = await nlg.generate(FAILED_RESPONSE, tracker, output_channel.name(), support_phone=support_phone())
        if not draft:
            return [FollowupAction("action_listen")]
        return [create_bot_utterance({**draft, "utter_action": FAILED_RESPONSE}), FollowupAction("action_listen")]


def replacements(timeout_seconds: int) -> list[Replacement]:
    """The bounded wait and the apology, for ``patches.install()``; importing this module changes nothing."""
    return [
        Replacement(rasa_action, "DEFAULT_REQUEST_TIMEOUT", timeout_seconds),  # read by Rasa at call time
        Replacement(RemoteAction, "run", _run_or_apologise),
    ]
