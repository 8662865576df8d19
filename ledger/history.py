"""Reading the log as auditors do: events in order with their envelopes, and any aggregate as of a moment.

Two time axes (see docs/adr/0015-two-time-axes.md):

- **as recorded at T** (`recorded_by`): the events the ledger had recorded by T — what it knew then;
- **as effective at T** (`effective_by`): the events that had happened in the world by T, whenever they
  were recorded (an attendance recorded on Tuesday for Monday's session is effective on Monday).

Both may be given at once ("what had happened by T1, as the ledger knew it at T2"), and a log position
(`position`) pins a horizon exactly. Answers come from the events themselves, never from the views.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import StoredEvent
from psycopg.rows import dict_row, tuple_row

from ledger import json_pointer
from ledger.aggregate import LedgerAggregate
from ledger.envelope import start_of
from ledger.store import EVENTS_TABLE, SNAPSHOTS_TABLE, Ledger
from ledger.types import day_errors, moment_errors


class Horizon(msgspec.Struct, frozen=True, kw_only=True):
    """Which events count. Unset bounds do not limit; all bounds are inclusive."""

    recorded_by: datetime | None = None
    effective_by: datetime | None = None
    position: int | None = None

    def clauses(
        self, recorded: str = "recorded_at", effective: str = "effective_at", position: str = "notification_id"
    ) -> tuple[list[str], list[Any]]:
        """SQL conditions (and their parameters) keeping rows within the horizon, on the columns named."""
        clauses: list[str] = []
        params: list[Any] = []
        for column, bound in ((recorded, self.recorded_by), (effective, self.effective_by), (position, self.position)):
            if bound is not None:
                clauses.append(f"{column} <= %s")
                params.append(bound)
        return clauses, params

    @property
    def is_now(self) -> bool:
        return self.recorded_by is None and self.effective_by is None and self.position is None


NOW = Horizon()


def parse_moment(raw: str, *, lower_bound: bool = False) -> datetime:
    """An RFC 3339 date-time with a UTC offset, as UTC. A bare date (YYYY-MM-DD) means the end of that day, so
    that "as effective at D" counts the facts dated D (each effective from the start of its day); as the lower
    bound of a range ("since D") it means the start of that day, so that the range includes them too.

    Every moment a client names (query parameters, CLI options) is read here, and must lie within the ledger's
    calendar (`ledger.types`): outside it, no arithmetic on it is safe and no record can fall.
    """
    try:
        if len(raw) == 10:
            day = date.fromisoformat(raw)
            value = start_of(day) if lower_bound else datetime.combine(day, time.max, tzinfo=UTC)
        else:
            value = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError("must be an RFC 3339 date-time or a date (YYYY-MM-DD)") from None
    if value.tzinfo is None:
        raise ValueError("give a UTC offset, e.g. 2026-03-02T09:00:00Z")
    if errors := moment_errors(value, ""):
        raise ValueError(errors[0][1])
    return value.astimezone(UTC)


def parse_day(raw: str) -> date:
    """A date (YYYY-MM-DD) within the ledger's calendar."""
    try:
        value = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        value = None
    if value is None:
        raise ValueError("must be a date, YYYY-MM-DD")
    if errors := day_errors(value, ""):
        raise ValueError(errors[0][1])
    return value


class EventFilter(msgspec.Struct, kw_only=True):
    type: str | None = None
    actor: str | None = None
    organisation: str | None = None
    aggregate: UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    effective_since: datetime | None = None
    effective_until: datetime | None = None


class EventRecord(msgspec.Struct, kw_only=True):
    """One event as stored: its position, identity, type, envelope columns and raw JSON payload."""

    position: int
    aggregate_id: UUID
    version: int
    type: str
    topic: str
    recorded_at: datetime
    effective_at: datetime
    actor_id: str
    actor_role: str
    organisation_id: str | None
    correlation_id: str
    causation_id: str | None
    reason: str | None
    payload: msgspec.Raw

    def to_json(self) -> str:
        return msgspec.json.encode(self).decode()


_RECORD_COLUMNS = (
    "notification_id AS position, originator_id AS aggregate_id, originator_version AS version,"
    " event_type AS type, topic, recorded_at, effective_at, actor_id, actor_role, organisation_id,"
    " correlation_id, causation_id, reason, state"
)


def _records(conn: psycopg.Connection[Any], where: Iterable[str], params: list[Any], order: str, limit: int | None):
    sql = f"SELECT {_RECORD_COLUMNS} FROM {EVENTS_TABLE} WHERE {' AND '.join(where) or 'true'} ORDER BY {order}"
    if limit is not None:
        sql += " LIMIT %s"
        params = [*params, limit]
    rows = conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()
    for row in rows:
        row["payload"] = msgspec.Raw(bytes(row.pop("state")))
    return [EventRecord(**row) for row in rows]


def page(conn: psycopg.Connection[Any], query: EventFilter, *, after: int = 0, limit: int = 100) -> list[EventRecord]:
    """Up to `limit` events after position `after` that match every given filter, in log order."""
    clauses = ["notification_id > %s"]
    params: list[Any] = [after]
    for column, op, value in (
        ("event_type", "=", query.type),
        ("actor_id", "=", query.actor),
        ("organisation_id", "=", query.organisation),
        ("originator_id", "=", query.aggregate),
        ("recorded_at", ">=", query.since),
        ("recorded_at", "<", query.until),
        ("effective_at", ">=", query.effective_since),
        ("effective_at", "<", query.effective_until),
    ):
        if value is not None:
            clauses.append(f"{column} {op} %s")
            params.append(value)
    return _records(conn, clauses, params, "notification_id", limit)


def aggregate_events(
    conn: psycopg.Connection[Any], aggregate_id: UUID, horizon: Horizon = NOW, *, after_version: int = 0
) -> list[EventRecord]:
    """One aggregate's events within the horizon (after a version), in version order (which is also log order)."""
    clauses, params = horizon.clauses()
    return _records(
        conn,
        ["originator_id = %s", "originator_version > %s", *clauses],
        [aggregate_id, after_version, *params],
        "originator_version",
        None,
    )


def _usable_snapshot(
    conn: psycopg.Connection[Any], aggregate_id: UUID, horizon: Horizon
) -> tuple[int, str, bytes] | None:
    """The latest snapshot taken of nothing but events within the horizon (on the effective axis an event
    effective later may sit below a snapshot's version, which makes that snapshot unusable): each snapshot
    records the latest recorded and effective times and position of the events it covers."""
    clauses, params = horizon.clauses("covers_recorded_at", "covers_effective_at", "covers_position")
    row = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            f"SELECT originator_version, topic, state FROM {SNAPSHOTS_TABLE} WHERE originator_id = %s"
            f" AND {' AND '.join(clauses) or 'true'} ORDER BY originator_version DESC LIMIT 1",
            [aggregate_id, *params],
        )
        .fetchone()
    )
    return (row[0], row[1], bytes(row[2])) if row else None


# -- state as of a horizon -------------------------------------------------------------------------


class Unapplied(msgspec.Struct, kw_only=True):
    """An event within the horizon that could not be applied, because what it changes lies outside it
    (e.g. attendance effective at a session whose scheduling is effective only later)."""

    position: int
    type: str
    detail: str


@dataclasses.dataclass
class Reconstruction:
    aggregate: LedgerAggregate | None
    applied: list[EventRecord]
    unapplied: list[Unapplied]
    later: int  # events of the aggregate outside the horizon
    from_snapshot: int | None = None  # the version of the snapshot it started from


def reconstruct(ledger: Ledger, conn: psycopg.Connection[Any], aggregate_id: UUID, horizon: Horizon) -> Reconstruction:
    """Replay one aggregate's events within the horizon.

    On the effective axis an aggregate's events need not be contiguous versions (a later-effective event
    may sit between two earlier-effective ones), so each event is applied as the next one whatever its
    version; the domain's own `mutate` still does the work. A snapshot is the starting point when every
    event it covers lies within the horizon.
    """
    aggregate: Any = None
    start = 0
    snapshot = _usable_snapshot(conn, aggregate_id, horizon)
    if snapshot is not None:
        start, topic, state = snapshot
        aggregate = ledger.mapper.to_domain_event(
            StoredEvent(originator_id=aggregate_id, originator_version=start, topic=topic, state=state)
        ).mutate(None)
    within = aggregate_events(conn, aggregate_id, horizon, after_version=start)
    counted = (
        conn.cursor(row_factory=tuple_row)
        .execute(f"SELECT count(*) FROM {EVENTS_TABLE} WHERE originator_id = %s", (aggregate_id,))
        .fetchone()
    )
    total = int(counted[0]) if counted else 0
    applied: list[EventRecord] = []
    unapplied: list[Unapplied] = []
    for record in within:
        event = ledger.mapper.to_domain_event(
            StoredEvent(
                originator_id=record.aggregate_id,
                originator_version=record.version,
                topic=record.topic,
                state=bytes(record.payload),
            )
        )
        if aggregate is None and record.version != 1:
            unapplied.append(
                Unapplied(position=record.position, type=record.type, detail="created outside the horizon")
            )
            continue
        if aggregate is not None:
            aggregate.version = record.version - 1
        try:
            aggregate = event.mutate(aggregate)
        except Exception as exc:  # the domain refuses an event whose prerequisites lie outside the horizon
            unapplied.append(
                Unapplied(position=record.position, type=record.type, detail=f"{type(exc).__name__}: {exc}")
            )
            continue
        applied.append(record)
    return Reconstruction(
        aggregate=aggregate,
        applied=applied,
        unapplied=unapplied,
        later=total - start - len(within),
        from_snapshot=start or None,
    )


_PRIVATE = {"_id", "_version", "_created_on", "_modified_on", "_pending_events", "_event_time"}


def plain(value: Any) -> Any:
    """An aggregate's state as JSON-ready values (dict keys that are tuples become 'a|b')."""
    if isinstance(value, LedgerAggregate):
        state = {k: plain(v) for k, v in vars(value).items() if k not in _PRIVATE}
        return {"id": str(value.id), "version": value.version, "type": type(value).__name__, "state": state}
    if isinstance(value, dict):
        return {_key(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, msgspec.Struct):
        return {f: plain(getattr(value, f)) for f in value.__struct_fields__}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _key(key: Any) -> str:
    if isinstance(key, tuple):
        return "|".join(_key(k) for k in key)
    return str(plain(key))


# -- what changed between two horizons -------------------------------------------------------------------


class Change(msgspec.Struct, kw_only=True):
    """One value that differs between two states, named by its JSON Pointer into the state (RFC 6901)."""

    field: str
    change: str  # added, removed or changed
    before: Any = None
    after: Any = None


def changes(before: Any, after: Any) -> list[Change]:
    """Every leaf value that differs between two plain states (as `plain` gives them; None: the aggregate did not
    exist): objects and arrays are compared member by member, so a change names the innermost value that moved."""
    found: list[Change] = []
    _compare(before, after, (), found)
    return found


_ABSENT: Any = object()


def _compare(before: Any, after: Any, at: tuple[str | int, ...], found: list[Change]) -> None:
    if before == after and type(before) is type(after):
        return
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            _compare(before.get(key, _ABSENT), after.get(key, _ABSENT), (*at, key), found)
        return
    if isinstance(before, list) and isinstance(after, list):
        for index in range(max(len(before), len(after))):
            old = before[index] if index < len(before) else _ABSENT
            new = after[index] if index < len(after) else _ABSENT
            _compare(old, new, (*at, index), found)
        return
    if before is _ABSENT or (before is None and not at):
        _leaves(after, at, found, "added")
    elif after is _ABSENT or (after is None and not at):
        _leaves(before, at, found, "removed")
    else:
        found.append(Change(field=json_pointer.join(*at), change="changed", before=before, after=after))


def _leaves(value: Any, at: tuple[str | int, ...], found: list[Change], change: str) -> None:
    """A value that appeared or went, leaf by leaf (an empty object or array is a leaf)."""
    members = list(value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ())
    if not members:
        side = {"after": value} if change == "added" else {"before": value}
        found.append(Change(field=json_pointer.join(*at), change=change, **side))
        return
    for key, member in members:
        _leaves(member, (*at, key), found, change)
