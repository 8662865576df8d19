"""The main queries of each view answered as of a horizon: replayed from the events, never read from today's rows.

"As recorded at T" is what the ledger knew at T; "as effective at T" is what had happened by T, including
facts written down later. An attendance recorded two days after the session separates the two.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from tests.market import Market
from tests.test_payments import priced
from tests.test_referrals import assessed, at, provider


@pytest.fixture(scope="module")
def late(market: Market) -> dict:
    """A priced contract; a session held, and its attendance recorded two days later."""
    contract, supplier = priced(market)
    referral = market.referral(contract)
    assessed(market, referral)
    market.post(
        f"/referrals/{referral}/appointments",
        {"starts_at": at(market, hours=1), "delivery_method": "video", "session_type": "one_to_one"},
    )
    appointment = [a for a in market.get(f"/referrals/{referral}")["appointments"] if a["status"] == "scheduled"][-1]
    market.clock.advance(days=2)
    provider(market, referral, "attendance", {"appointment_id": appointment["appointment_id"], "attended": "yes"})
    day_after = (datetime.fromisoformat(appointment["starts_at"]) + timedelta(days=1)).isoformat()
    return {"contract": contract, "supplier": supplier, "referral": referral, "day_after": day_after}


def caseload(market: Market, supplier: str, **horizon: str) -> dict:
    return market.get("/caseload", params={"supplier_id": supplier, **horizon})


def test_a_caseload_as_recorded_and_as_effective_differ_for_attendance_recorded_late(market: Market, late) -> None:
    known = caseload(market, late["supplier"], as_recorded=late["day_after"])
    happened = caseload(market, late["supplier"], as_effective=late["day_after"])
    now = caseload(market, late["supplier"])
    assert known["attendance_rate"] is None  # no session's attendance had been recorded yet
    assert happened["attendance_rate"] == now["attendance_rate"] == "1.000"
    assert known["as_of"] == happened["as_of"] == late["day_after"].replace("+00:00", "Z")
    assert known["by_status"] == happened["by_status"] == {"in_progress": 1}


def test_a_contracts_payment_position_as_recorded_and_as_effective(market: Market, late) -> None:
    account = f"/contracts/{late['contract']}/account"
    known = market.get(account, params={"as_recorded": late["day_after"]})
    happened = market.get(account, params={"as_effective": late["day_after"]})
    now = market.get(account)
    assert known["charged"] == "250.00"  # the referral fee only
    assert happened["charged"] == now["charged"] == "330.00"  # and the session fee, earned on the session's day
    assert known["version"] < happened["version"] == now["version"]
    market.get(account, params={"at_position": 1}, expect=404)  # the contract had no account yet


def test_the_catalogue_for_an_area_as_it_was_before_a_suspension(market: Market, late) -> None:
    query = {"category": "accommodation", "area": "region-a"}
    before = market.clock.now.isoformat()
    market.clock.advance(minutes=5)
    market.post(f"/suppliers/{late['supplier']}/suspensions", {"grounds": "Failed to disclose a conviction"})
    then = market.get("/catalogue/eligibility", params={**query, "as_recorded": before})
    now = market.get("/catalogue/eligibility", params=query)
    assert late["supplier"] in {s["supplier_id"] for s in then["eligible"]}
    suspended = next(s for s in now["not_eligible"] if s["supplier_id"] == late["supplier"])
    assert "supplier is suspended" in suspended["reasons"]
    registered = market.get(f"/suppliers/{late['supplier']}")["registered_at"]
    earlier = (datetime.fromisoformat(registered) - timedelta(seconds=1)).isoformat()
    assert late["supplier"] not in {
        s["supplier_id"]
        for s in market.get("/catalogue/eligibility", params={**query, "as_recorded": earlier})["eligible"]
    }


def test_as_of_answers_come_from_the_events_not_from_the_live_rows(market: Market, late) -> None:
    with psycopg.connect(market.url, autocommit=True) as conn:
        conn.execute("UPDATE finance_charges SET amount = amount * 100 WHERE contract_id = %s", (late["contract"],))
    try:
        account = f"/contracts/{late['contract']}/account"
        assert market.get(account)["charged"] == "33000.00"  # the live view, tampered with
        horizon = market.clock.now.isoformat()
        assert market.get(account, params={"as_recorded": horizon})["charged"] == "330.00"
    finally:
        with psycopg.connect(market.url, autocommit=True) as conn:
            conn.execute("UPDATE finance_charges SET amount = amount / 100 WHERE contract_id = %s", (late["contract"],))
    bad = market.client.simulate_get(
        "/caseload",
        params={"as_effective": "last tuesday"},
        headers=market.headers("auditor", privileges=("personal_data",)),
    )
    assert bad.status_code == 422 and bad.json["errors"][0]["path"] == "as_effective"
