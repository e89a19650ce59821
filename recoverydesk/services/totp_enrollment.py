"""The secure TOTP pages' use cases: a new authenticator (TOTP-1, TOTP-4) and recovery codes.

Each page opens with a single-use link. Opening it (``GET``/``HEAD``, as a messenger's preview
fetcher or a mail scanner does) only asks whether the link works and uses nothing up (LNK-1);
the page's ``POST`` uses the link up: the enrollment page then shows a fresh seed, pending until
the customer types a code from the app in the chat, and the recovery-codes page a new set of
codes, only for an account that has an authenticator. Seeds and codes appear only there."""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.secure_links import SecureLinks
from recoverydesk.adapters.totp_store import TotpStore
from recoverydesk.domain.totp import account_label, provisioning_uri

log = logging.getLogger("recoverydesk.secure_pages")


@dataclass(frozen=True)
class EnrollmentStart:
    """What the page shows to add the account to an authenticator app."""

    seed: str = field(repr=False)
    issuer: str
    label: str  # the masked address the app lists next to the issuer

    @property
    def uri(self) -> str:
        """The otpauth:// URI the QR code carries."""
        return provisioning_uri(self.seed, self.label, self.issuer)


class CodesOutcome(enum.Enum):
    READY = "ready"  # the link works; the page's POST issues the codes
    ISSUED = "issued"
    INVALID_LINK = "invalid_link"  # unknown, expired, used, or its account is gone
    NOT_AVAILABLE = "not_available"  # the account has no authenticator to recover


@dataclass(frozen=True)
class RecoveryCodes:
    outcome: CodesOutcome
    codes: list[str] = field(default_factory=list, repr=False)


@dataclass
class TotpEnrollment:
    links: SecureLinks
    directory: AccountDirectory
    totp: TotpStore
    issuer: str

    async def enrollment_ready(self, token: str) -> bool:
        """Whether the enrollment link works, without using it up or making a seed (LNK-1)."""
        grant = await self.links.peek(token, "totp")
        return grant is not None and await self.directory.store.get(grant.account_ref) is not None

    async def recovery_codes_ready(self, token: str) -> CodesOutcome:
        """READY when the recovery-codes link works for an account with an authenticator; uses nothing up."""
        grant = await self.links.peek(token, "recovery-codes")
        account = await self.directory.store.get(grant.account_ref) if grant else None
        if account is None:
            return CodesOutcome.INVALID_LINK
        return CodesOutcome.READY if account.has_totp else CodesOutcome.NOT_AVAILABLE

    async def start(self, token: str) -> EnrollmentStart | None:
        """Uses the link up and starts a pending enrollment; None for a link that does not work."""
        grant = await self.links.consume(token, "totp")
        account = await self.directory.store.get(grant.account_ref) if grant else None
        if account is None:
            return None
        seed = await self.totp.start_enrollment(account.ref)
        return EnrollmentStart(seed, self.issuer, account_label(account.email))

    async def recovery_codes(self, token: str) -> RecoveryCodes:
        """Uses the link up and issues a new set of recovery codes (the old ones stop working)."""
        grant = await self.links.consume(token, "recovery-codes")
        account = await self.directory.store.get(grant.account_ref) if grant else None
        if account is None:
            return RecoveryCodes(CodesOutcome.INVALID_LINK)
        if not account.has_totp:
            return RecoveryCodes(CodesOutcome.NOT_AVAILABLE)
        codes = await self.totp.issue_recovery_codes(account.ref)
        log.info("secure_pages.recovery_codes_issued")
        return RecoveryCodes(CodesOutcome.ISSUED, codes)
