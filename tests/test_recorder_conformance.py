"""The eventsourcing library's own conformance suite for application recorders, run against the ledger's recorder.

`ApplicationRecorderTestCase` (shipped with eventsourcing) writes and reads plain `StoredEvent`s and checks what a
recorder must guarantee: positions contiguous and in commit order, `select_notifications` with its bounds and topic
filter, optimistic concurrency on (aggregate, version), `max_notification_id`, concurrent writers that neither
conflict nor reorder, skip or repeat a position while readers read. The ledger's recorder writes an envelope with
every event, so a small adapter gives the library's plain events one; everything else is the ledger's own
`LedgerRecorder` over a database migrated by `migrations/`, exactly as in production. Any change to the write path
(a single-round-trip insert, group commit, partitions) must keep this suite green.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.tests.persistence import ApplicationRecorderTestCase, NonInterleavingNotificationIDsBaseCase

from ledger.codec import EnvelopedStoredEvent
from ledger.database import eventsourcing_env
from ledger.envelope import Envelope, utcnow
from ledger.store import LedgerRecorder


class EnvelopingRecorder(LedgerRecorder):
    """The ledger's recorder, giving each plain stored event of the library's tests an envelope as a command would."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        now = utcnow()
        envelope = Envelope(
            actor_id="conformance-suite",
            actor_role="system",
            correlation_id="conformance",
            recorded_at=now,
            effective_at=now,
        )
        enveloped = [
            EnvelopedStoredEvent(
                originator_id=e.originator_id,
                originator_version=e.originator_version,
                topic=e.topic,
                state=e.state,
                envelope=envelope,
            )
            for e in stored_events
        ]
        return super().insert_events(enveloped, **kwargs)


def datastore_for(url: str) -> PostgresDatastore:
    """A datastore configured as the Ledger configures its own (pool, lock timeout, no database functions)."""
    env = eventsourcing_env(url, pool_size=10)
    return PostgresDatastore(
        dbname=env["POSTGRES_DBNAME"],
        host=env["POSTGRES_HOST"],
        port=env["POSTGRES_PORT"],
        user=env["POSTGRES_USER"],
        password=env["POSTGRES_PASSWORD"],
        pool_size=10,
        max_overflow=10,
        lock_timeout=int(env["POSTGRES_LOCK_TIMEOUT"]),
        enable_db_functions=False,
    )


class OnFreshDatabase:
    """Each test on a freshly migrated database, with the ledger's recorder behind the library's plain events."""

    url: str
    datastores: list[PostgresDatastore]

    @pytest.fixture(autouse=True)
    def _fresh_database(self, make_database: Callable[[], str]) -> Any:
        self.url = make_database()
        self.datastores = []
        yield
        for datastore in self.datastores:
            datastore.close()

    def create_recorder(self) -> LedgerRecorder:
        datastore = datastore_for(self.url)
        self.datastores.append(datastore)
        return EnvelopingRecorder(datastore)


class TestLedgerRecorderConformance(OnFreshDatabase, ApplicationRecorderTestCase[LedgerRecorder]):
    """Every test of the library's application-recorder suite."""

    def test_performance(self) -> None:
        pytest.skip("timings are ledger bench's, never the suite's")

    def test_concurrent_throughput(self) -> None:
        pytest.skip("timings are ledger bench's, never the suite's")

    def test_concurrent_writers_leave_one_gapless_order(self) -> None:
        """After the library's concurrent writers and readers: positions 1..N, no gap, no repeat, and each
        aggregate's events in version order (the library's test checks only that nothing failed)."""
        self.test_concurrent_no_conflicts()
        recorder = self.create_recorder()
        head = recorder.max_notification_id()
        assert head is not None
        notifications = recorder.select_notifications(start=None, limit=head + 1)
        assert [n.id for n in notifications] == list(range(1, head + 1))
        last_version: dict[Any, int] = {}
        for n in notifications:
            assert n.originator_version == last_version.get(n.originator_id, -1) + 1
            last_version[n.originator_id] = n.originator_version


class TestLedgerRecorderDoesNotInterleave(OnFreshDatabase, NonInterleavingNotificationIDsBaseCase):
    """Two large inserts racing: each one's positions form one unbroken run (the table lock orders whole commits)."""


class AnswerLostOnce(EnvelopingRecorder):
    """A recorder whose first attempt's events are committed (on another connection) but whose answer is lost, as
    when the database restarts during COMMIT: the library then retries the same insert."""

    lost = False

    def _insert_stored_events(self, curs: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> None:
        if not self.lost:
            self.lost = True
            EnvelopingRecorder(self.datastore).insert_events(stored_events)  # committed...
            raise psycopg.OperationalError("server closed the connection unexpectedly")  # ...answer lost
        super()._insert_stored_events(curs, stored_events, **kwargs)


class TestARetriedInsert(OnFreshDatabase):
    def test_a_retry_of_an_insert_whose_answer_was_lost_is_answered_with_its_positions(self) -> None:
        datastore = datastore_for(self.url)
        self.datastores.append(datastore)
        recorder = AnswerLostOnce(datastore)
        aggregate = uuid4()
        events = [StoredEvent(originator_id=aggregate, originator_version=v, topic="t", state=b"{}") for v in (1, 2)]
        assert recorder.insert_events(events) == [1, 2]
        assert [n.id for n in recorder.select_notifications(start=None, limit=10)] == [1, 2]  # once, not twice

    def test_a_retry_that_meets_other_bytes_is_a_conflict(self) -> None:
        datastore = datastore_for(self.url)
        self.datastores.append(datastore)
        aggregate = uuid4()
        EnvelopingRecorder(datastore).insert_events(
            [StoredEvent(originator_id=aggregate, originator_version=1, topic="t", state=b'{"a":1}')]
        )
        recorder = AnswerLostOnce(datastore)
        recorder.lost = True  # no loss: the first attempt clashes with another command's event
        with pytest.raises(IntegrityError):
            recorder.insert_events([StoredEvent(originator_id=aggregate, originator_version=1, topic="t", state=b"{}")])
