"""Market health (issue 19, item 3): per region, lot and financial year, through the API as a commissioner reads it."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.framework import market_health as health
from tests.market import Market
from tests.market_world import LOT, PART, REGION, yorkshire_world


@pytest.fixture(scope="module")
def yorkshire(market: Market) -> dict[str, str]:
    return yorkshire_world(market)


def _report(market: Market, **params: object) -> dict:
    return market.get("/catalogue/market-health", params={k: str(v) for k, v in params.items()}, role="commissioner")


def test_a_region_and_lot_in_a_year_its_suppliers_competition_money_and_concentration(
    market: Market, yorkshire: dict[str, str]
) -> None:
    assert yorkshire["year"] == "2026-27"
    answer = _report(market, financial_year="2026-27", region=REGION, category=LOT)
    (cell,) = answer["cells"]
    assert (cell["region_name"], cell["category_name"]) == ("Yorkshire and the Humber", "Finance, Benefits and Debt")
    assert cell["suppliers_qualified"] == 2  # the invitation rule's answer for a region-wide call-off
    assert cell["suppliers_qualified_in_part"] == 1  # the mutual covers West Yorkshire only
    assert cell["small_suppliers_qualified"] == 1
    assert cell["suppliers_active"] == 2
    assert (cell["call_offs_published"], cell["call_offs_opened"], cell["bids_per_call_off"]) == (2, 2, "1.0")
    assert cell["awards"] == {
        "count": 2,
        "value": "1800000.00",
        "small": "300000.00",
        "large": "1500000.00",
        "small_share": "16.67",
        "voluntary": "300000.00",
        "mutual": "0.00",
        "public": "0.00",
        "private": "1500000.00",
    }
    assert (cell["spend"]["value"], cell["spend"]["small_share"]) == ("4000.00", "25.00")
    assert (cell["spend"]["private"], cell["spend"]["voluntary"]) == ("3000.00", "1000.00")
    # 75% and 25%: 75² + 25² = 6,250
    assert cell["concentration"] == {
        "suppliers": 2,
        "top_supplier_share": "75.00",
        "hhi": "6250.00",
        "level": "highly concentrated",
    }


def test_gaps_are_lots_in_police_areas_with_too_few_qualified_suppliers_or_no_live_contract(
    market: Market, yorkshire: dict[str, str]
) -> None:
    thin = _report(market, financial_year="2026-27", region=REGION, category=LOT, minimum_qualified=3)["gaps"]
    # West Yorkshire has the mutual as well: three; the region's other police areas have two
    assert PART not in {g["area"] for g in thin}
    assert {g["area"] for g in thin} == {"humberside", "north-yorkshire", "south-yorkshire"}
    assert all(g["reasons"] == ["2 qualified suppliers, fewer than 3"] and g["live_contracts"] == 2 for g in thin)
    assert _report(market, financial_year="2026-27", region=REGION, category=LOT, minimum_qualified=2)["gaps"] == []
    nothing = _report(market, financial_year="2026-27", region=REGION, category="women")["gaps"]
    assert {g["area"] for g in nothing} == {"humberside", "north-yorkshire", "south-yorkshire", PART}
    assert nothing[0]["reasons"] == ["0 qualified suppliers, fewer than 3", "no live contract"]


def test_another_year_holds_none_of_that_years_money(market: Market, yorkshire: dict[str, str]) -> None:
    (cell,) = _report(market, financial_year="2025-26", region=REGION, category=LOT)["cells"]
    assert (cell["awards"]["count"], cell["spend"]["value"], cell["call_offs_published"]) == (0, "0.00", 0)
    assert cell["concentration"]["hhi"] is None
    assert cell["suppliers_qualified"] == 2  # qualification is the catalogue's as it stands


def test_the_whole_market_counts_each_contract_once(market: Market, yorkshire: dict[str, str]) -> None:
    answer = _report(market, financial_year="2026-27")
    assert len(answer["cells"]) == 12 * 14
    spent = sum(Decimal(c["spend"]["value"]) for c in answer["cells"] if c["region"] == REGION)
    assert Decimal(answer["totals_spend"]["value"]) >= spent == Decimal("4000.00")


def test_the_report_as_csv_has_a_row_per_region_and_lot(market: Market, yorkshire: dict[str, str]) -> None:
    text = market.client.simulate_get(
        "/catalogue/market-health.csv",
        params={"financial_year": "2026-27", "region": REGION, "category": LOT},
        headers=market.headers("finance_officer", "hmpps-finance"),
    )
    assert text.status_code == 200, text.text
    assert text.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(text.text)))
    assert (row["region_name"], row["awards_value"], row["hhi"], row["spend_small_share"]) == (
        "Yorkshire and the Humber",
        "1800000.00",
        "6250.00",
        "25.00",
    )


def test_bad_cuts_are_refused_naming_each(market: Market) -> None:
    refused = market.client.simulate_get(
        "/catalogue/market-health",
        params={"financial_year": "2026-28", "region": "west-yorkshire", "category": "gardening"},
        headers=market.headers("commissioner", "region-a"),
    )
    assert refused.status_code == 422, refused.text
    named = {e["path"] for e in refused.json["errors"]}
    assert named == {"financial_year", "region", "category"}
    for bad in ("0", "101", "x"):
        answer = market.client.simulate_get(
            "/catalogue/market-health",
            params={"financial_year": "2026-27", "minimum_qualified": bad},
            headers=market.headers("commissioner", "region-a"),
        )
        assert answer.status_code == 422 and answer.json["errors"][0]["path"] == "minimum_qualified"


def test_suppliers_do_not_read_the_market_health_report(market: Market) -> None:
    answer = market.client.simulate_get(
        "/catalogue/market-health",
        params={"financial_year": "2026-27"},
        headers=market.headers("supplier_bid_manager", "some-supplier"),
    )
    assert answer.status_code == 403


# -- the rules, without the ledger -------------------------------------------------------------------


def test_concentration_of_one_supplier_is_total_and_of_equal_shares_is_ten_thousand_over_n() -> None:
    assert health.concentration({"a": Decimal("5")}).hhi == Decimal("10000.00")
    four = health.concentration({k: Decimal("2.50") for k in "abcd"})
    assert (four.hhi, four.top_supplier_share, four.level) == (
        Decimal("2500.00"),
        Decimal("25.00"),
        "highly concentrated",
    )
    ten = health.concentration({k: Decimal("1") for k in "abcdefghij"})
    assert (ten.hhi, ten.level) == (Decimal("1000.00"), "moderately concentrated")
    assert health.concentration({}).hhi is None


@given(st.lists(st.integers(min_value=1, max_value=10**9), min_size=1, max_size=40))
def test_concentration_lies_between_ten_thousand_over_n_and_ten_thousand(pennies: list[int]) -> None:
    c = health.concentration({i: Decimal(p) / 100 for i, p in enumerate(pennies)})
    n = len(pennies)
    assert c.hhi is not None and c.top_supplier_share is not None
    assert Decimal(10000) / n - Decimal("0.01") <= c.hhi <= Decimal("10000.00")
    assert c.top_supplier_share * c.top_supplier_share <= c.hhi + Decimal(1)


def test_a_gap_says_each_thing_wrong() -> None:
    assert health.gap_reasons(3, 1) == ()
    assert health.gap_reasons(1, 1) == ("1 qualified supplier, fewer than 3",)
    assert health.gap_reasons(5, 0, minimum=2) == ("no live contract",)
