"""RFC 9457 problem details: every error the API returns, and no stack trace ever."""

from __future__ import annotations

import logging
from typing import Any

import falcon
import msgspec
import psycopg
from eventsourcing.persistence import OperationalError as StoreOperationalError

from ledger.errors import ConcurrencyConflict, InvalidCommand, NotFound, RuleViolation, StaleVersion

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://probation-ledger.service.justice.gov.uk/problems/"


class FieldError(msgspec.Struct, frozen=True):
    path: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True, kw_only=True):
    """An RFC 9457 problem document."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    rule: str | None = None
    errors: list[FieldError] | None = None
    request_id: str | None = None


_encoder = msgspec.json.Encoder()


class ProblemError(falcon.HTTPError):
    """A falcon error that renders as problem+json with the ledger's extra members."""

    def __init__(
        self,
        status: int,
        title: str,
        *,
        detail: str | None = None,
        slug: str | None = None,
        rule: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, title=title, description=detail, headers=headers)
        self.slug = slug
        self.rule = rule
        self.field_errors = errors


def invalid(errors: list[tuple[str, str]]) -> ProblemError:
    return ProblemError(
        422,
        "Invalid request",
        detail="; ".join(f"{p}: {m}" for p, m in errors),
        slug="validation",
        errors=[FieldError(p, m) for p, m in errors],
    )


def serialize_problem(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    status = exc.status_code
    slug = getattr(exc, "slug", None)
    problem = Problem(
        type=_TYPE_BASE + slug if slug else "about:blank",
        title=(exc.title or "").removeprefix(f"{status} ") or falcon.code_to_http_status(status)[4:],
        status=status,
        detail=exc.description,
        instance=req.path,
        rule=getattr(exc, "rule", None),
        errors=getattr(exc, "field_errors", None),
        request_id=getattr(req.context, "request_id", None),
    )
    resp.content_type = PROBLEM_JSON
    resp.data = _encoder.encode(problem)


def write_server_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's own answer to a request it refuses before the app sees it (a request line over
    `limit_request_line`: 414; headers over `limit_request_field_size` or `limit_request_fields`: 431; a malformed
    request line or chunk: 400), as problem+json like every other error. Installed in place of
    `gunicorn.util.write_error` by `gunicorn.conf.py`'s post_worker_init hook."""
    from gunicorn.util import write_nonblock

    body = _encoder.encode(Problem(title=reason, status=status_int, detail=mesg or None))
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: {PROBLEM_JSON}\r\n"
        f"Content-Length: {len(body)}\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\n\r\n"
    )
    write_nonblock(sock, head.encode("latin-1") + body)


def handle_bad_cursor(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
    """A page asked for after a cursor its list did not hand out (`projections.pages`)."""
    raise invalid([("after", str(exc))])


def handle_ledger_error(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
    """Map the ledger's errors onto HTTP statuses."""
    if isinstance(exc, RuleViolation):
        raise ProblemError(409, exc.rule, detail=exc.detail, slug="rule-violation", rule=exc.rule)
    if isinstance(exc, ConcurrencyConflict):
        raise ProblemError(
            409, "Concurrent modification", detail=str(exc), slug="concurrency", rule="optimistic concurrency"
        )
    if isinstance(exc, StaleVersion):
        raise ProblemError(412, "Precondition failed", detail=str(exc), slug="stale-version")
    if isinstance(exc, NotFound):
        raise ProblemError(404, "Not found", detail=str(exc), slug="not-found")
    if isinstance(exc, InvalidCommand):
        raise invalid(exc.errors)
    handle_unexpected(req, resp, exc, params)


# The database went away (a restart, a failover, a dropped connection), no connection came free in time, or a lock
# or statement timed out. psycopg calls all of these OperationalError (eventsourcing re-raises them as its own): not
# the client's fault, and over soon, so the client is told to retry rather than that the server is broken.
_DATABASE_UNAVAILABLE = (psycopg.OperationalError, StoreOperationalError)


def handle_unexpected(req: falcon.Request, resp: falcon.Response, exc: Exception, params: Any) -> None:
    if isinstance(exc, falcon.HTTPError):
        raise exc
    if isinstance(exc, _DATABASE_UNAVAILABLE):
        log.warning(
            "database unavailable on %s %s (request %s): %s",
            req.method,
            req.path,
            getattr(req.context, "request_id", "-"),
            exc,
        )
        raise ProblemError(
            503,
            "Database unavailable",
            detail="The database could not complete the request; retry shortly. A command whose connection was lost"
            " may have been recorded: read it back, or retry it with the same Idempotency-Key or natural key.",
            slug="database-unavailable",
            headers={"Retry-After": "1"},
        ) from None
    log.exception(
        "unhandled error on %s %s (request %s)", req.method, req.path, getattr(req.context, "request_id", "-")
    )
    raise ProblemError(
        500, "Internal server error", detail="The error was logged; quote the request id when reporting it."
    )
