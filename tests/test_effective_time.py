"""Facts take effect when they happened, not when they were written down (ADR 25).

Each kind of fact that names its day is recorded days later, then read back: as effective at the day it happened
it counts (aggregates rebuilt as of a horizon, the log's effective window, the views), as recorded that day it does
not yet. A fact dated after today, or before what it must follow, is refused by name and writes nothing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from uuid import UUID

from ledger.payments.accounts import account_id_for
from tests.market import Market
from tests.support import count_events
from tests.test_payments import approved_invoice, priced
from tests.test_referrals import assessed

PERSON = {"given_name": "Jo", "family_name": "Brown", "date_of_birth": "1985-02-03", "gender": "female"}


def audit(market: Market, path: str, **params: object) -> dict:
    result = market.client.simulate_get(path, params=params, headers=market.headers("auditor"))
    assert result.status_code == 200, result.text
    return result.json


def as_effective(market: Market, aggregate: str, day: date) -> dict:
    """The aggregate as it stood when `day` ended, counting every fact that had happened by then."""
    return audit(market, f"/audit/aggregates/{aggregate}", as_effective=day.isoformat())["state"]


def as_recorded(market: Market, aggregate: str, day: date) -> dict:
    """The aggregate as the ledger knew it when `day` ended."""
    return audit(market, f"/audit/aggregates/{aggregate}", as_recorded=day.isoformat())["state"]


def effective_on(market: Market, aggregate: str, day: date) -> list[str]:
    """The types of the aggregate's events effective on `day` (the log filtered by its effective window)."""
    window = {"effective_since": day.isoformat(), "effective_until": day.isoformat()}
    return [e["type"] for e in audit(market, "/audit/events", aggregate=aggregate, **window)["items"]]


def today(market: Market) -> date:
    return market.clock.now.date()


def refused(result: object, rule: str, field: str) -> None:
    body = result.json  # type: ignore[attr-defined]
    assert (body["status"], body["rule"]) == (409, rule), body
    assert field in body["detail"], body


# -- Unpaid Work ---------------------------------------------------------------------------------------


def allocate(market: Market, contract: str, hours: int = 60) -> str:
    body = {
        "contract_id": contract,
        "crn": "E200001",
        "person": PERSON,
        "hours_ordered": hours,
        "employed": True,
        "made_on": today(market).isoformat(),
    }
    return market.post("/unpaid-work", body, expect=201, role="probation_practitioner").json["id"]


def on_order(market: Market, order: str, path: str, body: dict, *, expect: int = 200):
    return market.post(f"/unpaid-work/{order}/{path}", body, expect=expect, role="provider_caseworker")


def test_unpaid_work_written_down_days_later_counts_from_the_days_it_happened(market: Market) -> None:
    contract, supplier = market.innovation_partner()
    allocated = today(market)
    order = allocate(market, contract)
    inducted, worked, stood_down = allocated, allocated + timedelta(days=1), allocated + timedelta(days=2)
    market.clock.advance(days=4)  # the caseworker catches up four days on
    on_order(market, order, "induction", {"on": inducted.isoformat(), "risk_and_needs_assessed": True})
    on_order(market, order, "sessions", {"on": worked.isoformat(), "hours": "7.5", "placement": "Community garden"})
    on_order(market, order, "stand-downs", {"on": stood_down.isoformat(), "reason": "Minibus broke down"})

    assert as_effective(market, order, inducted)["inducted_on"] == inducted.isoformat()
    assert as_effective(market, order, inducted)["worked"] == "0"
    assert as_effective(market, order, worked)["worked"] == "7.5"
    assert as_recorded(market, order, worked)["inducted_on"] is None  # the ledger did not know yet
    assert as_recorded(market, order, worked)["worked"] == "0"
    assert effective_on(market, order, inducted) == ["UnpaidWorkOrderAllocated", "InductionCompleted"]
    assert effective_on(market, order, worked) == ["UnpaidWorkSessionRecorded"]
    assert effective_on(market, order, stood_down) == ["StandDownRecorded"]

    def unpaid_work(**horizon: str) -> dict:
        return market.get("/caseload", params={"supplier_id": supplier, **horizon})["unpaid_work"]

    before = unpaid_work(as_effective=inducted.isoformat())
    assert (before["hours_worked"], before["stand_downs"]) == ("0.00", 0)
    assert unpaid_work(as_effective=worked.isoformat())["hours_worked"] == "7.50"
    assert unpaid_work(as_effective=stood_down.isoformat())["stand_downs"] == 1
    assert unpaid_work(as_recorded=stood_down.isoformat())["hours_worked"] == "0.00"


def test_unpaid_work_dated_after_today_or_before_the_allocation_is_refused(market: Market) -> None:
    contract, _ = market.innovation_partner()
    order = allocate(market, contract)
    tomorrow, yesterday = today(market) + timedelta(days=1), today(market) - timedelta(days=1)
    written = count_events(market.url)
    induction = {"risk_and_needs_assessed": True}
    early = on_order(market, order, "induction", {"on": yesterday.isoformat(), **induction}, expect=409)
    refused(early, "induction not before the order's allocation", "$.on")
    ahead = on_order(market, order, "induction", {"on": tomorrow.isoformat(), **induction}, expect=409)
    refused(ahead, "induction not in the future", "$.on")
    ahead = on_order(market, order, "stand-downs", {"on": tomorrow.isoformat(), "reason": "Rain"}, expect=409)
    refused(ahead, "stand-down not in the future", "$.on")
    assert count_events(market.url) == written
    on_order(market, order, "induction", {"on": today(market).isoformat(), **induction})
    session = {"on": tomorrow.isoformat(), "hours": "7", "placement": "Canal towpath"}
    refused(on_order(market, order, "sessions", session, expect=409), "work session not in the future", "$.on")


# -- contracts -----------------------------------------------------------------------------------------


def contract_state(market: Market, contract: str, day: date) -> tuple[str, str]:
    state = as_effective(market, contract, day)
    return state["status"], state["value"]


def test_a_contract_varied_and_terminated_as_of_earlier_days_changes_from_those_days(market: Market) -> None:
    contract, _ = market.contract()
    concluded = today(market)
    varied, terminated = concluded + timedelta(days=1), concluded + timedelta(days=3)
    market.clock.advance(days=6)
    change = {"new_value": "950000.00", "reason": "Durham caseload added"}
    for day, rule in (
        ("2020-01-01", "variation not before the contract's conclusion"),
        ("2099-01-01", "variation not in the future"),
    ):
        result = market.post(f"/contracts/{contract}/variations", {**change, "effective_date": day}, expect=409)
        refused(result, rule, "$.effective_date")
    market.post(f"/contracts/{contract}/variations", {**change, "effective_date": varied.isoformat()})
    market.post(f"/contracts/{contract}/variations", {"new_value": "960000.00", "reason": "Indexation"})  # undated
    too_early = market.post(
        f"/contracts/{contract}/termination",
        {"grounds": "Provider insolvent", "effective_date": (concluded - timedelta(days=1)).isoformat()},
        expect=409,
    )
    refused(too_early, "termination not before the contract's conclusion", "$.effective_date")
    market.post(
        f"/contracts/{contract}/termination",
        {"grounds": "Provider insolvent", "effective_date": terminated.isoformat()},
    )

    assert contract_state(market, contract, concluded) == ("active", "900000.00")
    assert contract_state(market, contract, varied) == ("active", "950000.00")
    assert contract_state(market, contract, terminated) == ("terminated", "950000.00")
    assert contract_state(market, contract, today(market)) == ("terminated", "960000.00")  # undated: when recorded
    assert as_recorded(market, contract, terminated)["value"] == "900000.00"  # known only days later
    assert effective_on(market, contract, varied) == ["ContractVaried"]
    assert effective_on(market, contract, terminated) == ["ContractTerminated"]

    # Notice of a termination to come is given now: effective when recorded, the contract live until its day.
    noticed, _ = market.contract()
    ends = today(market) + timedelta(days=90)
    market.post(f"/contracts/{noticed}/termination", {"grounds": "Redesign", "effective_date": ends.isoformat()})
    notice = audit(market, "/audit/events", aggregate=noticed, type="ContractTerminated")["items"][0]
    assert notice["effective_at"] == notice["recorded_at"]
    assert market.get(f"/contracts/{noticed}")["live"] is True


# -- withdrawals ---------------------------------------------------------------------------------------


def test_a_referral_withdrawn_as_of_an_earlier_day_is_concluded_from_that_day(market: Market) -> None:
    contract, supplier = market.contract()
    made = today(market)
    referral = market.referral(contract)
    market.clock.advance(days=3)
    withdrawn = made + timedelta(days=1)
    for day, rule in (
        (made - timedelta(days=1), "withdrawal not before the referral was made"),
        (today(market) + timedelta(days=1), "withdrawal not in the future"),
    ):
        result = market.post(
            f"/referrals/{referral}/withdrawal",
            {"reason_code": "MOV", "withdrawn_on": day.isoformat()},
            expect=409,
            role="probation_practitioner",
        )
        refused(result, rule, "$.withdrawn_on")
    market.post(
        f"/referrals/{referral}/withdrawal",
        {"reason_code": "MOV", "detail": "Moved to Cardiff", "withdrawn_on": withdrawn.isoformat()},
        role="probation_practitioner",
    )
    assert as_effective(market, referral, made)["status"] == "sent"
    assert as_effective(market, referral, withdrawn)["status"] == "concluded"
    assert as_recorded(market, referral, withdrawn + timedelta(days=1))["status"] == "sent"
    assert effective_on(market, referral, withdrawn) == ["ReferralWithdrawn"]
    caseload = market.get("/caseload", params={"supplier_id": supplier, "as_effective": withdrawn.isoformat()})
    assert caseload["by_status"] == {"concluded": 1}
    assert market.get(f"/referrals/{referral}")["concluded_at"] == f"{withdrawn.isoformat()}T00:00:00Z"


def test_a_referral_cannot_be_withdrawn_as_of_a_day_before_a_session_it_recorded(market: Market) -> None:
    contract, _ = market.contract()
    referral = market.referral(contract)
    market.clock.advance(days=2)
    assessed(market, referral)  # the initial assessment attended today
    result = market.post(
        f"/referrals/{referral}/withdrawal",
        {"reason_code": "MOV", "withdrawn_on": (today(market) - timedelta(days=1)).isoformat()},
        expect=409,
        role="probation_practitioner",
    )
    refused(result, "withdrawal not before the last session recorded", "$.withdrawn_on")


def test_a_supplier_withdrawn_from_a_lot_as_of_an_earlier_day_was_not_eligible_from_that_day(market: Market) -> None:
    supplier = market.supplier("Receding Trust", lots=("accommodation", "ete"), areas=("region-a",))
    appointed = today(market)
    market.clock.advance(days=3)
    withdrawn = appointed + timedelta(days=1)
    body = {"category": "ete", "reason": "Service closed", "withdrawn_on": (appointed - timedelta(days=1)).isoformat()}
    early = market.post(f"/suppliers/{supplier}/lot-withdrawals", body, expect=409, role="supplier_bid_manager")
    refused(early, "withdrawal not before the lot's last change", "$.withdrawn_on")
    body["withdrawn_on"] = withdrawn.isoformat()
    market.post(f"/suppliers/{supplier}/lot-withdrawals", body, role="supplier_bid_manager")

    def eligible(**horizon: str) -> bool:
        answer = market.get("/catalogue/eligibility", params={"category": "ete", "area": "region-a", **horizon})
        return supplier in {s["supplier_id"] for s in answer["eligible"]}

    assert eligible(as_effective=appointed.isoformat())
    assert not eligible(as_effective=withdrawn.isoformat())
    assert eligible(as_recorded=withdrawn.isoformat())  # as the ledger knew it then
    assert as_effective(market, supplier, withdrawn)["lots"]["ete"]["status"] == "withdrawn"
    assert effective_on(market, supplier, withdrawn) == ["SupplierWithdrewFromLot"]


# -- payments ------------------------------------------------------------------------------------------


def pay(market: Market, contract: str, invoice: str, paid_on: date, key: str, *, expect: int = 201) -> dict:
    result = market.client.simulate_post(
        f"/contracts/{contract}/invoices/{invoice}/payments",
        json={"amount": "40.00", "paid_on": paid_on.isoformat(), "remittance_reference": f"BACS-{key}"},
        headers={**market.headers("finance_officer", "hmpps-finance"), "Idempotency-Key": key},
    )
    assert result.status_code == expect, result.text
    if expect == 201:
        market.position = max(market.position, result.json["position"])
    return result


def paid(market: Market, contract: str, **horizon: str) -> Decimal:
    invoices = market.get(f"/contracts/{contract}/account", params=horizon)["invoices"]
    return sum((Decimal(i["paid"]) for i in invoices), Decimal(0))


def test_a_payment_recorded_days_later_is_effective_on_the_day_it_was_paid(market: Market) -> None:
    contract, invoice, _ = approved_invoice(market)
    submitted = today(market)
    market.clock.advance(days=4)
    refused(
        pay(market, contract, invoice, submitted - timedelta(days=1), "pay-early", expect=409),
        "payment not before the invoice was submitted",
        "$.paid_on",
    )
    refused(
        pay(market, contract, invoice, today(market) + timedelta(days=1), "pay-ahead", expect=409),
        "payment not in the future",
        "$.paid_on",
    )
    paid_on = submitted + timedelta(days=1)
    pay(market, contract, invoice, paid_on, "pay-late")
    assert paid(market, contract, as_effective=submitted.isoformat()) == 0
    assert paid(market, contract, as_effective=paid_on.isoformat()) == Decimal("40.00")
    assert paid(market, contract, as_recorded=paid_on.isoformat()) == 0
    assert effective_on(market, str(account_id_for(UUID(contract))), paid_on) == ["PaymentMade"]


def charged(market: Market, contract: str, **horizon: str) -> Decimal:
    return Decimal(market.get(f"/contracts/{contract}/account", params=horizon)["charged"])


def test_a_month_closed_later_earns_its_fixed_fee_on_its_last_day(market: Market) -> None:
    contract, _ = priced(market, fixed_fee_per_month="1000.00")
    start = today(market)
    last_day = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    market.clock.advance(days=(last_day - start).days + 6)  # closed in the first week of the next month
    market.post(f"/contracts/{contract}/period-closures", {"month": start.strftime("%Y-%m")}, role="finance_officer")
    assert charged(market, contract, as_effective=(last_day - timedelta(days=1)).isoformat()) == 0
    assert charged(market, contract, as_effective=last_day.isoformat()) == Decimal("1000.00")
    assert charged(market, contract, as_recorded=(last_day + timedelta(days=1)).isoformat()) == 0


def test_a_milestone_met_days_before_it_is_recorded_earns_its_instalment_on_that_day(market: Market) -> None:
    contract, _ = priced(market, instalments=[{"milestone": "Service mobilised", "amount": "5000.00"}])
    met = today(market) + timedelta(days=1)
    market.clock.advance(days=3)
    ahead = market.post(
        f"/contracts/{contract}/milestones",
        {"milestone": "Service mobilised", "met_on": (today(market) + timedelta(days=1)).isoformat()},
        expect=409,
        role="finance_officer",
    )
    refused(ahead, "milestone not in the future", "$.met_on")
    market.post(
        f"/contracts/{contract}/milestones",
        {"milestone": "Service mobilised", "met_on": met.isoformat()},
        role="finance_officer",
    )
    assert charged(market, contract, as_effective=(met - timedelta(days=1)).isoformat()) == 0
    assert charged(market, contract, as_effective=met.isoformat()) == Decimal("5000.00")
    assert charged(market, contract, as_recorded=met.isoformat()) == 0
