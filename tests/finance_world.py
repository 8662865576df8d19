"""A small finance history told through the API, for the finance views and pages: two regions' commissioners with
budget lines (one ring-fenced), a contract each, invoices matched, over-claimed and unmatched, approved, disputed,
credited and paid, and one approved invoice left unpaid."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ledger.payments.money import financial_year
from tests.market import Market
from tests.test_payments import attend, charges, invoice, started

# A year's money for each region, and the Regional Outcome and Innovation Fund's share (ring-fenced).
CORE = "5000000.00"
ROIF = "1666666.00"


@dataclass(frozen=True)
class FinanceWorld:
    lead_a: str  # commissioner ids
    lead_b: str
    org_a: str  # the organisations their staff act for
    org_b: str
    year: str  # the financial year both contracts start in
    line_a: str  # region A's core budget line
    roif_a: str  # region A's ring-fenced line
    line_b: str
    contract_a: str
    supplier_a: str
    contract_b: str
    supplier_b: str
    paid: str  # region A's invoice: approved, credited and paid within 30 days
    disputed: str  # region A's invoice: over-claimed and unmatched lines, both disputed
    unpaid: str  # region B's invoice: approved, not paid


def budget_line(market: Market, commissioner: str, year: str, name: str, amount: str, **extra: object) -> str:
    body = {"commissioner_id": commissioner, "financial_year": year, "name": name, "amount": amount, **extra}
    return market.post("/budgets", body, expect=201, role="finance_officer").json["id"]


def decide(market: Market, contract: str, invoice_id: str, step: str, body: dict) -> None:
    market.post(f"/contracts/{contract}/invoices/{invoice_id}/{step}", body, role="finance_officer")


def pay(market: Market, contract: str, invoice_id: str, amount: str, key: str) -> None:
    paid = market.client.simulate_post(
        f"/contracts/{contract}/invoices/{invoice_id}/payments",
        json={"amount": amount, "paid_on": market.clock.now.date().isoformat(), "remittance_reference": key.upper()},
        headers={**market.headers("finance_officer", "hmpps-finance"), "Idempotency-Key": key},
    )
    assert paid.status_code == 201, paid.text
    market.position = max(market.position, paid.json["position"])


def finance_world(market: Market) -> FinanceWorld:
    lead_a = market.commissioner("region-a", "region-a")
    lead_b = market.commissioner("region-b", "region-b")
    year = financial_year((market.clock.now + timedelta(days=42)).date())  # when market.contract() starts them
    line_a = budget_line(market, lead_a, year, "Core rehabilitative services", CORE)
    roif_a = budget_line(
        market, lead_a, year, "Regional Outcome and Innovation Fund", ROIF, code="roif", ring_fenced=True
    )
    line_b = budget_line(market, lead_b, year, "Core rehabilitative services", CORE)

    contract_a, supplier_a = market.contract(lead=lead_a, geography="region-a")
    market.post(
        f"/contracts/{contract_a}/price-schedules",
        {
            "effective_from": market.clock.now.date().isoformat(),
            "referral_fee": {"LOW": "150.00", "MEDIUM": "250.00", "HIGH": "400.00"},
            "session_fee": "80.00",
        },
        role="finance_officer",
    )
    referral = started(market, contract_a)
    attend(market, referral)
    attend(market, referral)
    market.get(f"/contracts/{contract_a}/account")  # the charges are in the view
    fee, first, second = charges(market, contract_a)
    paid = invoice(
        market, contract_a, [{"description": "Referral fee", "amount": "250.00", "charge_ids": [fee["id"]]}], "A-001"
    ).json["id"]
    decide(market, contract_a, paid, "approvals", {"line": 1})
    decide(market, contract_a, paid, "credit-notes", {"line": 1, "amount": "50.00", "reason": "Agreed discount"})
    market.clock.advance(days=10)
    pay(market, contract_a, paid, "200.00", "pay-a-001")
    disputed = invoice(
        market,
        contract_a,
        [
            {"description": "Sessions", "amount": "200.00", "charge_ids": [first["id"], second["id"]]},
            {"description": "Travel", "amount": "35.00"},
        ],
        "A-002",
    ).json["id"]
    decide(market, contract_a, disputed, "disputes", {"line": 1, "reason": "Two sessions at 80.00 each"})
    decide(market, contract_a, disputed, "disputes", {"line": 2, "reason": "Travel is not chargeable"})

    contract_b, supplier_b = market.contract(lead=lead_b, geography="region-b")
    market.post(
        f"/contracts/{contract_b}/price-schedules",
        {"effective_from": market.clock.now.date().isoformat(), "fixed_fee_per_month": "1000.00"},
        role="finance_officer",
    )
    month = market.clock.now.strftime("%Y-%m")
    market.clock.advance(days=40)
    market.post(f"/contracts/{contract_b}/period-closures", {"month": month}, role="finance_officer")
    market.get(f"/contracts/{contract_b}/account")
    (fixed,) = charges(market, contract_b)
    unpaid = invoice(
        market,
        contract_b,
        [{"description": "Fixed fee", "amount": fixed["amount"], "charge_ids": [fixed["id"]]}],
        "B-1",
    ).json["id"]
    decide(market, contract_b, unpaid, "approvals", {"line": 1})
    market.get(f"/invoices/{unpaid}", role="finance_officer")  # the views have caught up with all of it
    return FinanceWorld(
        lead_a=lead_a,
        lead_b=lead_b,
        org_a=market.orgs[lead_a],
        org_b=market.orgs[lead_b],
        year=year,
        line_a=line_a,
        roif_a=roif_a,
        line_b=line_b,
        contract_a=contract_a,
        supplier_a=supplier_a,
        contract_b=contract_b,
        supplier_b=supplier_b,
        paid=paid,
        disputed=disputed,
        unpaid=unpaid,
    )
