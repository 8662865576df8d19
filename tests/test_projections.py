"""The projection worker applies each event exactly once, resumes where it stopped, and stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from ledger.envelope import Actor
from ledger.framework.reference import seed
from ledger.store import Ledger
from projections.base import LoggedEvent
from projections.catalogue.handlers import CatalogueView
from projections.reference import ReferenceView
from projections.runner import ProjectionFailed, ProjectionRunner, lag, positions
from tests.support import register_test_supplier

ROOT = Path(__file__).resolve().parent.parent
ACTOR = Actor(id="projection-tester", role="authority", organisation_id="hmpps-commercial")


def register_many(ledger: Ledger, count: int) -> int:
    return max(register_test_supplier(ledger, ACTOR, name=f"Resume Trust {i}").position for i in range(count))


def catalogue_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM catalogue_suppliers").fetchone()[0]


@pytest.fixture
def fresh(make_database):
    url = make_database()
    ledger = Ledger(url)
    seed(ledger)
    yield url, ledger
    ledger.close()


def test_worker_stopped_mid_stream_resumes_without_applying_any_event_twice(fresh) -> None:
    url, ledger = fresh
    head = register_many(ledger, 25)

    first = ProjectionRunner(url, batch_size=10)
    batches: list[int] = []

    def stop_after_two(end: int, size: int) -> None:
        batches.append(end)
        if len(batches) == 2:
            first.stop()

    first.on_batch = stop_after_two
    first.catch_up()
    first.close()
    stopped_at = positions(psycopg.connect(url))["catalogue"]
    assert 0 < stopped_at < head, "the first runner should stop part-way through the log"

    second = ProjectionRunner(url, batch_size=10)
    second.catch_up()
    second.close()
    with psycopg.connect(url) as conn:
        assert set(positions(conn).values()) == {head}
        assert lag(conn) == 0
    # The catalogue's primary key would refuse a second insert of the same supplier.
    assert catalogue_rows(url) == 25


def test_a_failure_mid_batch_applies_nothing_of_that_batch(fresh) -> None:
    url, ledger = fresh
    head = register_many(ledger, 6)

    class FailingCatalogue(CatalogueView):
        calls = 0

        @classmethod
        def supplier_registered(cls, cur, logged: LoggedEvent) -> None:
            cls.calls += 1
            if cls.calls == 4:
                raise RuntimeError("disk on fire")
            CatalogueView.supplier_registered(cur, logged)

    runner = ProjectionRunner(url, [ReferenceView(), FailingCatalogue()], batch_size=1000)
    with pytest.raises(ProjectionFailed, match="'catalogue' failed at position") as failure:
        runner.catch_up()
    assert "disk on fire" in str(failure.value.__cause__)
    runner.close()
    with psycopg.connect(url) as conn:
        assert positions(conn)["catalogue"] == 0
    assert catalogue_rows(url) == 0

    healthy = ProjectionRunner(url, batch_size=1000)
    healthy.catch_up()
    healthy.close()
    assert catalogue_rows(url) == 6
    with psycopg.connect(url) as conn:
        assert positions(conn)["catalogue"] == head


def test_a_worker_that_loses_the_database_mid_batch_reconnects_and_carries_on(fresh) -> None:
    """A lost connection is not the event's fault: the worker retries the batch instead of stopping for good."""
    import threading

    url, ledger = fresh
    head = register_many(ledger, 6)

    class DroppedCatalogue(CatalogueView):
        calls = 0

        @classmethod
        def supplier_registered(cls, cur, logged: LoggedEvent) -> None:
            cls.calls += 1
            if cls.calls in (4, 5):  # the database is away for the batch and for its unpipelined retry
                raise psycopg.OperationalError("server closed the connection unexpectedly")
            CatalogueView.supplier_registered(cur, logged)

    runner = ProjectionRunner(url, [ReferenceView(), DroppedCatalogue()], batch_size=1000)
    thread = threading.Thread(target=runner.run_forever, kwargs={"poll_seconds": 0.1}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        with psycopg.connect(url, autocommit=True) as conn:
            while positions(conn).get("catalogue", 0) < head and time.monotonic() < deadline:
                time.sleep(0.05)
            assert positions(conn)["catalogue"] == head
        assert thread.is_alive() and catalogue_rows(url) == 6
    finally:
        runner.stop()
        thread.join(timeout=10)


def test_two_runners_at_once_never_apply_an_event_twice(fresh) -> None:
    import threading

    url, ledger = fresh
    register_many(ledger, 40)
    runners = [ProjectionRunner(url, batch_size=7) for _ in range(2)]
    threads = [threading.Thread(target=r.catch_up) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in runners:
        r.close()
    assert catalogue_rows(url) == 40


def test_ledger_worker_follows_new_events_and_stops_cleanly_on_sigterm(fresh) -> None:
    url, ledger = fresh
    env = {**os.environ, "DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        head = register_many(ledger, 3)
        deadline = time.monotonic() + 20
        with psycopg.connect(url, autocommit=True) as conn:
            while time.monotonic() < deadline and positions(conn).get("catalogue", 0) < head:
                time.sleep(0.05)
            assert positions(conn)["catalogue"] == head
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
    assert catalogue_rows(url) == 3


def test_reference_view_holds_the_seeded_lists_with_the_covers_relation(database_url, worker) -> None:
    from projections.runner import wait_for_position

    with psycopg.connect(database_url, autocommit=True) as conn:
        head = conn.execute("SELECT max(notification_id) FROM ledger_events").fetchone()[0]
        assert wait_for_position(conn, ["reference"], head, timeout=10)
        count = {kind: n for kind, n in conn.execute("SELECT kind, count(*) FROM ref_areas GROUP BY kind").fetchall()}
        assert count == {"country": 1, "nation": 2, "probation-region": 12, "police-area": 43}
        assert conn.execute("SELECT count(*) FROM ref_service_categories").fetchone()[0] == 14
        kinds = dict(conn.execute("SELECT code, kind FROM ref_service_categories").fetchall())
        assert kinds["women"] == "cohort" and kinds["accommodation"] == "need"
        levels = conn.execute(
            "SELECT complexity_levels FROM ref_service_categories WHERE code = 'cognitive-and-behavioural-change'"
        ).fetchone()[0]
        assert levels == ["LOW", "MEDIUM"]

        def covers(outer: str, inner: str) -> bool:
            return bool(
                conn.execute(
                    "SELECT 1 FROM ref_area_covers WHERE ancestor = %s AND descendant = %s", (outer, inner)
                ).fetchone()
            )

        assert covers("england-and-wales", "dyfed-powys")
        assert covers("region-d", "gwent") and covers("wales", "gwent")
        assert not covers("england", "gwent")
        assert covers("region-j", "metropolitan") and not covers("region-k", "metropolitan")
        assert covers("kent", "kent")
        police_areas_covered = conn.execute(
            "SELECT count(*) FROM ref_area_covers c JOIN ref_areas a ON a.code = c.descendant"
            " WHERE c.ancestor = 'england-and-wales' AND a.kind = 'police-area'"
        ).fetchone()[0]
        assert police_areas_covered == 43
