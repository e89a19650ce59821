"""The core's failures as HTTP answers: each domain exception has its status and error code.

Every error body is ``{"error": {"code": ..., "message": ...}}`` (CONTRACT); a 5xx never shows
what went wrong inside."""

from __future__ import annotations

import logging

from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request

from recoverydesk.domain.errors import (
    AgentNotCreated,
    Conflict,
    ConversationUnreachable,
    DomainError,
    InvalidRequest,
    NotFound,
    NotPermitted,
    Unauthenticated,
)

log = logging.getLogger("recoverydesk.helpdesk")


class CsrfRejected(NotPermitted):
    """A cookie session tried to change something without the page's CSRF token."""

    def __init__(self) -> None:
        super().__init__("The request is missing its CSRF token.")


# Most specific first: the first class in an exception's MRO found here answers for it.
STATUSES: dict[type[DomainError], tuple[int, str]] = {
    CsrfRejected: (403, "csrf"),
    InvalidRequest: (400, "invalid_request"),
    AgentNotCreated: (400, "invalid_request"),
    Unauthenticated: (401, "unauthenticated"),
    NotPermitted: (403, "forbidden"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    ConversationUnreachable: (503, "unavailable"),
    DomainError: (400, "bad_request"),
}
SANIC_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def status_of(exc: DomainError) -> tuple[int, str]:
    """The HTTP status and error code for a domain failure."""
    for kind in type(exc).__mro__:
        if kind in STATUSES:
            return STATUSES[kind]
    return STATUSES[DomainError]


def error_body(status: int, code: str, message: str) -> response.HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status)


async def domain_error(_request: Request, exc: DomainError) -> response.HTTPResponse:
    status, code = status_of(exc)
    return error_body(status, code, exc.message)


async def sanic_error(_request: Request, exc: SanicException) -> response.HTTPResponse:
    status = getattr(exc, "status_code", 500) or 500
    code = SANIC_CODES.get(status, "error")
    return error_body(status, code, str(exc) if status < 500 else "The helpdesk had a problem.")


async def unexpected(_request: Request, exc: Exception) -> response.HTTPResponse:
    log.error("helpdesk.unhandled_error", extra={"kind": type(exc).__name__})
    return error_body(500, "internal", "The helpdesk had a problem; try again.")


def mount(app: Sanic) -> None:
    app.exception(DomainError)(domain_error)
    app.exception(SanicException)(sanic_error)
    app.exception(Exception)(unexpected)
