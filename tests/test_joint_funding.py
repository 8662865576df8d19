"""Joint funding (issue 19, item 1): a call-off's funders and their shares, each year's commitment split across their
budget lines to the penny; the split's rule, in memory and as a property."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ledger.payments.funding import split
from ledger.payments.money import financial_year
from tests.finance_world import budget_line
from tests.market import Market
from tests.support import count_events


def test_a_joint_contracts_commitment_is_split_across_its_funders_lines_to_the_penny(market: Market) -> None:
    lead = market.commissioner("region-a", "region-a")
    pcc = market.commissioner("pcc", "northumbria")
    council = market.commissioner("council", "northumbria")
    year = financial_year((market.clock.now + timedelta(days=42)).date())  # the contract's first year
    lines = {c: budget_line(market, c, year, "Core", "5000000.00") for c in (lead, pcc, council)}
    supplier = market.supplier("Joint Provider", lots=("dependency-and-recovery",), areas=("northumbria",))
    body = {
        "title": "Substance misuse, Northumbria",
        "specification": "Joint commissioning with the PCC and the council.",
        "lead_commissioner_id": lead,
        "partner_commissioner_ids": [pcc, council],
        "need": "dependency-and-recovery",
        "geography": "northumbria",
        "award_type": "contract",
        "estimated_value": "900000.00",
        "initial_term_months": 36,
        "criteria": [{"name": "quality", "kind": "quality", "weight": 100}],
        "response_deadline": (market.clock.now + timedelta(days=30)).isoformat(),
    }
    call_off = market.post("/call-offs", body, expect=201, role="commissioner").json["id"]
    before = count_events(market.url)
    for shares, path in (
        ([{"commissioner_id": lead, "percentage": "50"}, {"commissioner_id": pcc, "percentage": "40"}], "$.shares"),
        ([{"commissioner_id": supplier, "percentage": "100"}], "$.shares[0].commissioner_id"),
    ):
        refused = market.post(f"/call-offs/{call_off}/funding", {"shares": shares}, expect=422)
        assert [e["path"] for e in refused.json["errors"]] == [path]
    assert count_events(market.url) == before
    thirds = [{"commissioner_id": c, "percentage": "33.33"} for c in (lead, pcc)] + [
        {"commissioner_id": council, "percentage": "33.34"}
    ]
    market.post(f"/call-offs/{call_off}/funding", {"shares": thirds})
    market.post(f"/call-offs/{call_off}/publication")
    market.tender(call_off, supplier)
    market.clock.advance(days=31)
    market.post(f"/call-offs/{call_off}/tender-opening")
    scores = {"quality": "70"}
    for evaluator in ("evaluator-1", "evaluator-2"):
        market.post(
            f"/call-offs/{call_off}/scores",
            {"supplier_id": supplier, "scores": scores, "comments": "Good."},
            sub=evaluator,
        )
    market.post(
        f"/call-offs/{call_off}/moderations", {"supplier_id": supplier, "scores": scores, "rationale": "Agreed"}
    )
    market.post(f"/call-offs/{call_off}/evaluation")
    market.post(f"/call-offs/{call_off}/award", {"supplier_id": supplier, "rationale": "Only tender"})
    market.clock.advance(days=10, seconds=1)
    today = market.clock.now.date()
    market.post(
        f"/call-offs/{call_off}/contract",
        {"value": "900000.00", "start_date": today.isoformat(), "end_date": (today + timedelta(days=364)).isoformat()},
        expect=201,
    )
    committed = {b["line_id"]: Decimal(b["committed"]) for b in market.get("/budgets", role="finance_officer")["items"]}
    parts = [committed[lines[c]] for c in (lead, pcc, council)]
    assert sum(parts) <= Decimal("900000.00") and all(p > 0 for p in parts)
    this_year = sum(parts)  # the first year's share of the value (the rest falls in the next financial year)
    assert parts == [
        p for _, p in split(this_year, [("a", Decimal("33.33")), ("b", Decimal("33.33")), ("c", Decimal("33.34"))])
    ]
    late = market.post(f"/call-offs/{call_off}/funding", {"shares": thirds}, expect=409)
    assert late.json["rule"] == "funding is agreed before the contract"


def test_the_split_hands_the_odd_pennies_to_the_largest_remainders() -> None:
    assert split(Decimal("100.00"), [("a", Decimal(1))] * 3) == [
        ("a", Decimal("33.34")),
        ("a", Decimal("33.33")),
        ("a", Decimal("33.33")),
    ]
    assert [p for _, p in split(Decimal("0.05"), [("a", Decimal(60)), ("b", Decimal(40))])] == [
        Decimal("0.03"),
        Decimal("0.02"),
    ]
    assert [p for _, p in split(Decimal("10.00"), [("a", Decimal(0)), ("b", Decimal(1))])] == [
        Decimal("0.00"),
        Decimal("10.00"),
    ]


@given(
    st.integers(min_value=0, max_value=10**13).map(lambda pence: Decimal(pence) / 100),
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0),
)
def test_any_split_sums_to_the_amount_exactly_each_part_within_a_penny_of_its_share(
    amount: Decimal, weights: list[int]
) -> None:
    parts = split(amount, [(i, Decimal(w)) for i, w in enumerate(weights)])
    assert sum(p for _, p in parts) == amount
    total = Decimal(sum(weights))
    for (_, part), weight in zip(parts, weights, strict=True):
        exact = amount * weight / total
        assert part == part.quantize(Decimal("0.01")) and part >= 0
        assert abs(part - exact) < Decimal("0.01")
