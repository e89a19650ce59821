"""The helpdesk's use cases against a real Redis, with a fake Rasa and a fake mail outbox:
single-owner claims, handing back, resolution mail and agent sign-in that never says which
factor was wrong."""

from __future__ import annotations

import secrets
import time
import unicodedata

import pyotp
import pytest
from redis.asyncio import Redis

from recoverydesk.adapters.account_store import AccountStore
from recoverydesk.adapters.agent_store import AgentDirectory, AgentError
from recoverydesk.adapters.audit_log import AuditLog
from recoverydesk.adapters.metrics import Metrics
from recoverydesk.adapters.rasa_client import ConversationUnavailable
from recoverydesk.adapters.ticket_store import TicketStore
from recoverydesk.domain.accounts import Account
from recoverydesk.domain.agents import AgentSession
from recoverydesk.domain.crypto import SecretBox
from recoverydesk.domain.errors import Conflict, ConversationUnreachable, SignInFailed
from recoverydesk.domain.passwords import hash_password
from recoverydesk.domain.tickets import new_ticket, utc_now
from recoverydesk.services.agents import AgentAccess
from recoverydesk.services.handoff import Handoff

SECRET = b"s" * 48


class FakeConversations:
    """Records what the helpdesk asks of Rasa; ``down`` makes every call fail as Rasa would."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.down = False

    async def _call(self, *call: object) -> None:
        if self.down:
            raise ConversationUnavailable("down")
        self.calls.append(call)

    async def pause(self, conversation_id: str) -> None:
        await self._call("pause", conversation_id)

    async def say_as_agent(self, conversation_id: str, agent: str, text: str) -> None:
        await self._call("say", conversation_id, agent, text)

    async def resume_with(self, conversation_id: str, intent: str, slots: dict) -> None:
        await self._call("resume", conversation_id, intent, slots)


class FakeMail:
    def __init__(self) -> None:
        self.queued: list[dict] = []

    async def queue(self, to: list[str], subject: str, body: str, key: str | None = None) -> bool:
        self.queued.append({"to": to, "subject": subject, "body": body, "key": key})
        return True


def _agent(name: str, role: str = "security") -> AgentSession:
    return AgentSession(name, role, "csrf", time.time() + 60)


async def _ticket(redis: Redis, account_ref: str | None = None) -> str:
    payload = {
        "category": "unrecognized_login",
        "priority": "high",
        "conversation_id": secrets.token_urlsafe(16),
        "summary": "A sign-in from another country.",
        "customer": {"account_ref": account_ref, "verification": {"level": "basic", "methods": ["email_code"]}}
        if account_ref
        else {},
    }
    ticket = new_ticket("", payload, utc_now())
    _, ticket_id, _ = await TicketStore(redis).intake(ticket, "k-" + secrets.token_hex(8), time.time())
    return ticket_id


def _handoff(redis: Redis, audit: AuditLog, rasa: FakeConversations, mail: FakeMail) -> Handoff:
    return Handoff(TicketStore(redis), audit, rasa, AccountStore(redis), mail, Metrics(redis))


async def test_a_claimed_ticket_has_one_owner_and_a_second_agent_is_refused(redis, audit_log):
    rasa, mail = FakeConversations(), FakeMail()
    handoff, ticket_id = _handoff(redis, audit_log, rasa, mail), await _ticket(redis)
    claimed = await handoff.claim(_agent("ana"), ticket_id)
    with pytest.raises(Conflict):
        await handoff.claim(_agent("ben"), ticket_id)
    with pytest.raises(Conflict):
        await handoff.message(_agent("ben"), ticket_id, "hello")
    stored = await TicketStore(redis).get(ticket_id)
    assert stored.control == {"owner": "agent", "agent": "ana"} == claimed.control
    assert rasa.calls == [("pause", stored.conversation_id)]


async def test_a_claim_the_bot_never_heard_of_is_undone(redis, audit_log):
    rasa, mail = FakeConversations(), FakeMail()
    handoff, ticket_id = _handoff(redis, audit_log, rasa, mail), await _ticket(redis)
    rasa.down = True
    with pytest.raises(ConversationUnreachable):
        await handoff.claim(_agent("ana"), ticket_id)
    assert (await TicketStore(redis).get(ticket_id)).control == {"owner": "pending_agent", "agent": None}


async def test_handing_back_gives_the_conversation_back_to_the_bot_with_the_summary(redis, audit_log):
    rasa, mail = FakeConversations(), FakeMail()
    handoff, ticket_id = _handoff(redis, audit_log, rasa, mail), await _ticket(redis)
    await handoff.claim(_agent("ana"), ticket_id)
    ticket = await handoff.hand_back(_agent("ana"), ticket_id, "Signed out everywhere")
    assert ticket.control == {"owner": "bot", "agent": None} and ticket.status == "pending"
    assert rasa.calls[-1] == (
        "resume",
        ticket.conversation_id,
        "EXTERNAL_agent_handback",
        {"agent_summary": "Signed out everywhere"},
    )
    actions = [e["action"] for e in await audit_log.for_ticket(ticket_id)]
    assert actions[-1] == "ticket.handed_back" and mail.queued == []


async def test_resolving_emails_the_accounts_verified_address_once_even_if_the_chat_is_down(redis, audit_log):
    rasa, mail = FakeConversations(), FakeMail()
    ref = "acct-" + secrets.token_hex(4)
    email = f"{ref}@example.com"
    await AccountStore(redis).add(Account(ref=ref, email=email, name="Ana"), "hash")
    handoff, ticket_id = _handoff(redis, audit_log, rasa, mail), await _ticket(redis, account_ref=ref)
    rasa.down = True  # the ticket change and the mail stand even when the chat cannot be told
    ticket = await handoff.resolve(_agent("ana"), ticket_id, "Password reset, sessions revoked")
    assert ticket.status == "resolved"
    [sent] = mail.queued
    assert sent["to"] == [email] and sent["key"] == f"resolved-{ticket_id}"
    assert ticket_id in sent["subject"] + sent["body"]


async def test_resolving_a_never_verified_customers_ticket_tells_only_the_chat(redis, audit_log):
    rasa, mail = FakeConversations(), FakeMail()
    handoff, ticket_id = _handoff(redis, audit_log, rasa, mail), await _ticket(redis)
    ticket = await handoff.resolve(_agent("ana"), ticket_id, "Nothing found")
    assert ticket.status == "resolved" and mail.queued == []
    assert any("EXTERNAL_ticket_resolved" in str(call) for call in rasa.calls)  # told in the chat


@pytest.fixture
async def agents(redis, audit_log, sqlite_engine):
    directory = AgentDirectory(redis, SecretBox(SECRET), sqlite_engine)
    username = "agent-" + secrets.token_hex(4)
    password = "Cafe\u0301 long passphrase 42"  # decomposed: NFC turns e + accent into one character
    seed = await directory.add(username, password, "agent")
    return AgentAccess(directory, audit_log), directory, username, password, pyotp.TOTP(seed)


async def test_sign_in_accepts_the_password_in_another_unicode_form_and_a_code_only_once(agents):
    access, _, username, password, totp = agents
    composed = unicodedata.normalize("NFC", password)
    assert composed != password
    code = totp.now()
    token, session = await access.sign_in(username, composed, code)
    assert session.username == username and (await access.session(token)).role == "agent"
    with pytest.raises(SignInFailed):
        await access.sign_in(username, password, code)  # the same code again is a replay


async def test_a_wrong_password_a_wrong_code_and_an_unknown_agent_fail_alike(agents, redis):
    access, _, username, password, totp = agents
    wrong_code = f"{(int(totp.now()) + 1) % 1_000_000:06d}"
    failures = []
    for name, pw, code in (
        (username, password + "x", totp.now()),
        (username, password, wrong_code),
        ("nobody-" + secrets.token_hex(4), password, totp.now()),
    ):
        with pytest.raises(SignInFailed) as failed:
            await access.sign_in(name, pw, code)
        failures.append((type(failed.value), failed.value.message))
    assert len(set(failures)) == 1
    assert int(await redis.get(f"rd:helpdesk:failures:{username}")) == 2


async def test_five_failures_lock_the_agent_out_even_with_the_right_password_and_code(agents):
    access, _, username, password, totp = agents
    for _ in range(5):
        with pytest.raises(SignInFailed):
            await access.sign_in(username, "not the password at all", totp.now())
    with pytest.raises(SignInFailed):
        await access.sign_in(username, password, totp.now())


async def test_an_agent_still_signs_in_after_redis_loses_everything(redis_server, audit_log, sqlite_engine):
    flushed = Redis.from_url(f"redis://127.0.0.1:{redis_server.port}/12")  # a Redis database of this test's own
    try:
        directory = AgentDirectory(flushed, SecretBox(SECRET), sqlite_engine)
        username, password = "agent-" + secrets.token_hex(4), "a long enough passphrase 42"
        totp = pyotp.TOTP(await directory.add(username, password, "security"))
        await flushed.flushdb()
        access = AgentAccess(directory, audit_log)
        token, session = await access.sign_in(username, password, totp.now())
        assert session.role == "security" and (await access.session(token)).username == username
        with pytest.raises(AgentError):
            await directory.add(username, password, "agent")  # the name is still taken
    finally:
        await flushed.flushdb()
        await flushed.close()


async def test_an_agent_kept_only_in_redis_is_copied_into_sql_when_first_looked_up(redis, sqlite_engine):
    username, password = "legacy-" + secrets.token_hex(4), "a long enough passphrase 42"
    seed = pyotp.random_base32()
    await redis.hset(
        f"rd:helpdesk:agent:{username}",
        mapping={
            "role": "supervisor",
            "password_hash": hash_password(password),
            "totp_seed": SecretBox(SECRET).seal(seed, f"agent:{username}"),
            "last_totp_step": "-1",
        },
    )
    directory = AgentDirectory(redis, SecretBox(SECRET), sqlite_engine)
    credentials, locked = await directory.credentials(username)
    assert credentials.role == "supervisor" and credentials.totp_seed == seed and not locked
    await redis.delete(f"rd:helpdesk:agent:{username}")
    assert (await directory.credentials(username))[0].role == "supervisor"
