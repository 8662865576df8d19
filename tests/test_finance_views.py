"""Finance's answers name what they hold and show where each invoice stands: spend lines, invoices, aged payables and
payments compliance by name; an invoice's decisions with their reasons; budget lines with what their contracts were
charged and paid, and a line's burn month by month; commissioners see only their own."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from tests.finance_world import CORE, FinanceWorld, finance_world
from tests.market import Market


@pytest.fixture(scope="module")
def world(market: Market) -> Iterator[FinanceWorld]:
    yield finance_world(market)


def commissioner(market: Market, org: str) -> dict[str, str]:
    return market.headers("commissioner", org)


def test_spend_lines_carry_the_names_of_their_keys(market: Market, world: FinanceWorld) -> None:
    names = {
        group: {line["key"]: line["name"] for line in market.get("/finance/spend", params={"group_by": group})["lines"]}
        for group in ("supplier", "commissioner", "contract", "region", "category", "month")
    }
    assert names["supplier"][world.supplier_a] == "Provider for accommodation in region-a"
    assert names["commissioner"][world.lead_b] == "Commissioner region-b"
    assert names["contract"][world.contract_a] == "Accommodation services, North East"
    assert names["region"]["region-a"] == "North East" and names["category"]["accommodation"] == "Accommodation"
    assert set(names["month"].values()) == {None}  # a month is its own name


def test_invoices_show_where_they_stand_their_flags_and_age(market: Market, world: FinanceWorld) -> None:
    items = {i["invoice_id"]: i for i in market.get("/invoices", role="finance_officer")["items"]}
    paid, disputed, unpaid = items[world.paid], items[world.disputed], items[world.unpaid]
    assert (paid["status"], paid["supplier_name"], paid["contract_title"]) == (
        "paid",
        "Provider for accommodation in region-a",
        "Accommodation services, North East",
    )
    assert paid["age_days"] == 10  # submitted, then paid ten days later
    assert (disputed["status"], disputed["unmatched_lines"], disputed["over_claimed_lines"]) == ("disputed", 1, 1)
    assert (unpaid["status"], unpaid["commissioner_name"]) == ("approved", "Commissioner region-b")
    flagged = market.get("/invoices", params={"flagged": "true"}, role="finance_officer")["items"]
    assert [i["invoice_id"] for i in flagged] == [world.disputed]
    approved = market.get("/invoices", params={"status": "approved"}, role="finance_officer")["items"]
    assert [i["invoice_id"] for i in approved] == [world.unpaid]
    refused = market.client.simulate_get(
        "/invoices", params={"status": "lost"}, headers=market.headers("finance_officer", "hmpps-finance")
    )
    assert refused.status_code == 422 and refused.json["errors"][0]["path"] == "status"


def test_an_invoice_shows_each_lines_decisions_with_reasons_and_the_charges_matched(
    market: Market, world: FinanceWorld
) -> None:
    disputed = market.get(f"/invoices/{world.disputed}", role="finance_officer")
    assert [(d["line"], d["kind"], d["reason"]) for d in disputed["decisions"]] == [
        (1, "disputed", "Two sessions at 80.00 each"),
        (2, "disputed", "Travel is not chargeable"),
    ]
    assert [c["amount"] for c in disputed["charges"]] == ["80.00", "80.00"]
    paid = market.get(f"/invoices/{world.paid}", role="finance_officer")
    assert [(d["kind"], d["amount"]) for d in paid["decisions"]] == [("approved", "250.00"), ("credit_note", "50.00")]
    assert paid["decisions"][0]["decided_by"] and paid["payments"][0]["remittance"] == "PAY-A-001"


def test_budget_lines_carry_what_their_contracts_were_charged_and_paid_and_burn_by_month(
    market: Market, world: FinanceWorld
) -> None:
    lines = {
        b["line_id"]: b
        for b in market.get("/budgets", params={"financial_year": world.year}, role="finance_officer")["items"]
    }
    core, roif = lines[world.line_a], lines[world.roif_a]
    assert (core["charged"], core["invoiced"], core["paid"]) == ("410.00", "200.00", "200.00")
    assert Decimal(core["remaining"]) == Decimal(CORE) - Decimal("200.00") and core["commissioner_name"]
    assert (roif["ring_fenced"], roif["committed"], roif["charged"]) == (True, "0.00", "0")
    burn = market.get(f"/budgets/{world.line_a}/burn", role="finance_officer")
    assert burn["line"]["line_id"] == world.line_a and len(burn["months"]) == 12
    assert burn["months"][0]["month"] == f"{world.year[:4]}-04" and burn["months"][-1]["month"].endswith("-03")
    assert sum(Decimal(m["charged"]) for m in burn["months"]) == Decimal("410.00")
    assert burn["months"][-1]["charged_to_date"] == "410.00" and burn["months"][-1]["paid_to_date"] == "200.00"


def test_a_commissioner_sees_only_their_own_money(market: Market, world: FinanceWorld) -> None:
    own = commissioner(market, world.org_a)
    spend = market.client.simulate_get("/finance/spend", params={"group_by": "commissioner"}, headers=own).json
    assert [line["key"] for line in spend["lines"]] == [world.lead_a]
    budgets = market.client.simulate_get("/budgets", headers=own).json["items"]
    assert {b["commissioner_id"] for b in budgets} == {world.lead_a}
    assert market.client.simulate_get(f"/budgets/{world.line_b}/burn", headers=own).status_code == 404
    assert market.client.simulate_get(f"/budgets/{world.line_a}/burn", headers=own).status_code == 200
    period = {"period": "2026-H1"}
    compliance = market.client.simulate_get("/finance/payments-compliance", params=period, headers=own).json
    assert [p["commissioner_id"] for p in compliance["lines"]] == [world.lead_a]
    everyone = market.get("/finance/payments-compliance", params=period)
    assert {p["commissioner_name"] for p in everyone["lines"]} >= {"Commissioner region-a", "Commissioner region-b"}
    notice = market.client.simulate_get(
        "/finance/payments-compliance/notice", params={**period, "commissioner_id": world.lead_b}, headers=own
    ).json
    assert notice["contracting_authority"]["id"] == world.lead_a  # their own notice, whichever they name
    aged = market.client.simulate_get("/finance/aged-payables", headers=own).json
    assert aged["items"] == []  # region B's unpaid invoice is not theirs
    invoices = market.client.simulate_get("/invoices", headers=own).json["items"]
    assert {i["invoice_id"] for i in invoices} == {world.paid, world.disputed}


@pytest.mark.parametrize(
    ("period", "says"),
    [
        ("2026", 'e.g. "2026-H1"'),
        ("2026-H3", 'e.g. "2026-H1"'),
        ("2026-h1", 'e.g. "2026-H1"'),
        ("2025-H1", "no reporting period before 2025-H2"),
        ("2200-H1", "nor after 2199-H2"),
        ("", 'e.g. "2026-H1"'),
    ],
)
def test_a_reporting_period_that_is_not_one_is_refused_naming_it(
    market: Market, world: FinanceWorld, period: str, says: str
) -> None:
    finance = market.headers("finance_officer", "hmpps-finance")
    for path in ("/finance/payments-compliance", "/finance/payments-compliance/notice"):
        refused = market.client.simulate_get(
            path, params={"period": period, "commissioner_id": world.lead_a}, headers=finance
        )
        assert refused.status_code == 422, refused.text
        assert [(e["path"], says in e["message"]) for e in refused.json["errors"]] == [("period", True)]


def test_a_period_and_a_commissioner_are_required(market: Market, world: FinanceWorld) -> None:
    finance = market.headers("finance_officer", "hmpps-finance")
    missing = market.client.simulate_get("/finance/payments-compliance", headers=finance)
    assert missing.status_code == 422 and missing.json["errors"][0]["path"] == "period"
    anyone = market.client.simulate_get(
        "/finance/payments-compliance/notice", params={"period": "2026-H1"}, headers=finance
    )
    assert anyone.status_code == 422 and anyone.json["errors"][0]["path"] == "commissioner_id"
    unknown = market.client.simulate_get(
        "/finance/payments-compliance/notice",
        params={"period": "2026-H1", "commissioner_id": world.contract_a},
        headers=finance,
    )
    assert unknown.status_code == 404
