"""`ledger demo` loads a realistic framework through the public commands, once."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg

from ledger.store import Ledger
from projections.catalogue.queries import eligibility, list_contracts, pipeline
from projections.runner import ProjectionRunner
from tools.demo import load_demo


def test_demo_history_is_realistic_complete_and_loaded_once(make_database) -> None:
    url = make_database()
    ledger = Ledger(url)
    try:
        first = load_demo(ledger)
        assert first.commands > 500
        head = ledger.head()
        assert load_demo(ledger).commands == 0 and ledger.head() == head
    finally:
        ledger.close()
    runner = ProjectionRunner(url)
    runner.catch_up()
    runner.close()
    today = datetime.now(UTC).date()
    with psycopg.connect(url) as conn:
        latest = conn.execute("SELECT max(recorded_at), min(recorded_at) FROM ledger_events").fetchone()
        assert latest[0] <= datetime.now(UTC) and latest[1].year == 2021  # history, never the future
        out_of_order = conn.execute(
            "SELECT count(*) FROM (SELECT recorded_at < lag(recorded_at) OVER (ORDER BY notification_id) AS back"
            " FROM ledger_events) t WHERE back"
        ).fetchone()[0]
        assert out_of_order == 0  # recorded time follows log order
        counts = pipeline(conn).counts
        for stage in (
            "draft",
            "open",
            "evaluating",
            "bafo",
            "evaluated",
            "standstill",
            "awarded",
            "cancelled",
            "no_award",
        ):
            assert counts[stage] >= 1, stage
        live = list_contracts(conn, today, live_only=True)
        for region in "abcdefghijkl":
            needs = {c.need for c in live.items if f"region-{region}" in c.regions}
            assert {"accommodation", "ete"} <= needs, region
        sizes = conn.execute("SELECT DISTINCT is_small FROM catalogue_suppliers").fetchall()
        assert {s[0] for s in sizes} == {True, False}
        assert conn.execute("SELECT count(*) FROM catalogue_supplier_lots WHERE status = 'failed'").fetchone()[0] >= 1
        states = dict(conn.execute("SELECT coalesce(end_state, status), count(*) FROM caseload_referrals GROUP BY 1"))
        for state in ("sent", "assigned", "in_progress", "completed", "ended_early", "cancelled"):
            assert states.get(state, 0) >= 1, state
        assert conn.execute("SELECT count(DISTINCT region) FROM caseload_referrals").fetchone()[0] == 12
        pending = "SELECT count(*) FROM caseload_appointments WHERE notify AND NOT acknowledged"
        assert conn.execute(pending).fetchone()[0] >= 1
        assert conn.execute("SELECT count(*) FROM caseload_unpaid_work WHERE completed_on IS NULL").fetchone()[0] >= 1
        assert conn.execute("SELECT count(*) FROM caseload_programme_groups WHERE participants < 4").fetchone()[0] >= 1
        invoices = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE disputed_lines > 0),"
            " count(*) FILTER (WHERE fully_paid_on > submitted_at::date + 30),"
            " count(*) FILTER (WHERE fully_paid_on <= submitted_at::date + 30) FROM finance_invoices"
        ).fetchone()
        assert invoices[0] >= 100 and all(n >= 1 for n in invoices[1:]), invoices  # disputed, late and prompt
        assert conn.execute("SELECT sum(amount) FROM finance_postings").fetchone()[0] == 0
        clauses = {r[0] for r in conn.execute("SELECT DISTINCT clause FROM finance_charges")}
        assert {"fixed_fee", "referral_fee", "session_fee", "outcome_payment"} <= clauses
        report = eligibility(conn, ["accommodation"], "greater-manchester")
        assert report.eligible and all(e.eligible for e in report.eligible)


def test_demo_refuses_a_ledger_that_already_holds_other_events(make_database) -> None:
    import pytest

    from ledger.framework.reference import seed
    from tools.scenarios import DemoRefused

    url = make_database()
    ledger = Ledger(url)
    try:
        seed(ledger)
        head = ledger.head()
        with pytest.raises(DemoRefused, match="empty ledger"):
            load_demo(ledger)
        assert ledger.head() == head
    finally:
        ledger.close()
