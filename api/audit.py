"""The record of personal-data reads (who, what, when, why), and the auditor's view of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from psycopg_pool import ConnectionPool

from ledger.envelope import Actor, utcnow
from projections.sql import Where


def record_personal_data_read(
    pool: ConnectionPool,
    actor: Actor,
    *,
    method: str,
    path: str,
    query: str,
    purpose: str,
    request_id: str,
    found: bool,
    operation: str,
    subject_id: UUID | None,
) -> None:
    """Who read people's personal data through which operation (its name; method, path and query as sent), which
    record (the path's id, when the operation reads one), and why."""
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO personal_data_reads (read_at, actor_id, actor_role, organisation_id, method, path, query,"
            " purpose, request_id, found, operation, subject_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s, %s)",
            (
                utcnow(),
                actor.id,
                actor.role,
                actor.organisation_id,
                method,
                path,
                query,
                purpose,
                request_id,
                found,
                operation,
                subject_id,
            ),
        )


class PersonalDataRead(msgspec.Struct, kw_only=True):
    read_at: datetime
    actor_id: str
    actor_role: str
    organisation_id: str | None
    method: str
    path: str
    query: str
    purpose: str
    request_id: str
    found: bool
    operation: str | None  # None for reads recorded before the log named them
    subject_id: UUID | None  # the record read, when the operation reads one


class PersonalDataReads(msgspec.Struct, kw_only=True):
    """The reads, the latest first; `more` when the limit cut the list short."""

    items: list[PersonalDataRead]
    more: bool


def list_reads(
    conn: Any,
    *,
    actor_id: str | None,
    subject_id: UUID | None = None,
    since: datetime | None,
    until: datetime | None = None,
    limit: int,
) -> PersonalDataReads:
    where = (
        Where(empty_is_absent=True)
        .given(actor_id, "actor_id = %s")
        .given(subject_id, "subject_id = %s")
        .given(since, "read_at >= %s")
        .given(until, "read_at < %s")
    )
    rows = conn.execute(
        "SELECT read_at, actor_id, actor_role, organisation_id, method, path, query, purpose, request_id, found,"
        f" operation, subject_id FROM personal_data_reads WHERE {where.sql} ORDER BY read_at DESC, id DESC LIMIT %s",
        [*where.params, limit + 1],
    ).fetchall()
    items = [msgspec.convert(dict(r), PersonalDataRead) for r in rows]
    return PersonalDataReads(items=items[:limit], more=len(items) > limit)
