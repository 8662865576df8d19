"""Idempotency-Key for commands that move money: a retry gets the first answer and writes nothing new."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from api.errors import ProblemError


@dataclass(frozen=True)
class Replay:
    """The first request's answer, as it was given: status, JSON body and headers (ETag, X-Ledger-Position,
    Location)."""

    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Reservation:
    """The key, held by this request while its command runs (its row locked in an open transaction)."""

    conn: psycopg.Connection[Any]
    actor: str
    key: str

    def keep(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        """Store the answer that every retry with this key will get (committed when the claim ends)."""
        self.conn.execute(
            "UPDATE idempotency_keys SET status = %s, body = %s, headers = %s WHERE actor_id = %s AND key = %s",
            (status, body, Jsonb(headers), self.actor, self.key),
        )


def request_hash(method: str, path: str, body: bytes) -> str:
    """What makes a retry the same request: its method, its path and its body."""
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def _stored(conn: psycopg.Connection[Any], actor: str, key: str, *, lock: bool = False) -> dict[str, Any] | None:
    row: Any = conn.execute(
        "SELECT request_hash, status, body, headers FROM idempotency_keys WHERE actor_id = %s AND key = %s"
        + (" FOR UPDATE NOWAIT" if lock else ""),
        (actor, key),
    ).fetchone()
    if row is None or isinstance(row, dict):
        return row
    return dict(zip(("request_hash", "status", "body", "headers"), row, strict=True))


def _answered(stored: dict[str, Any], fingerprint: str) -> Replay:
    """The first request's answer, for a retry that is the same request."""
    if stored["request_hash"] != fingerprint:
        raise _reused()
    return Replay(status=stored["status"], body=bytes(stored["body"]), headers=stored["headers"] or {})


def _reused() -> ProblemError:
    return ProblemError(
        422, "Idempotency-Key reused", detail="this key was used for a different request", slug="idempotency"
    )


def _in_progress() -> ProblemError:
    return ProblemError(
        409,
        "Request in progress",
        detail="the first request with this key is still running",
        slug="idempotency",
        rule="idempotency key in use",
    )


@contextmanager
def claim(pool: ConnectionPool, actor: str, key: str, fingerprint: str) -> Iterator[Replay | Reservation]:
    """Hold the caller's key for this request while its command runs (yield a Reservation, whose `keep` stores the
    answer), or yield the stored answer of the first request (a Replay).

    The key's row stays locked, in a transaction on this process's connection, for as long as the command runs.
    A process that dies mid-request (SIGKILL, OOM, a worker timeout) ends its transaction and so its lock: the
    retry takes the key over instead of being told for ever that the first request is still running. A command
    that fails likewise leaves the key free for a retry, which may then carry a corrected body. A key reused for a
    different request is refused (422); one whose first request is still running is refused (409).
    """
    with pool.connection() as conn:
        conn.execute(
            "INSERT INTO idempotency_keys (actor_id, key, request_hash) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            (actor, key, fingerprint),
        )
        stored = _stored(conn, actor, key)
        if stored is not None and stored["status"] is not None:
            yield _answered(stored, fingerprint)
            return
        with conn.transaction():
            try:
                held = _stored(conn, actor, key, lock=True)
            except psycopg.errors.LockNotAvailable:
                if stored is not None and stored["request_hash"] != fingerprint:
                    raise _reused() from None
                raise _in_progress() from None
            if held is None:  # keys are never deleted; this only guards the unexpected
                raise _in_progress()
            if held["status"] is not None:  # the first request finished while this one reached the lock
                yield _answered(held, fingerprint)
                return
            if held["request_hash"] != fingerprint:  # left by a request that failed or died: this one takes it
                conn.execute(
                    "UPDATE idempotency_keys SET request_hash = %s WHERE actor_id = %s AND key = %s",
                    (fingerprint, actor, key),
                )
            yield Reservation(conn, actor, key)
