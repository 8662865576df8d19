"""Declarative endpoints: a command or a query per HTTP method, documented from the same spec."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

import falcon
import msgspec

from api import audit, idempotency, media, policy
from api.errors import ProblemError, invalid
from api.openapi import IF_MATCH, MIN_POSITION, Operation, Param
from api.services import Services
from ledger.envelope import Envelope, make_envelope
from ledger.history import NOW, Horizon, parse_day, parse_moment
from ledger.roles import Role
from ledger.store import Ledger, Recorded
from ledger.types import EARLIEST_MOMENT, text_errors
from projections import replay
from projections.base import View


class CommandAccepted(msgspec.Struct, kw_only=True):
    """What a command wrote. Pass `position` as `min_position` to read your own write."""

    id: UUID
    version: int
    position: int
    events: int
    command_id: str


@dataclass(frozen=True)
class Command:
    """A command endpoint: `handler(ledger, envelope, *path_ids, [body], [expected_version=])`."""

    summary: str
    handler: Callable[..., Recorded]
    request: type | None = None
    status: int = 200
    errors: tuple[int, ...] = (404, 409)
    location: str | None = None  # e.g. "/suppliers/{id}" for 201 Created; may use the ids the command names
    response: type[CommandAccepted] = CommandAccepted  # a subclass adds the ids the command names (`Recorded.named`)
    if_match: bool = False
    idempotent: bool = False  # moves money: needs an Idempotency-Key; a retry answers the first response
    tags: tuple[str, ...] = ()
    description: str = ""

    def operation(self) -> Operation:
        params = ((IF_MATCH,) if self.if_match else ()) + ((IDEMPOTENCY_KEY,) if self.idempotent else ())
        return Operation(
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
    """A query endpoint: `handler(request_context, *path_ids) -> value or None (404)`."""

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
            self.summary,
            response=self.response,
            status=self.status,
            errors=self.errors,
            params=self.params,
            tags=self.tags,
            description=self.description,
        )


@dataclass
class QueryContext:
    """What a query handler may use: the read connection (or the ledger) and the request's parameters.

    `scoped_*` read a filter the caller's scope forces (a supplier sees only itself), else the parameter.
    """

    req: falcon.Request
    conn: Any
    ledger: Ledger
    forced: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None  # the moment a horizon query is answered for (None: now)

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
        return self.req.get_param(name)

    def params(self, name: str) -> list[str]:
        return self.req.get_param_as_list(name) or []

    def int_param(self, name: str, *, default: int, low: int, high: int) -> int:
        return int_param(self.req, name, default=default, low=low, high=high)

    def uuid_param(self, name: str) -> UUID | None:
        raw = self.req.get_param(name)
        if raw is None:
            return None
        try:
            return UUID(raw)
        except ValueError:
            raise invalid([(name, "must be a UUID")]) from None

    def bool_param(self, name: str) -> bool:
        raw = self.req.get_param(name)
        if raw is None:
            return False
        if raw.lower() in ("true", "1", "yes"):
            return True
        if raw.lower() in ("false", "0", "no"):
            return False
        raise invalid([(name, "must be true or false")])


def int_param(req: falcon.Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = req.get_param(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise invalid([(name, f"must be a whole number from {low} to {high}")])
    return int(raw)


def min_position(req: falcon.Request) -> int | None:
    if req.get_param("min_position") is None:
        return None
    return int_param(req, "min_position", default=0, low=0, high=2**63 - 1)


def expected_version(req: falcon.Request) -> int | None:
    """The version named by If-Match (None when absent or `*`)."""
    header = req.get_header("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()):
        raise ProblemError(
            412, "Precondition failed", detail=f"If-Match {header!r} names no version", slug="stale-version"
        )
    return int(tag)


IDEMPOTENCY_KEY = Param(
    "Idempotency-Key",
    "header",
    {"type": "string", "maxLength": 128},
    "Unique per intended change; retries reuse it.",
    True,
)


def idempotency_key(req: falcon.Request) -> str:
    key = req.get_header("Idempotency-Key")
    if not key or len(key) > 128 or not key.isprintable():
        raise invalid([("Idempotency-Key", "required: a unique key (at most 128 characters) per intended change")])
    return key


def path_uuid(value: str, name: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ProblemError(
            404, "Not found", detail=f"no {name.removesuffix('_id')} {value!r}", slug="not-found"
        ) from None


def envelope_for(req: falcon.Request, ledger: Ledger) -> Envelope:
    """The envelope of a command: identity from the token, correlation from the request id."""
    req.context.command_id = f"cmd-{uuid.uuid4()}"
    return make_envelope(
        req.context.actor,
        correlation_id=req.context.request_id,
        causation_id=req.context.command_id,
        recorded_at=ledger.now(),
    )


@dataclass
class Endpoint:
    """A Falcon resource serving the commands and queries given per method."""

    services: Services
    methods: dict[str, Command | Query | Action] = field(default_factory=dict)

    @property
    def operations(self) -> dict[str, Operation]:
        return {method: spec.operation() for method, spec in self.methods.items()}

    def _known_params(self, req: falcon.Request, spec: Command | Query | Action) -> None:
        """A query parameter the operation does not take is refused (422), never ignored: a mistyped
        `as_recored` must not silently answer "now" to someone reconstructing the past."""
        known = {p.name for p in spec.operation().params if p.where == "query"}
        # Always allowed: the purpose of a personal-data read (or its header), and a position to read one's own
        # writes at, which a query of the log itself (answered on the primary) already satisfies.
        allowed = known | {"purpose"} | ({MIN_POSITION.name} if isinstance(spec, Query) else set())
        unknown = sorted(set(req.params) - allowed)
        if unknown:
            takes = ", ".join(sorted(known)) or "none"
            raise invalid([(name, f"not a parameter of this operation (it takes: {takes})") for name in unknown])

    def _ids(self, params: dict[str, str]) -> dict[str, Any]:
        """Path parameters in order: `*_id` ones as UUIDs (404 when malformed), others as given."""
        return {name: path_uuid(value, name) if name.endswith("_id") else value for name, value in params.items()}

    def _authorize(self, req: falcon.Request) -> policy.Rule:
        """The caller's role may run this operation (403 otherwise); personal data needs a purpose."""
        rule = policy.RULES.get((req.method, req.uri_template or ""))
        actor = req.context.actor
        if rule is None:
            raise policy.forbidden("no access rule covers this operation")
        if actor.role not in rule.roles:
            raise policy.forbidden(f"the {actor.role} role may not {req.method} {req.uri_template}")
        if rule.personal_data:
            if actor.role == Role.AUDITOR and policy.PERSONAL_DATA not in actor.privileges:
                raise policy.forbidden("reading personal data needs the personal_data privilege")
            purpose = (req.get_header("X-Purpose") or req.get_param("purpose") or "").strip()
            if not purpose or len(purpose) > 500:
                raise invalid([("X-Purpose", "say why you need this personal data (the read is recorded)")])
            if errors := text_errors(purpose, "X-Purpose"):  # it is recorded and shown: one line of plain text
                raise invalid(errors)
            req.context.purpose = purpose
        return rule

    def _scope(self, req: falcon.Request, rule: policy.Rule, ids: dict[str, Any], body: Any, *, write: bool) -> None:
        policy.check_scope(self.services.ledger, req.context.actor, rule, ids, body, write=write)

    def run_command(self, spec: Command, req: falcon.Request, resp: falcon.Response, params: dict[str, str]) -> None:
        rule = self._authorize(req)
        self._known_params(req, spec)
        ids = self._ids(params)
        self._scope(req, rule, ids, None, write=True)  # the resource the path names: 404 outside scope
        args: list[Any] = [*ids.values()]
        body = self._body(req, spec.request)
        if spec.request is not None:
            command = media.parse(body, spec.request)
            self._scope(req, rule, ids, command, write=True)  # what the body names: 403 if another's
            args.append(command)
        kwargs: dict[str, Any] = {"expected_version": expected_version(req)} if spec.if_match else {}
        if spec.idempotent:
            key = idempotency_key(req)
            with idempotency.claim(self.services.pool, req, key, body) as claimed:
                if isinstance(claimed, idempotency.Replay):
                    claimed.apply(resp)
                    return
                kwargs["request_key"] = key
                self._execute(spec, req, resp, args, kwargs)
                claimed.keep(resp)
            return
        self._execute(spec, req, resp, args, kwargs)

    def _body(self, req: falcon.Request, request: type | None) -> bytes:
        """The one way a body is read: JSON (415 otherwise), within MAX_BODY_BYTES however it is framed (413);
        an operation that takes none refuses one (422)."""
        limit = self.services.settings.max_body_bytes
        if request is None:
            media.refuse_body(req, limit)
            return b""
        media.require_json(req)
        return media.read_body(req, limit)

    def _execute(
        self, spec: Command, req: falcon.Request, resp: falcon.Response, args: list[Any], kwargs: dict[str, Any]
    ) -> None:
        ledger = self.services.ledger
        recorded = spec.handler(ledger, envelope_for(req, ledger), *args, **kwargs)
        resp.set_header("ETag", f'"{recorded.version}"')
        resp.set_header("X-Ledger-Position", str(recorded.position))
        if spec.status == 201 and spec.location:
            resp.location = spec.location.format(id=recorded.aggregate_id, **recorded.named)
        media.respond(
            resp,
            spec.response(
                id=recorded.aggregate_id,
                version=recorded.version,
                position=recorded.position,
                events=recorded.events,
                command_id=req.context.command_id,
                **recorded.named,
            ),
            status=spec.status,
        )

    def run_query(self, spec: Query, req: falcon.Request, resp: falcon.Response, params: dict[str, str]) -> None:
        rule = self._authorize(req)
        self._known_params(req, spec)
        ids = self._ids(params)
        self._scope(req, rule, ids, None, write=False)
        forced = policy.forced_filters(req.context.actor)
        q = QueryContext(req=req, conn=None, ledger=self.services.ledger, forced=forced)
        horizon = q.horizon() if spec.as_of is not None else NOW
        wait = None if spec.from_ledger else min_position(req)
        # The views are read where READ_DATABASE_URL points (a replica), after waiting for `min_position`
        # there. The log itself and answers replayed from it as of a horizon come from the primary: the
        # log is authoritative there, and a replay builds temporary tables, which a hot standby refuses.
        from_views = not spec.from_ledger and horizon.is_now
        source = self.services.read(spec.views, wait, caller=req.context.actor.id) if from_views else None
        with source or self.services.primary() as conn:
            q.conn = conn
            if spec.as_of is None or horizon.is_now:
                result = spec.handler(q, *ids.values())
            else:
                aggregates = spec.as_of.aggregates(*ids.values()) if spec.as_of.aggregates else None
                q.at = self._moment_of(conn, horizon)
                with replay.as_of(conn, spec.as_of.views(), horizon, aggregates=aggregates):
                    result = spec.handler(q, *ids.values())
        if rule.personal_data:
            audit.record_personal_data_read(self.services.pool, req, found=result is not None)
        if result is None:
            raise ProblemError(404, "Not found", detail=f"nothing at {req.path}", slug="not-found")
        if spec.etag and hasattr(result, "version"):
            resp.set_header("ETag", f'"{result.version}"')
        if spec.content_type != "application/json":
            resp.content_type = spec.content_type
            resp.text = result
            return
        media.respond(resp, result)

    @staticmethod
    def _moment_of(conn: Any, horizon: Horizon) -> datetime:
        """The moment a horizon stands for: its effective time, else its recorded time, else the recorded
        time of the event at its position."""
        if horizon.effective_by or horizon.recorded_by:
            return horizon.effective_by or horizon.recorded_by  # type: ignore[return-value]
        row = conn.execute(
            "SELECT max(recorded_at) AS at FROM ledger_events WHERE notification_id <= %s", (horizon.position,)
        ).fetchone()
        # No event at or before the position (an empty log): the beginning of the ledger's calendar, from which
        # a query's date arithmetic ("now" less a waiting time) stays within range.
        return row["at"] or EARLIEST_MOMENT

    def run_action(self, spec: Action, req: falcon.Request, resp: falcon.Response, params: dict[str, str]) -> None:
        self._authorize(req)
        self._known_params(req, spec)
        ids = self._ids(params)
        self._body(req, None)
        with self.services.primary() as conn:  # an action writes (e.g. a checkpoint): the primary
            result = spec.handler(QueryContext(req=req, conn=conn, ledger=self.services.ledger), *ids.values())
        media.respond(resp, result, status=spec.status)


_RUNNERS: dict[type, Callable[..., None]] = {
    Command: Endpoint.run_command,
    Query: Endpoint.run_query,
    Action: Endpoint.run_action,
}


def endpoint(services: Services, **methods: Command | Query | Action) -> Endpoint:
    """Build a resource with exactly the responders given (anything else is 405)."""
    responders: dict[str, Any] = {}
    for method, spec in methods.items():
        runner = _RUNNERS[type(spec)]

        def responder(
            self: Endpoint,
            req: falcon.Request,
            resp: falcon.Response,
            _spec: Any = spec,
            _run: Any = runner,
            **params: str,
        ) -> None:
            _run(self, _spec, req, resp, params)

        responders[f"on_{method.lower()}"] = responder
    kind = type("Endpoint_" + "_".join(sorted(methods)), (Endpoint,), responders)
    return kind(services=services, methods={m.upper(): s for m, s in methods.items()})
