"""At a few hundred thousand events the log's queries are still answered from its indexes (no partitions)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ledger.store import EVENTS_TABLE
from projections.base import EVENT_COLUMNS

EVENTS = 200_000
PER_AGGREGATE = 10


@pytest.fixture(scope="module")
def large_log(make_database) -> str:
    url = make_database()
    with psycopg.connect(url, autocommit=True) as conn:
        # Plans do not depend on durability: unlogged, this throwaway table is filled without WAL and costs
        # the server's checkpoints (and the session's DROP DATABASE) nothing.
        conn.execute(f"ALTER TABLE {EVENTS_TABLE} SET UNLOGGED")
        # Rows are written directly: this is about the table's plans at size, not about any command, and
        # the commands would take minutes to write this many events on this machine.
        conn.execute(
            f"INSERT INTO {EVENTS_TABLE} (originator_id, originator_version, topic, state, recorded_at, effective_at,"
            " actor_id, actor_role, organisation_id, correlation_id)"
            " SELECT md5('aggregate' || (i / %(per)s))::uuid, i %% %(per)s + 1,"
            " 'ledger.procurement.call_offs:CallOff.Kind' || (i %% 40), '\\x7b7d'::bytea,"
            " timestamptz '2021-06-01' + i * interval '1 minute', timestamptz '2021-06-01' + i * interval '1 minute',"
            " 'actor-' || (i %% 500), 'authority', 'org-' || (i %% 300), 'request-' || i"
            " FROM generate_series(0, %(last)s) AS i",
            {"per": PER_AGGREGATE, "last": EVENTS - 1},
        )
        conn.execute(f"ANALYZE {EVENTS_TABLE}")
    return url


def nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def scans_of_the_log(url: str, sql: str, params: tuple[Any, ...]) -> list[str]:
    """The node types that read the events table in the query's plan."""
    with psycopg.connect(url, autocommit=True) as conn:
        plan = conn.execute(f"EXPLAIN (FORMAT JSON) {sql}", params).fetchone()[0][0]["Plan"]
    return [n["Node Type"] for n in nodes(plan) if n.get("Relation Name") == EVENTS_TABLE]


@pytest.mark.parametrize(
    ("reader", "sql", "params"),
    [
        (
            "the worker's next batch",
            f"SELECT {EVENT_COLUMNS} FROM {EVENTS_TABLE} WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
            (EVENTS // 2, 500),
        ),
        (
            "an aggregate's stream",
            f"SELECT * FROM {EVENTS_TABLE} WHERE originator_id = md5('aggregate77')::uuid ORDER BY originator_version",
            (),
        ),
        ("the head of the log", f"SELECT max(notification_id) FROM {EVENTS_TABLE}", ()),
        (
            "the audit log filtered by type",
            f"SELECT * FROM {EVENTS_TABLE} WHERE event_type = %s AND notification_id > %s ORDER BY notification_id"
            " LIMIT 100",
            ("Kind7", 1000),
        ),
        (
            "the audit log filtered by actor",
            f"SELECT * FROM {EVENTS_TABLE} WHERE actor_id = %s AND notification_id > %s ORDER BY notification_id"
            " LIMIT 100",
            ("actor-42", 0),
        ),
    ],
)
def test_the_logs_queries_stay_index_driven_at_a_few_hundred_thousand_events(
    large_log: str, reader: str, sql: str, params: tuple[Any, ...]
) -> None:
    scans = scans_of_the_log(large_log, sql, params)
    assert scans, f"{reader}: the plan does not read {EVENTS_TABLE}"
    assert all(scan.startswith(("Index", "Bitmap")) for scan in scans) and "Seq Scan" not in scans, (reader, scans)
