"""Reading the log as auditors do: events in order with their envelopes, filtered without decoding."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import dict_row

from ledger.store import EVENTS_TABLE


class EventFilter(msgspec.Struct, kw_only=True):
    type: str | None = None
    actor: str | None = None
    organisation: str | None = None
    aggregate: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class EventRecord(msgspec.Struct, kw_only=True):
    """One event as stored: its position, identity, type, envelope columns and raw JSON payload."""

    position: int
    aggregate_id: UUID
    version: int
    type: str
    topic: str
    recorded_at: datetime
    effective_at: datetime
    actor_id: str
    actor_role: str
    organisation_id: str | None
    correlation_id: str
    causation_id: str | None
    reason: str | None
    payload: msgspec.Raw

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()


def page(conn: psycopg.Connection[Any], query: EventFilter, *, after: int = 0, limit: int = 100) -> list[EventRecord]:
    """Up to `limit` events after position `after` that match every given filter, in log order."""
    clauses = ["notification_id > %s"]
    params: list[Any] = [after]
    for column, value in (
        ("event_type", query.type),
        ("actor_id", query.actor),
        ("organisation_id", query.organisation),
    ):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if query.aggregate is not None:
        clauses.append("originator_id = %s")
        params.append(UUID(query.aggregate))
    if query.since is not None:
        clauses.append("recorded_at >= %s")
        params.append(query.since)
    if query.until is not None:
        clauses.append("recorded_at < %s")
        params.append(query.until)
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT notification_id AS position, originator_id AS aggregate_id, originator_version AS version,"
            " event_type AS type, topic, recorded_at, effective_at, actor_id, actor_role, organisation_id,"
            f" correlation_id, causation_id, reason, state FROM {EVENTS_TABLE}"
            f" WHERE {' AND '.join(clauses)} ORDER BY notification_id LIMIT %s",
            [*params, limit],
        )
        .fetchall()
    )
    for row in rows:
        row["payload"] = msgspec.Raw(bytes(row.pop("state")))
    return [EventRecord(**row) for row in rows]
