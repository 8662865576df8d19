"""Which PostgreSQL the ledger talks to, and the settings eventsourcing needs to reach it."""

from __future__ import annotations

import os

from psycopg.conninfo import conninfo_to_dict

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
