"""The audit trail: the log and its envelopes, any aggregate as of a moment, the Merkle log's checkpoints and
proofs, and the record of personal-data reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from api import audit
from api.errors import ProblemError, invalid
from api.openapi import Param
from api.routes.common import moment
from api.specs import HORIZON, Action, Query, QueryContext, Route, route
from ledger import history
from ledger.audit import event_types
from ledger.audit import log as merkle_log
from ledger.procurement import call_offs

TAGS = ("audit",)


EVENT_FILTERS = (
    Param("type", "query", {"type": "string"}, "Event type, e.g. AwardDecided"),
    Param("actor", "query", {"type": "string"}, "Actor id"),
    Param("organisation", "query", {"type": "string"}, "Organisation the actor acted for"),
    Param("aggregate", "query", {"type": "string", "format": "uuid"}, "Aggregate id"),
    moment("since", "Recorded at or after (a date: from its start)"),
    moment("until", "Recorded before (a date: up to its end)"),
    moment("effective_since", "Effective at or after (a date: from its start)"),
    moment("effective_until", "Effective before (a date: up to its end)"),
    Param("after", "query", {"type": "integer", "minimum": 0}, "Start after this position (next_after of a page)"),
    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "Page size (100)"),
)


SEALED = "tender content stays sealed until the tenders are opened"
_SEALED_PAYLOAD = msgspec.Raw(msgspec.json.encode({"withheld": SEALED}))


def _withhold_sealed_tenders(q: QueryContext, records: list[history.EventRecord]) -> list[history.EventRecord]:
    """The log is no way round sealed tenders: a submission's payload is withheld until its stage is opened."""
    sealed: dict[UUID, frozenset[str]] = {}
    shown = []
    for record in records:
        if record.type == "TenderSubmitted":
            if record.aggregate_id not in sealed:
                sealed[record.aggregate_id] = call_offs.sealed_stages(q.ledger, record.aggregate_id)
            if msgspec.json.decode(record.payload)["stage"] in sealed[record.aggregate_id]:
                record = msgspec.structs.replace(record, payload=_SEALED_PAYLOAD)
        shown.append(record)
    return shown


class EventPage(msgspec.Struct, kw_only=True):
    items: list[history.EventRecord]
    next_after: int | None


def _events(q: QueryContext) -> EventPage:
    limit = q.int_param("limit", default=100, low=1, high=1000)
    query = history.EventFilter(
        type=q.param("type"),
        actor=q.param("actor"),
        organisation=q.param("organisation"),
        aggregate=q.uuid_param("aggregate"),
        since=q.moment("since", lower_bound=True),
        until=q.moment("until"),
        effective_since=q.moment("effective_since", lower_bound=True),
        effective_until=q.moment("effective_until"),
    )
    items = history.page(q.conn, query, after=q.int_param("after", default=0, low=0, high=2**63 - 1), limit=limit)
    items = _withhold_sealed_tenders(q, items)
    return EventPage(items=items, next_after=items[-1].position if len(items) == limit else None)


class AggregateEvents(msgspec.Struct, kw_only=True):
    aggregate_id: UUID
    horizon: history.Horizon
    items: list[history.EventRecord]


def _aggregate_events(q: QueryContext, aggregate_id: UUID) -> AggregateEvents | None:
    bound = q.horizon()
    items = history.aggregate_events(q.conn, aggregate_id, bound)
    if not items and not history.aggregate_events(q.conn, aggregate_id):
        return None
    return AggregateEvents(aggregate_id=aggregate_id, horizon=bound, items=_withhold_sealed_tenders(q, items))


class AppliedEvent(msgspec.Struct, kw_only=True):
    position: int
    version: int
    type: str
    recorded_at: datetime
    effective_at: datetime
    actor_id: str
    reason: str | None


class AggregateAsOf(msgspec.Struct, kw_only=True):
    """One aggregate rebuilt from its events within the horizon (`exists` is false if it was created later)."""

    aggregate_id: UUID
    horizon: history.Horizon
    exists: bool
    type: str | None
    version: int | None
    state: dict[str, Any] | None
    applied: list[AppliedEvent]
    unapplied: list[history.Unapplied]
    events_outside_horizon: int
    from_snapshot: int | None  # the snapshot version it started from; `applied` lists the events after it


def _shown(q: QueryContext, aggregate_id: UUID, rebuilt: history.Reconstruction) -> dict[str, Any] | None:
    """The rebuilt aggregate as plain values, with sealed tender content withheld."""
    shown = history.plain(rebuilt.aggregate) if rebuilt.aggregate is not None else None
    if isinstance(rebuilt.aggregate, call_offs.Tender) and shown is not None:
        for stage in call_offs.sealed_stages(q.ledger, aggregate_id):
            if stage in shown["state"]["submissions"]:
                shown["state"]["submissions"][stage] = {"withheld": SEALED}
    return shown


def _applied(rebuilt: history.Reconstruction) -> list[AppliedEvent]:
    return [
        AppliedEvent(
            position=e.position,
            version=e.version,
            type=e.type,
            recorded_at=e.recorded_at,
            effective_at=e.effective_at,
            actor_id=e.actor_id,
            reason=e.reason,
        )
        for e in rebuilt.applied
    ]


def _aggregate_as_of(q: QueryContext, aggregate_id: UUID) -> AggregateAsOf | None:
    bound = q.horizon()
    rebuilt = history.reconstruct(q.ledger, q.conn, aggregate_id, bound)
    if rebuilt.aggregate is None and not rebuilt.later and not rebuilt.unapplied:
        return None
    shown = _shown(q, aggregate_id, rebuilt)
    return AggregateAsOf(
        aggregate_id=aggregate_id,
        horizon=bound,
        exists=rebuilt.aggregate is not None,
        type=shown["type"] if shown else None,
        version=rebuilt.aggregate.version if rebuilt.aggregate is not None else None,
        state=shown["state"] if shown else None,
        applied=_applied(rebuilt),
        unapplied=rebuilt.unapplied,
        events_outside_horizon=rebuilt.later,
        from_snapshot=rebuilt.from_snapshot,
    )


AXES = ("recorded", "effective", "position")


class AggregateChanges(msgspec.Struct, kw_only=True):
    """What differs in one aggregate between two horizons on one clock: each value that changed (by its JSON
    Pointer into the state), and the events that count at `to` but not at `from`."""

    aggregate_id: UUID
    axis: str
    from_horizon: history.Horizon
    to_horizon: history.Horizon
    type: str | None
    from_version: int | None  # None: the aggregate did not exist yet
    to_version: int | None
    changes: list[history.Change]
    events: list[AppliedEvent]


def _bound(q: QueryContext, axis: str, name: str) -> history.Horizon:
    if q.param(name) is None:
        raise invalid([(name, f"required: a {'log position' if axis == 'position' else 'moment'}")])
    if axis == "position":
        return history.Horizon(position=q.int_param(name, default=0, low=0, high=2**63 - 1))
    moment = q.moment(name)
    return history.Horizon(recorded_by=moment) if axis == "recorded" else history.Horizon(effective_by=moment)


def _point(horizon: history.Horizon) -> Any:
    """Where a one-clock horizon stands on its clock."""
    return horizon.position if horizon.position is not None else horizon.recorded_by or horizon.effective_by


def _aggregate_changes(q: QueryContext, aggregate_id: UUID) -> AggregateChanges | None:
    axis = q.param("axis") or "recorded"
    if axis not in AXES:
        raise invalid([("axis", f"must be one of {', '.join(AXES)}")])
    start, end = _bound(q, axis, "from"), _bound(q, axis, "to")
    if _point(start) > _point(end):
        raise invalid([("to", "must not be before from")])
    before = history.reconstruct(q.ledger, q.conn, aggregate_id, start)
    after = history.reconstruct(q.ledger, q.conn, aggregate_id, end)
    if after.aggregate is None and not after.later and not after.unapplied:
        return None
    old, new = _shown(q, aggregate_id, before), _shown(q, aggregate_id, after)
    earlier = {e.position for e in before.applied}
    return AggregateChanges(
        aggregate_id=aggregate_id,
        axis=axis,
        from_horizon=start,
        to_horizon=end,
        type=(new or old or {}).get("type"),
        from_version=before.aggregate.version if before.aggregate is not None else None,
        to_version=after.aggregate.version if after.aggregate is not None else None,
        changes=history.changes(old["state"] if old else None, new["state"] if new else None),
        events=[e for e in _applied(after) if e.position not in earlier],
    )


class EventType(msgspec.Struct, kw_only=True):
    type: str  # as the log's `type` filter takes it
    aggregates: list[str]  # the aggregates that record it


class EventTypes(msgspec.Struct, kw_only=True):
    items: list[EventType]


def _event_types(q: QueryContext) -> EventTypes:
    found: dict[str, set[str]] = {}
    for kind in event_types.recordable().values():
        found.setdefault(kind.__name__, set()).add(kind.__qualname__.split(".")[0])
    return EventTypes(items=[EventType(type=t, aggregates=sorted(a)) for t, a in sorted(found.items())])


class Checkpoints(msgspec.Struct, kw_only=True):
    """Signed checkpoints, newest first, with the public key that verifies their signatures."""

    key_id: str
    algorithm: str
    public_key: str
    signed_message: str
    items: list[merkle_log.Checkpoint]


def _checkpoints(q: QueryContext) -> Checkpoints:
    signer = q.services.signer
    return Checkpoints(
        key_id=signer.key_id,
        algorithm="Ed25519",
        public_key=signer.public_pem(),
        signed_message="probation-ledger checkpoint\\n{tree_size}\\n{root hex}\\n{signed_at ISO 8601}\\n",
        items=merkle_log.checkpoints(q.conn, limit=q.int_param("limit", default=100, low=1, high=1000)),
    )


NOTE = "text/plain; charset=utf-8"
_NOTE_SCHEMA = {"type": "string", "contentMediaType": "text/plain"}


def _checkpoint_note(q: QueryContext) -> str | None:
    return merkle_log.latest_note(q.conn)


def _checkpoint_key(q: QueryContext) -> str:
    return q.services.signer.vkey() + "\n"


def _refused(exc: merkle_log.ProofRefused) -> ProblemError:
    return ProblemError(404, "No such proof", detail=str(exc), slug="not-found")


def _inclusion(q: QueryContext, position: str) -> merkle_log.InclusionProof:
    if not (position.isascii() and position.isdigit() and len(position) < 20) or int(position) > 2**63 - 1:
        raise ProblemError(404, "Not found", detail=f"no event at position {position!r}", slug="not-found")
    size = q.param("tree_size")
    try:
        return merkle_log.inclusion(
            q.conn,
            int(position),
            None if size is None else q.int_param("tree_size", default=1, low=1, high=2**63 - 1),
            q.services.signer.public_key,
        )
    except merkle_log.ProofRefused as exc:
        raise _refused(exc) from None


def _consistency(q: QueryContext) -> merkle_log.ConsistencyProof:
    if q.param("first") is None:
        raise invalid([("first", "required: the smaller tree size")])
    first = q.int_param("first", default=1, low=1, high=2**63 - 1)
    second = None if q.param("second") is None else q.int_param("second", default=1, low=1, high=2**63 - 1)
    try:
        return merkle_log.consistency(q.conn, first, second)
    except merkle_log.ProofRefused as exc:
        raise _refused(exc) from None


class Verifications(msgspec.Struct, kw_only=True):
    """The recorded runs of `verify`, the latest first."""

    items: list[merkle_log.VerificationRun]


def _verify(q: QueryContext) -> merkle_log.VerificationRun:
    return merkle_log.verify_and_record(
        q.conn, q.services.signer.public_key, ran_by=q.actor.id, ran_by_role=q.actor.role, now=q.ledger.now()
    )


def routes() -> list[Route]:
    return [*_log(), *_tamper_evidence(), _personal_data_reads()]


def _log() -> list[Route]:
    """The log, and any aggregate in it."""
    return [
        route(
            "/audit/events",
            get=Query(
                "audit.events",
                "The log: every event with its envelope, in order, filtered and paged by position",
                _events,
                EventPage,
                params=EVENT_FILTERS,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            "/audit/aggregates/{aggregate_id}",
            get=Query(
                "audit.aggregate",
                "Any aggregate as of a moment, on either time axis (or both), rebuilt from its events",
                _aggregate_as_of,
                AggregateAsOf,
                params=HORIZON,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            "/audit/event-types",
            get=Query(
                "audit.event_types",
                "Every event type the domain records (the values of the log's type filter), with its aggregates",
                _event_types,
                EventTypes,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            "/audit/aggregates/{aggregate_id}/changes",
            get=Query(
                "audit.aggregate_changes",
                "What changed in an aggregate between two moments on one clock: each value that differs, and the"
                " events between",
                _aggregate_changes,
                AggregateChanges,
                params=(
                    Param(
                        "axis",
                        "query",
                        {"type": "string", "enum": list(AXES)},
                        "The clock: as recorded (default), as effective, or by log position",
                    ),
                    Param("from", "query", {"type": "string"}, "The earlier moment (or position)", True),
                    Param("to", "query", {"type": "string"}, "The later moment (or position)", True),
                ),
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            "/audit/aggregates/{aggregate_id}/events",
            get=Query(
                "audit.aggregate_events",
                "One aggregate's event stream, with envelopes, within the horizon",
                _aggregate_events,
                AggregateEvents,
                params=HORIZON,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
    ]


def _tamper_evidence() -> list[Route]:
    """The Merkle log's signed checkpoints and its proofs."""
    return [
        route(
            "/audit/checkpoint",
            get=Query(
                "audit.checkpoint_note",
                "The latest signed checkpoint as a C2SP tlog-checkpoint note, for other systems to keep (no token)",
                _checkpoint_note,
                _NOTE_SCHEMA,
                from_ledger=True,
                content_type=NOTE,
                tags=TAGS,
                description="The origin line, the tree size, the base64 RFC 6962 root hash, a blank line and the"
                " Ed25519 signature line. Keep each one you fetch: `ledger verify --checkpoint FILE...` proves the"
                " database consistent with them. 404 until a checkpoint has been signed as a note.",
            ),
        ),
        route(
            "/audit/checkpoint/key",
            get=Query(
                "audit.checkpoint_key",
                "The verifier key of the checkpoint notes: <origin>+<key id>+<base64 Ed25519 key> (no token)",
                _checkpoint_key,
                _NOTE_SCHEMA,
                from_ledger=True,
                content_type=NOTE,
                tags=TAGS,
            ),
        ),
        route(
            "/audit/checkpoints",
            get=Query(
                "audit.checkpoints",
                "Signed checkpoints of the Merkle log (newest first) and the key that signs them",
                _checkpoints,
                Checkpoints,
                params=(Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "(100)"),),
                from_ledger=True,
                tags=TAGS,
            ),
            post=Action(
                "audit.sign_checkpoint",
                "Extend the Merkle log to the head and sign a checkpoint now",
                lambda q: merkle_log.checkpoint(q.conn, q.services.signer, now=q.ledger.now()),
                merkle_log.Checkpoint,
                status=201,
                errors=(),
                tags=TAGS,
            ),
        ),
        route(
            "/audit/verifications",
            get=Query(
                "audit.verifications",
                "The recorded runs of verify (the latest first): when, by whom, and what each found",
                lambda q: Verifications(
                    items=merkle_log.verifications(q.conn, limit=q.int_param("limit", default=20, low=1, high=1000))
                ),
                Verifications,
                params=(Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, "(20)"),),
                from_ledger=True,
                tags=TAGS,
            ),
            post=Action(
                "audit.verify",
                "Recompute the Merkle log from the raw events, check it against the signed checkpoint, and record the"
                " result",
                _verify,
                merkle_log.VerificationRun,
                status=201,
                errors=(),
                tags=TAGS,
            ),
        ),
        route(
            "/audit/events/{position}/inclusion-proof",
            get=Query(
                "audit.inclusion_proof",
                "Proof that the event at this position is in the log (RFC 9162 inclusion proof)",
                _inclusion,
                merkle_log.InclusionProof,
                params=(
                    Param(
                        "tree_size",
                        "query",
                        {"type": "integer", "minimum": 1},
                        "Prove against this tree size (default: the latest checkpoint covering the event)",
                    ),
                ),
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            "/audit/consistency-proof",
            get=Query(
                "audit.consistency_proof",
                "Proof that one tree of the log is a prefix of a later one (RFC 9162 consistency proof)",
                _consistency,
                merkle_log.ConsistencyProof,
                params=(
                    Param("first", "query", {"type": "integer", "minimum": 1}, "The earlier tree size", True),
                    Param("second", "query", {"type": "integer", "minimum": 1}, "The later size (latest checkpoint)"),
                ),
                from_ledger=True,
                tags=TAGS,
            ),
        ),
    ]


def _personal_data_reads() -> Route:
    return route(
        "/audit/personal-data-reads",
        get=Query(
            "audit.personal_data_reads",
            "Who read people's personal data, when and why (auditors)",
            lambda q: audit.list_reads(
                q.conn,
                actor_id=q.param("actor_id"),
                subject_id=q.uuid_param("subject_id"),
                since=q.moment("since", lower_bound=True),
                until=q.moment("until"),
                limit=q.int_param("limit", default=200, low=1, high=5000),
            ),
            audit.PersonalDataReads,
            params=(
                Param("actor_id", "query", {"type": "string"}, "Only this actor's reads"),
                Param("subject_id", "query", {"type": "string", "format": "uuid"}, "Only reads of this record"),
                moment("since", "Read at or after (a date: from its start)"),
                moment("until", "Read before (a date: up to its end)"),
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 5000}, "(200)"),
            ),
            from_ledger=True,
            tags=TAGS,
        ),
    )
