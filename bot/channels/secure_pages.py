"""The customer's secure pages, served by the Rasa server under PUBLIC_BASE_URL/secure/.

Configured in credentials.yml as ``bot.channels.secure_pages.SecurePages`` (a channel that only serves
pages). The password form is the only place a customer ever types a password."""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable, Optional, Text

import segno
from rasa.core.channels.channel import InputChannel, UserMessage
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request

from recoverydesk import settings as settings_module
from recoverydesk.adapters import responses as messages
from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.mail import Mailer
from recoverydesk.adapters.mail_outbox import MailOutbox
from recoverydesk.adapters.rasa_client import ConversationUnavailable, RasaConversations
from recoverydesk.adapters.redis_client import connect
from recoverydesk.adapters.secure_links import LinkGrant, SecureLinks
from recoverydesk.adapters.totp_store import TotpStore
from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain.accounts import new_event
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.password_policy import (
    MIN_LENGTH_WITH_SECOND_FACTOR,
    MIN_LENGTH_WITHOUT_SECOND_FACTOR,
    PasswordRejected,
    check_new_password,
)
from recoverydesk.domain.passwords import hash_password, verify_password
from recoverydesk.domain.signing import derive_key
from recoverydesk.domain.totp import account_label, provisioning_uri
from recoverydesk.settings import Settings

log = logging.getLogger("recoverydesk.secure_pages")
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
STYLE = """body{font:16px/1.5 system-ui,sans-serif;color:#14213d;background:#f6f7fb;margin:0}
main{max-width:480px;margin:48px auto;background:#fff;border:1px solid #d9dee7;
border-radius:14px;padding:28px}
h1{font-size:22px;margin-top:0}label{display:block;margin-top:14px;font-weight:600}
input[type=password]{width:100%;box-sizing:border-box;padding:10px;border:1px solid #c9d0dc;border-radius:8px;
font:inherit}
button{margin-top:20px;padding:10px 18px;border:0;border-radius:8px;background:#1d4ed8;color:#fff;font:inherit}
.error{background:#fdecec;border:1px solid #f5b5b5;padding:10px;border-radius:8px}
.ok{background:#e9f7ef;border:1px solid #9fd8b5;padding:10px;border-radius:8px}
.secret{font:18px ui-monospace,monospace;letter-spacing:2px;word-break:break-all}
.qr{display:flex;justify-content:center;margin:16px 0}dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px}
dt{font-weight:600}dd{margin:0}ol.codes{font:18px ui-monospace,monospace;columns:2}"""


def page(title: str, body: str, status: int = 200) -> response.HTTPResponse:
    document = (
        f"<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)}</title><link rel=stylesheet href='/secure/style.css'></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{body}</main></body></html>"
    )
    return response.html(document, status=status, headers=PAGE_HEADERS)


class SecurePages(InputChannel):
    @classmethod
    def name(cls) -> Text:
        return "secure"

    def url_prefix(self) -> Text:
        return "/secure"

    def __init__(self, settings: Optional[Settings] = None) -> None:
        self.settings = settings or settings_module.load()
        redis = connect(self.settings.require_redis_url())
        box = SecretBox(self.settings.secret_key)
        self.links = SecureLinks(redis, self.settings.public_base_url)
        self.verification = VerificationStore(redis)
        self.directory = AccountDirectory(redis, box)
        self.csrf_key = derive_key(self.settings.secret_key, "secure-page-csrf")
        smtp = self.settings.smtp
        # Queued in the durable outbox; the action server's outbox worker delivers it (retries included).
        self.mail = MailOutbox(
            redis, box, Mailer(smtp.host or "127.0.0.1", smtp.port, smtp.sender, smtp.tls, smtp.username, smtp.password)
        )
        self.rasa = RasaConversations(self.settings.rasa_url, self.settings.rasa_token)
        self.totp = TotpStore(redis, box, derive_key(self.settings.secret_key, "recovery-codes"))

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> InputChannel:
        return cls()

    def _csrf(self, token: str) -> str:
        return hmac.new(self.csrf_key, token.encode(), hashlib.sha256).hexdigest()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        pages = Blueprint("secure_pages", __name__)

        @pages.get("/style.css")
        async def style(_: Request) -> response.HTTPResponse:
            return response.text(STYLE, content_type="text/css", headers={"Cache-Control": "max-age=3600"})

        @pages.get("/password/<token>")
        async def password_form(_: Request, token: str) -> response.HTTPResponse:
            grant = await self.links.peek(token, "password")
            if grant is None:
                return self._invalid_link()
            return await self._password_page(grant, token)

        @pages.post("/password/<token>")
        async def password_submit(request: Request, token: str) -> response.HTTPResponse:
            if not hmac.compare_digest(request.form.get("csrf_token", ""), self._csrf(token)):
                return page(
                    messages.text("utter_page_password_title"),
                    f"<p class=error>{html.escape(messages.text('utter_page_form_expired'))}</p>",
                    403,
                )
            grant = await self.links.peek(token, "password")
            if grant is None:
                return self._invalid_link()
            return await self._change_password(request, grant, token)

        @pages.get("/totp/<token>")
        async def totp_enrollment(_: Request, token: str) -> response.HTTPResponse:
            grant = await self.links.consume(token, "totp")
            account = await self.directory.store.get(grant.account_ref) if grant else None
            if account is None:
                return self._invalid_link("utter_page_totp_title")
            return self._enrollment_page(account.email, await self.totp.start_enrollment(account.ref))

        @pages.get("/recovery-codes/<token>")
        async def recovery_codes(_: Request, token: str) -> response.HTTPResponse:
            grant = await self.links.consume(token, "recovery-codes")
            account = await self.directory.store.get(grant.account_ref) if grant else None
            if account is None:
                return self._invalid_link("utter_page_recovery_title")
            if not account.has_totp:
                return page(
                    messages.text("utter_page_recovery_title"),
                    f"<p class=error>{html.escape(messages.text('utter_page_recovery_not_available'))}</p>",
                    409,
                )
            codes = await self.totp.issue_recovery_codes(account.ref)
            log.info("secure_pages.recovery_codes_issued")
            items = "".join(f"<li>{html.escape(code)}</li>" for code in codes)
            return page(
                messages.text("utter_page_recovery_title"),
                f"<p>{html.escape(messages.text('utter_page_recovery_intro'))}</p>"
                f"<ol class=codes id=recovery-codes>{items}</ol>",
            )

        return pages

    def _invalid_link(self, title: str = "utter_page_password_title") -> response.HTTPResponse:
        return page(
            messages.text(title), f"<p class=error>{html.escape(messages.text('utter_page_link_invalid'))}</p>", 410
        )

    def _enrollment_page(self, email: str, seed: str) -> response.HTTPResponse:
        """The QR code is inline SVG, so the seed never leaves this response (no image request)."""
        issuer, label = self.settings.totp_issuer, account_label(email)
        qr = segno.make(provisioning_uri(seed, label, issuer), error="m").svg_inline(scale=5, title="QR code")
        rows = (
            ("utter_page_totp_issuer_label", f"<dd id=totp-issuer>{html.escape(issuer)}</dd>"),
            ("utter_page_totp_account_label", f"<dd id=totp-account>{html.escape(label)}</dd>"),
            ("utter_page_totp_key_label", f"<dd><code class=secret id=totp-secret>{seed}</code></dd>"),
        )
        facts = "".join(f"<dt>{html.escape(messages.text(name))}</dt>{value}" for name, value in rows)
        return page(
            messages.text("utter_page_totp_title"),
            f"<p>{html.escape(messages.text('utter_page_totp_intro'))}</p><div class=qr>{qr}</div><dl>{facts}</dl>",
        )

    async def _password_page(
        self, grant: LinkGrant, token: str, error: Optional[str] = None, status: int = 200
    ) -> response.HTTPResponse:
        account = await self.directory.store.get(grant.account_ref)
        minimum = MIN_LENGTH_WITH_SECOND_FACTOR if account and account.has_totp else MIN_LENGTH_WITHOUT_SECOND_FACTOR
        problem = f"<p class=error role=alert>{html.escape(error)}</p>" if error else ""
        body = (
            f"<p>{html.escape(messages.text('utter_page_password_intro', minimum=minimum))}</p>{problem}"
            f"<form method=post autocomplete=off>"
            f"<input type=hidden name=csrf_token value='{self._csrf(token)}'>"
            f"<label for=password>New password</label>"
            f"<input type=password id=password name=password minlength={minimum} required autocomplete=new-password>"
            f"<label for=password_confirm>New password again</label>"
            f"<input type=password id=password_confirm name=password_confirm required autocomplete=new-password>"
            f"<button type=submit>Save new password</button></form>"
        )
        return page(messages.text("utter_page_password_title"), body, status)

    async def _change_password(self, request: Request, grant: LinkGrant, token: str) -> response.HTTPResponse:
        account = await self.directory.store.get(grant.account_ref)
        if account is None:
            return self._invalid_link()
        new = request.form.get("password", "")
        current_hash = await self.directory.store.secret(account.ref, "password_hash") or ""
        try:
            accepted = check_new_password(
                new,
                request.form.get("password_confirm", ""),
                account.email,
                account.name,
                has_second_factor=account.has_totp,
                is_current=bool(current_hash) and verify_password(current_hash, new),
            )
        except PasswordRejected as rejected:
            minimum = MIN_LENGTH_WITH_SECOND_FACTOR if account.has_totp else MIN_LENGTH_WITHOUT_SECOND_FACTOR
            reason = messages.text(f"utter_{rejected.reason}", minimum=minimum)
            if rejected.hint:
                reason = f"{reason} {messages.text(f'utter_{rejected.hint}')}"
            return await self._password_page(grant, token, reason, 400)
        if await self.links.consume(token, "password") is None:  # used meanwhile by another request
            return self._invalid_link()
        await self.directory.store.set_secret(account.ref, "password_hash", hash_password(accepted))
        revoked = await self.directory.sessions.revoke_all(account.ref)  # PWD-4: before anyone is told
        await self.links.revoke_all(account.ref)
        await self.verification.revoke_others(account.ref, keep_conversation=grant.conversation_id)
        await self.directory.store.add_event(
            account.ref, new_event("password_change", detail="Changed through the recovery chat")
        )
        await self.directory.recovered(account.ref)
        log.info("secure_pages.password_changed", extra={"sessions_revoked": revoked})
        await self._notify_password_changed(account.notify_addresses())
        try:
            await self.rasa.trigger(grant.conversation_id, "EXTERNAL_password_changed")
        except ConversationUnavailable:
            log.warning("secure_pages.chat_not_told")
        return page(
            messages.text("utter_page_password_title"),
            f"<p class=ok>{html.escape(messages.text('utter_page_password_saved'))}</p>",
        )

    async def _notify_password_changed(self, addresses: list[str]) -> None:
        when = datetime.now(timezone.utc).strftime("%d %B %Y at %H:%M UTC")
        try:
            await self.mail.queue(
                addresses,
                messages.text("utter_email_password_changed_subject"),
                messages.text("utter_email_password_changed_body", when=when, channel="the recovery chat"),
            )
        except RedisError as exc:
            log.warning("secure_pages.password_mail_not_queued", extra={"kind": type(exc).__name__})
