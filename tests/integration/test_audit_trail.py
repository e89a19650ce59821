"""The audit trail in SQL on SQLite and on PostgreSQL (AUD-1..3): migrations from an empty database,
entries written by the real helpdesk services with their chain, `recoverydesk audit verify` naming an
offline edit, the application role refused UPDATE and DELETE, export, retention and `db upgrade`."""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import asyncpg
import pyotp
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from redis.asyncio import Redis
from sqlalchemy import text

from recoverydesk.adapters.database import create_engine
from recoverydesk.adapters.migrator import head
from recoverydesk.adapters.schema import metadata
from recoverydesk.domain.agents import AgentSession
from recoverydesk.domain.signing import derive_key, sign
from recoverydesk.services.bootstrap import HelpdeskServices, audit_log_for
from recoverydesk.settings import ROOT
from tests.support.databases import PostgresDatabase, postgres_or_skip, sqlalchemy_url


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "recoverydesk.ops.cli", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def owner_execute(url: str, statement: str, **params: object) -> None:
    engine = create_engine(sqlalchemy_url(url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text(statement), params)
    finally:
        await engine.dispose()


def _agent(name: str, role: str = "supervisor") -> AgentSession:
    return AgentSession(name, role, "csrf", time.time() + 60)


# --- migrations


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """A database no migration has touched: its DATABASE_URL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    postgres_or_skip()
    database = PostgresDatabase()
    asyncio.run(_create(database.name))
    try:
        yield database.url
    finally:
        database.drop()


async def _create(name: str) -> None:
    from tests.support.databases import POSTGRES

    connection = await asyncpg.connect(POSTGRES)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def test_db_upgrade_brings_an_empty_database_to_the_schema_module_and_is_idempotent(empty_database, tmp_path):
    env = _env(empty_database, tmp_path)
    first, second = cli(env, "db", "upgrade"), cli(env, "db", "upgrade")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert f"revision {head()}." in first.stdout and first.stdout == second.stdout

    async def differences() -> list:
        engine = create_engine(sqlalchemy_url(empty_database))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
                )
        finally:
            await engine.dispose()

    assert asyncio.run(differences()) == []


def test_db_upgrade_against_an_unreachable_database_fails_with_one_sentence(tmp_path):
    env = _env("postgresql://nobody:secret-pw@127.0.0.1:1/nothing", tmp_path)
    result = cli(env, "db", "upgrade")
    assert result.returncode == 1 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "could not be migrated" in lines[0] and "secret-pw" not in result.stderr


def _env(database_url: str, tmp_path) -> dict[str, str]:
    import os

    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "RECOVERYDESK_SECRET_KEY": secrets.token_urlsafe(48),
        "RECOVERYDESK_VAR_DIR": str(tmp_path),
    }


# --- entries from the helpdesk services, verify, offline edits


async def _file_ticket(services: HelpdeskServices, secret: bytes) -> str:
    key = derive_key(secret, "tickets")
    body = json.dumps(
        {"priority": "high", "conversation_id": secrets.token_urlsafe(32), "tags": ["need:password_reset"]}
    ).encode()
    headers = {"idempotency-key": "audit-" + secrets.token_hex(8)}
    headers.update({name.lower(): value for name, value in sign(key, body).items()})
    intake = await services.tickets.intake(headers, body, lambda: json.loads(body))
    assert intake.created
    return intake.ticket_id


async def _work_a_ticket(fresh_database, redis_url: str) -> str:
    """Files a ticket and works it through the helpdesk services, as the application's role."""
    settings = fresh_database.settings()
    services = HelpdeskServices.build(settings, Redis.from_url(redis_url))
    try:
        ticket_id = await _file_ticket(services, settings.secret_key)
        await services.tickets.read(_agent("ana"), ticket_id)
        await services.handoff.change_tags(_agent("ana"), ticket_id, ["incident:INC-0001"], ["need:password_reset"])
        await services.handoff.add_note(_agent("ana"), ticket_id, "Called the customer back.")
        trail = await services.tickets.audit_trail(_agent("ana"), ticket_id)
        await services.agents.audit.record("agent.signed_in", "ana")
    finally:
        await services.stop()
    assert [e["action"] for e in trail] == ["ticket.created", "ticket.read", "ticket.tags_changed", "ticket.note_added"]
    assert [e["seq"] for e in trail] == ["1", "2", "3", "4"]
    tags = trail[2]
    assert json.loads(tags["before"]) == {"tags": ["need:password_reset"]}
    assert json.loads(tags["after"]) == {"tags": ["incident:INC-0001"]}
    return ticket_id


async def test_entries_from_the_helpdesk_verify_and_an_offline_edit_is_named(fresh_database, redis_server):
    ticket_id = await _work_a_ticket(fresh_database, redis_server.url)
    held = await asyncio.to_thread(cli, fresh_database.env, "audit", "verify")
    assert held.returncode == 0, held.stderr
    assert "6 entries verified" in held.stdout  # five on the ticket (the last is audit.read), one on the desk

    await owner_execute(
        fresh_database.owner_url,
        "UPDATE audit SET actor = 'mallory' WHERE subject = :subject AND seq = 3",
        subject=f"ticket:{ticket_id}",
    )
    broken = await asyncio.to_thread(cli, fresh_database.env, "audit", "verify")
    assert broken.returncode == 1 and broken.stdout == ""
    assert f"ticket:{ticket_id} breaks at entry 3" in broken.stderr and "edited" in broken.stderr


@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)  # SQLite has no roles
async def test_the_application_role_may_append_and_read_but_never_update_or_delete(fresh_database, redis_server):
    await _work_a_ticket(fresh_database, redis_server.url)  # appended as recoverydesk_app
    connection = await asyncpg.connect(fresh_database.app_url)
    try:
        assert await connection.fetchval("SELECT count(*) FROM audit") == 6
        for statement in ("UPDATE audit SET actor = 'mallory'", "DELETE FROM audit", "TRUNCATE audit"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute("INSERT INTO audit_anchor VALUES ('desk', 1, 'x', 'y')")
    finally:
        await connection.close()
    verify = await asyncio.to_thread(cli, fresh_database.env, "audit", "verify")
    assert verify.returncode == 0, verify.stderr


async def test_concurrent_appends_from_two_processes_number_one_chain_without_gaps(fresh_database):
    settings = fresh_database.settings()
    engines = [create_engine(settings.database_url), create_engine(settings.database_url)]
    logs = [audit_log_for(settings, engine) for engine in engines]
    try:
        await asyncio.gather(
            *(logs[n % 2].record("ticket.read", f"agent-{n}", "RD-004242") for n in range(30)),
            *(logs[n % 2].record("agent.signed_in", f"agent-{n}") for n in range(10)),
        )
        trail = await logs[0].for_ticket("RD-004242")
        verdict = await logs[1].verify()
    finally:
        for engine in engines:
            await engine.dispose()
    assert [int(e["seq"]) for e in trail] == list(range(1, 31))
    assert verdict.holds and verdict.checked == 40


# --- export and retention


async def test_export_since_a_day_and_a_purge_by_date_keep_every_chain_verifiable(fresh_database):
    settings = fresh_database.settings()
    now = datetime.now(timezone.utc)
    engine = create_engine(settings.database_url)
    log = audit_log_for(settings, engine)
    try:
        for days_ago in (500, 450, 30, 2):
            at = now - timedelta(days=days_ago)
            await log.record("ticket.read", "ana", "RD-000777", at=at)
            await log.record("report.read", "ana", at=at, day=at.date().isoformat())
    finally:
        await engine.dispose()
    env = fresh_database.env

    since = (now - timedelta(days=31)).date().isoformat()
    exported = await asyncio.to_thread(cli, env, "audit", "export", "--since", since)
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert [(r["subject"], r["seq"]) for r in rows] == [
        ("ticket:RD-000777", 3),
        ("desk", 3),
        ("ticket:RD-000777", 4),
        ("desk", 4),
    ]
    assert all(len(r["link"]) == 64 and r["at"] >= since for r in rows)
    malformed = await asyncio.to_thread(cli, env, "audit", "export", "--since", "31/12/2025")
    assert malformed.returncode == 1 and "YYYY-MM-DD" in malformed.stderr

    purged = await asyncio.to_thread(cli, env, "audit", "purge")  # AUDIT_RETENTION_DAYS: 400
    assert purged.returncode == 0, purged.stderr
    assert "Removed 4 audit entries" in purged.stdout
    verified = await asyncio.to_thread(cli, env, "audit", "verify")
    assert verified.returncode == 0 and "4 entries verified" in verified.stdout, verified.stderr

    engine = create_engine(settings.database_url)
    log = audit_log_for(settings, engine)
    try:
        await log.record("ticket.read", "ben", "RD-000777")  # the chain goes on after its anchor
        assert [e["seq"] for e in await log.for_ticket("RD-000777")] == ["3", "4", "5"]
    finally:
        await engine.dispose()
    await owner_execute(fresh_database.owner_url, "DELETE FROM audit WHERE subject = 'desk' AND seq = 3")
    broken = await asyncio.to_thread(cli, env, "audit", "verify")
    assert broken.returncode == 1 and "desk breaks at entry 4" in broken.stderr


# --- Redis is not the system of record any more


async def test_flushing_redis_loses_no_audit_entry(fresh_database, redis_server):
    flushed = f"redis://127.0.0.1:{redis_server.port}/11"  # a Redis database of this test's own
    ticket_id = await _work_a_ticket(fresh_database, flushed)
    client = Redis.from_url(flushed)
    try:
        await client.flushdb()
        assert await client.dbsize() == 0
    finally:
        await client.close()
    settings = fresh_database.settings()
    engine = create_engine(settings.database_url)
    try:
        trail = await audit_log_for(settings, engine).for_ticket(ticket_id)
    finally:
        await engine.dispose()
    assert [e["action"] for e in trail] == [
        "ticket.created",
        "ticket.read",
        "ticket.tags_changed",
        "ticket.note_added",
        "audit.read",
    ]
    verified = await asyncio.to_thread(cli, fresh_database.env, "audit", "verify")
    assert verified.returncode == 0 and "6 entries verified" in verified.stdout, verified.stderr


@pytest.mark.parametrize("fresh_database", ["postgresql"], indirect=True)  # SQLite has no roles
async def test_the_application_role_adds_agents_and_signs_them_in_but_cannot_change_a_role(
    fresh_database, redis_server
):
    settings = fresh_database.settings()
    services = HelpdeskServices.build(settings, Redis.from_url(redis_server.url))
    try:
        directory = services.agents.directory
        username = "agent-" + secrets.token_hex(4)
        seed = await directory.add(username, "a long enough passphrase 42", "agent")
        token, session = await services.agents.sign_in(username, "a long enough passphrase 42", pyotp.TOTP(seed).now())
        assert session.role == "agent" and token
    finally:
        await services.stop()
    connection = await asyncpg.connect(fresh_database.app_url)
    try:
        for statement in (f"UPDATE agents SET role = 'supervisor' WHERE username = '{username}'", "DELETE FROM agents"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await connection.execute(statement)
        assert await connection.fetchval("SELECT role FROM agents WHERE username = $1", username) == "agent"
        assert await connection.fetchval("SELECT last_totp_step FROM agents WHERE username = $1", username) > 0
    finally:
        await connection.close()


# --- group commit


async def test_many_concurrent_appends_on_few_subjects_are_gapless_and_the_chain_verifies(fresh_database):
    settings = fresh_database.settings()
    engine = create_engine(settings.database_url)
    log = audit_log_for(settings, engine)
    subjects = ["RD-000001", "RD-000002", None]
    try:
        for _ in range(3):  # several waves, so that chains continue across batches
            await asyncio.gather(*(log.record("ticket.read", f"agent-{n}", subjects[n % 3]) for n in range(150)))
        trails = await log.for_tickets(["RD-000001", "RD-000002"])
        verdict = await log.verify()
    finally:
        await engine.dispose()
    for ticket_id in ("RD-000001", "RD-000002"):
        assert [int(e["seq"]) for e in trails[ticket_id]] == list(range(1, 151))
    assert verdict.holds and verdict.checked == 450


_REFUSE = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE INSERT ON audit WHEN NEW.actor = 'poison' "
        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.actor = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER refuse BEFORE INSERT ON audit FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


async def test_a_batch_whose_commit_fails_fails_every_caller_and_writes_nothing(fresh_database):
    settings = fresh_database.settings()
    dialect = "postgresql" if fresh_database.owner_url.startswith("postgres") else "sqlite"
    for statement in _REFUSE[dialect]:
        await owner_execute(fresh_database.owner_url, statement)
    engine = create_engine(settings.database_url)
    log = audit_log_for(settings, engine)
    try:
        await log.record("agent.signed_in", "before")
        outcomes = await asyncio.gather(
            *(log.record("ticket.read", "poison" if n == 7 else f"agent-{n}", "RD-000009") for n in range(20)),
            *(log.record("agent.signed_in", f"agent-{n}") for n in range(5)),
            return_exceptions=True,
        )
        trail = await log.for_ticket("RD-000009")
        after = await log.record("agent.signed_in", "after")  # the writer goes on after a failed batch
        verdict = await log.verify()
    finally:
        await engine.dispose()
    assert len(outcomes) == 25 and all(isinstance(o, Exception) and "refused" in str(o) for o in outcomes)
    assert trail == []
    assert after.seq == 2 and verdict.holds and verdict.checked == 2
