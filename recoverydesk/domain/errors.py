"""One exception type per failure a caller handles, named in the domain's words.

The domain knows nothing of HTTP: the helpdesk's web layer (``helpdesk_plugin/web/errors.py``)
maps each type to its status and error code. ``message`` is a sentence for the person asking."""

from __future__ import annotations


class DomainError(Exception):
    """The base of every failure the core reports to a face."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequest(DomainError):
    """What was asked breaks a rule (a missing field, a bad tag, an unknown choice)."""


class Unauthenticated(DomainError):
    """The caller did not prove who they are (no session, a bad signature)."""


class SignInFailed(Unauthenticated):
    """Uniform on purpose: a wrong username, password or code, or a locked-out agent, read the same."""

    def __init__(self, message: str = "Wrong username, password or code.") -> None:
        super().__init__(message)


class NotPermitted(DomainError):
    """The caller is known but their role does not allow this."""


class NotFound(DomainError):
    """No ticket, incident or contact by that id."""


class Conflict(DomainError):
    """The thing exists but its state refuses the change (held by another agent, already closed)."""


class ConversationUnreachable(DomainError):
    """The live conversation could not be changed now (Rasa down or refusing); trying again may work."""


class AgentNotCreated(DomainError):
    """An agent cannot be created as asked (bad username, role or password, or the name is taken)."""
