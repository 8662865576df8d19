"""The record of personal-data reads (who, what, when, why), and the auditor's view of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

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
) -> None:
    """Who read people's personal data through which operation (method, path and query as sent), and why."""
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO personal_data_reads (read_at, actor_id, actor_role, organisation_id, method, path, query,"
            " purpose, request_id, found) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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


class PersonalDataReads(msgspec.Struct, kw_only=True):
    items: list[PersonalDataRead]


def list_reads(conn: Any, *, actor_id: str | None, since: datetime | None, limit: int) -> PersonalDataReads:
    where = Where(empty_is_absent=True).given(actor_id, "actor_id = %s").given(since, "read_at >= %s")
    rows = conn.execute(
        "SELECT read_at, actor_id, actor_role, organisation_id, method, path, query, purpose, request_id, found"
        f" FROM personal_data_reads WHERE {where.sql} ORDER BY read_at DESC LIMIT %s",
        [*where.params, limit],
    ).fetchall()
    return PersonalDataReads(items=[msgspec.convert(dict(r), PersonalDataRead) for r in rows])
