"""The operation registry: every operation by its one name, run for an actor with the same rules whoever calls it
(the HTTP endpoints, the web pages): the role policy, organisation scope, personal-data purpose and read log,
read-your-writes waits, horizons and idempotency keys."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

import msgspec

from api import audit, idempotency, media, policy
from api.errors import ProblemError, invalid
from api.openapi import MIN_POSITION, path_params
from api.services import Services
from api.specs import Action, Command, CommandAccepted, Query, QueryContext, Route, Spec, int_param
from ledger.envelope import Actor, make_envelope, new_request_id
from ledger.history import NOW, Horizon
from ledger.types import EARLIEST_MOMENT, text_errors
from projections import replay

NAME = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")  # "suppliers.register", "foi.requests.receive"


@dataclass(frozen=True)
class Call:
    """One run of an operation: who asks, and what HTTP would carry in the path, query, body and headers."""

    actor: Actor
    path: Mapping[str, str]  # path parameters, as strings
    query: Mapping[str, str | list[str]] = field(default_factory=dict)  # unknown ones are refused, as in HTTP
    body: bytes | None = None  # a command's JSON body
    purpose: str | None = None  # why, for personal-data reads (the X-Purpose header's role)
    request_id: str = ""  # correlation id recorded in the envelope (one is made when empty)
    if_match: str | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Wire:
    """What only an HTTP request brings: its body, read by HTTP's rules (media type, framing, size) once the caller
    is authorised (`body(takes_one)`: b"" when the operation takes none), and its query string as sent."""

    body: Callable[[bool], bytes]
    query_string: str


@dataclass(frozen=True)
class Outcome:
    """What an operation answered: its result, with the status and headers HTTP answers it with (a command's
    ETag, X-Ledger-Position and Location; a query's ETag), and for an idempotent retry the first answer as it
    was given."""

    spec: Spec
    result: Any
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    replayed: idempotency.Replay | None = None


@dataclass(frozen=True)
class Entry:
    method: str
    path: str
    spec: Spec


class Operations:
    """Every operation of the API by name. Built from the routes, checked against the policy at once: an operation
    without a rule, or a rule naming no operation, fails the build."""

    def __init__(self, services: Services, routes: Iterable[Route]) -> None:
        self.services = services
        self.routes = list(routes)
        self._entries: dict[str, Entry] = {}
        if len({r.path for r in self.routes}) != len(self.routes):
            raise ValueError("a path is declared by more than one route")
        for r in self.routes:
            for method, spec in r.methods.items():
                if not NAME.match(spec.name):
                    raise ValueError(f"{method} {r.path}: {spec.name!r} is not a dotted lower-case name")
                if spec.name in self._entries:
                    raise ValueError(f"{spec.name!r} names two operations")
                self._entries[spec.name] = Entry(method, r.path, spec)
        policy.check_rules(self._entries)
        for entry in self._entries.values():
            self._check_location(entry.spec)

    def _check_location(self, spec: Spec) -> None:
        """A command's Location names a query of the registry (whose path it fills)."""
        if not isinstance(spec, Command) or spec.location is None:
            return
        target = self._entries.get(spec.location)
        if target is None or not isinstance(target.spec, Query):
            raise ValueError(f"{spec.name}: its location {spec.location!r} names no query")

    # -- what pages ask -----------------------------------------------------------------------------

    def names(self) -> Iterable[str]:
        return self._entries.keys()

    def route(self, name: str) -> tuple[str, str]:
        """(HTTP method, path template)."""
        entry = self._entry(name)
        return entry.method, entry.path

    def spec(self, name: str) -> Spec:
        return self._entry(name).spec

    def allowed(self, name: str, actor: Actor) -> bool:
        """Whether the actor's role may run the operation at all (its scope is judged per resource)."""
        entry = self._entry(name)
        return policy.refusal(name, actor, f"{entry.method} {entry.path}") is None

    def run(self, name: str, call: Call) -> Any:
        """Run an operation for `call.actor`: a query's result, a command's `CommandAccepted` (or the subclass
        naming what it created), an action's result. Refusals raise what HTTP answers with (`ProblemError`,
        `LedgerError`): 403 not allowed, 404 outside scope, 422 invalid, 409 a rule, ..."""
        return self.execute(name, call).result

    # -- running --------------------------------------------------------------------------------------

    def execute(self, name: str, call: Call, wire: Wire | None = None) -> Outcome:
        """`run`, with what HTTP needs besides the result: an idempotent retry's first answer as given."""
        entry = self._entry(name)
        call = call if call.request_id else replace(call, request_id=new_request_id())
        wire = wire or self._wire(call)
        spec = entry.spec
        if isinstance(spec, Command):
            return self._command(entry, spec, call, wire)
        if isinstance(spec, Query):
            result = self._query(entry, spec, call, wire)
            etag = spec.etag and hasattr(result, "version")
            return Outcome(spec, result, headers={"ETag": f'"{result.version}"'} if etag else {})
        return Outcome(spec, self._action(entry, spec, call, wire), spec.status)

    def _entry(self, name: str) -> Entry:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(f"no operation named {name!r}") from None

    def _wire(self, call: Call) -> Wire:
        """A call made in-process: its body as given, held to the same limit and refused where none is taken."""
        limit = self.services.settings.max_body_bytes

        def body(takes_one: bool) -> bytes:
            data = call.body or b""
            if not takes_one:
                if data:
                    raise invalid([("$", "this operation takes no request body")])
                return b""
            if len(data) > limit:
                raise ProblemError(
                    413, "Payload too large", detail=f"the body limit is {limit} bytes", slug="too-large"
                )
            return data

        return Wire(body, urlencode(call.query, doseq=True))

    def _authorize(self, entry: Entry, call: Call) -> tuple[policy.Rule, str]:
        """The caller's role may run this operation (403 otherwise); personal data needs a purpose (returned)."""
        if why := policy.refusal(entry.spec.name, call.actor, f"{entry.method} {entry.path}"):
            raise policy.forbidden(why)
        rule = policy.RULES[entry.spec.name]
        purpose = ""
        if rule.personal_data:
            purpose = (call.purpose or "").strip()
            if not purpose or len(purpose) > 500:
                raise invalid([("X-Purpose", "say why you need this personal data (the read is recorded)")])
            if errors := text_errors(purpose, "X-Purpose"):  # it is recorded and shown: one line of plain text
                raise invalid(errors)
        return rule, purpose

    @staticmethod
    def _known_params(spec: Spec, call: Call) -> None:
        """A query parameter the operation does not take is refused (422), never ignored: a mistyped
        `as_recored` must not silently answer "now" to someone reconstructing the past."""
        known = {p.name for p in spec.operation().params if p.where == "query"}
        # Always allowed: the purpose of a personal-data read (or its header), and a position to read one's own
        # writes at, which a query of the log itself (answered on the primary) already satisfies.
        allowed = known | {"purpose"} | ({MIN_POSITION.name} if isinstance(spec, Query) else set())
        unknown = sorted(set(call.query) - allowed)
        if unknown:
            takes = ", ".join(sorted(known)) or "none"
            raise invalid([(name, f"not a parameter of this operation (it takes: {takes})") for name in unknown])

    @staticmethod
    def _ids(entry: Entry, call: Call) -> dict[str, Any]:
        """Path parameters in the template's order: `*_id` ones as UUIDs (404 when malformed), others as given."""
        names = path_params(entry.path)
        if set(call.path) != set(names):
            raise ValueError(f"{entry.spec.name} takes the path parameters {names}, not {sorted(call.path)}")
        return {name: path_uuid(call.path[name], name) if name.endswith("_id") else call.path[name] for name in names}

    @staticmethod
    def _concrete(entry: Entry, call: Call) -> str:
        return entry.path.format(**call.path)

    def _command(self, entry: Entry, spec: Command, call: Call, wire: Wire) -> Outcome:
        rule, _ = self._authorize(entry, call)
        self._known_params(spec, call)
        ids = self._ids(entry, call)
        ledger = self.services.ledger
        policy.check_scope(ledger, call.actor, rule, ids, None, write=True)  # the path's resource: 404 outside
        args: list[Any] = [*ids.values()]
        body = wire.body(spec.request is not None)
        if spec.request is not None:
            command = media.parse(body, spec.request)
            policy.check_scope(ledger, call.actor, rule, ids, command, write=True)  # what the body names: 403
            args.append(command)
        kwargs: dict[str, Any] = {"expected_version": expected_version(call.if_match)} if spec.if_match else {}
        if not spec.idempotent:
            return self._answer(spec, self._record(spec, call, args, kwargs))
        # A retry with the key answers the first answer. The ledger also derives what the command makes from the
        # key (a payment's id), so a first request that was recorded but never answered is not made twice.
        key = idempotency_key(call.idempotency_key)
        request_hash = idempotency.request_hash(entry.method, self._concrete(entry, call), body)
        with idempotency.claim(self.services.pool, call.actor.id, key, request_hash) as claimed:
            if isinstance(claimed, idempotency.Replay):
                result = msgspec.json.decode(claimed.body, type=spec.response)
                return Outcome(spec, result, claimed.status, claimed.headers, replayed=claimed)
            outcome = self._answer(spec, self._record(spec, call, args, {**kwargs, "request_key": key}))
            claimed.keep(outcome.status, media.encode(outcome.result), dict(outcome.headers))
            return outcome

    def _record(self, spec: Command, call: Call, args: list[Any], kwargs: dict[str, Any]) -> CommandAccepted:
        """Run the command's handler with its envelope: identity from the caller, correlation from the request."""
        ledger = self.services.ledger
        command_id = f"cmd-{uuid4()}"
        envelope = make_envelope(
            call.actor, correlation_id=call.request_id, causation_id=command_id, recorded_at=ledger.now()
        )
        recorded = spec.handler(ledger, envelope, *args, **kwargs)
        return spec.response(
            id=recorded.aggregate_id,
            version=recorded.version,
            position=recorded.position,
            events=recorded.events,
            command_id=command_id,
            **recorded.named,
        )

    def _answer(self, spec: Command, result: CommandAccepted) -> Outcome:
        """A command's answer: its version, its position and, when it created something, where to read it."""
        headers = {"ETag": f'"{result.version}"', "X-Ledger-Position": str(result.position)}
        if spec.status == 201 and spec.location is not None:
            fields = msgspec.structs.asdict(result)
            _, path = self.route(spec.location)
            headers["Location"] = path.format(**{name: fields.get(name, result.id) for name in path_params(path)})
        return Outcome(spec, result, spec.status, headers)

    def _query(self, entry: Entry, spec: Query, call: Call, wire: Wire) -> Any:
        rule, purpose = self._authorize(entry, call)
        self._known_params(spec, call)
        ids = self._ids(entry, call)
        policy.check_scope(self.services.ledger, call.actor, rule, ids, None, write=False)
        forced = policy.forced_filters(call.actor)
        q = QueryContext(services=self.services, actor=call.actor, query=call.query, forced=forced)
        horizon = q.horizon() if spec.as_of is not None else NOW
        wait = min_position(call.query)  # held to its rules even where the log itself is read, and so satisfied
        wait = None if spec.from_ledger else wait
        # The views are read where READ_DATABASE_URL points (a replica), after waiting for `min_position`
        # there. The log itself and answers replayed from it as of a horizon come from the primary: the
        # log is authoritative there, and a replay builds temporary tables, which a hot standby refuses.
        from_views = not spec.from_ledger and horizon.is_now
        source = self.services.read(spec.views, wait, caller=call.actor.id) if from_views else None
        with source or self.services.primary() as conn:
            q.conn = conn
            if spec.as_of is None or horizon.is_now:
                result = spec.handler(q, *ids.values())
            else:
                aggregates = spec.as_of.aggregates(*ids.values()) if spec.as_of.aggregates else None
                q.at = _moment_of(conn, horizon)
                with replay.as_of(conn, spec.as_of.views(), horizon, aggregates=aggregates):
                    result = spec.handler(q, *ids.values())
        path = self._concrete(entry, call)
        if rule.personal_data:
            audit.record_personal_data_read(
                self.services.pool,
                call.actor,
                method=entry.method,
                path=path,
                query=wire.query_string,
                purpose=purpose,
                request_id=call.request_id,
                found=result is not None,
                operation=entry.spec.name,
                subject_id=next((v for v in reversed(ids.values()) if isinstance(v, UUID)), None),
            )
        if result is None:
            raise ProblemError(404, "Not found", detail=f"nothing at {path}", slug="not-found")
        return result

    def _action(self, entry: Entry, spec: Action, call: Call, wire: Wire) -> Any:
        self._authorize(entry, call)
        self._known_params(spec, call)
        ids = self._ids(entry, call)
        wire.body(False)
        with self.services.primary() as conn:  # an action writes (e.g. a checkpoint): the primary
            q = QueryContext(services=self.services, actor=call.actor, query=call.query, conn=conn)
            return spec.handler(q, *ids.values())


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


def min_position(query: Mapping[str, str | list[str]]) -> int | None:
    if query.get("min_position") is None:
        return None
    return int_param(query, "min_position", default=0, low=0, high=2**63 - 1)


def expected_version(if_match: str | None) -> int | None:
    """The version named by If-Match (None when absent or `*`)."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()):
        raise ProblemError(
            412, "Precondition failed", detail=f"If-Match {if_match!r} names no version", slug="stale-version"
        )
    return int(tag)


def idempotency_key(key: str | None) -> str:
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
