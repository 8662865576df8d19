"""Idempotency-Key for commands that move money: a retry gets the first response and writes nothing new."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import falcon
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from api.errors import ProblemError

_REPLAYED_HEADERS = ("ETag", "X-Ledger-Position", "Location")


@dataclass(frozen=True)
class Replay:
    status: int
    body: bytes
    headers: dict[str, str]

    def apply(self, resp: falcon.Response) -> None:
        resp.status = self.status
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self.body
        resp.set_headers({**self.headers, "Idempotent-Replayed": "true"})


def _fingerprint(req: falcon.Request, body: bytes) -> str:
    return hashlib.sha256(f"{req.method} {req.path}\n".encode() + body).hexdigest()


@contextmanager
def claim(pool: ConnectionPool, req: falcon.Request, key: str, body: bytes) -> Iterator[Replay | None]:
    """Reserve the key for this actor (yield None), or yield the stored response of the first request.

    A key reused for a different request is refused (422); one whose first request is still running
    is refused (409). If the command fails, the reservation is released so that a retry can run.
    """
    actor = req.context.actor.id
    fingerprint = _fingerprint(req, body)
    with pool.connection() as conn:
        inserted = conn.execute(
            "INSERT INTO idempotency_keys (actor_id, key, request_hash) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING key",
            (actor, key, fingerprint),
        ).fetchone()
        if inserted is None:
            row: Any = conn.execute(
                "SELECT request_hash, status, body, headers FROM idempotency_keys WHERE actor_id = %s AND key = %s",
                (actor, key),
            ).fetchone()
            if row is None:  # released between our insert and select: ask for a retry
                raise ProblemError(409, "Request in progress", detail="retry with the same key", slug="idempotency")
            stored = (
                dict(row)
                if not isinstance(row, tuple)
                else dict(zip(("request_hash", "status", "body", "headers"), row, strict=True))
            )
            if stored["request_hash"] != fingerprint:
                raise ProblemError(
                    422,
                    "Idempotency-Key reused",
                    detail="this key was used for a different request",
                    slug="idempotency",
                )
            if stored["status"] is None:
                raise ProblemError(
                    409,
                    "Request in progress",
                    detail="the first request with this key is still running",
                    slug="idempotency",
                    rule="idempotency key in use",
                )
            yield Replay(status=stored["status"], body=bytes(stored["body"]), headers=stored["headers"] or {})
            return
    try:
        yield None
    except BaseException:
        with pool.connection() as conn:
            conn.execute(
                "DELETE FROM idempotency_keys WHERE actor_id = %s AND key = %s AND status IS NULL", (actor, key)
            )
        raise


def remember(pool: ConnectionPool, req: falcon.Request, key: str, resp: falcon.Response) -> None:
    headers = {h: resp.get_header(h) for h in _REPLAYED_HEADERS if resp.get_header(h)}
    with pool.connection() as conn:
        conn.execute(
            "UPDATE idempotency_keys SET status = %s, body = %s, headers = %s WHERE actor_id = %s AND key = %s",
            (int(resp.status_code), resp.data, Jsonb(headers), req.context.actor.id, key),
        )
