"""`ledger rebuild`: every view replayed from position 0 beside the live one, compared row by row, switched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import psycopg
import pytest

from projections.base import fetch_one
from projections.caseload.handlers import CaseloadView
from projections.catalogue.handlers import CatalogueView
from projections.rebuild import rebuild
from projections.runner import ProjectionRunner, all_views
from tests.market import Market

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def market(make_database, settings):
    """A fresh market with a contract, a referral and some delivery: every view has rows."""
    m = Market(make_database(), settings)
    contract, _ = m.contract()
    referral = m.referral(contract)
    m.post(f"/referrals/{referral}/acknowledgement", role="provider_caseworker")
    m.get(f"/referrals/{referral}")  # every view has caught up
    yield m
    m.close()


def sql(market: Market, *statements: str) -> None:
    with psycopg.connect(market.url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def test_a_rebuild_of_healthy_views_finds_no_difference_at_the_live_position(market: Market) -> None:
    reports = rebuild(market.url)
    assert [r.view for r in reports] == [v.name for v in all_views()]
    assert all(r.identical and not r.switched for r in reports)
    assert {r.position for r in reports} == {market.position}
    assert all(r.built_by == r.rebuilt_with for r in reports)
    catalogue = next(r for r in reports if r.view == "catalogue")
    assert {t.table for t in catalogue.tables} == set(CatalogueView.tables)
    assert all(t.live_rows == t.rebuilt_rows > 0 for t in catalogue.tables if t.table == "catalogue_suppliers")


def test_a_rebuild_reports_every_altered_missing_and_extra_row_and_switching_repairs_them(market: Market) -> None:
    sql(
        market,
        "UPDATE catalogue_suppliers SET name = 'Mallory Ltd'",
        "DELETE FROM caseload_referrals",
        "INSERT INTO catalogue_commissioners SELECT gen_random_uuid(), 'Phantom', organisation_id || '-x',"
        " commissioner_type, area_code, agreement_version, agreement_signed_at, registered_at, version"
        " FROM catalogue_commissioners LIMIT 1",
    )
    reports = {r.view: r for r in rebuild(market.url)}
    suppliers = next(t for t in reports["catalogue"].tables if t.table == "catalogue_suppliers")
    assert suppliers.changed == suppliers.live_rows and "name live='Mallory Ltd'" in suppliers.samples[0]
    commissioners = next(t for t in reports["catalogue"].tables if t.table == "catalogue_commissioners")
    assert (commissioners.only_live, commissioners.only_rebuilt) == (1, 0)
    referrals = next(t for t in reports["caseload"].tables if t.table == "caseload_referrals")
    assert (referrals.only_live, referrals.only_rebuilt, referrals.live_rows) == (0, 1, 0)
    assert reports["payments"].identical and reports["reference"].identical

    switched = rebuild(market.url, [CatalogueView(), CaseloadView()], switch=True)
    assert all(r.switched for r in switched)
    assert all(r.identical for r in rebuild(market.url))
    with psycopg.connect(market.url) as conn:
        rebuilt_at = conn.execute(
            "SELECT view_name FROM projection_positions WHERE rebuilt_at IS NOT NULL ORDER BY 1"
        ).fetchall()
    assert rebuilt_at == [("caseload",), ("catalogue",)]
    # The worker carries on from the same position.
    supplier = market.supplier("After The Switch Ltd")
    assert market.get(f"/suppliers/{supplier}")["name"] == "After The Switch Ltd"


def test_writes_during_a_rebuild_cause_no_false_differences(market: Market) -> None:
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            market.supplier("Busy Supplier")

    writer = threading.Thread(target=write)
    writer.start()
    try:
        reports = [rebuild(market.url) for _ in range(3)]
    finally:
        stop.set()
        writer.join()
    assert all(r.identical for run in reports for r in run), [t for run in reports for r in run for t in r.tables]
    assert reports[-1][0].position > reports[0][0].position  # the log moved on while we rebuilt


class CatalogueV99(CatalogueView):
    code_version = "99"


def test_each_view_records_the_code_version_that_built_it(market: Market) -> None:
    def versions() -> dict:
        ready = market.client.simulate_get("/health/ready").json
        return {v["name"]: v for v in ready["views"]}

    assert versions()["catalogue"]["needs_rebuild"] is False
    market.runner.stop()  # a deployment: the old worker stops, one with the new view code starts
    market.thread.join()
    runner = ProjectionRunner(market.url, [CatalogueV99()])
    market.supplier("Applied By New Code")
    runner.catch_up()  # new code applying events to rows the old code built: the view is now mixed
    runner.close()
    with psycopg.connect(market.url) as conn:
        mixed = conn.execute(
            "SELECT code_version, applied_by FROM projection_positions WHERE view_name = 'catalogue'"
        ).fetchone()
    running = CatalogueView.code_version
    assert mixed == (running, "99")
    report = rebuild(market.url, [CatalogueV99()], switch=True)[0]
    assert (report.built_by, report.rebuilt_with, report.switched) == (running, "99", True)
    status = versions()["catalogue"]
    assert (status["built_by"], status["running"], status["needs_rebuild"]) == ("99", running, True)


def test_ledger_rebuild_reports_differences_and_exits_non_zero_until_switched(market: Market) -> None:
    sql(market, "UPDATE caseload_referrals SET sessions_attended = 42")
    env = {**os.environ, "DATABASE_URL": market.url}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "api.cli", "rebuild", "--view", "caseload", "--json", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    found = run()
    assert found.returncode == 1, found.stderr
    (report,) = json.loads(found.stdout)
    referrals = next(t for t in report["tables"] if t["table"] == "caseload_referrals")
    assert referrals["changed"] == 1 and "sessions_attended live=42 rebuilt=0" in referrals["samples"][0]
    assert run("--switch").returncode == 0
    assert run().returncode == 0
    unknown = subprocess.run(
        [sys.executable, "-m", "api.cli", "rebuild", "--view", "nope"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert unknown.returncode == 2 and "no such view" in unknown.stderr


def test_a_handlers_read_in_a_pipelined_batch_is_answered_with_its_own_row(market: Market) -> None:
    # Catch-up and rebuild pipeline a batch's statements through one cursor. When many results are still
    # in flight, psycopg may hand an earlier statement's result to that cursor after a later read was sent;
    # a rebuild of 5.45M events failed so ("the last operation didn't produce records"). Handlers read
    # through `fetch_one`, on a cursor of their own.
    with psycopg.connect(market.url, autocommit=True) as conn:
        for _ in range(20):
            with conn.transaction(), conn.pipeline():
                shared = conn.cursor()
                for _ in range(500):  # megabytes of results, more than the socket holds
                    shared.execute("SELECT repeat('x', 20000)")
                assert fetch_one(shared, "SELECT 42") == (42,)
