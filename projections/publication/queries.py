"""The publication's reads: a page of releases in publication order, and one process's releases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from projections.publication import ocds
from projections.sql import Where


def release_page(
    conn: psycopg.Connection[Any],
    prefix: str,
    *,
    after: int,
    limit: int,
    updated_from: datetime | None = None,
    updated_to: datetime | None = None,
    as_recorded: datetime | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Releases after the position `after`, oldest first, recorded within the range and by `as_recorded`: the page
    and the position of its last release (None when empty). Positions only grow, so the next page (after that
    position) neither repeats nor misses a release however many are published meanwhile."""
    where = (
        Where()
        .add("position > %s", after)
        .given(updated_from, "recorded_at >= %s")
        .given(updated_to, "recorded_at <= %s")
        .given(as_recorded, "recorded_at <= %s")
    )
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            f"SELECT position, process, release::text FROM publication_releases WHERE {where.sql}"
            " ORDER BY position LIMIT %s",
            [*where.params, limit],
        )
        .fetchall()
    )
    releases = [ocds.finish(prefix, position, process, ocds.decode(body)) for position, process, body in rows]
    return releases, (rows[-1][0] if rows else None)


def process_releases(
    conn: psycopg.Connection[Any], prefix: str, process: str, as_recorded: datetime | None = None
) -> list[dict[str, Any]]:
    """One process's releases in the order they were published (by `as_recorded`, when given)."""
    where = Where().add("process = %s", process).given(as_recorded, "recorded_at <= %s")
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            f"SELECT position, release::text FROM publication_releases WHERE {where.sql} ORDER BY position",
            where.params,
        )
        .fetchall()
    )
    return [ocds.finish(prefix, position, process, ocds.decode(body)) for position, body in rows]


def processes(conn: psycopg.Connection[Any]) -> list[str]:
    """Every process with a release, the dynamic market first."""
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute("SELECT process FROM publication_releases GROUP BY process ORDER BY min(position)")
        .fetchall()
    )
    return [process for (process,) in rows]
