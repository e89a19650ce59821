"""The audit trail in SQL (AGT-4, AUD-1..3): append-only rows, numbered per subject (a ticket, or the
desk) and hash-chained (recoverydesk.domain.audit_chain); reads, verification, export and purge.

The application appends and reads; only the database owner purges (on PostgreSQL the application's
role may not UPDATE or DELETE audit rows at all: see migrations/versions/0001_audit.py).
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from typing import Any, Optional

from sqlalchemy import and_, delete, func, insert, select, text
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from recoverydesk.adapters.database import IMMEDIATE
from recoverydesk.adapters.schema import audit, audit_anchor
from recoverydesk.domain.audit_chain import (
    GENESIS,
    Anchor,
    AuditEntry,
    ChainVerifier,
    Verdict,
    document,
    seal,
    subject_for,
)
from recoverydesk.domain.tickets import iso, utc_now

APPEND_ATTEMPTS = 8  # another writer may take the next number first (SQLite), or the file be busy
BATCH_MAX = 500  # entries per group-commit transaction
_IN_CHUNK = 500  # ticket ids per IN (...) query
_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended(:subject, 0))")


class AuditLog:
    """Appends and reads audit entries; ``key`` is the chain's HMAC key (derived from the root secret)."""

    def __init__(self, engine: AsyncEngine, key: bytes) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{IMMEDIATE: True})
        self._key = key
        self._queue: list[tuple[asyncio.Future[AuditEntry], dict[str, Any]]] = []
        self._flusher: Optional[asyncio.Task[None]] = None

    async def record(
        self,
        action: str,
        actor: str,
        ticket_id: Optional[str] = None,
        *,
        at: Optional[datetime] = None,
        before: Optional[Mapping[str, Any]] = None,
        after: Optional[Mapping[str, Any]] = None,
        **detail: str,
    ) -> AuditEntry:
        """Appends one entry, committed together with the other entries recorded meanwhile (group
        commit): returns only after the transaction holding it committed, raises if it did not.
        ``at`` is for callers on an injected clock (alerts); ``before``/``after`` are a change's values."""
        future: asyncio.Future[AuditEntry] = asyncio.get_running_loop().create_future()
        self._queue.append(
            (
                future,
                {
                    "action": action,
                    "actor": actor,
                    "ticket_id": ticket_id,
                    "at": at,
                    "before": before,
                    "after": after,
                    "detail": detail,
                },
            )
        )
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        """The one writer: takes what is queued, writes it in one transaction, answers its callers.

        Invariant: a caller's future gets its entry only after the commit that holds it returned, and a
        batch is all or nothing (a failed attempt is rolled back and resealed from the chain ends read
        again; after the last attempt every caller of the batch gets the error). Within a batch each
        subject's head is read once, under the subject's lock, then advanced in memory entry by entry,
        so seq stays gapless and every prev is the link before it, within and across batches."""
        while self._queue:
            batch, self._queue = self._queue[:BATCH_MAX], self._queue[BATCH_MAX:]
            batch = [(f, r) for f, r in batch if not f.done()]  # a cancelled caller is not written
            if not batch:
                continue
            try:
                entries = await self._write_batch([request for _, request in batch])
            except BaseException as error:  # noqa: BLE001 - handed to every caller of the batch
                for future, _ in batch:
                    if not future.done():
                        future.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                continue
            for (future, _), entry in zip(batch, entries, strict=True):
                if not future.done():
                    future.set_result(entry)

    async def _write_batch(self, requests: list[dict[str, Any]]) -> list[AuditEntry]:
        for attempt in range(APPEND_ATTEMPTS):
            try:
                async with self._writer.begin() as connection:
                    subjects = sorted({subject_for(r["ticket_id"]) for r in requests})
                    for subject in subjects:
                        await _lock_subject(connection, subject)  # sorted: two writers never deadlock
                    heads = await _chain_ends(connection, subjects)
                    entries = []
                    for r in requests:
                        entry = self._sealed(
                            heads,
                            r["action"],
                            r["actor"],
                            r["ticket_id"],
                            r["at"],
                            r["before"],
                            r["after"],
                            r["detail"],
                        )
                        entries.append(entry)
                    await connection.execute(insert(audit), [_row_values(e) for e in entries])
                return entries
            except (IntegrityError, OperationalError):
                # the (subject, seq) constraint or a busy SQLite file: the chain moved on, read it again
                if attempt == APPEND_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def _sealed(
        self,
        heads: dict[str, tuple[int, str]],
        action: str,
        actor: str,
        ticket_id: Optional[str],
        at: Optional[datetime],
        before: Optional[Mapping[str, Any]],
        after: Optional[Mapping[str, Any]],
        detail: Mapping[str, str],
    ) -> AuditEntry:
        """The next entry of its subject's chain after ``heads`` (which it advances)."""
        subject = subject_for(ticket_id)
        seq, prev = heads[subject]
        entry = seal(
            self._key,
            AuditEntry(
                subject=subject,
                seq=seq + 1,
                at=iso(at or utc_now()),
                action=action,
                actor=actor,
                ticket_id=ticket_id or None,
                detail=dict(detail),
                before=before,
                after=after,
                prev=prev,
            ),
        )
        heads[subject] = (entry.seq, entry.link)
        return entry

    async def append(
        self,
        connection: AsyncConnection,
        action: str,
        actor: str,
        ticket_id: Optional[str] = None,
        *,
        at: Optional[datetime] = None,
        before: Optional[Mapping[str, Any]] = None,
        after: Optional[Mapping[str, Any]] = None,
        **detail: str,
    ) -> AuditEntry:
        """Appends one entry inside the caller's transaction (AUD-1: with the change it records)."""
        subject = subject_for(ticket_id)
        await _lock_subject(connection, subject)
        heads = {subject: await _chain_end(connection, subject)}
        entry = self._sealed(heads, action, actor, ticket_id, at, before, after, detail)
        await connection.execute(insert(audit).values(**_row_values(entry)))
        return entry

    async def ping(self) -> None:
        """Raises when the database does not answer or was never migrated."""
        async with self._engine.connect() as connection:
            await connection.execute(select(audit.c.id).limit(1))

    async def for_ticket(self, ticket_id: str) -> list[dict[str, Any]]:
        """The ticket's trail in order, each entry a flat object of strings (the API's AuditEntry)."""
        return (await self.for_tickets([ticket_id])).get(ticket_id, [])

    async def for_tickets(self, ticket_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """Several tickets' trails in a few queries (the daily report), keyed by ticket id."""
        ids = list(dict.fromkeys(ticket_ids))
        trails: dict[str, list[dict[str, Any]]] = {}
        async with self._engine.connect() as connection:
            for start in range(0, len(ids), _IN_CHUNK):
                subjects = [subject_for(t) for t in ids[start : start + _IN_CHUNK]]
                rows = await connection.execute(
                    select(audit).where(audit.c.subject.in_(subjects)).order_by(audit.c.subject, audit.c.seq)
                )
                for row in rows:
                    trails.setdefault(row.ticket_id, []).append(api_entry(entry_of(row)))
        return trails

    async def verify(self) -> Verdict:
        """Checks every chain from its start (or its anchor after a purge), in one consistent snapshot."""
        async with _snapshot(self._engine) as connection:
            anchors = [Anchor(a.subject, a.seq, a.link) for a in await connection.execute(select(audit_anchor))]
            verifier = ChainVerifier(self._key, anchors)
            rows = await connection.stream(select(audit).order_by(audit.c.subject, audit.c.seq))
            async for row in rows:
                broken = verifier.feed(entry_of(row))
                if broken:
                    await rows.close()
                    return Verdict(verifier.checked, broken)
            return Verdict(verifier.checked)

    async def export(self, since: Optional[str] = None) -> AsyncIterator[dict[str, Any]]:
        """Every entry at or after ``since`` (an ISO date or time), in the order written, with its links."""
        query = select(audit).order_by(audit.c.id)
        if since:
            query = query.where(audit.c.at >= since)
        async with self._engine.connect() as connection:
            rows = await connection.stream(query)
            async for row in rows:
                entry = entry_of(row)
                yield {**document(entry), "link": entry.link}


async def purge(owner: AsyncEngine, before: str) -> int:
    """Removes entries written before ``before`` (ISO), as the database owner (AUD-3). Each chain
    loses a prefix, and its anchor records the last removed link, so that it still verifies."""
    removed = 0
    async with owner.execution_options(**{IMMEDIATE: True}).begin() as connection:
        ends = await connection.execute(
            select(audit.c.subject, func.max(audit.c.seq)).where(audit.c.at < before).group_by(audit.c.subject)
        )
        for subject, last_seq in list(ends):
            await _lock_subject(connection, subject)
            link = (
                await connection.execute(
                    select(audit.c.link).where(and_(audit.c.subject == subject, audit.c.seq == last_seq))
                )
            ).scalar_one()
            await connection.execute(delete(audit_anchor).where(audit_anchor.c.subject == subject))
            await connection.execute(
                insert(audit_anchor).values(subject=subject, seq=last_seq, link=link, purged_at=iso(utc_now()))
            )
            result = await connection.execute(
                delete(audit).where(and_(audit.c.subject == subject, audit.c.seq <= last_seq))
            )
            removed += result.rowcount
    return removed


def entry_of(row: Row) -> AuditEntry:
    return AuditEntry(
        subject=row.subject,
        seq=row.seq,
        at=row.at,
        action=row.action,
        actor=row.actor,
        ticket_id=row.ticket_id,
        detail=json.loads(row.detail),
        before=json.loads(row.before) if row.before is not None else None,
        after=json.loads(row.after) if row.after is not None else None,
        prev=row.prev,
        link=row.link,
    )


def api_entry(entry: AuditEntry) -> dict[str, Any]:
    """The entry as the API has always shown it: at, action, actor, ticket_id and the detail, all
    strings; with its number in the chain, and before/after as JSON text when the change has them."""
    shown: dict[str, Any] = {
        "at": entry.at,
        "action": entry.action,
        "actor": entry.actor,
        "ticket_id": entry.ticket_id or "",
        **entry.detail,
        "seq": str(entry.seq),
    }
    if entry.before is not None:
        shown["before"] = json.dumps(entry.before, sort_keys=True)
    if entry.after is not None:
        shown["after"] = json.dumps(entry.after, sort_keys=True)
    return shown


def _row_values(entry: AuditEntry) -> dict[str, Any]:
    """The entry as a row: the chain's document of it, with its mappings as JSON text, and its link."""

    def encoded(value: Optional[Mapping[str, Any]]) -> Optional[str]:
        return None if value is None else json.dumps(dict(value), sort_keys=True, ensure_ascii=False)

    return {
        **document(entry),
        "detail": encoded(entry.detail),
        "before": encoded(entry.before),
        "after": encoded(entry.after),
        "link": entry.link,
    }


async def _lock_subject(connection: AsyncConnection, subject: str) -> None:
    """On PostgreSQL, appends to one chain queue behind each other until commit (SQLite holds the
    whole file's write lock from BEGIN IMMEDIATE instead)."""
    if connection.dialect.name == "postgresql":
        await connection.execute(_ADVISORY_LOCK, {"subject": subject})


async def _chain_ends(connection: AsyncConnection, subjects: list[str]) -> dict[str, tuple[int, str]]:
    """``_chain_end`` of several subjects in a few queries (a group-commit batch)."""
    heads: dict[str, tuple[int, str]] = {}
    for start in range(0, len(subjects), _IN_CHUNK):
        chunk = subjects[start : start + _IN_CHUNK]
        ends = (
            select(audit.c.subject, func.max(audit.c.seq).label("seq"))
            .where(audit.c.subject.in_(chunk))
            .group_by(audit.c.subject)
            .subquery()
        )
        rows = await connection.execute(
            select(audit.c.subject, audit.c.seq, audit.c.link).join(
                ends, and_(audit.c.subject == ends.c.subject, audit.c.seq == ends.c.seq)
            )
        )
        for row in rows:
            heads[row.subject] = (int(row.seq), str(row.link))
        missing = [subject for subject in chunk if subject not in heads]
        if missing:
            anchors = await connection.execute(
                select(audit_anchor.c.subject, audit_anchor.c.seq, audit_anchor.c.link).where(
                    audit_anchor.c.subject.in_(missing)
                )
            )
            for row in anchors:
                heads[row.subject] = (int(row.seq), str(row.link))
    for subject in subjects:
        heads.setdefault(subject, (0, GENESIS))
    return heads


async def _chain_end(connection: AsyncConnection, subject: str) -> tuple[int, str]:
    """The last entry's number and link in the subject's chain, or its anchor, or the start."""
    last = (
        await connection.execute(
            select(audit.c.seq, audit.c.link).where(audit.c.subject == subject).order_by(audit.c.seq.desc()).limit(1)
        )
    ).first()
    if last is None:
        last = (
            await connection.execute(
                select(audit_anchor.c.seq, audit_anchor.c.link).where(audit_anchor.c.subject == subject)
            )
        ).first()
    return (int(last[0]), str(last[1])) if last is not None else (0, GENESIS)


class _snapshot:
    """A read-only connection that sees one point in time (REPEATABLE READ on PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: Optional[AsyncConnection] = None

    async def __aenter__(self) -> AsyncConnection:
        connection = await self._engine.connect()
        if connection.dialect.name == "postgresql":
            connection = await connection.execution_options(isolation_level="REPEATABLE READ")
        await connection.begin()
        self._connection = connection
        return connection

    async def __aexit__(self, *exc: object) -> None:
        assert self._connection is not None
        await self._connection.rollback()
        await self._connection.close()
