"""One leader per view: runners lead views by advisory lock, standbys take over, views stay exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.envelope import Actor, make_envelope
from ledger.framework.commissioners import RegisterCommissioner, register_commissioner
from ledger.framework.reference import seed
from ledger.payments.budgets import SetBudgetLine, set_budget_line
from ledger.store import Ledger
from projections.base import LoggedEvent, View
from projections.caseload.handlers import CaseloadView
from projections.catalogue.handlers import CatalogueView
from projections.leadership import leadership_key, lock_identity, view_post
from projections.payments.handlers import PaymentsView
from projections.publication.handlers import PublicationView
from projections.rebuild import rebuild
from projections.reference import ReferenceView
from projections.runner import ProjectionRunner, positions
from tests.support import register_test_supplier

ROOT = Path(__file__).resolve().parent.parent
ACTOR = Actor(id="leadership-tester", role="authority", organisation_id="hmpps-commercial")
CATALOGUE = view_post("catalogue")


def register_many(ledger: Ledger, count: int, prefix: str) -> int:
    return max(register_test_supplier(ledger, ACTOR, name=f"{prefix} Trust {i}").position for i in range(count))


def set_a_budget(ledger: Ledger) -> int:
    """A commissioner and a budget line for it: events the payments view applies."""
    commissioner = register_commissioner(
        ledger,
        make_envelope(ACTOR),
        RegisterCommissioner(
            name="Kent Police and Crime Commissioner", organisation_id="kent-pcc", commissioner_type="pcc", area="kent"
        ),
    )
    finance = Actor(id="leadership-finance", role="finance_officer", organisation_id="hmpps-finance")
    return set_budget_line(
        ledger,
        make_envelope(finance),
        SetBudgetLine(
            commissioner_id=commissioner.aggregate_id,
            financial_year="2026-27",
            name="Core rehabilitative services",
            amount=Decimal("250000.00"),
        ),
    ).position


def wait_until(condition: Callable[[], bool], seconds: float = 10.0) -> float:
    """Poll `condition` until it holds; return how long it took (fails the test at the deadline)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "condition not met before the deadline"
        time.sleep(0.02)
    return time.monotonic() - started


def view_position(url: str, view: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        return positions(conn, [view]).get(view, 0)


def catalogue_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM catalogue_suppliers").fetchone()[0]


class Running:
    """A runner in a thread, as `ledger worker` runs it, noting the position of every event it applies."""

    def __init__(self, url: str, views: list[View]) -> None:
        self.applied: list[int] = []
        for view in views:
            view.apply = self.noting(view.apply)  # type: ignore[method-assign]
        self.runner = ProjectionRunner(url, views, batch_size=50, lead=True)
        self.thread = threading.Thread(target=self.runner.run_forever, kwargs={"poll_seconds": 0.1}, daemon=True)

    def noting(self, apply: Callable[[Any, LoggedEvent], None]) -> Callable[[Any, LoggedEvent], None]:
        def noted(cursor: Any, logged: LoggedEvent) -> None:
            apply(cursor, logged)
            self.applied.append(logged.position)

        return noted

    def start(self) -> Running:
        self.thread.start()
        return self

    def leads(self, post: str) -> bool:
        assert self.runner.leadership is not None
        return self.runner.leadership.leads(post)

    def stop(self) -> None:
        self.runner.stop()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()


@pytest.fixture
def fresh(make_database) -> Iterator[tuple[str, Ledger]]:
    url = make_database()
    ledger = Ledger(url)
    seed(ledger)
    yield url, ledger
    ledger.close()


@pytest.fixture
def running() -> Iterator[Callable[[str, list[View]], Running]]:
    started: list[Running] = []

    def start(url: str, views: list[View]) -> Running:
        started.append(Running(url, views).start())
        return started[-1]

    yield start
    for r in started:
        r.runner.stop()
    for r in started:
        r.thread.join(timeout=10)


def test_a_views_leadership_key_is_stable_and_shown_in_pg_locks_as_two_halves() -> None:
    # Workers of different releases must agree on the key: it is part of the deployment's contract.
    assert leadership_key("view/payments") == leadership_key(view_post("payments"))
    assert leadership_key("view/payments") == 6156929059236836735
    assert lock_identity(-1) == (0xFFFF_FFFF, 0xFFFF_FFFF)
    assert lock_identity(2**32 + 5) == (1, 5)


def test_of_two_runners_for_one_view_only_the_leader_applies_events(fresh, running) -> None:
    url, ledger = fresh
    leader = running(url, [CatalogueView()])
    wait_until(lambda: leader.leads(CATALOGUE))
    standby = running(url, [CatalogueView()])
    head = register_many(ledger, 12, "Led")
    wait_until(lambda: view_position(url, "catalogue") == head)

    assert len(leader.applied) == 12 and not standby.applied
    assert not standby.leads(CATALOGUE)
    assert catalogue_rows(url) == 12
    classid, objid = lock_identity(leadership_key(CATALOGUE))
    with psycopg.connect(url, autocommit=True) as conn:
        holders = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = %s::oid AND objid = %s::oid"
            " AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (classid, objid),
        ).fetchall()
    assert holders == [(leader.runner.leadership.session_pid,)]


def test_a_standby_takes_over_when_the_leaders_session_dies_and_again_when_its_leader_stops(fresh, running) -> None:
    url, ledger = fresh
    first = running(url, [CatalogueView()])
    wait_until(lambda: first.leads(CATALOGUE))
    second = running(url, [CatalogueView()])
    head = register_many(ledger, 5, "Before")
    wait_until(lambda: view_position(url, "catalogue") == head)
    assert not second.applied

    # The leader's session ends as it would if its process crashed or its network went: the server
    # releases the lock, and the standby waiting on it leads at once.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (first.runner.leadership.session_pid,))
    took_over = wait_until(lambda: second.leads(CATALOGUE))
    applied_by_first = len(first.applied)
    head = register_many(ledger, 5, "During")
    wait_until(lambda: view_position(url, "catalogue") == head)
    assert len(second.applied) == 5 and len(first.applied) == applied_by_first == 5
    assert took_over < 1.0
    wait_until(lambda: first.runner.leadership.session_pid is not None)  # the old leader is back, standing by
    assert not first.leads(CATALOGUE)

    # A leader that stops cleanly closes its session: the standby (the old leader) takes over.
    second.stop()
    wait_until(lambda: first.leads(CATALOGUE))
    head = register_many(ledger, 5, "After")
    wait_until(lambda: view_position(url, "catalogue") == head)
    assert len(first.applied) == 10 and len(second.applied) == 5
    assert catalogue_rows(url) == 15


def test_runners_for_different_views_both_lead_and_every_view_equals_its_rebuild(fresh, running) -> None:
    url, ledger = fresh
    front = running(url, [ReferenceView(), CatalogueView()])
    back = running(url, [CaseloadView(), PaymentsView(), PublicationView()])
    register_many(ledger, 10, "Split")
    head = set_a_budget(ledger)
    for view in ("reference", "catalogue", "caseload", "payments", "publication"):
        wait_until(lambda view=view: view_position(url, view) == head)
    assert front.leads(view_post("reference")) and front.leads(CATALOGUE)
    assert back.leads(view_post("caseload")) and back.leads(view_post("payments"))
    assert back.leads(view_post("publication"))
    assert front.applied and back.applied

    reports = rebuild(url)
    assert {r.view for r in reports} == {"reference", "catalogue", "caseload", "payments", "publication"}
    assert all(r.identical for r in reports), [t.samples for r in reports for t in r.tables if not t.identical]


def leader_process(url: str, post: str) -> int | None:
    """The operating-system pid of the `ledger worker` that leads a post (from its application name)."""
    classid, objid = lock_identity(leadership_key(post))
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.classid = %s::oid AND l.objid = %s::oid AND l.granted"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            (classid, objid),
        ).fetchone()
    return int(row[0].rsplit(" ", 1)[1]) if row else None


def test_ledger_worker_for_one_view_hands_over_when_its_leader_is_killed(fresh) -> None:
    url, ledger = fresh
    env = {**os.environ, "DATABASE_URL": url, "CHECKPOINT_INTERVAL_SECONDS": "0"}
    command = [sys.executable, "-m", "api.cli", "worker", "--view", "catalogue"]
    workers = [subprocess.Popen(command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        wait_until(lambda: leader_process(url, CATALOGUE) is not None, seconds=20)
        first = leader_process(url, CATALOGUE)
        leader = next(w for w in workers if w.pid == first)
        standby = next(w for w in workers if w.pid != first)
        head = register_many(ledger, 3, "Process")
        wait_until(lambda: view_position(url, "catalogue") == head)

        leader.kill()
        leader.wait(timeout=10)
        wait_until(lambda: leader_process(url, CATALOGUE) == standby.pid)
        head = register_many(ledger, 3, "Survivor")
        wait_until(lambda: view_position(url, "catalogue") == head)
        assert catalogue_rows(url) == 6
        with psycopg.connect(url, autocommit=True) as conn:
            # The worker was asked for the catalogue only: no other view moved.
            assert positions(conn, ["caseload"]).get("caseload", 0) == 0

        standby.send_signal(signal.SIGTERM)
        assert standby.wait(timeout=15) == 0
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
                w.wait(timeout=10)


def test_ledger_worker_refuses_an_unknown_view() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "worker", "--once", "--view", "cataloog"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        timeout=30,
    )
    assert result.returncode == 2
    assert "no such view" in result.stderr and "catalogue" in result.stderr
