"""The batched append path: the same commands and rules, written to the log in large COPY batches.

A bulk load (the national history generator, a migration from another system) is the ledger's only
writer while it runs. Commands run exactly as through the API — the same functions, the same rules,
the same events — but the aggregates they load stay in memory between commands and their events are
buffered, then written thousands at a time with COPY, in one transaction that takes the same table lock
as every other write. So commit order is still log order, and nothing is half-written: a batch commits
whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate, Snapshot
from eventsourcing.persistence import StoredEvent
from psycopg import sql

from ledger.aggregate import LedgerAggregate
from ledger.codec import EnvelopedStoredEvent
from ledger.envelope import Envelope, stamping, utcnow
from ledger.errors import ConcurrencyConflict, NotFound, ProgrammingError, StaleVersion
from ledger.personal_data import KeyRing
from ledger.store import (
    _ENVELOPE_COLUMNS,
    EVENTS_TABLE,
    A,
    AlsoInTransaction,
    Ledger,
    Recorded,
    SnapshotRecorder,
    event_row,
)

_COLUMNS = ["originator_id", "originator_version", "topic", "state"] + [c for c, _ in _ENVELOPE_COLUMNS]
_TYPES = ["uuid", "int8", "text", "bytea"] + [t for _, t in _ENVELOPE_COLUMNS]
UNKNOWN_POSITION = 0  # a buffered command's position is known only once its batch is written


class BulkLedger(Ledger):
    """A `Ledger` for a sole writer: aggregates cached, events buffered and written by COPY.

    `flush()` hands the buffer to a writer thread (it also runs by itself every `batch_size` events), so
    the next batch's commands run while the database takes the last one; anything that reads the log
    (`head`, `load_all`, a cache miss) waits for the write first, and `close()` writes what is left.
    Commands answer `position = 0` until their batch is written.
    """

    name = Ledger.name  # the application's name picks its tables: the same log

    def __init__(
        self,
        database_url: str,
        *,
        batch_size: int = 20_000,
        clock: Callable[[], datetime] = utcnow,
        master_key: Callable[[], bytes] | None = None,
        on_flush: Callable[[int], None] | None = None,
    ) -> None:
        # One long-lived connection at a time, used back to back: checking it before each use only costs.
        super().__init__(database_url, pool_size=2, clock=clock, master_key=master_key, pre_ping=False)
        # Into an empty ledger everything that exists was written here: no need to ask the database.
        self.fresh = super().head() == 0
        self.keys = KeyRing(self.datastore.get_connection, self.keys._master_key, sole_writer=True, fresh=self.fresh)
        self.batch_size = batch_size
        self.on_flush = on_flush
        self._cache: dict[UUID, LedgerAggregate] = {}
        self._written: set[UUID] = set()  # every aggregate this load wrote to
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-writer")
        self._writing: Future[int] | None = None
        self._snapshots: list[StoredEvent] = []
        self._closed = False
        self._buffer: list[EnvelopedStoredEvent] = []
        self.written = 0

    # -- reads see the buffer ----------------------------------------------------------------------

    def load(self, kind: type[A], aggregate_id: UUID, *, version: int | None = None) -> A:
        cached = self._cache.get(aggregate_id)
        if cached is None or version is not None:
            self.flush(wait=True)
            aggregate = super().load(kind, aggregate_id, version=version)
            if version is None:
                self._cache[aggregate_id] = aggregate
            return aggregate
        if not isinstance(cached, kind):
            raise NotFound(kind.__name__, aggregate_id)
        return cached

    def exists(self, aggregate_id: UUID) -> bool:
        if aggregate_id in self._cache or aggregate_id in self._written:
            return True
        return not self.fresh and super().exists(aggregate_id)

    def head(self) -> int:
        self.flush(wait=True)
        return super().head()

    def load_all(self, kind: type[A], *, up_to: int | None = None) -> list[A]:
        self.flush(wait=True)
        loaded = super().load_all(kind, up_to=up_to)
        if up_to is None:  # the current state: hand out the cached objects, so later commands see one copy
            return [self._cache.setdefault(a.id, a) for a in loaded]  # type: ignore[misc]
        return loaded

    # -- writes are buffered -----------------------------------------------------------------------

    def execute(
        self,
        envelope: Envelope,
        command: Callable[[], LedgerAggregate | Sequence[LedgerAggregate]],
        *,
        expected: tuple[LedgerAggregate, int] | None = None,
        also: Sequence[AlsoInTransaction] = (),
        reason: str | None = None,
    ) -> Recorded:
        if also:  # statements that must share the events' transaction: write the buffer, then this directly
            self.flush(wait=True)
            return super().execute(envelope, command, expected=expected, also=also, reason=reason)
        if expected is not None and expected[0].version != expected[1]:
            raise StaleVersion(expected=expected[1], actual=expected[0].version)
        if reason:
            envelope = msgspec.structs.replace(envelope, reason=reason)
        try:
            with stamping(envelope):
                result = command()
        except Exception:
            self._discard_half_done()
            raise
        aggregates = [result] if isinstance(result, LedgerAggregate) else list(result)
        events = [e for aggregate in aggregates for e in aggregate.collect_events()]
        if not events:
            raise ProgrammingError("a command recorded no event")
        for aggregate in aggregates:
            self._cache[aggregate.id] = aggregate
            self._written.add(aggregate.id)
        self._buffer.extend(self.mapper.to_stored_event(e) for e in events)
        # Long streams are snapshotted as they grow, as the API's path does, so that history can be read
        # as of any moment from a nearby snapshot. Encoded now: the aggregate keeps changing.
        for aggregate in aggregates:
            every = aggregate.snapshot_every
            if every and any(e.originator_id == aggregate.id and e.originator_version % every == 0 for e in events):
                self._snapshots.append(self.mapper.to_stored_event(Snapshot.take(aggregate)))
        first = aggregates[0]
        recorded = Recorded(aggregate_id=first.id, version=first.version, position=UNKNOWN_POSITION, events=len(events))
        if len(self._buffer) >= self.batch_size:
            self.flush()
        return recorded

    def _snapshot_long_streams(self) -> None:
        """Snapshot what the load left with long streams, so the first command after it need not replay them."""
        taken = [
            Snapshot.take(aggregate)
            for aggregate in self._cache.values()
            if aggregate.snapshot_every and aggregate.version >= aggregate.snapshot_every
        ]
        if taken and self.snapshots is not None:
            self.snapshots.put(taken)

    def import_recorded(self, stored: Iterable[StoredEvent]) -> int:
        """Append events recorded elsewhere (another ledger, an export), in their order, on the batched path.

        Each is decoded into its domain event and encoded again, so only well-formed events of known types,
        each with its envelope, are written. Returns how many.
        """
        count = 0
        for recorded in stored:
            self._buffer.append(self.mapper.to_stored_event(self.mapper.to_domain_event(recorded)))
            count += 1
            if len(self._buffer) >= self.batch_size:
                self.flush()
        return count

    def _discard_half_done(self) -> None:
        """A command that failed after triggering events leaves its aggregates changed: forget them (what is
        buffered is written first, so reloading them from the log gives their state before the command)."""
        spoiled = [i for i, a in self._cache.items() if isinstance(a, Aggregate) and a.pending_events]
        if spoiled:
            for aggregate_id in spoiled:
                del self._cache[aggregate_id]
            self.flush(wait=True)

    def flush(self, *, wait: bool = False) -> None:
        """Hand the buffered events to the writer (one write in flight at a time); with `wait`, return only
        once everything is written. A failed write raises here, at the next flush."""
        if self._buffer:
            self._settle()
            batch, self._buffer = self._buffer, []
            snapshots, self._snapshots = self._snapshots, []
            self._writing = self._writer.submit(self._write, batch, snapshots)
        if wait:
            self._settle()

    def _settle(self) -> None:
        if self._writing is not None:
            writing, self._writing = self._writing, None
            self.written += writing.result()
            if self.on_flush is not None:
                self.on_flush(self.written)

    def _write(self, batch: list[EnvelopedStoredEvent], snapshots: list[StoredEvent]) -> int:
        """Write one batch in one transaction (table lock, NOTIFY, the keys it needs, COPY, the snapshots)."""
        copy = sql.SQL("COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)").format(
            table=sql.Identifier(EVENTS_TABLE), columns=sql.SQL(", ").join(map(sql.Identifier, _COLUMNS))
        )
        with self.datastore.get_connection() as conn, conn.transaction(), conn.cursor() as cur:
            cur.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(EVENTS_TABLE)))
            cur.execute(sql.SQL("NOTIFY {}").format(sql.Identifier(EVENTS_TABLE)))
            try:
                self.keys.write_pending(cur)
                with cur.copy(copy) as writer:
                    writer.set_types(_TYPES)
                    for stored in batch:
                        writer.write_row(event_row(stored))
                if snapshots and self.snapshots is not None:
                    recorder = self.snapshots.recorder
                    assert isinstance(recorder, SnapshotRecorder)
                    recorder.insert_in(cur, snapshots)
            except Exception as exc:  # a clash with another writer: the bulk load was not alone
                raise ConcurrencyConflict(f"a bulk batch of {len(batch)} events was refused: {exc}") from exc
        return len(batch)

    def close(self) -> None:
        if self._closed:  # closed already (the library closes again when the object is collected)
            return
        self._closed = True
        try:
            self.flush(wait=True)
            self._snapshot_long_streams()
        finally:
            self._writer.shutdown()
            super().close()
