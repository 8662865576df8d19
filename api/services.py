"""The per-process handles the API needs: the ledger (writes), a pool on the primary and a read pool for the
views (on READ_DATABASE_URL: a streaming replica, or the primary itself), opened lazily."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from api.auth import Verifier
from api.errors import ProblemError
from ledger.audit.log import Signer
from ledger.config import Settings
from ledger.database import check_on_checkout
from ledger.envelope import utcnow
from ledger.store import Ledger
from projections.runner import wait_for_position


class Services:
    """Opened on first use, so that gunicorn workers each create their pools after the fork.

    Commands go through the ledger, and writes beside the log (idempotency keys, the personal-data read
    log, checkpoints) through `pool`: both on the primary. Queries of the views go through `read()`, on
    the read database; with `min_position` they wait for that database's own view positions, which
    covers the replica's replay lag as well as the worker's.
    """

    def __init__(
        self, settings: Settings, *, database_url: str | None = None, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._url = database_url
        self._lock = threading.Lock()
        self._ledger: Ledger | None = None
        self._pool: ConnectionPool | None = None
        self._read_pool: ConnectionPool | None = None
        self._verifier: Verifier | None = None
        self._signer: Signer | None = None

    @property
    def database_url(self) -> str:
        if self._url is None:
            from ledger.database import resolve_database_url

            self._url = resolve_database_url(self.settings)
        return self._url

    @property
    def read_database_url(self) -> str:
        """Where the views are read: READ_DATABASE_URL, else the primary."""
        return self.settings.read_database_url or self.database_url

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            with self._lock:
                if self._ledger is None:
                    self._ledger = Ledger(
                        self.database_url,
                        pool_size=self.settings.pool_size,
                        clock=self.clock,
                        master_key=self.settings.personal_data_master_key,
                    )
        return self._ledger

    @property
    def pool(self) -> ConnectionPool:
        """Connections to the primary, for reads that must be current and writes beside the log."""
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = _open_pool(self.database_url, self.settings.pool_size, "ledger-primary")
        return self._pool

    @property
    def read_pool(self) -> ConnectionPool:
        """Connections to the read database (the primary's pool itself when there is no replica)."""
        if self.read_database_url == self.database_url:
            return self.pool
        if self._read_pool is None:
            with self._lock:
                if self._read_pool is None:
                    self._read_pool = _open_pool(self.read_database_url, self.settings.pool_size, "ledger-read")
        return self._read_pool

    @property
    def verifier(self) -> Verifier:
        if self._verifier is None:
            self._verifier = Verifier.from_settings(self.settings)
        return self._verifier

    @property
    def signer(self) -> Signer:
        """The Ed25519 key that signs checkpoints (loaded on first use; created in development)."""
        if self._signer is None:
            self._signer = Signer.from_file(self.settings.checkpoint_key_path())
        return self._signer

    @contextmanager
    def read(self, views: Sequence[str] = (), min_position: int | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A connection to the read database; with `min_position`, first wait until `views` have caught up
        there (else 503)."""
        with self.read_pool.connection(timeout=10) as conn:
            if min_position is not None and views:
                caught_up = wait_for_position(conn, views, min_position, timeout=self.settings.read_wait_seconds)
                if not caught_up:
                    raise ProblemError(
                        503,
                        "View not caught up",
                        detail=f"the {', '.join(views)} view has not reached position {min_position} yet",
                        slug="not-caught-up",
                        headers={"Retry-After": "1"},
                    )
            yield conn

    @contextmanager
    def primary(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection to the primary: for the log itself, answers replayed from it, and writes."""
        with self.pool.connection(timeout=10) as conn:
            yield conn

    def close(self) -> None:
        if self._read_pool is not None:
            self._read_pool.close()
        if self._pool is not None:
            self._pool.close()
        if self._ledger is not None:
            self._ledger.close()


def _open_pool(url: str, size: int, name: str) -> ConnectionPool:
    pool: ConnectionPool = ConnectionPool(
        url,
        min_size=1,
        max_size=max(2, size),
        kwargs={"autocommit": True, "row_factory": dict_row},
        open=False,
        check=check_on_checkout(lambda: pool),
        name=name,
    )
    pool.open(wait=False)
    return pool
