"""A market to judge the health of (issue 19): one lot in one region, in one financial year."""

from __future__ import annotations

from ledger.payments.money import financial_year
from tests.finance_world import decide, pay
from tests.market import Market
from tests.test_payments import charges, invoice

LOT = "fbd"
REGION = "region-c"  # Yorkshire and the Humber
PART = "west-yorkshire"  # one police area of it


def _fixed_fee_paid(market: Market, contract: str, fee: str, number: str) -> None:
    """A month's fixed fee charged, invoiced, approved and paid."""
    market.post(
        f"/contracts/{contract}/price-schedules",
        {"effective_from": market.clock.now.date().isoformat(), "fixed_fee_per_month": fee},
        role="finance_officer",
    )
    month = market.clock.now.strftime("%Y-%m")
    market.clock.advance(days=32)
    market.post(f"/contracts/{contract}/period-closures", {"month": month}, role="finance_officer")
    market.get(f"/contracts/{contract}/account")
    (charge,) = charges(market, contract)
    invoice_id = invoice(
        market,
        contract,
        [{"description": "Fixed fee", "amount": charge["amount"], "charge_ids": [charge["id"]]}],
        number,
    ).json["id"]
    decide(market, contract, invoice_id, "approvals", {"line": 1})
    pay(market, contract, invoice_id, charge["amount"], f"pay-{number.lower()}")


def yorkshire_world(market: Market) -> dict[str, str]:
    """Fixed-fee contracts for one lot in one region: a large private supplier paid 3,000.00 and a small voluntary one
    paid 1,000.00; a small mutual qualified in one police area only; all in one financial year."""
    market.clock.advance(days=35)  # 6 April 2026: every step below falls in 2026-27
    lead = market.commissioner("region-c", REGION)
    private = market.supplier(
        "Large Private Ltd", lots=(LOT,), areas=(REGION,), organisation_type="private", is_small=False
    )
    voluntary = market.supplier("Small Voluntary", lots=(LOT,), areas=(REGION,))
    market.supplier("Local Mutual", lots=(LOT,), areas=(PART,), organisation_type="mutual")
    big, _ = market.contract(need=LOT, geography=REGION, lead=lead, supplier=private, value="1500000.00")
    small, _ = market.contract(need=LOT, geography=REGION, lead=lead, supplier=voluntary, value="300000.00")
    _fixed_fee_paid(market, big, "3000.00", "P-1")
    _fixed_fee_paid(market, small, "1000.00", "V-1")
    return {
        "year": financial_year(market.clock.now.date()),
        "private": private,
        "voluntary": voluntary,
        "commissioner_org": market.orgs[lead],
    }
