"""The per-process handles the API needs: the ledger (writes), a pool on the primary and a read pool for the
views (on READ_DATABASE_URL: a streaming replica, or the primary itself), opened lazily."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from api.auth import Verifier
from api.errors import FieldError, ProblemError, invalid
from ledger.audit.log import Signer
from ledger.config import Settings
from ledger.database import check_on_checkout
from ledger.envelope import utcnow
from ledger.store import EVENTS_TABLE, Ledger
from projections.runner import positions


def _caught_up(conn: psycopg.Connection[Any], views: Sequence[str], minimum: int) -> bool:
    current = positions(conn, views)
    return bool(current) and min(current.get(v, 0) for v in views) >= minimum


def log_head(conn: psycopg.Connection[Any]) -> int:
    """The last position written to the log (0 when it is empty)."""
    row = conn.execute(f"SELECT coalesce(max(notification_id), 0) AS head FROM {EVENTS_TABLE}").fetchone()
    return int(row["head"]) if row else 0


class WaitingRoom:
    """How many requests of each caller are waiting for the views to catch up, in this process: a caller may
    have `per_caller` waiting at once; another is told to retry (429) rather than take a thread from everyone."""

    def __init__(self, per_caller: int) -> None:
        self.per_caller = per_caller
        self._waiting: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def admit(self, caller: str) -> Iterator[None]:
        with self._lock:
            if self._waiting[caller] >= self.per_caller:
                raise ProblemError(
                    429,
                    "Too many requests waiting",
                    detail=f"{self.per_caller} of your requests are already waiting for min_position; retry shortly",
                    slug="too-many-waiting",
                    errors=[FieldError("min_position", "too many of your requests are waiting already")],
                    headers={"Retry-After": "1"},
                )
            self._waiting[caller] += 1
        try:
            yield
        finally:
            with self._lock:
                self._waiting[caller] -= 1
                if not self._waiting[caller]:
                    del self._waiting[caller]


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
        self.waiting = WaitingRoom(settings.read_waiters_per_caller)

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
            self._signer = Signer.from_file(self.settings.checkpoint_key_path(), self.settings.checkpoint_origin)
        return self._signer

    @contextmanager
    def read(
        self, views: Sequence[str] = (), min_position: int | None = None, *, caller: str = ""
    ) -> Iterator[psycopg.Connection[Any]]:
        """A connection to the read database; with `min_position`, first wait until `views` have caught up
        there (see `await_position`)."""
        if min_position is not None and views:
            self.await_position(views, min_position, caller)
        with self.read_pool.connection(timeout=10) as conn:
            yield conn

    def await_position(self, views: Sequence[str], minimum: int, caller: str) -> None:
        """Return once `views` have applied the log up to `minimum` on the read database (ADR 23).

        A position the log has not reached is refused at once (422): no command has answered with it, so it
        may never come, and waiting for it would only hold a thread. Only the projection lag is waited for,
        at most READ_WAIT_SECONDS (then 503), by at most READ_WAITERS_PER_CALLER requests of one caller at
        a time in this process (then 429); between looks the connection goes back to the pool.
        """
        with self.read_pool.connection(timeout=10) as conn:
            if _caught_up(conn, views, minimum):
                return
        with self.primary() as conn:  # the head is authoritative on the primary: a replica's may lag
            head = log_head(conn)
        if minimum > head:
            raise invalid(
                [("min_position", f"the log has not reached position {minimum}: its last position is {head}")]
            )
        with self.waiting.admit(caller):
            deadline = time.monotonic() + self.settings.read_wait_seconds
            delay = 0.005
            while time.monotonic() < deadline:
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 0.1)
                with self.read_pool.connection(timeout=10) as conn:
                    if _caught_up(conn, views, minimum):
                        return
        raise ProblemError(
            503,
            "View not caught up",
            detail=f"the {', '.join(views)} view has not reached position {minimum} yet",
            slug="not-caught-up",
            headers={"Retry-After": "1"},
        )

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
