"""The one event-store application: one events table, one total order, envelopes in columns."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import EventStore, IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from ledger.aggregate import LedgerAggregate
from ledger.codec import EnvelopedStoredEvent, EventMapper
from ledger.config import Settings
from ledger.database import check_on_checkout, eventsourcing_env
from ledger.envelope import Envelope, stamping, utcnow
from ledger.errors import ConcurrencyConflict, NotFound, ProgrammingError, StaleVersion
from ledger.personal_data import KeyRing

EVENTS_TABLE = "ledger_events"

_ENVELOPE_COLUMNS = (
    ("recorded_at", "timestamptz"),
    ("effective_at", "timestamptz"),
    ("actor_id", "text"),
    ("actor_role", "text"),
    ("organisation_id", "text"),
    ("correlation_id", "text"),
    ("causation_id", "text"),
    ("reason", "text"),
)


def event_row(stored: StoredEvent) -> tuple[Any, ...]:
    """An event as a row of the events table: identity, type, payload, then the envelope's columns."""
    envelope = stored.envelope if isinstance(stored, EnvelopedStoredEvent) else None
    if envelope is None:
        raise ProgrammingError(f"stored event {stored.topic} has no envelope")
    return (
        stored.originator_id,
        stored.originator_version,
        stored.topic,
        stored.state,
        envelope.recorded_at,
        envelope.effective_at,
        envelope.actor_id,
        envelope.actor_role,
        envelope.organisation_id,
        envelope.correlation_id,
        envelope.causation_id,
        envelope.reason,
    )


class LedgerRecorder(PostgresApplicationRecorder):
    """The library's application recorder, writing each event's envelope into indexed columns.

    It keeps the library's guarantees: the insert runs after `LOCK TABLE ... IN EXCLUSIVE MODE`
    in the same transaction (commit order = notification order) and NOTIFYs the channel.
    """

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = EVENTS_TABLE) -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        columns = ["originator_id", "originator_version", "topic", "state"] + [c for c, _ in _ENVELOPE_COLUMNS]
        types = ["uuid", "bigint", "text", "bytea"] + [t for _, t in _ENVELOPE_COLUMNS]
        self.insert_events_statement = SQL(
            "INSERT INTO {schema}.{table} ({columns}) SELECT * FROM unnest({arrays}) RETURNING notification_id"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            columns=SQL(", ").join(Identifier(c) for c in columns),
            arrays=SQL(", ").join(SQL("%s::{}[]").format(SQL(t)) for t in types),
        )
        # Rendered once: composing the statements again for every command cost a third of a millisecond.
        self.insert_events_statement = self.insert_events_statement.as_bytes(None)
        self.lock_table_statements = [statement.as_bytes(None) for statement in self.lock_table_statements]
        self._notify_statement = SQL("NOTIFY {0}").format(Identifier(self.channel_name)).as_bytes(None)
        self._attempts = threading.local()

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        """Insert the events in one transaction; answer their positions.

        The library retries an insert whose connection failed (up to ten times). When the failed attempt had in fact
        committed and only its answer was lost (the database restarted during COMMIT), the retry clashes with the
        very events it is writing: they are recorded, once, so the command succeeded and is answered as such rather
        than as a conflict with "another command". Only a retry is read so: a first attempt that clashes is a
        conflict, whatever its bytes (the library's conformance suite holds the recorder to that).
        """
        self._attempts.count = 0
        try:
            return super().insert_events(stored_events, **kwargs)
        except IntegrityError:
            if self._attempts.count < 2:  # the first attempt clashed: a real conflict, even with identical bytes
                raise
            recorded = self._positions_of(stored_events)
            if recorded is None:
                raise
            return recorded

    def _insert_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        """Count the library's attempts at this insert (it retries one whose connection failed)."""
        self._attempts.count = getattr(self._attempts, "count", 0) + 1
        super()._insert_events(curs, stored_events, **kwargs)

    def _positions_of(self, stored_events: Sequence[StoredEvent]) -> list[int] | None:
        """The positions of exactly these events (same aggregate, version and bytes), or None if any is not there."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT originator_id, originator_version, state, notification_id FROM {schema}.{table}"
                    " WHERE (originator_id, originator_version) IN (SELECT * FROM unnest(%s::uuid[], %s::bigint[]))"
                ).format(schema=Identifier(self.datastore.schema), table=Identifier(self.events_table_name)),
                ([e.originator_id for e in stored_events], [e.originator_version for e in stored_events]),
            )
            found = {(r["originator_id"], r["originator_version"]): r for r in curs.fetchall()}
        positions = []
        for stored in stored_events:
            row = found.get((stored.originator_id, stored.originator_version))
            if row is None or bytes(row["state"]) != stored.state:
                return None
            positions.append(row["notification_id"])
        return positions

    def _notify_channel(self, curs: Cursor[DictRow]) -> None:
        curs.execute(self._notify_statement, prepare=True)

    def _insert_stored_events(self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        self._lock_table(curs)
        self._notify_channel(curs)
        arrays: list[list[Any]] = [[] for _ in range(4 + len(_ENVELOPE_COLUMNS))]
        for stored in stored_events:
            for column, value in zip(arrays, event_row(stored), strict=True):
                column.append(value)
        curs.execute(self.insert_events_statement, arrays, prepare=True)

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        for statement in kwargs.get("in_same_transaction", ()):
            statement(curs, positions or ())
        return positions


SNAPSHOTS_TABLE = "ledger_snapshots"


class SnapshotRecorder(PostgresAggregateRecorder):
    """Writes snapshots with plain arrays (the library's version needs a composite type we do not create)."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        super().__init__(datastore, events_table_name=SNAPSHOTS_TABLE)
        # Each snapshot records what it covers: the previous snapshot's coverage and the events since.
        self.insert_events_statement = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state, covers_recorded_at,"
            " covers_effective_at, covers_position)"
            " SELECT s.id, s.version, s.topic, s.state, greatest(prev.recorded, new.recorded),"
            " greatest(prev.effective, new.effective), greatest(prev.position, new.position)"
            " FROM unnest(%s::uuid[], %s::bigint[], %s::text[], %s::bytea[]) AS s(id, version, topic, state)"
            " LEFT JOIN LATERAL (SELECT originator_version AS version, covers_recorded_at AS recorded,"
            "   covers_effective_at AS effective, covers_position AS position FROM {schema}.{table} p"
            "   WHERE p.originator_id = s.id AND p.originator_version < s.version"
            "   ORDER BY p.originator_version DESC LIMIT 1) prev ON true"
            " CROSS JOIN LATERAL (SELECT max(recorded_at) AS recorded, max(effective_at) AS effective,"
            "   max(notification_id) AS position FROM {schema}.{events} e WHERE e.originator_id = s.id"
            "   AND e.originator_version > coalesce(prev.version, 0) AND e.originator_version <= s.version) new"
            " ON CONFLICT DO NOTHING"  # two processes snapshotting the same version write the same state
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
            events=Identifier(EVENTS_TABLE),
        )

    def insert_in(self, curs: Cursor[Any], stored_snapshots: Sequence[StoredEvent]) -> None:
        """Write snapshots in the caller's transaction (the bulk path writes them with the events they follow)."""
        if stored_snapshots:
            self._insert_stored_events(curs, stored_snapshots)

    def _insert_stored_events(self, curs: Cursor[Any], stored_events: Sequence[StoredEvent], **_: Any) -> None:
        rows = [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored_events]
        curs.execute(self.insert_events_statement, [[row[i] for row in rows] for i in range(4)], prepare=True)


class _DeclaredIntervals(dict[type, int]):
    """The library asks `snapshotting_intervals.get(aggregate class)`: each aggregate declares its own."""

    def get(self, kind: type, default: Any = None) -> Any:  # type: ignore[override]
        return getattr(kind, "snapshot_every", None) or default

    def __bool__(self) -> bool:
        return True


def _created_event_classes(kind: type) -> list[type]:
    """The events that create an aggregate of this class (its `Created` subclasses)."""
    found = []
    for name in dir(kind):
        candidate = getattr(kind, name)
        if (
            isinstance(candidate, type)
            and issubclass(candidate, Aggregate.Created)
            and candidate.__qualname__.startswith(kind.__qualname__ + ".")
        ):
            found.append(candidate)
    return found


@dataclass(frozen=True)
class Recorded:
    """What a command wrote: the aggregate it addressed, its new version, and the log position.

    `named` holds the ids of what the command created inside the aggregate (a questionnaire of a supplier), by
    name, so that its caller can find them.
    """

    aggregate_id: UUID
    version: int
    position: int
    events: int
    named: Mapping[str, UUID] = field(default_factory=dict)

    def naming(self, **ids: UUID) -> Recorded:
        """The same recording, naming what the command created."""
        return replace(self, named={**self.named, **ids})


A = TypeVar("A", bound=LedgerAggregate)
# Runs inside a command's transaction, after its events are inserted, with their positions.
AlsoInTransaction = Callable[[Cursor[Any], Sequence[int]], None]


class Ledger(Application[UUID]):
    """The event-store application every command goes through."""

    name = "Ledger"
    is_snapshotting_enabled = True
    snapshotting_intervals = _DeclaredIntervals()  # type: ignore[assignment]

    def __init__(
        self,
        database_url: str,
        *,
        pool_size: int = 5,
        clock: Callable[[], datetime] = utcnow,
        master_key: Callable[[], bytes] | None = None,
        pre_ping: bool = True,
    ) -> None:
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "APPLICATION_RECORDER_TOPIC": get_topic(LedgerRecorder),
            "CREATE_TABLE": "n",  # tables come from migrations/
            "POSTGRES_ENABLE_DB_FUNCTIONS": "n",  # it skips the table lock: never on
            "ORIGINATOR_ID_TYPE": "uuid",
            **eventsourcing_env(database_url, pool_size=pool_size, pre_ping=pre_ping),
        }
        super().__init__(env=env)
        self.database_url = database_url
        self.clock = clock
        datastore = self.datastore
        if datastore.enable_db_functions:  # pragma: no cover - guarded by the env above
            raise ProgrammingError("POSTGRES_ENABLE_DB_FUNCTIONS must stay off")
        if pre_ping:
            # eventsourcing passes psycopg_pool's plain check (pre_ping) and offers no way to give another: replace
            # it (psycopg-pool is pinned), so the stale connections a database restart leaves go all at once.
            datastore.pool._check = check_on_checkout(lambda: datastore.pool)
        self.keys = KeyRing(
            datastore.get_connection, master_key or (lambda: Settings.from_env().personal_data_master_key())
        )

    @property
    def datastore(self) -> PostgresDatastore:
        recorder = self.recorder
        assert isinstance(recorder, LedgerRecorder)
        return recorder.datastore

    def construct_mapper(self) -> EventMapper:  # type: ignore[override]
        return EventMapper()

    def construct_snapshot_store(self) -> EventStore[UUID]:
        return EventStore(mapper=self.mapper, recorder=SnapshotRecorder(self.datastore))

    def close(self) -> None:
        self.datastore.close()

    def load(self, kind: type[A], aggregate_id: UUID, *, version: int | None = None) -> A:
        """Load one aggregate of the given class, or raise NotFound (also for the wrong class)."""
        try:
            aggregate = self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            raise NotFound(kind.__name__, aggregate_id) from None
        if not isinstance(aggregate, kind):
            raise NotFound(kind.__name__, aggregate_id)
        return aggregate

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def execute(
        self,
        envelope: Envelope,
        command: Callable[[], LedgerAggregate | Sequence[LedgerAggregate]],
        *,
        expected: tuple[LedgerAggregate, int] | None = None,
        also: Sequence[AlsoInTransaction] = (),
        reason: str | None = None,
    ) -> Recorded:
        """Run `command` with `envelope` stamped on its events and record them in one transaction.

        `command` returns the aggregate(s) it changed; the first is the one the response names.
        `expected=(aggregate, version)` enforces the caller's If-Match before anything runs.
        A domain rule raising inside `command` leaves nothing written. `also` runs further statements in
        the same transaction (e.g. destroying a key together with the event that records the erasure).
        `reason` is the decision's reason, for the envelope where a person decides (award, sanction, ...).
        """
        if expected is not None and expected[0].version != expected[1]:
            raise StaleVersion(expected=expected[1], actual=expected[0].version)
        if reason:
            envelope = msgspec.structs.replace(envelope, reason=reason)
        with stamping(envelope):
            result = command()
        aggregates = [result] if isinstance(result, LedgerAggregate) else list(result)
        try:
            recordings = self.save(*aggregates, in_same_transaction=also)
        except IntegrityError as exc:
            raise ConcurrencyConflict("another command changed this record first; read it again and retry") from exc
        if not recordings:
            raise ProgrammingError("a command recorded no event")
        first = aggregates[0]
        return Recorded(
            aggregate_id=first.id,
            version=first.version,
            position=max(r.notification.id for r in recordings),
            events=len(recordings),
        )

    def now(self) -> datetime:
        """The ledger's clock (UTC): the recorded time of commands, and "now" for deadline rules."""
        return self.clock()

    def load_all(self, kind: type[A], *, up_to: int | None = None) -> list[A]:
        """Every aggregate of one class, read in one query (for decisions over a population): as they stand
        now, or as they stood at log position `up_to`, so that a decision and the position it names agree."""
        created_topics = [get_topic(cls) for cls in _created_event_classes(kind)]
        bound = 2**63 - 1 if up_to is None else up_to
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT originator_id, originator_version, topic, state FROM {EVENTS_TABLE}"
                f" WHERE originator_id IN (SELECT originator_id FROM {EVENTS_TABLE} WHERE topic = ANY(%s))"
                " AND notification_id <= %s ORDER BY originator_id, originator_version",
                (created_topics, bound),
            )
            stored = cur.fetchall()
        aggregates: dict[UUID, Any] = {}
        for row in stored:
            domain_event = self.mapper.to_domain_event(
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
            )
            aggregates[row["originator_id"]] = domain_event.mutate(aggregates.get(row["originator_id"]))
        return [a for a in aggregates.values() if isinstance(a, kind)]

    def head(self) -> int:
        """The position of the last recorded event (0 for an empty log)."""
        return self.recorder.max_notification_id() or 0

    def position_of(self, aggregate_id: UUID) -> int:
        """The log position of an aggregate's latest event (0 if it has none)."""
        with self.datastore.get_connection() as conn:
            row = conn.execute(
                "SELECT coalesce(max(notification_id), 0) AS position FROM ledger_events WHERE originator_id = %s",
                (aggregate_id,),
            ).fetchone()
        return int(row["position"]) if row else 0
