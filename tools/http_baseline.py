"""The HTTP stack's own limit, for `ledger bench`: the least a command over HTTP can cost on this machine.

A Falcon route served by the same gunicorn settings as the API (`gunicorn.conf.py`: workers, threads, keep-alive),
driven by the same clients with the same JSON bodies, that reads and decodes the body and does one single-row
INSERT + COMMIT into a table shaped like the events table, from a connection pool of the API's size. What the ledger
adds on top of this (authentication, the aggregate's load and rules, the envelope, the codec, the table lock and the
position) is what the bench's ratio of commands to this baseline measures.

    gunicorn -c gunicorn.conf.py tools.http_baseline:app      (DATABASE_URL, DB_POOL_SIZE)
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import falcon
import msgspec
import psycopg
from psycopg_pool import ConnectionPool

TABLE = "bench_http"

_COLUMNS = (
    "originator_id, originator_version, topic, state, recorded_at, effective_at, actor_id, actor_role,"
    " organisation_id, correlation_id"
)


def create_table(conn: psycopg.Connection[Any]) -> None:
    """The baseline's table: shaped like the events table with its indexes, its own sequence for positions."""
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(f"DROP SEQUENCE IF EXISTS {TABLE}_position")
    conn.execute(f"CREATE TABLE {TABLE} (LIKE ledger_events INCLUDING INDEXES)")
    conn.execute(f"CREATE SEQUENCE {TABLE}_position")
    conn.execute(f"ALTER TABLE {TABLE} ALTER COLUMN notification_id SET DEFAULT nextval('{TABLE}_position')")


def drop_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(f"DROP SEQUENCE IF EXISTS {TABLE}_position")


class Insert:
    """POST /baseline: decode the JSON body, insert one row, commit, answer 201 with its position."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self.pool = pool
        self.statement = (
            f"INSERT INTO {TABLE} ({_COLUMNS}) VALUES (%s, 1, 'baseline', %s, %s, %s, 'bench', 'authority', NULL, %s)"
            " RETURNING notification_id"
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = req.bounded_stream.read()
        msgspec.json.decode(body)
        now = datetime.now(UTC)
        with self.pool.connection() as conn:
            row = conn.execute(
                self.statement, (uuid.uuid4(), body, now, now, str(uuid.uuid4())), prepare=True
            ).fetchone()
        resp.status = falcon.HTTP_201
        resp.content_type = falcon.MEDIA_JSON
        resp.data = msgspec.json.encode({"position": row[0] if row else None})


class Live:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "live"}


def create_app(database_url: str, pool_size: int) -> falcon.App:
    pool: ConnectionPool[Any] = ConnectionPool(
        database_url, min_size=pool_size, max_size=pool_size, kwargs={"autocommit": True}, open=True
    )
    app = falcon.App()
    app.add_route("/baseline", Insert(pool))
    app.add_route("/health/live", Live())
    return app


def __getattr__(name: str) -> Any:
    """`app`, made when gunicorn's worker first asks for it (after the fork), never on import."""
    if name == "app":
        made = create_app(os.environ["DATABASE_URL"], int(os.environ.get("DB_POOL_SIZE", "8")))
        globals()["app"] = made
        return made
    raise AttributeError(name)
