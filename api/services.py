"""The per-process handles the API needs: the ledger (writes) and a read pool (views), opened lazily."""

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
from ledger.envelope import utcnow
from ledger.store import Ledger
from projections.runner import wait_for_position


class Services:
    """Opened on first use, so that gunicorn workers each create their pools after the fork."""

    def __init__(
        self, settings: Settings, *, database_url: str | None = None, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.settings = settings
        self.clock = clock
        self._url = database_url
        self._lock = threading.Lock()
        self._ledger: Ledger | None = None
        self._pool: ConnectionPool | None = None
        self._verifier: Verifier | None = None
        self._signer: Signer | None = None

    @property
    def database_url(self) -> str:
        if self._url is None:
            from ledger.database import resolve_database_url

            self._url = resolve_database_url(self.settings)
        return self._url

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
        if self._pool is None:
            with self._lock:
                if self._pool is None:
                    pool = ConnectionPool(
                        self.database_url,
                        min_size=1,
                        max_size=max(2, self.settings.pool_size),
                        kwargs={"autocommit": True, "row_factory": dict_row},
                        open=False,
                        check=ConnectionPool.check_connection,
                        name="ledger-read",
                    )
                    pool.open(wait=False)
                    self._pool = pool
        return self._pool

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
        """A read connection; with `min_position`, first wait until `views` have caught up (else 503)."""
        with self.pool.connection(timeout=10) as conn:
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

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
        if self._ledger is not None:
            self._ledger.close()
