"""`recoverydesk channels register <name>`: tells a messenger platform where our webhook is.

Never run at start-up (the stack starts with no network). Telegram is told by ``setWebhook``
(with ``secret_token`` and the update kinds we handle); Messenger's page is subscribed to the app
(``/me/subscribed_apps``) and the callback URL is printed for the app's dashboard; WhatsApp's
callback is set in the app's dashboard (or with an app token we do not hold), so the command
prints what to configure there after checking that our own webhook answers Meta's challenge."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Callable, Optional

import aiohttp

from recoverydesk.adapters.messenger_api import PlatformApi, Sent
from recoverydesk.settings import Settings

CHANNELS = ("telegram", "whatsapp", "facebook")
TELEGRAM_UPDATES = ["message", "callback_query", "my_chat_member"]
OFFICIAL_TELEGRAM = "https://api.telegram.org"
_TELEGRAM_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


class RegistrationFailed(Exception):
    """The platform refused, could not be reached, or a setting is missing; one sentence."""


def webhook_url(settings: Settings, channel: str) -> str:
    return f"{settings.public_base_url}/webhooks/{channel}/webhook"


def register(settings: Settings, channel: str, say: Callable[[str], None] = print) -> None:
    if channel not in CHANNELS:
        raise RegistrationFailed(f"The channel must be one of {', '.join(CHANNELS)}, not {channel!r}.")
    asyncio.run(_register(settings, channel, say))


async def _register(settings: Settings, channel: str, say: Callable[[str], None]) -> None:
    api = PlatformApi(settings.messengers.send_timeout_seconds)
    try:
        await {"telegram": _telegram, "whatsapp": _whatsapp, "facebook": _facebook}[channel](settings, api, say)
    finally:
        await api.close()


def _failed(what: str, sent: Sent) -> RegistrationFailed:
    hint = {
        "timeout": "it did not answer in time",
        "unreachable": "it could not be reached",
        "refused": "it refused the call (check the token)",
        "http_401": "it refused the token",
        "http_403": "it refused the token",
        "http_404": "it does not know the token or id",
    }.get(sent.kind, f"it answered {sent.kind}")
    return RegistrationFailed(f"{what} failed: {hint}.")


async def _telegram(settings: Settings, api: PlatformApi, say: Callable[[str], None]) -> None:
    m = settings.messengers
    if not m.telegram_token or not m.telegram_webhook_secret:
        raise RegistrationFailed("Set TELEGRAM_TOKEN and TELEGRAM_WEBHOOK_SECRET first.")
    if not _TELEGRAM_SECRET.match(m.telegram_webhook_secret):
        raise RegistrationFailed("TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -.")
    url = webhook_url(settings, "telegram")
    if m.telegram_api_url == OFFICIAL_TELEGRAM and not url.startswith("https://"):
        raise RegistrationFailed(f"Telegram calls only HTTPS webhooks; PUBLIC_BASE_URL is {settings.public_base_url}.")
    sent = await api.post(
        f"{m.telegram_api_url}/bot{m.telegram_token}/setWebhook",
        {"url": url, "secret_token": m.telegram_webhook_secret, "allowed_updates": TELEGRAM_UPDATES},
    )
    if not sent.ok:
        raise _failed("Telegram's setWebhook", sent)
    say(f"Telegram will send {', '.join(TELEGRAM_UPDATES)} updates to {url}, signed with TELEGRAM_WEBHOOK_SECRET.")


async def _check_challenge(settings: Settings, api: PlatformApi, channel: str, verify_token: str) -> Optional[str]:
    """Whether our own webhook answers Meta's subscription challenge (a problem, or None)."""
    challenge = secrets.token_hex(8)
    url = webhook_url(settings, channel)
    try:
        timeout = settings.messengers.send_timeout_seconds
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
            async with http.get(url, params=params) as reply:
                answer = await reply.text()
                if reply.status != 200 or answer != challenge:
                    return f"{url} answered {reply.status} to the challenge (is the stack running with these settings?)"
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
        return f"{url} could not be reached (is the stack running?)"
    return None


async def _whatsapp(settings: Settings, api: PlatformApi, say: Callable[[str], None]) -> None:
    m = settings.messengers
    missing = [
        name
        for name, value in (
            ("WHATSAPP_TOKEN", m.whatsapp_token),
            ("WHATSAPP_APP_SECRET", m.whatsapp_app_secret),
            ("WHATSAPP_VERIFY_TOKEN", m.whatsapp_verify_token),
            ("WHATSAPP_PHONE_NUMBER_ID", m.whatsapp_phone_number_id),
        )
        if not value
    ]
    if missing:
        raise RegistrationFailed(f"Set {', '.join(missing)} first.")
    problem = await _check_challenge(settings, api, "whatsapp", m.whatsapp_verify_token or "")
    if problem:
        raise RegistrationFailed(f"Our WhatsApp webhook is not ready: {problem}.")
    say("Our WhatsApp webhook answers Meta's challenge. In the Meta app's dashboard, WhatsApp > Configuration:")
    say(f"  Callback URL:  {webhook_url(settings, 'whatsapp')}")
    say("  Verify token:  the value of WHATSAPP_VERIFY_TOKEN")
    say("  Webhook fields: subscribe to 'messages'")


async def _facebook(settings: Settings, api: PlatformApi, say: Callable[[str], None]) -> None:
    m = settings.messengers
    if not (m.facebook_page_access_token and m.facebook_app_secret and m.facebook_verify_token):
        raise RegistrationFailed("Set FACEBOOK_PAGE_ACCESS_TOKEN, FACEBOOK_APP_SECRET and FACEBOOK_VERIFY_TOKEN first.")
    problem = await _check_challenge(settings, api, "facebook", m.facebook_verify_token)
    if problem:
        raise RegistrationFailed(f"Our Messenger webhook is not ready: {problem}.")
    sent = await api.post(
        f"{m.facebook_api_url}/me/subscribed_apps",
        {"subscribed_fields": ["messages", "messaging_postbacks"]},
        {"Authorization": f"Bearer {m.facebook_page_access_token}"},
    )
    if not sent.ok or sent.result.get("success") is not True:
        raise _failed("Subscribing the page to the app", sent)
    say("The page is subscribed to messages and messaging_postbacks.")
    say("In the Meta app's dashboard, Messenger > Settings:")
    say(f"  Callback URL:  {webhook_url(settings, 'facebook')}")
    say("  Verify token:  the value of FACEBOOK_VERIFY_TOKEN")
