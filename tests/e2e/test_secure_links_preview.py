"""LNK-1 on the running Rasa server: a messenger's preview fetcher or a mail scanner opening a secure
link (``GET`` twice, ``HEAD``) sees no secret and uses nothing up; the customer's ``POST`` then works,
once, and a second ``POST`` gets the page's invalid-link text."""

from __future__ import annotations

import re
import secrets

import aiohttp
import pyotp
import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.responses import text
from recoverydesk.adapters.secure_links import SecureLinks
from recoverydesk.adapters.totp_store import TotpStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.passwords import verify_password
from recoverydesk.domain.signing import derive_key
from tests.support.servers import CSRF_FIELD, create_account

NEW_PASSWORD = "copper-lantern-orchard-meadow-41"
CODE = re.compile(r"[A-Z2-9]{4}(?:-[A-Z2-9]{4}){3}")
SEED = re.compile(r"\b[A-Z2-7]{32}\b")


async def _open_like_a_preview_fetcher(http: aiohttp.ClientSession, link: str) -> str:
    """GET twice and HEAD, as link previews and scanners do; each shows no secret. The page's form."""
    pages = []
    for _ in range(2):
        async with http.get(link) as reply:
            assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
            pages.append(await reply.text())
    async with http.head(link) as reply:
        assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
        assert await reply.read() == b""
    for page in pages:
        assert "totp-secret" not in page and "<svg" not in page and "otpauth" not in page
        assert not CODE.search(page) and not SEED.search(page)
        assert "<form method=post" in page and CSRF_FIELD.search(page)
    return pages[-1]


def _form(page: str, **fields: str) -> dict:
    return {"csrf_token": CSRF_FIELD.search(page).group(1), **fields}


@pytest.fixture
async def parts(settings):
    redis = Redis.from_url(settings.redis_url)
    totps = TotpStore(redis, SecretBox(settings.secret_key), derive_key(settings.secret_key, "recovery-codes"))
    directory = AccountDirectory(redis, SecretBox(settings.secret_key))
    yield SecureLinks(redis, settings.public_base_url), totps, directory
    await redis.close()


async def test_the_enrollment_link_survives_previews_and_shows_the_seed_to_the_post_once(settings, parts):
    links, totps, _ = parts
    account = await create_account(settings)
    link = await links.issue(account.ref, f"preview-{secrets.token_hex(8)}", "totp")
    async with aiohttp.ClientSession() as http:
        page = await _open_like_a_preview_fetcher(http, link)
        assert text("utter_page_totp_button") in page
        assert not await totps.has_pending(account.ref)  # no seed was even made
        async with http.post(link, data={"csrf_token": "0" * 64}) as forged:
            assert forged.status == 403
        async with http.post(link, data=_form(page)) as reply:
            assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
            shown = await reply.text()
        seed = re.search(r"id=totp-secret>([A-Z2-7]{32})<", shown).group(1)
        assert "<svg" in shown and await totps.has_pending(account.ref)
        async with http.post(link, data=_form(page)) as again:
            assert again.status == 410
            refused = await again.text()
        assert text("utter_page_link_invalid") in refused and seed not in refused
        async with http.get(link) as reply:
            assert reply.status == 410


async def test_the_recovery_codes_link_survives_previews_and_issues_codes_to_the_post_once(settings, parts):
    links, totps, _ = parts
    account = await create_account(settings, totp_secret=pyotp.random_base32())
    link = await links.issue(account.ref, f"preview-{secrets.token_hex(8)}", "recovery-codes")
    async with aiohttp.ClientSession() as http:
        page = await _open_like_a_preview_fetcher(http, link)
        assert text("utter_page_recovery_button") in page
        assert await totps.recovery_codes_left(account.ref) == 0  # nothing was issued by looking
        async with http.post(link, data=_form(page)) as reply:
            assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
            codes = CODE.findall(await reply.text())
        assert len(codes) == 10 and await totps.recovery_codes_left(account.ref) == 10
        async with http.post(link, data=_form(page)) as again:
            assert again.status == 410
            refused = await again.text()
        assert text("utter_page_link_invalid") in refused and not CODE.search(refused)
        assert await totps.recovery_codes_left(account.ref) == 10  # the codes shown are still the valid ones


async def test_the_password_link_survives_previews_and_its_post_changes_the_password_once(settings, parts):
    links, _, directory = parts
    account = await create_account(settings)
    link = await links.issue(account.ref, f"preview-{secrets.token_hex(8)}", "password")
    async with aiohttp.ClientSession() as http:
        page = await _open_like_a_preview_fetcher(http, link)
        assert "name=password " in page and "name=password_confirm " in page
        assert text("utter_page_password_button") in page
        async with http.post(link, data=_form(page, password=NEW_PASSWORD, password_confirm=NEW_PASSWORD)) as reply:
            assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
            assert text("utter_page_password_saved") in await reply.text()
        assert verify_password(await directory.store.secret(account.ref, "password_hash"), NEW_PASSWORD)
        other = "another-copper-lantern-orchard-9"
        async with http.post(link, data=_form(page, password=other, password_confirm=other)) as again:
            assert again.status == 410
            assert text("utter_page_link_invalid") in await again.text()
