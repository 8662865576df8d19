"""The national history generator: deterministic, national in its proportions, and only valid commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from eventsourcing.persistence import StoredEvent

from ledger.bulk import BulkLedger
from ledger.framework.commissioner_types import COMMISSIONER_TYPES
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner
from tools.national import GenerationReport, Volumes, generate

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.004

FINGERPRINT = (
    "SELECT md5(string_agg(concat_ws('|', notification_id, originator_id, originator_version, event_type,"
    " recorded_at, effective_at, actor_id, organisation_id, reason,"
    # Ciphertexts differ every time (fresh keys and nonces): everything else must not.
    " regexp_replace(convert_from(state, 'UTF8'), '\"ciphertext\":\"[^\"]*\"', '', 'g')), E'\\n'"
    " ORDER BY notification_id)) FROM ledger_events"
)


def generated(url: str, *, seed: int = 2021, years: int = 1, scale: float = SCALE) -> GenerationReport:
    ledger = BulkLedger(url, batch_size=2000)
    try:
        return generate(ledger, years=years, scale=scale, seed=seed)
    finally:
        ledger.close()


def fingerprint(url: str) -> str:
    with psycopg.connect(url) as conn:
        return conn.execute(FINGERPRINT).fetchone()[0]


@pytest.fixture(scope="module")
def history(make_database) -> tuple[str, GenerationReport]:
    url = make_database()
    return url, generated(url)


def test_the_same_seed_gives_the_same_history_and_another_seed_another(make_database, history) -> None:
    url, report = history
    again = make_database()
    assert replace(generated(again), seconds=0) == replace(report, seconds=0)
    assert fingerprint(again) == fingerprint(url)
    other = make_database()
    generated(other, seed=7)
    assert fingerprint(other) != fingerprint(url)


def test_two_years_of_the_story_that_once_ordered_too_few_rar_days_refuse_nothing(make_database) -> None:
    """Seed 7 over two years at 5% once counted an attended session towards RAR days beyond those ordered."""
    assert generated(make_database(), seed=7, years=2, scale=0.05).refused == 0


def test_a_year_has_national_proportions_at_the_scale_asked(history) -> None:
    url, report = history
    volumes = Volumes()
    assert report.refused == 0 and report.events > 5000
    # Delivery starts once the day-one contracts are concluded (about five months in), so a first year holds
    # somewhat less than a full year's volume.
    for generated_count, per_year in (
        (report.referrals, volumes.referrals_per_year),
        (report.unpaid_work_orders, volumes.unpaid_work_orders_per_year),
        (report.programme_starts, volumes.programme_starts_per_year),
    ):
        assert 0.3 * per_year * SCALE <= generated_count <= 1.3 * per_year * SCALE
    assert report.suppliers >= 100 and report.contracts >= 55
    with psycopg.connect(url) as conn:
        kinds = {
            r[0]
            for r in conn.execute(
                "SELECT convert_from(state, 'UTF8')::jsonb->>'commissioner_type' FROM ledger_events"
                " WHERE event_type = 'CommissionerRegistered'"
            )
        }
        sizes = conn.execute(
            "SELECT DISTINCT convert_from(state, 'UTF8')::jsonb->>'organisation_type',"
            " (convert_from(state, 'UTF8')::jsonb->>'is_small')::boolean FROM ledger_events"
            " WHERE event_type = 'SupplierRegistered'"
        ).fetchall()
        partners = conn.execute(
            "SELECT count(DISTINCT convert_from(state, 'UTF8')::jsonb->'areas'->>0) FROM ledger_events"
            " WHERE event_type = 'ContractConcluded'"
            " AND convert_from(state, 'UTF8')::jsonb->>'need' = 'lifestyle-and-associates'"
        ).fetchone()[0]
        stages = {
            r[0] for r in conn.execute("SELECT DISTINCT event_type FROM ledger_events WHERE event_type LIKE 'CallOff%'")
        }
    assert kinds == {t.code for t in COMMISSIONER_TYPES}
    assert {(kind, small) for kind, small in sizes} >= {("voluntary", True), ("voluntary", False), ("private", False)}
    assert partners == 12  # every region's innovation partner
    assert {"CallOffDrafted", "CallOffPublished", "CallOffContractConcluded"} <= stages


def test_the_generated_history_projects_and_rebuilds_identically(history) -> None:
    url, report = history
    runner = ProjectionRunner(url, batch_size=5000)
    runner.catch_up()
    runner.close()
    reports = rebuild(url)
    assert all(r.identical and r.position == report.events for r in reports)


def test_ledger_demo_generates_a_national_history_and_reports_it(make_database, tmp_path) -> None:
    url = make_database()
    env = {**os.environ, "DATABASE_URL": url, "LEDGER_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "--years", "1", "--scale", "0.002", "--seed", "11"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["seed"] == 11 and report["refused"] == 0 and report["events"] > 1000
    again = subprocess.run(
        [sys.executable, "-m", "api.cli", "demo", "--years", "1", "--scale", "0.002"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert again.returncode == 1 and "already holds" in again.stderr


def test_the_bulk_path_snapshots_long_streams_as_they_grow(make_database, monkeypatch) -> None:
    from ledger import history
    from ledger.payments.accounts import ContractAccount
    from ledger.store import Ledger

    monkeypatch.setattr(ContractAccount, "snapshot_every", 10)
    url = make_database()
    generated(url)
    with psycopg.connect(url) as conn:
        taken = conn.execute(
            "SELECT originator_id, count(*) FROM ledger_snapshots GROUP BY 1 ORDER BY 2 DESC"
        ).fetchall()
    assert taken and taken[0][1] > 2  # several along the way, not only where the load stopped
    ledger = Ledger(url)
    try:
        with psycopg.connect(url) as conn:
            replayed = None  # every event from the first, no snapshot
            for record in history.aggregate_events(conn, taken[0][0]):
                stored = StoredEvent(
                    originator_id=record.aggregate_id,
                    originator_version=record.version,
                    topic=record.topic,
                    state=bytes(record.payload),
                )
                replayed = ledger.mapper.to_domain_event(stored).mutate(replayed)
        assert history.plain(ledger.load(ContractAccount, taken[0][0])) == history.plain(replayed)
    finally:
        ledger.close()
