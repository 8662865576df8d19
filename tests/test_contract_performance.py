"""A contract's KPIs as measured values per period, rated (issue 19, item 6): defined as numbers, measured for
periods that have ended within the contract, each rated by the ledger; a larger contract (over £5 million) needs
three KPIs and an assessment every twelve months."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger.procurement.contracts import add_months
from ledger.procurement.performance import KpiDefinition, Rating, rate
from tests.market import Market
from tests.support import count_events


@pytest.fixture(scope="module")
def large(market: Market) -> str:
    contract, _ = market.contract(value="6000000.00")
    return contract


def _kpi(market: Market, contract: str, name: str, target: str, *, higher: bool = True, expect: int = 200) -> object:
    body = {"name": name, "unit": "%", "target": target, "higher_is_better": higher, "tolerance": "5"}
    return market.post(f"/contracts/{contract}/kpis", body, expect=expect)


def _measure(market: Market, contract: str, kpi: str, start: date, end: date, value: str, expect: int = 200) -> object:
    body = {"kpi": kpi, "period_start": start.isoformat(), "period_end": end.isoformat(), "value": value}
    return market.post(f"/contracts/{contract}/kpi-measurements", body, expect=expect)


def test_a_larger_contract_needs_three_kpis_and_each_measurement_is_rated(market: Market, large: str) -> None:
    before = market.get(f"/contracts/{large}/performance")
    assert (before["larger_contract"], before["kpis_required"], before["kpis_missing"]) == (True, 3, 3)
    _kpi(market, large, "Referrals started within 10 working days", "90")
    _kpi(market, large, "Outcomes achieved", "60")
    _kpi(market, large, "Complaints upheld", "2", higher=False)
    start = date.fromisoformat(market.get(f"/contracts/{large}")["start_date"])
    market.clock.advance(days=95)
    quarter = (start, start + timedelta(days=89))
    _measure(market, large, "Referrals started within 10 working days", *quarter, "91.5")
    _measure(market, large, "Outcomes achieved", *quarter, "56")
    _measure(market, large, "Complaints upheld", *quarter, "13")
    record = market.get(f"/contracts/{large}/performance", role="supplier_bid_manager")
    assert record["kpis_missing"] == 0
    ratings = {k["name"]: k["latest"]["rating"] for k in record["kpis"]}
    assert ratings == {
        "Referrals started within 10 working days": "good",
        "Outcomes achieved": "approaching target",  # 4 short of 60, within the tolerance of 5
        "Complaints upheld": "inadequate",  # 11 over 2, beyond twice the tolerance
    }
    assert record["assessments_due"] == []


def test_measurements_lie_within_the_contract_once_per_period_after_it_ends(market: Market, large: str) -> None:
    start = date.fromisoformat(market.get(f"/contracts/{large}")["start_date"])
    head = count_events(market.url)
    cases = (
        (start - timedelta(days=30), start + timedelta(days=10), 409, "a measured period lies within the contract"),
        (start, start + timedelta(days=30), 409, "a period is measured once"),  # overlaps the quarter above
        (
            start + timedelta(days=90),
            market.clock.now.date() + timedelta(days=5),
            409,
            "a period is measured once it has ended",
        ),
    )
    for first, last, status, rule in cases:
        answer = _measure(market, large, "Outcomes achieved", first, last, "70", expect=status)
        assert answer.json["rule"] == rule  # type: ignore[attr-defined]
    unknown = _measure(market, large, "Staff turnover", start, start, "1", expect=422)
    assert unknown.json["errors"][0]["path"] == "$.kpi"  # type: ignore[attr-defined]
    again = _kpi(market, large, "Outcomes achieved", "70", expect=409)
    assert again.json["rule"] == "a KPI is defined once"  # type: ignore[attr-defined]
    assert count_events(market.url) == head


def test_a_kpi_not_measured_for_twelve_months_is_due_an_assessment(market: Market, large: str) -> None:
    market.clock.advance(days=400)
    record = market.get(f"/contracts/{large}/performance")
    assert set(record["assessments_due"]) == {k["name"] for k in record["kpis"]}


def test_a_smaller_contract_needs_no_kpis_and_others_cannot_define_them(market: Market) -> None:
    small, _ = market.contract(value="400000.00")
    record = market.get(f"/contracts/{small}/performance")
    assert (record["larger_contract"], record["kpis_required"], record["kpis"]) == (False, 0, [])
    market.post(
        f"/contracts/{small}/kpis",
        {"name": "x", "unit": "%", "target": "1", "tolerance": "1"},
        expect=403,
        role="supplier_bid_manager",
    )


@pytest.mark.parametrize(
    ("value", "higher", "rating"),
    [
        ("90", True, Rating.GOOD),
        ("85", True, Rating.APPROACHING_TARGET),
        ("84.99", True, Rating.REQUIRES_IMPROVEMENT),
        ("80", True, Rating.REQUIRES_IMPROVEMENT),
        ("79.99", True, Rating.INADEQUATE),
        ("95", False, Rating.APPROACHING_TARGET),
        ("89", False, Rating.GOOD),
    ],
)
def test_a_rating_at_each_boundary(value: str, higher: bool, rating: Rating) -> None:
    kpi = KpiDefinition(name="k", unit="%", target=Decimal(90), higher_is_better=higher, tolerance=Decimal(5))
    assert rate(kpi, Decimal(value)) is rating


def test_mobilisation_milestones_fall_within_mobilisation_and_are_flagged_late(market: Market) -> None:
    """Six months' mobilisation before the service starts (seed 001) unless the contract says otherwise."""
    contract, _ = market.contract(starts_in_days=120)
    today = market.clock.now.date()
    starts = today + timedelta(days=120)
    plan = f"/contracts/{contract}/mobilisation-milestones"
    head = count_events(market.url)
    for due in (starts + timedelta(days=1), add_months(starts, -6) - timedelta(days=1)):
        refused = market.post(plan, {"name": "Outside", "due_on": due.isoformat()}, expect=409)
        assert refused.json["rule"] == "a milestone falls within mobilisation"
    assert count_events(market.url) == head
    market.post(plan, {"name": "Staff recruited", "due_on": (today + timedelta(days=10)).isoformat()})
    market.post(plan, {"name": "Premises ready", "due_on": (today + timedelta(days=60)).isoformat()})
    market.post(plan, {"name": "Case system live", "due_on": (today + timedelta(days=100)).isoformat()})
    achieved = f"/contracts/{contract}/milestone-achievements"
    market.post(achieved, {"name": "Staff recruited", "achieved_on": today.isoformat()})
    market.clock.advance(days=70)
    mobilisation = market.get(f"/contracts/{contract}/performance")["mobilisation"]
    assert mobilisation["starts_on"] == add_months(starts, -6).isoformat()
    assert mobilisation["service_starts_on"] == starts.isoformat()
    states = {m["name"]: m["state"] for m in mobilisation["milestones"]}
    assert states == {"Staff recruited": "achieved", "Premises ready": "late", "Case system live": "due"}
    assert mobilisation["late"] is True
    market.post(achieved, {"name": "Premises ready", "achieved_on": market.clock.now.date().isoformat()})
    mobilisation = market.get(f"/contracts/{contract}/performance")["mobilisation"]
    assert {m["name"]: m["state"] for m in mobilisation["milestones"]}["Premises ready"] == "achieved late"
    assert mobilisation["late"] is False
    again = market.post(
        achieved, {"name": "Premises ready", "achieved_on": market.clock.now.date().isoformat()}, expect=409
    )
    assert again.json["rule"] == "a milestone is achieved once"
    future = market.post(
        achieved,
        {"name": "Case system live", "achieved_on": (market.clock.now.date() + timedelta(days=1)).isoformat()},
        expect=409,
    )
    assert future.json["rule"] == "a milestone is achieved when it happens"
