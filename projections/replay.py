"""Replaying views from the log into tables other than the live ones.

The same view code that maintains the live tables fills (a) session-private copies holding a view as of a
horizon, so that "as recorded at T" and "as effective at T" answers come from the events and never from
today's rows, and (b) a schema beside the live tables that `ledger rebuild` compares and can switch in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row

from ledger.codec import EventMapper
from ledger.history import NOW, Horizon
from ledger.store import EVENTS_TABLE
from projections.base import EVENT_COLUMNS, View, decode
from projections.sql import Where

BATCH = 2000


def live_schema(conn: psycopg.Connection[Any]) -> str:
    """The schema the migrations created the live tables in."""
    row = conn.cursor(row_factory=tuple_row).execute("SELECT current_schema()").fetchone()
    assert row is not None
    return str(row[0])


def create_tables(conn: psycopg.Connection[Any], views: Sequence[View], schema: str | None) -> None:
    """Empty copies of the views' tables (columns, defaults, generated columns, indexes): temporary ones,
    which shadow the live tables for this session only, when `schema` is None; else in `schema`."""
    source = live_schema(conn)
    for view in views:
        for table in view.tables:
            like = f"(LIKE {source}.{table} INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING INDEXES)"
            if schema is None:
                conn.execute(f"CREATE TEMPORARY TABLE {table} {like} ON COMMIT DROP")
            else:
                # Unlogged: a rebuild that crashes is simply started again, so it need not pay for WAL.
                conn.execute(f"CREATE UNLOGGED TABLE {schema}.{table} {like}")


def replay(
    conn: psycopg.Connection[Any],
    views: Sequence[View],
    *,
    after: int | Mapping[str, int] = 0,
    until: int | Mapping[str, int] | None = None,
    horizon: Horizon = NOW,
    aggregates: Sequence[UUID] | None = None,
    progress: Callable[[int], None] | None = None,
    batch: int = BATCH,
    commit_each_batch: bool = False,
) -> int:
    """Apply the events in (after, until] within the horizon to the views, through `conn`'s search path.

    `after` and `until` may be given per view name (a rebuild catches each view up to its own live
    position). `aggregates` limits the replay to those aggregates' events (enough for a query about one
    contract's account, say). `progress` gets the position reached after each batch. With
    `commit_each_batch`, each batch is its own transaction: a row updated by every event (a referral, an
    account) then leaves its old versions to be pruned as it goes, instead of piling up in one transaction.
    Returns the number of events read.
    """
    names = [v.name for v in views]
    low = {n: after[n] if isinstance(after, Mapping) else after for n in names}
    high = {n: until[n] if isinstance(until, Mapping) else until for n in names}
    start = min(low.values(), default=0)
    stop = None if any(h is None for h in high.values()) else max(h for h in high.values() if h is not None)
    topics = sorted(set().union(*(v.topics for v in views)))
    bounds, bound_params = horizon.clauses()
    where = (
        Where(tuple(bounds), tuple(bound_params))
        .add("topic = ANY(%s)", topics)
        .given(stop, "notification_id <= %s")
        .given(None if aggregates is None else list(aggregates), "originator_id = ANY(%s)")
    )
    mapper = EventMapper()
    reader = conn.cursor(row_factory=tuple_row)
    writer = conn.cursor(row_factory=tuple_row)
    read = 0
    position = start
    while True:
        rows = reader.execute(
            f"SELECT {EVENT_COLUMNS} FROM {EVENTS_TABLE} WHERE notification_id > %s AND {where.sql}"
            " ORDER BY notification_id LIMIT %s",
            [position, *where.params, batch],
        ).fetchall()
        if not rows:
            return read
        # Pipelined: the handlers' statements go out without waiting for each reply (a read syncs).
        with conn.transaction() if commit_each_batch else nullcontext(), conn.pipeline():
            for row in rows:
                logged = decode(mapper, row)
                for view in views:
                    top = high[view.name]
                    if low[view.name] < logged.position and (top is None or logged.position <= top):
                        view.apply(writer, logged)
        read += len(rows)
        position = rows[-1][0]
        if progress is not None:
            progress(position)


@contextmanager
def as_of(
    conn: psycopg.Connection[Any], views: Sequence[View], horizon: Horizon, *, aggregates: Sequence[UUID] | None = None
) -> Iterator[psycopg.Connection[Any]]:
    """The views as they stood at the horizon, in temporary tables that shadow the live ones for the
    duration of the block: the view's ordinary queries then answer as of the horizon. Nothing is kept."""
    with conn.transaction(force_rollback=True):
        create_tables(conn, views, None)
        replay(conn, views, horizon=horizon, aggregates=aggregates)
        yield conn
