"""Which PostgreSQL the ledger talks to, and the settings eventsourcing needs to reach it."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from ledger.config import Settings


def resolve_database_url(settings: Settings) -> str:
    """Return DATABASE_URL, or start the embedded server and return its URL.

    The resolved URL is exported so that child processes (gunicorn, the worker) share one server.
    """
    if settings.database_url:
        return settings.database_url
    from ledger import embedded

    url = embedded.start(settings.data_dir)
    os.environ["DATABASE_URL"] = url
    return url


def eventsourcing_env(url: str, *, pool_size: int = 5, pre_ping: bool = True) -> dict[str, str]:
    """Translate a libpq URL into the POSTGRES_* settings eventsourcing's factory reads."""
    info = conninfo_to_dict(url)
    return {
        "POSTGRES_DBNAME": str(info.get("dbname") or info.get("user") or "postgres"),
        "POSTGRES_HOST": str(info.get("host") or "localhost"),
        "POSTGRES_PORT": str(info.get("port") or "5432"),
        "POSTGRES_USER": str(info.get("user") or os.environ.get("USER", "postgres")),
        "POSTGRES_PASSWORD": str(info.get("password") or ""),
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_MAX_OVERFLOW": str(pool_size * 2),
        "POSTGRES_LOCK_TIMEOUT": "5",
        "POSTGRES_PRE_PING": "y" if pre_ping else "n",
        "POSTGRES_IDLE_IN_TRANSACTION_SESSION_TIMEOUT": "10",
    }


RECENTLY_SOUND = 1.0  # seconds a checked connection is handed out again without another check


def check_on_checkout(pool: Callable[[], ConnectionPool[Any]]) -> Callable[[psycopg.Connection[Any]], None]:
    """A pool's check of each connection it hands out that, on finding one broken, checks all its idle ones at once.

    After a database restart every idle connection is broken. psycopg_pool's own check finds them one checkout at
    a time and sleeps 1, 2, 4, 8 s between them, so a request could wait a quarter of a minute for a server that was
    back within a second. `pool` returns the pool being checked (it does not exist yet when this is made).
    """

    def check(conn: psycopg.Connection[Any]) -> None:
        # A connection found sound a moment ago is not asked again: under load that would double the round
        # trips of every command. One broken since fails its statement (503, or the library's retry).
        now = time.monotonic()
        if now - getattr(conn, "_ledger_sound_at", float("-inf")) < RECENTLY_SOUND:
            return
        try:
            ConnectionPool.check_connection(conn)
        except Exception:
            pool().check()  # discards every broken idle connection; fresh ones are opened in the background
            raise
        conn._ledger_sound_at = now  # type: ignore[attr-defined]

    return check
