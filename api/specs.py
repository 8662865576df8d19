"""What an operation is: its spec (a Command, Query or Action, named once), the route that serves it, and the
context a query or action handler is given."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.errors import invalid
from api.openapi import IF_MATCH, MIN_POSITION, Operation, Param
from api.services import Services
from ledger.envelope import Actor
from ledger.history import Horizon, parse_day, parse_moment
from ledger.store import Ledger, Recorded
from projections.base import View


class CommandAccepted(msgspec.Struct, kw_only=True):
    """What a command wrote. Pass `position` as `min_position` to read your own write."""

    id: UUID
    version: int
    position: int
    events: int
    command_id: str


IDEMPOTENCY_KEY = Param(
    "Idempotency-Key",
    "header",
    {"type": "string", "maxLength": 128},
    "Unique per intended change; retries reuse it.",
    True,
)


@dataclass(frozen=True)
class Command:
    """A command: `handler(ledger, envelope, *path_ids, [body], [expected_version=], [request_key=])`."""

    name: str  # e.g. "suppliers.register": the policy's key and the OpenAPI operationId
    summary: str
    handler: Callable[..., Recorded]
    request: type | None = None
    status: int = 200
    errors: tuple[int, ...] = (404, 409)
    # The query that reads what a 201 created: its path, filled from the answer (a parameter takes the answer's
    # field of its name, else `id`), is the Location.
    location: str | None = None
    response: type[CommandAccepted] = CommandAccepted  # a subclass adds the ids the command names (`Recorded.named`)
    if_match: bool = False
    idempotent: bool = False  # moves money: needs an Idempotency-Key; a retry answers the first response
    tags: tuple[str, ...] = ()
    description: str = ""

    def operation(self) -> Operation:
        params = ((IF_MATCH,) if self.if_match else ()) + ((IDEMPOTENCY_KEY,) if self.idempotent else ())
        return Operation(
            self.name,
            self.summary,
            request=self.request,
            response=self.response,
            status=self.status,
            # 422 also when a body is sent to a command that takes none
            errors=self.errors
            + ((412,) if self.if_match else ())
            + ((422,) if self.idempotent or not self.request else ()),
            params=params,
            tags=self.tags,
            description=self.description,
        )


def _time_param(name: str, description: str) -> Param:
    return Param(name, "query", {"type": "string", "format": "date-time"}, description)


HORIZON = (
    _time_param(
        "as_recorded",
        "What the ledger knew at this moment: only events recorded by then (RFC 3339, or a date = end of that day)",
    ),
    _time_param(
        "as_effective",
        "What had happened by this moment, whenever recorded (RFC 3339, or a date = end of that day)",
    ),
    Param("at_position", "query", {"type": "integer", "minimum": 1}, "Only events at or before this log position"),
)


@dataclass(frozen=True)
class AsOf:
    """How a view query answers for a horizon: replay these views from the log into private tables (only
    the `aggregates(*path_ids)` named, when given) and run the same query there."""

    views: Callable[[], Sequence[View]]
    aggregates: Callable[..., Sequence[UUID]] | None = None


@dataclass(frozen=True)
class Query:
    """A query: `handler(query_context, *path_ids) -> value or None (404)`."""

    name: str
    summary: str
    handler: Callable[..., Any]
    response: Any
    views: tuple[str, ...] = ("catalogue",)
    params: tuple[Param, ...] = ()
    etag: bool = False
    tags: tuple[str, ...] = ()
    description: str = ""
    from_ledger: bool = False  # reads the event store itself (authoritative), not a view
    content_type: str = "application/json"  # anything else: the handler returns the body as text
    as_of: AsOf | None = None  # answerable as of a horizon, from the events

    def operation(self) -> Operation:
        errors = (404, 422) + (() if self.from_ledger else (503,))
        return Operation(
            self.name,
            self.summary,
            response=self.response,
            errors=errors,
            params=self.params + (() if self.from_ledger else (MIN_POSITION,)) + (HORIZON if self.as_of else ()),
            tags=self.tags,
            description=self.description,
            response_media=self.content_type,
        )


@dataclass(frozen=True)
class Action:
    """A POST that does something other than record events (e.g. sign a checkpoint): `handler(q) -> value`."""

    name: str
    summary: str
    handler: Callable[..., Any]
    response: Any
    status: int = 200
    errors: tuple[int, ...] = (409, 422)
    params: tuple[Param, ...] = ()
    tags: tuple[str, ...] = ()
    description: str = ""

    def operation(self) -> Operation:
        return Operation(
            self.name,
            self.summary,
            response=self.response,
            status=self.status,
            errors=self.errors,
            params=self.params,
            tags=self.tags,
            description=self.description,
        )


Spec = Command | Query | Action


@dataclass(frozen=True)
class Route:
    """A path and the operation each HTTP method runs there: the one place the path is written."""

    path: str
    methods: Mapping[str, Spec]


def route(path: str, **methods: Spec) -> Route:
    """`route("/suppliers", post=Command(...), get=Query(...))`: any other method is 405."""
    return Route(path, {method.upper(): spec for method, spec in methods.items()})


def int_param(query: Mapping[str, str | list[str]], name: str, *, default: int, low: int, high: int) -> int:
    raw = last(query, name)
    if raw is None:
        return default
    # Longer than the bound's digits is out of range however it reads (and Python refuses to read very long ones).
    digits = raw.lstrip("0") or "0"
    if not (raw.isascii() and raw.isdigit()) or len(digits) > len(str(high)) or not low <= int(digits) <= high:
        raise invalid([(name, f"must be a whole number from {low} to {high}")])
    return int(digits)


def last(query: Mapping[str, str | list[str]], name: str) -> str | None:
    """A parameter's value; of a repeated one, the last (as HTTP frameworks read it)."""
    value = query.get(name)
    return value[-1] if isinstance(value, list) else value


@dataclass
class QueryContext:
    """What a query or action handler may use: the services (the ledger, the signer), the read connection, the
    caller and the operation's query parameters.

    `scoped_*` read a filter the caller's scope forces (a supplier sees only itself), else the parameter.
    """

    services: Services
    actor: Actor
    query: Mapping[str, str | list[str]]
    conn: Any = None
    forced: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None  # the moment a horizon query is answered for (None: now)

    @property
    def ledger(self) -> Ledger:
        return self.services.ledger

    def now(self) -> datetime:
        """ "Now" for the query's judgements (waiting times, live contracts): the horizon's moment, if any."""
        return self.at or self.ledger.now()

    def moment(self, name: str, *, lower_bound: bool = False) -> datetime | None:
        """A query parameter as an aware UTC datetime; a bare date means the end of that day (inclusive), or its
        start when the parameter is the lower bound of a range (`since`)."""
        raw = self.param(name)
        if raw is None:
            return None
        try:
            return parse_moment(raw, lower_bound=lower_bound)
        except ValueError as exc:
            raise invalid([(name, str(exc))]) from None

    def day(self, name: str, default: date | None = None) -> date | None:
        """A query parameter as a date (YYYY-MM-DD) within the ledger's calendar."""
        raw = self.param(name)
        if raw is None:
            return default
        try:
            return parse_day(raw)
        except ValueError as exc:
            raise invalid([(name, str(exc))]) from None

    def required_day(self, name: str) -> date:
        day = self.day(name)
        if day is None:
            raise invalid([(name, "required: a date, YYYY-MM-DD")])
        return day

    def horizon(self) -> Horizon:
        """The horizon named by `as_recorded`, `as_effective` and `at_position` (no bound when absent).

        A position names an event, and the log starts at 1: `at_position=0` names none (422)."""
        position = self.param("at_position")
        return Horizon(
            recorded_by=self.moment("as_recorded"),
            effective_by=self.moment("as_effective"),
            position=None if position is None else self.int_param("at_position", default=1, low=1, high=2**63 - 1),
        )

    def scoped(self, name: str) -> str | None:
        return self.forced[name] if name in self.forced else self.param(name)

    def scoped_uuid(self, name: str) -> UUID | None:
        given = self.uuid_param(name)  # malformed is 422 even where the caller's scope decides the value
        return self.forced.get(name, given)

    def param(self, name: str) -> str | None:
        return last(self.query, name)

    def params(self, name: str) -> list[str]:
        value = self.query.get(name)
        if value is None:
            return []
        return list(value) if isinstance(value, list) else [value]

    def int_param(self, name: str, *, default: int, low: int, high: int) -> int:
        return int_param(self.query, name, default=default, low=low, high=high)

    def uuid_param(self, name: str) -> UUID | None:
        raw = self.param(name)
        if raw is None:
            return None
        try:
            return UUID(raw)
        except ValueError:
            raise invalid([(name, "must be a UUID")]) from None

    def bool_param(self, name: str) -> bool:
        raw = self.param(name)
        if raw is None:
            return False
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise invalid([(name, "must be true or false")])
