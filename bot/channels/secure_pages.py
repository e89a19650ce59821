"""The customer's secure pages, served by the Rasa server under PUBLIC_BASE_URL/secure/.

Configured in credentials.yml as ``bot.channels.secure_pages.SecurePages`` (a channel that only serves
pages). The password form is the only place a customer ever types a password.

LNK-1: messengers' preview fetchers and mail scanners open links too, so ``GET`` and ``HEAD`` only
show a form (the password fields, or a button); they never use a link up nor show a secret. Only
the form's ``POST``, with its CSRF token, changes the password or shows the TOTP seed or the
recovery codes, once."""

from __future__ import annotations

import hashlib
import hmac
import html
import re
from typing import Any, Awaitable, Callable, Optional, Text

import segno
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request

from recoverydesk.services import bootstrap
from recoverydesk.services import channel_texts as messages
from recoverydesk.services.password_reset import ChangeOutcome, PasswordRejected
from recoverydesk.services.totp_enrollment import CodesOutcome, EnrollmentStart

TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,100}$")
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
        f"<!doctype html><html lang={html.escape(messages.page_language.get())}><head><meta charset=utf-8>"
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

    def __init__(self, parts: Optional[bootstrap.Channels] = None) -> None:
        parts = parts or bootstrap.channels()
        self.passwords = parts.password_reset
        self.enrollment = parts.totp_enrollment
        self.csrf_key = parts.csrf_key

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> InputChannel:
        return cls()

    def _csrf(self, token: str) -> str:
        return hmac.new(self.csrf_key, token.encode(), hashlib.sha256).hexdigest()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        pages = Blueprint("secure_pages", __name__)

        @pages.middleware("request")
        async def speak_the_links_language(request: Request) -> None:
            """Each page in the language its link was sent in (stored with the link's token)."""
            token = request.path.rstrip("/").rsplit("/", 1)[-1]
            language = await self.passwords.language_of(token) if TOKEN.match(token) else "en"
            messages.page_language.set(language)

        @pages.get("/style.css")
        async def style(_: Request) -> response.HTTPResponse:
            return response.text(STYLE, content_type="text/css", headers={"Cache-Control": "max-age=3600"})

        @pages.route("/password/<token>", methods=["GET", "HEAD"])
        async def password_form(_: Request, token: str) -> response.HTTPResponse:
            form = await self.passwords.form(token)
            if form is None:
                return self._invalid_link()
            return self._password_page(token, form.minimum_length)

        @pages.post("/password/<token>")
        async def password_submit(request: Request, token: str) -> response.HTTPResponse:
            if not self._csrf_ok(request, token):
                return self._form_expired("utter_page_password_title")
            return await self._change_password(request, token)

        @pages.route("/totp/<token>", methods=["GET", "HEAD"])
        async def totp_offer(_: Request, token: str) -> response.HTTPResponse:
            if not await self.enrollment.enrollment_ready(token):
                return self._invalid_link("utter_page_totp_title")
            return self._reveal_page(token, "utter_page_totp_title", "utter_page_totp_ready", "utter_page_totp_button")

        @pages.post("/totp/<token>")
        async def totp_enrollment(request: Request, token: str) -> response.HTTPResponse:
            if not self._csrf_ok(request, token):
                return self._form_expired("utter_page_totp_title")
            started = await self.enrollment.start(token)
            if started is None:
                return self._invalid_link("utter_page_totp_title")
            return self._enrollment_page(started)

        @pages.route("/recovery-codes/<token>", methods=["GET", "HEAD"])
        async def recovery_codes_offer(_: Request, token: str) -> response.HTTPResponse:
            outcome = await self.enrollment.recovery_codes_ready(token)
            if outcome is not CodesOutcome.READY:
                return self._codes_refused(outcome)
            return self._reveal_page(
                token, "utter_page_recovery_title", "utter_page_recovery_ready", "utter_page_recovery_button"
            )

        @pages.post("/recovery-codes/<token>")
        async def recovery_codes(request: Request, token: str) -> response.HTTPResponse:
            if not self._csrf_ok(request, token):
                return self._form_expired("utter_page_recovery_title")
            issued = await self.enrollment.recovery_codes(token)
            if issued.outcome is not CodesOutcome.ISSUED:
                return self._codes_refused(issued.outcome)
            items = "".join(f"<li>{html.escape(code)}</li>" for code in issued.codes)
            return page(
                messages.text("utter_page_recovery_title"),
                f"<p>{html.escape(messages.text('utter_page_recovery_intro'))}</p>"
                f"<ol class=codes id=recovery-codes>{items}</ol>",
            )

        return pages

    def _csrf_ok(self, request: Request, token: str) -> bool:
        return hmac.compare_digest(str(request.form.get("csrf_token", "")), self._csrf(token))

    @staticmethod
    def _form_expired(title: str) -> response.HTTPResponse:
        return page(
            messages.text(title), f"<p class=error>{html.escape(messages.text('utter_page_form_expired'))}</p>", 403
        )

    def _codes_refused(self, outcome: CodesOutcome) -> response.HTTPResponse:
        if outcome is CodesOutcome.NOT_AVAILABLE:
            return page(
                messages.text("utter_page_recovery_title"),
                f"<p class=error>{html.escape(messages.text('utter_page_recovery_not_available'))}</p>",
                409,
            )
        return self._invalid_link("utter_page_recovery_title")

    def _reveal_page(self, token: str, title: str, intro: str, button: str) -> response.HTTPResponse:
        """What opening a TOTP or recovery-codes link shows: a button whose POST shows the secret (LNK-1)."""
        body = (
            f"<p>{html.escape(messages.text(intro))}</p>"
            f"<form method=post autocomplete=off>"
            f"<input type=hidden name=csrf_token value='{self._csrf(token)}'>"
            f"<button type=submit id=reveal>{html.escape(messages.text(button))}</button></form>"
        )
        return page(messages.text(title), body)

    def _invalid_link(self, title: str = "utter_page_password_title") -> response.HTTPResponse:
        return page(
            messages.text(title), f"<p class=error>{html.escape(messages.text('utter_page_link_invalid'))}</p>", 410
        )

    def _enrollment_page(self, started: EnrollmentStart) -> response.HTTPResponse:
        """The QR code is inline SVG, so the seed never leaves this response (no image request)."""
        qr = segno.make(started.uri, error="m").svg_inline(scale=5, title=messages.text("utter_page_totp_qr_title"))
        rows = (
            ("utter_page_totp_issuer_label", f"<dd id=totp-issuer>{html.escape(started.issuer)}</dd>"),
            ("utter_page_totp_account_label", f"<dd id=totp-account>{html.escape(started.label)}</dd>"),
            ("utter_page_totp_key_label", f"<dd><code class=secret id=totp-secret>{started.seed}</code></dd>"),
        )
        facts = "".join(f"<dt>{html.escape(messages.text(name))}</dt>{value}" for name, value in rows)
        return page(
            messages.text("utter_page_totp_title"),
            f"<p>{html.escape(messages.text('utter_page_totp_intro'))}</p><div class=qr>{qr}</div><dl>{facts}</dl>",
        )

    def _password_page(
        self, token: str, minimum: int, error: Optional[str] = None, status: int = 200
    ) -> response.HTTPResponse:
        problem = f"<p class=error role=alert>{html.escape(error)}</p>" if error else ""
        body = (
            f"<p>{html.escape(messages.text('utter_page_password_intro', minimum=minimum))}</p>{problem}"
            f"<form method=post autocomplete=off>"
            f"<input type=hidden name=csrf_token value='{self._csrf(token)}'>"
            f"<label for=password>{html.escape(messages.text('utter_page_password_label'))}</label>"
            f"<input type=password id=password name=password minlength={minimum} required autocomplete=new-password>"
            f"<label for=password_confirm>{html.escape(messages.text('utter_page_password_confirm_label'))}</label>"
            f"<input type=password id=password_confirm name=password_confirm required autocomplete=new-password>"
            f"<button type=submit>{html.escape(messages.text('utter_page_password_button'))}</button></form>"
        )
        return page(messages.text("utter_page_password_title"), body, status)

    async def _change_password(self, request: Request, token: str) -> response.HTTPResponse:
        change = await self.passwords.change(
            token, request.form.get("password", ""), request.form.get("password_confirm", "")
        )
        if change.outcome is ChangeOutcome.INVALID_LINK:
            return self._invalid_link()
        if change.outcome is ChangeOutcome.REJECTED:
            reason = self._rejection(change.rejection, change.minimum_length)
            return self._password_page(token, change.minimum_length, reason, 400)
        return page(
            messages.text("utter_page_password_title"),
            f"<p class=ok>{html.escape(messages.text('utter_page_password_saved'))}</p>",
        )

    @staticmethod
    def _rejection(rejected: Optional[PasswordRejected], minimum: int) -> str:
        """The policy's reason in the customer's words, with its hint when it has one."""
        assert rejected is not None
        reason = messages.text(f"utter_{rejected.reason}", minimum=minimum)
        if rejected.hint:
            reason = f"{reason} {messages.text(f'utter_{rejected.hint}')}"
        return reason
