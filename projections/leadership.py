"""Leadership of the worker's posts (each view, the scheduler) by session-level advisory locks.

A post has at most one leader: the process whose dedicated session holds the post's advisory lock.
PostgreSQL releases a session's locks the moment the session ends, so a leader that stops, crashes, is
killed or is cut off hands its posts over without anyone cleaning up; a standby that is waiting on the
lock gets it at once. Leadership saves work and gives each view its own process; exactly-once does not
rest on it (the runner's `FOR UPDATE` on the view's position does that).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from typing import Any

import psycopg

log = logging.getLogger(__name__)

KEY_NAMESPACE = "probation-ledger/leader/"
SCHEDULER_POST = "scheduler"


def view_post(view_name: str) -> str:
    """The post of leading one view."""
    return f"view/{view_name}"


def leadership_key(post: str) -> int:
    """The advisory-lock key of a post: the first 8 bytes of SHA-256("probation-ledger/leader/" + post),
    read as a signed big-endian 64-bit integer.

    Stable across processes, machines and releases (unlike Python's `hash()`), so every worker of every
    version agrees on it; the namespace keeps it apart from the fixed keys of migrations and the embedded
    server's start-up.
    """
    digest = hashlib.sha256((KEY_NAMESPACE + post).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_identity(key: int) -> tuple[int, int]:
    """How `pg_locks` shows a bigint advisory key: (classid, objid) = its high and low 32 bits, unsigned."""
    unsigned = key & 0xFFFF_FFFF_FFFF_FFFF
    return unsigned >> 32, unsigned & 0xFFFF_FFFF


# True while the session `pid` holds the advisory lock (classid, objid): lets another session of the same
# process check, inside its own transaction, that its leader session still holds the post.
HOLDS_LOCK_SQL = (
    "EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = %s AND classid = %s::oid AND objid = %s::oid"
    " AND objsubid = 1 AND granted)"
)


class Leadership:
    """The posts this process leads, held as session locks on one dedicated connection.

    `claim()` tries every post not yet led without waiting; `stand_by()` blocks (for a bounded time) on
    the lock of a post led elsewhere, so a standby takes over the moment the leader's session ends.
    A lost session loses every post: the server has released them, and they are claimed afresh.
    """

    def __init__(self, url: str, posts: Sequence[str], *, application_name: str = "ledger worker") -> None:
        self.url = url
        self.posts = list(posts)
        self.keys = {post: leadership_key(post) for post in self.posts}
        self.application_name = application_name
        self.held: set[str] = set()
        self._conn: psycopg.Connection[Any] | None = None

    @property
    def session_pid(self) -> int | None:
        """The server process of the session holding the locks (None when not connected)."""
        if self._conn is None or self._conn.closed:
            return None
        return self._conn.info.backend_pid

    def leads(self, post: str) -> bool:
        return post in self.held

    def _session(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self.held.clear()
            # The name shows in pg_stat_activity, so an operator can see which process leads which post.
            self._conn = psycopg.connect(
                self.url, autocommit=True, application_name=f"{self.application_name} {os.getpid()}"
            )
        return self._conn

    def _lost(self, exc: psycopg.Error) -> None:
        if self.held:
            log.warning("leadership session lost (%s): no longer leading %s", exc, ", ".join(sorted(self.held)))
        self.held.clear()
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def claim(self) -> frozenset[str]:
        """Take, without waiting, every post not yet led that is free; return the posts led.

        The statement runs even when every post is held: it proves the session (and so the locks) alive.
        """
        pending = [p for p in self.posts if p not in self.held]
        try:
            rows = (
                self._session()
                .execute(
                    "SELECT k, pg_try_advisory_lock(k) FROM unnest(%s::bigint[]) AS k",
                    ([self.keys[p] for p in pending],),
                )
                .fetchall()
            )
        except psycopg.OperationalError as exc:
            self._lost(exc)
            return frozenset()
        taken = {key for key, granted in rows if granted}
        for post in pending:
            if self.keys[post] in taken:
                self.held.add(post)
                log.info("now leading %s", post)
        return frozenset(self.held)

    def stand_by(self, timeout: float) -> frozenset[str]:
        """Wait up to `timeout` seconds for the first post led elsewhere; return the posts led."""
        pending = [p for p in self.posts if p not in self.held]
        if not pending:
            return frozenset(self.held)
        try:
            conn = self._session()
            conn.execute("SELECT set_config('lock_timeout', %s, false)", (f"{max(1, int(timeout * 1000))}ms",))
            conn.execute("SELECT pg_advisory_lock(%s)", (self.keys[pending[0]],))
        except psycopg.errors.LockNotAvailable:
            return frozenset(self.held)
        except psycopg.OperationalError as exc:
            self._lost(exc)
            return frozenset()
        self.held.add(pending[0])
        log.info("now leading %s (its leader's session ended)", pending[0])
        return frozenset(self.held)

    def release(self) -> None:
        """Give up every post (closing the session releases its locks)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.held.clear()
