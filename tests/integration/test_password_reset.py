"""The secure password page's use case against a real Redis (PWD-1..4), with the mail and the chat faked."""

from __future__ import annotations

import pytest

from recoverydesk.adapters.directory import AccountDirectory
from recoverydesk.adapters.secure_links import SecureLinks
from recoverydesk.adapters.verification_store import VerificationStore
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.password_policy import MIN_LENGTH_WITH_SECOND_FACTOR, MIN_LENGTH_WITHOUT_SECOND_FACTOR
from recoverydesk.domain.passwords import verify_password
from recoverydesk.services.password_reset import ChangeOutcome, ConversationUnavailable, PasswordReset

KEY = b"p" * 32
NEW_PASSWORD = "violet harbour lantern 1987"
TOTP_SEED = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


class Mailbag:
    def __init__(self) -> None:
        self.queued: list[tuple[list[str], str, str]] = []

    async def queue(self, to: list[str], subject: str, body: str) -> bool:
        self.queued.append((to, subject, body))
        return True


class Chat:
    def __init__(self, reachable: bool = True) -> None:
        self.reachable = reachable
        self.told: list[tuple[str, str]] = []

    async def trigger(self, conversation_id: str, intent: str) -> None:
        if not self.reachable:
            raise ConversationUnavailable("Rasa answered 503")
        self.told.append((conversation_id, intent))


@pytest.fixture
def parts(redis):
    box = SecretBox(KEY)
    return SecureLinks(redis, "https://help.example.test"), AccountDirectory(redis, box), VerificationStore(redis)


def reset(parts, chat: Chat, mail: Mailbag) -> PasswordReset:
    links, directory, verification = parts
    return PasswordReset(links, directory, verification, mail, chat)


async def link_for(parts, account_ref: str, conversation_id: str) -> str:
    url = await parts[0].issue(account_ref, conversation_id, "password")
    return url.rsplit("/", 1)[1]


async def test_a_live_link_shows_the_form_with_the_accounts_minimum_length_and_stays_usable(parts):
    directory = parts[1]
    plain = await directory.add("form.plain@example.com", "Form Plain", "old password one two")
    with_totp = await directory.add("form.totp@example.com", "Form Totp", "old password one two", totp_secret=TOTP_SEED)
    service = reset(parts, Chat(), Mailbag())
    plain_token = await link_for(parts, plain.ref, "conv_form_1")
    totp_token = await link_for(parts, with_totp.ref, "conv_form_2")

    assert (await service.form(plain_token)).minimum_length == MIN_LENGTH_WITHOUT_SECOND_FACTOR
    assert (await service.form(totp_token)).minimum_length == MIN_LENGTH_WITH_SECOND_FACTOR
    assert await parts[0].peek(plain_token, "password") is not None  # looking did not use it up
    assert await service.form("no-such-token") is None


async def test_a_rejected_password_changes_nothing_and_keeps_the_link(parts, redis):
    directory = parts[1]
    account = await directory.add("rejected@example.com", "Re Jected", "old password one two")
    before = await directory.store.secret(account.ref, "password_hash")
    chat, mail = Chat(), Mailbag()
    token = await link_for(parts, account.ref, "conv_rejected")

    change = await reset(parts, chat, mail).change(token, NEW_PASSWORD, NEW_PASSWORD + "x")

    assert change.outcome is ChangeOutcome.REJECTED
    assert change.rejection is not None and change.rejection.reason == "password_mismatch"
    assert change.minimum_length == MIN_LENGTH_WITHOUT_SECOND_FACTOR
    assert await directory.store.secret(account.ref, "password_hash") == before
    assert await parts[0].peek(token, "password") is not None
    assert chat.told == [] and mail.queued == []


async def test_a_new_password_is_hashed_and_everything_else_is_revoked_before_the_customer_is_told(parts):
    links, directory, verification = parts
    account = await directory.add("changed@example.com", "Chan Ged", "old password one two")
    await directory.sessions.add(account.ref, "web-1", {"device": "laptop"})
    await directory.sessions.add(account.ref, "app-1", {"device": "phone"})
    await verification.grant("conv_changed", account.ref, "basic", "email_code")
    await verification.grant("conv_attacker", account.ref, "basic", "email_code")
    other_link = await link_for(parts, account.ref, "conv_attacker")
    token = await link_for(parts, account.ref, "conv_changed")
    chat, mail = Chat(), Mailbag()

    change = await reset(parts, chat, mail).change(token, NEW_PASSWORD, NEW_PASSWORD)

    assert change.outcome is ChangeOutcome.CHANGED
    assert verify_password(await directory.store.secret(account.ref, "password_hash"), NEW_PASSWORD)
    assert await directory.sessions.count(account.ref) == 0
    assert await links.peek(token, "password") is None and await links.peek(other_link, "password") is None
    assert (await verification.get("conv_changed")).at_least("basic")
    assert (await verification.get("conv_attacker")).level == "none"
    assert await directory.store.risky_changes_held_until(account.ref) is not None
    assert [e.kind for e in await directory.store.events(account.ref)][:1] == ["password_change"]
    assert [to for to, _, _ in mail.queued] == [account.notify_addresses()]
    assert NEW_PASSWORD not in mail.queued[0][2]
    assert chat.told == [("conv_changed", "EXTERNAL_password_changed")]


async def test_the_password_is_changed_even_when_the_chat_cannot_be_told(parts):
    directory = parts[1]
    account = await directory.add("unreachable@example.com", "Un Reachable", "old password one two")
    token = await link_for(parts, account.ref, "conv_unreachable")

    change = await reset(parts, Chat(reachable=False), Mailbag()).change(token, NEW_PASSWORD, NEW_PASSWORD)

    assert change.outcome is ChangeOutcome.CHANGED
    assert verify_password(await directory.store.secret(account.ref, "password_hash"), NEW_PASSWORD)


async def test_a_link_works_once_and_an_unknown_one_never(parts):
    directory = parts[1]
    account = await directory.add("once@example.com", "Just Once", "old password one two")
    token = await link_for(parts, account.ref, "conv_once")
    service = reset(parts, Chat(), Mailbag())

    assert (await service.change(token, NEW_PASSWORD, NEW_PASSWORD)).outcome is ChangeOutcome.CHANGED
    again = await service.change(token, NEW_PASSWORD + " again", NEW_PASSWORD + " again")
    assert again.outcome is ChangeOutcome.INVALID_LINK
    assert (await service.change("no-such-token", NEW_PASSWORD, NEW_PASSWORD)).outcome is ChangeOutcome.INVALID_LINK
    assert verify_password(await directory.store.secret(account.ref, "password_hash"), NEW_PASSWORD)


async def test_a_link_sent_in_russian_keeps_its_language_and_the_confirmation_email_is_russian(parts):
    """Issue 16: the language travels with the secure link's token; the page and the email use it."""
    import yaml

    from recoverydesk.settings import ROOT

    links, directory, verification = parts
    account = await directory.add("olga@example.com", "Olga Petrova", "old password one two", language="ru")
    assert (await directory.store.get(account.ref)).language == "ru"
    await verification.grant("conv_ru", account.ref, "basic", "email_code")
    url = await links.issue(account.ref, "conv_ru", "password", "ru")
    token = url.rsplit("/", 1)[1]
    chat, mail = Chat(), Mailbag()
    assert await reset(parts, chat, mail).language_of(token) == "ru"
    assert await reset(parts, chat, mail).language_of("no-such-token-at-all") == "en"

    change = await reset(parts, chat, mail).change(token, NEW_PASSWORD, NEW_PASSWORD)

    assert change.outcome is ChangeOutcome.CHANGED
    russian = yaml.safe_load((ROOT / "locales" / "ru.yml").read_text())["responses"]
    [(_, subject, body)] = mail.queued
    assert subject == russian["utter_email_password_changed_subject"][-1]["text"]
    assert "UTC" in body and not any(month in body for month in ("January", "December", "March"))
    assert body.startswith("Пароль от вашего аккаунта") and "чат восстановления доступа" in body


async def test_an_account_refuses_an_unknown_preferred_language(parts):
    from recoverydesk.domain.accounts import AccountError

    with pytest.raises(AccountError):
        await parts[1].add("fr@example.com", "Fran Cais", "old password one two", language="fr")
