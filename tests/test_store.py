"""The event store keeps the library's guarantees and both clocks of the envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ledger.envelope import Actor, make_envelope
from ledger.store import Ledger
from tests.support import count_events, register_test_supplier

ACTOR = Actor(id="store-tester", role="authority", organisation_id="hmpps-commercial")


def test_effective_time_can_be_earlier_than_recorded_time(ledger: Ledger, database_url: str) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    envelope = make_envelope(ACTOR, effective_at=yesterday, reason="registered from a paper form received yesterday")
    recorded = register_test_supplier(ledger, ACTOR, envelope=envelope, name="Paper Form Trust")
    with psycopg.connect(database_url) as conn:
        recorded_at, effective_at, reason = conn.execute(
            "SELECT recorded_at, effective_at, reason FROM ledger_events WHERE notification_id = %s",
            (recorded.position,),
        ).fetchone()
    assert effective_at == yesterday
    assert recorded_at - effective_at >= timedelta(hours=23)
    assert reason == "registered from a paper form received yesterday"


def test_a_naive_effective_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_envelope(ACTOR, effective_at=datetime(2026, 1, 1))


def test_database_functions_stay_off_whatever_the_environment_says(database_url, monkeypatch) -> None:
    monkeypatch.setenv("POSTGRES_ENABLE_DB_FUNCTIONS", "y")
    monkeypatch.setenv("CREATE_TABLE", "y")
    ledger = Ledger(database_url)
    try:
        assert ledger.datastore.enable_db_functions is False
        assert ledger.factory.env_create_table() is False
    finally:
        ledger.close()


def test_the_events_table_is_append_only(ledger: Ledger, database_url: str) -> None:
    recorded = register_test_supplier(ledger, ACTOR, name="Immutable Trust")
    with psycopg.connect(database_url) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(
                "UPDATE ledger_events SET actor_id = 'forger' WHERE notification_id = %s", (recorded.position,)
            )
        conn.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute("DELETE FROM ledger_events WHERE notification_id = %s", (recorded.position,))


def test_a_population_can_be_read_as_it_stood_at_a_position(ledger: Ledger) -> None:
    """Publication judges every supplier as at the position it records, whatever commits meanwhile."""
    from ledger.framework.suppliers import Supplier

    first = register_test_supplier(ledger, ACTOR, name="Early Trust")
    later = register_test_supplier(ledger, ACTOR, name="Late Trust")
    then = {s.id for s in ledger.load_all(Supplier, up_to=first.position)}
    now = {s.id for s in ledger.load_all(Supplier)}
    assert first.aggregate_id in then and later.aggregate_id not in then
    assert {first.aggregate_id, later.aggregate_id} <= now


def test_an_insert_whose_commit_landed_but_whose_answer_was_lost_is_answered_once(
    ledger: Ledger, database_url: str, monkeypatch
) -> None:
    """The library retries an insert whose connection failed. If the failed attempt had committed (the database
    restarted during COMMIT), the retry meets its own events: the command succeeded, once, and is not a conflict."""
    from eventsourcing.persistence import InterfaceError, OperationalError
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.utils import retry

    insert = PostgresApplicationRecorder.insert_events.__wrapped__
    lost: list[int] = []

    def commit_then_lose_the_answer(recorder, stored_events, **kwargs):
        positions = insert(recorder, stored_events, **kwargs)
        if not lost:
            lost.append(positions[0])
            raise OperationalError("server closed the connection unexpectedly")
        return positions

    monkeypatch.setattr(
        PostgresApplicationRecorder,
        "insert_events",
        retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)(commit_then_lose_the_answer),
    )
    before = count_events(database_url)
    recorded = register_test_supplier(ledger, ACTOR, name="Lost Answer Trust")
    assert recorded.position == lost[0] and recorded.version == 1
    assert count_events(database_url) == before + 1
