"""`ledger rebuild`: replay views from position 0 beside the live ones, compare row by row, and switch.

The rebuild reads the log without holding anything up; only the last step — catching the rebuilt tables
up to the live view's position, comparing, and (if asked) copying them over the live tables — runs in one
transaction that holds the views' position rows, so the worker waits for it and nothing is compared or
switched at two different positions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
import psycopg
from psycopg.rows import tuple_row

from projections.base import View
from projections.replay import create_tables, live_schema, replay
from projections.runner import all_views, register_views

SCHEMA = "ledger_rebuild"
SAMPLES = 5


class TableDiff(msgspec.Struct, kw_only=True):
    """How one rebuilt table differs from the live one; rows are matched by primary key."""

    table: str
    live_rows: int
    rebuilt_rows: int
    only_live: int
    only_rebuilt: int
    changed: int
    samples: list[str]

    @property
    def identical(self) -> bool:
        return not (self.only_live or self.only_rebuilt or self.changed)


class ViewRebuild(msgspec.Struct, kw_only=True):
    view: str
    position: int
    built_by: str  # the code version that built the live rows
    rebuilt_with: str  # the code version of this rebuild
    events: int
    seconds: float
    identical: bool
    switched: bool
    tables: list[TableDiff]


def _primary_key(conn: psycopg.Connection[Any], schema: str, table: str) -> list[str]:
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
            " AND a.attnum = ANY(i.indkey) WHERE i.indrelid = format('%%I.%%I', %s::text, %s::text)::regclass"
            " AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)",
            (schema, table),
        )
        .fetchall()
    )
    return [r[0] for r in rows]


def compare(conn: psycopg.Connection[Any], live: str, table: str) -> TableDiff:
    """Row-by-row comparison of `live`.table with the rebuilt one (values compared as JSON)."""
    cur = conn.cursor(row_factory=tuple_row)
    left, right = f"{live}.{table}", f"{SCHEMA}.{table}"
    counts = cur.execute(f"SELECT (SELECT count(*) FROM {left}), (SELECT count(*) FROM {right})").fetchone()
    assert counts is not None
    key = _primary_key(conn, live, table)
    samples: list[str] = []
    if key:
        on = " AND ".join(f"l.{c} = r.{c}" for c in key)
        rows = cur.execute(
            f"SELECT to_jsonb(l), to_jsonb(r) FROM {left} l FULL JOIN {right} r ON {on}"
            " WHERE to_jsonb(l) IS DISTINCT FROM to_jsonb(r)"
        ).fetchall()
        only_live = only_rebuilt = changed = 0
        for old, new in rows:
            ident = ", ".join(f"{c}={(old or new)[c]}" for c in key)
            if new is None:
                only_live += 1
                note = f"{ident}: only in the live table"
            elif old is None:
                only_rebuilt += 1
                note = f"{ident}: only in the rebuild"
            else:
                changed += 1
                columns = sorted(c for c in old if old[c] != new.get(c))
                note = f"{ident}: " + "; ".join(f"{c} live={old[c]!r} rebuilt={new[c]!r}" for c in columns)
            if len(samples) < SAMPLES:
                samples.append(note)
    else:
        differ = cur.execute(
            f"SELECT (SELECT count(*) FROM (SELECT to_jsonb(l) FROM {left} l EXCEPT ALL"
            f" SELECT to_jsonb(r) FROM {right} r) x), (SELECT count(*) FROM (SELECT to_jsonb(r) FROM {right} r"
            f" EXCEPT ALL SELECT to_jsonb(l) FROM {left} l) y)"
        ).fetchone()
        assert differ is not None
        only_live, only_rebuilt, changed = differ[0], differ[1], 0
    return TableDiff(
        table=table,
        live_rows=counts[0],
        rebuilt_rows=counts[1],
        only_live=only_live,
        only_rebuilt=only_rebuilt,
        changed=changed,
        samples=samples,
    )


def _switch(conn: psycopg.Connection[Any], live: str, view: View) -> None:
    """Replace the live rows with the rebuilt ones (same tables, constraints and grants; one transaction)."""
    conn.execute(f"TRUNCATE {', '.join(f'{live}.{t}' for t in view.tables)}")
    for table in view.tables:  # parents first: the order the view lists them
        stored = conn.execute(  # generated columns are computed again as the rows go in
            "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)"
            " FROM information_schema.columns WHERE table_schema = %s AND table_name = %s AND is_generated = 'NEVER'",
            (live, table),
        ).fetchone()
        assert stored is not None
        conn.execute(f"INSERT INTO {live}.{table} ({stored[0]}) SELECT {stored[0]} FROM {SCHEMA}.{table}")
    conn.execute(
        "UPDATE projection_positions SET code_version = %s, applied_by = %s, rebuilt_at = now() WHERE view_name = %s",
        (view.code_version, view.code_version, view.name),
    )


def rebuild(
    url: str,
    views: Sequence[View] | None = None,
    *,
    switch: bool = False,
    keep: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[ViewRebuild]:
    """Rebuild `views` (default: all) from position 0 into the `ledger_rebuild` schema, compare each with
    its live tables at the live view's position, and with `switch` put the rebuilt rows live.

    `progress(position, total)` is called as the log is read. With `keep`, the rebuilt tables are left in
    the schema for inspection.
    """
    chosen = list(views) if views is not None else all_views()
    started = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        live = live_schema(conn)
        register_views(conn, chosen)
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        create_tables(conn, chosen, SCHEMA)
        conn.execute(f"SET search_path TO {SCHEMA}, {live}")
        cur = conn.cursor(row_factory=tuple_row)
        names = [v.name for v in chosen]
        target = dict(
            cur.execute(
                "SELECT view_name, position FROM projection_positions WHERE view_name = ANY(%s)", (names,)
            ).fetchall()
        )
        total = max(target.values(), default=0)
        events = replay(
            conn,
            chosen,
            until=target,
            progress=(lambda n: progress(n, total)) if progress is not None else None,
            commit_each_batch=True,  # a private, unlogged schema: a crash only means starting again
        )
        reports = []
        try:
            with conn.transaction():
                locked = cur.execute(
                    "SELECT view_name, position, code_version FROM projection_positions"
                    " WHERE view_name = ANY(%s) ORDER BY view_name FOR UPDATE",
                    (names,),
                ).fetchall()
                now = {name: position for name, position, _ in locked}
                built = {name: version for name, _, version in locked}
                events += replay(conn, chosen, after=target, until=now)
                for view in chosen:
                    tables = [compare(conn, live, table) for table in view.tables]
                    identical = all(t.identical for t in tables)
                    if switch:
                        _switch(conn, live, view)
                    reports.append(
                        ViewRebuild(
                            view=view.name,
                            position=now[view.name],
                            built_by=built[view.name],
                            rebuilt_with=view.code_version,
                            events=events,
                            seconds=round(time.monotonic() - started, 3),
                            identical=identical,
                            switched=switch,
                            tables=tables,
                        )
                    )
        finally:
            conn.execute(f"SET search_path TO {live}")
            if not keep:
                conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    return reports
