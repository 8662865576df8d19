"""Payments compliance (Procurement Act 2023 s.69, Procurement Regulations 2024 reg. 38): a commissioner's invoices
paid on day 30, 31, 60 and 61 after the day each was received, one disputed, one partly paid and completed, one whose
later-approved line is still unpaid, one paid after its period ended, one whose first payment was reversed; the
figures per reporting period, the notice and the export, through the API as finance reads them. Then the rules
themselves, in memory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from ledger.payments import compliance
from ledger.payments.compliance import InvoiceFacts, LineDecided, Payment
from tests.market import Market
from tests.test_payments import attend, charges, invoice, started


@dataclass(frozen=True)
class Story:
    commissioner: str
    org: str
    received: date  # the day every invoice was received
    invoices: dict[str, str]  # number -> id


def _decide(market: Market, contract: str, invoice_id: str, step: str, line: int, reason: str | None = None) -> None:
    body = {"line": line, **({"reason": reason} if reason else {})}
    market.post(f"/contracts/{contract}/invoices/{invoice_id}/{step}", body, role="finance_officer")


def _pay(market: Market, contract: str, invoice_id: str, amount: Decimal, on: date) -> str:
    key = f"pay-{uuid4()}"
    paid = market.client.simulate_post(
        f"/contracts/{contract}/invoices/{invoice_id}/payments",
        json={"amount": str(amount), "paid_on": on.isoformat(), "remittance_reference": key.upper()},
        headers={**market.headers("finance_officer", "hmpps-finance"), "Idempotency-Key": key},
    )
    assert paid.status_code == 201, paid.text
    market.position = max(market.position, paid.json["position"])
    return paid.json["id"]


@pytest.fixture(scope="module")
def story(market: Market) -> Iterator[Story]:
    lead = market.commissioner("compliance", "region-a")
    contract, _ = market.contract(lead=lead, geography="region-a")
    market.post(
        f"/contracts/{contract}/price-schedules",
        {"effective_from": market.clock.now.date().isoformat(), "session_fee": "80.00"},
        role="finance_officer",
    )
    for referral in (started(market, contract, sessions=6), started(market, contract, sessions=6)):
        for _ in range(6):
            attend(market, referral)
    earned = iter(charges(market, contract))
    received = market.clock.now.date()
    assert compliance.reporting_period("2026-H1").holds(received + timedelta(days=61))

    def line(description: str) -> dict:
        charge = next(earned)
        return {"description": description, "amount": charge["amount"], "charge_ids": [charge["id"]]}

    lines = {
        "DAY-30": [line("Sessions")],
        "DAY-31": [line("Sessions")],
        "DAY-60": [line("Sessions")],
        "DAY-61": [line("Sessions")],
        "LATER-LINE": [line("Sessions"), line("More sessions")],  # line 2 approved later, never paid
        "PART-PAID": [line("Sessions"), line("More sessions")],  # paid in part, then in full on day 40
        "DISPUTED": [line("Sessions"), {"description": "Travel", "amount": "35.00"}],  # paid on day 12
        "AFTER-PERIOD": [line("Sessions")],  # paid on 1 October, in the next period
        "REVERSED": [line("Sessions")],  # paid on day 3, reversed, paid again on day 20
    }
    ids = {number: invoice(market, contract, body, number).json["id"] for number, body in lines.items()}
    amounts = {n: sum((Decimal(x["amount"]) for x in body), Decimal(0)) for n, body in lines.items()}
    for number in ids:
        _decide(market, contract, ids[number], "approvals", 1)
    _decide(market, contract, ids["DISPUTED"], "disputes", 2, "Travel is not chargeable")
    first = Decimal(lines["PART-PAID"][0]["amount"])

    market.clock.advance(days=3)
    wrong = _pay(market, contract, ids["REVERSED"], amounts["REVERSED"], market.clock.now.date())
    reversal = {"payment_id": wrong, "reason": "Paid to the wrong bank account"}
    market.post(f"/contracts/{contract}/payment-reversals", reversal, role="finance_officer")
    market.clock.advance(days=2)
    _pay(market, contract, ids["PART-PAID"], first / 2, market.clock.now.date())
    market.clock.advance(days=5)
    # Line 1 paid in full while line 2 awaits its decision: the old figure counted this invoice paid on day 10.
    _pay(market, contract, ids["LATER-LINE"], Decimal(lines["LATER-LINE"][0]["amount"]), market.clock.now.date())
    market.clock.advance(days=2)
    _pay(market, contract, ids["DISPUTED"], Decimal(lines["DISPUTED"][0]["amount"]), market.clock.now.date())
    market.clock.advance(days=8)
    _decide(market, contract, ids["LATER-LINE"], "approvals", 2)
    _decide(market, contract, ids["PART-PAID"], "approvals", 2)
    market.clock.advance(days=50)
    for number, day in (("DAY-30", 30), ("DAY-31", 31), ("DAY-60", 60), ("DAY-61", 61), ("REVERSED", 20)):
        _pay(market, contract, ids[number], amounts[number], received + timedelta(days=day))
    _pay(market, contract, ids["PART-PAID"], amounts["PART-PAID"] - first / 2, received + timedelta(days=40))
    market.clock.now = market.clock.now.replace(year=2026, month=10, day=2)
    _pay(market, contract, ids["AFTER-PERIOD"], amounts["AFTER-PERIOD"], date(2026, 10, 1))
    yield Story(commissioner=lead, org=market.orgs[lead], received=received, invoices=ids)


def figures(market: Market, period: str, **params: str) -> dict:
    return market.get("/finance/payments-compliance", params={"period": period, **params}, role="finance_officer")


def test_invoices_paid_on_days_30_and_31_and_60_and_61_fall_in_their_bands(market: Market, story: Story) -> None:
    answer = figures(market, "2026-H1")
    assert (answer["first_day"], answer["last_day"], answer["publish_by"]) == ("2026-04-01", "2026-09-30", "2026-10-29")
    (line,) = answer["lines"]
    assert (line["commissioner_id"], line["commissioner_name"]) == (story.commissioner, "Commissioner compliance")
    # Paid in the period: day 30, day 12 (disputed), day 20 (paid again once its first payment was reversed) | day 31,
    # day 40 (part paid), day 60 | day 61.
    assert line["invoices_paid"] == 7
    assert (line["paid_in_days_1_to_30"], line["paid_in_days_31_to_60"], line["paid_on_day_61_or_later"]) == (3, 3, 1)
    assert line["mean_days_to_pay"] == "36.3"  # (30 + 12 + 20 + 31 + 40 + 60 + 61) / 7 = 36.29
    assert (
        line["percent_paid_in_days_1_to_30"],
        line["percent_paid_in_days_31_to_60"],
        line["percent_paid_on_day_61_or_later"],
    ) == ("42.9", "42.9", "14.3")


def test_an_invoice_whose_later_approved_line_is_unpaid_is_not_paid(market: Market, story: Story) -> None:
    later = market.get(f"/invoices/{story.invoices['LATER-LINE']}", role="finance_officer")
    assert (later["status"], later["fully_paid_on"]) == ("part_paid", None)
    part = market.get(f"/invoices/{story.invoices['PART-PAID']}", role="finance_officer")
    assert (part["status"], part["fully_paid_on"]) == ("paid", (story.received + timedelta(days=40)).isoformat())
    disputed = market.get(f"/invoices/{story.invoices['DISPUTED']}", role="finance_officer")
    assert disputed["fully_paid_on"] == (story.received + timedelta(days=12)).isoformat()
    reversed_ = market.get(f"/invoices/{story.invoices['REVERSED']}", role="finance_officer")
    assert reversed_["fully_paid_on"] == (story.received + timedelta(days=20)).isoformat()  # the reversed one never was


def test_sums_payable_in_the_period_and_not_paid_within_it_are_counted_disputed_ones_not(
    market: Market, story: Story
) -> None:
    (line,) = figures(market, "2026-H1")["lines"]
    # Eleven approved lines (the disputed travel line is not payable); the later-approved line and the invoice paid on
    # 1 October were not paid by 30 September.
    assert (line["sums_payable"], line["sums_not_paid_in_period"], line["percent_not_paid_in_period"]) == (
        11,
        2,
        "18.2",
    )
    assert (line["sums_payable_value"], line["sums_not_paid_in_period_value"]) == ("880.00", "160.00")  # 80.00 each


def test_an_invoice_paid_after_its_period_counts_in_the_next(market: Market, story: Story) -> None:
    (line,) = figures(market, "2026-H2")["lines"]
    days = (date(2026, 10, 1) - story.received).days
    assert (line["invoices_paid"], line["mean_days_to_pay"], line["paid_on_day_61_or_later"]) == (1, f"{days}.0", 1)
    assert (line["sums_payable"], line["percent_not_paid_in_period"]) == (0, None)
    assert figures(market, "2025-H2") == {
        "period": "2025-H2",
        "first_day": "2026-01-01",  # section 69 came into force then: the first period is three months
        "last_day": "2026-03-31",
        "publish_by": "2026-04-29",
        "lines": [],
    }


def test_the_notice_states_what_regulation_38_asks_for(market: Market, story: Story) -> None:
    notice = market.get(
        "/finance/payments-compliance/notice",
        params={"period": "2026-H1", "commissioner_id": story.commissioner},
        role="finance_officer",
    )
    assert (notice["notice_type"], notice["status"], notice["required"]) == ("UK17", "draft", True)
    assert notice["contracting_authority"]["name"] == "Commissioner compliance"
    assert (notice["first_day"], notice["last_day"], notice["publish_by"]) == ("2026-04-01", "2026-09-30", "2026-10-29")
    assert notice["payments"] == {
        "invoices_paid": 7,
        "mean_days_to_pay": "36.3",
        "percent_paid_in_days_1_to_30": "42.9",
        "percent_paid_in_days_31_to_60": "42.9",
        "percent_paid_on_day_61_or_later": "14.3",
    }
    assert (notice["sums_payable"], notice["percent_not_paid_in_period"]) == (11, "18.2")
    assert (notice["approval"]["name"], notice["approval"]["job_title"]) == (None, None)  # theirs to approve
    quiet = market.get(
        "/finance/payments-compliance/notice",
        params={"period": "2027-H1", "commissioner_id": story.commissioner},
        role="finance_officer",
    )
    assert quiet["required"] is False and quiet["payments"]["mean_days_to_pay"] is None


def test_a_commissioner_reads_only_their_own_figures_and_notice(market: Market, story: Story) -> None:
    other = market.commissioner("elsewhere", "region-b")
    theirs = market.headers("commissioner", market.orgs[other])
    caught_up = {"period": "2026-H1", "min_position": market.position}  # the catalogue knows them
    seen = market.client.simulate_get("/finance/payments-compliance", params=caught_up, headers=theirs)
    assert seen.status_code == 200 and seen.json["lines"] == []
    forced = market.client.simulate_get(
        "/finance/payments-compliance/notice",
        params={**caught_up, "commissioner_id": story.commissioner},
        headers=theirs,
    )
    assert forced.json["contracting_authority"]["id"] == other and forced.json["required"] is False


def test_every_periods_figures_are_in_the_finance_exports(market: Market, story: Story) -> None:
    exported = market.get("/finance/export/payments-compliance", role="finance_officer")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [(r["period"], r["commissioner_id"]) for r in rows] == [
        ("2026-H1", story.commissioner),
        ("2026-H2", story.commissioner),
    ]
    h1 = figures(market, "2026-H1")["lines"][0]
    assert {k: v for k, v in rows[0].items()} == {k: "" if v is None else str(v) for k, v in h1.items()}
    invoices = list(csv.DictReader(io.StringIO(market.get("/finance/export/invoices", role="finance_officer"))))
    assert {r["received_on"] for r in invoices} == {story.received.isoformat()}


# -- the rules, in memory -----------------------------------------------------------------------------------------

RECEIVED = date(2026, 5, 1)


def facts(
    lines: int, decisions: list[tuple[int, str, str | None, int]], payments: list[tuple[str, int]]
) -> InvoiceFacts:
    """An invoice received on RECEIVED: decisions (line, kind, amount, day) and payments (amount, day), days after."""
    return InvoiceFacts(
        invoice_id=uuid4(),
        commissioner_id=uuid4(),
        received_on=RECEIVED,
        lines=lines,
        decisions=tuple(
            LineDecided(line=n, kind=k, amount=None if a is None else Decimal(a), on=RECEIVED + timedelta(days=d))
            for n, k, a, d in decisions
        ),
        payments=tuple(Payment(amount=Decimal(a), paid_on=RECEIVED + timedelta(days=d)) for a, d in payments),
    )


@pytest.mark.parametrize(
    ("day", "band"), [(0, "1-30"), (1, "1-30"), (30, "1-30"), (31, "31-60"), (60, "31-60"), (61, "61+")]
)
def test_day_one_is_the_day_after_the_invoice_day(day: int, band: str) -> None:
    paid = RECEIVED + timedelta(days=day)
    assert compliance.days_to_pay(RECEIVED, paid) == day
    assert compliance.band(compliance.days_to_pay(RECEIVED, paid)) == band


def test_an_invoice_is_paid_when_its_last_payable_sum_is_paid_once_every_line_is_decided() -> None:
    undecided = facts(2, [(1, "approved", "100.00", 0)], [("100.00", 5)])
    assert compliance.paid_on(undecided) is None  # line 2 awaits its decision
    later = facts(2, [(1, "approved", "100.00", 0), (2, "approved", "50.00", 20)], [("100.00", 5)])
    assert compliance.paid_on(later) is None
    assert [s.paid_on for s in compliance.payable_sums(later)] == [RECEIVED + timedelta(days=5), None]
    completed = facts(2, [(1, "approved", "100.00", 0), (2, "approved", "50.00", 20)], [("60.00", 5), ("90.00", 40)])
    assert compliance.paid_on(completed) == RECEIVED + timedelta(days=40)
    disputed = facts(2, [(1, "approved", "100.00", 0), (2, "disputed", None, 1)], [("100.00", 12)])
    assert compliance.paid_on(disputed) == RECEIVED + timedelta(days=12)
    nothing_payable = facts(1, [(1, "disputed", None, 1)], [])
    assert compliance.payable_sums(nothing_payable) == [] and compliance.paid_on(nothing_payable) is None


def test_a_credit_note_reduces_the_sum_payable_and_a_fully_credited_line_leaves_none() -> None:
    credited = facts(
        2,
        [
            (1, "approved", "100.00", 0),
            (1, "credit_note", "40.00", 2),
            (2, "approved", "30.00", 3),
            (2, "credit_note", "30.00", 4),
        ],
        [("60.00", 9)],
    )
    assert [(s.line, s.amount) for s in compliance.payable_sums(credited)] == [(1, Decimal("60.00"))]
    assert compliance.paid_on(credited) == RECEIVED + timedelta(days=9)


def test_the_figures_count_invoices_paid_and_sums_payable_in_the_period() -> None:
    period = compliance.reporting_period("2026-H1")
    invoices = [
        facts(1, [(1, "approved", "10.00", 0)], [("10.00", 30)]),
        facts(1, [(1, "approved", "10.00", 0)], [("10.00", 61)]),
        facts(1, [(1, "approved", "10.00", 0)], [("10.00", 200)]),  # paid 17 November: the next period
        facts(1, [(1, "approved", "10.00", 0)], []),
    ]
    f = compliance.figures(invoices, period)
    assert (f.invoices_paid, f.mean_days_to_pay, f.paid_in_band) == (
        2,
        Decimal("45.5"),
        {"1-30": 1, "31-60": 0, "61+": 1},
    )
    assert (f.sums_payable, f.sums_unpaid, f.percent_unpaid, f.sums_unpaid_value) == (
        4,
        2,
        Decimal("50.0"),
        Decimal("20.00"),
    )
    assert (
        compliance.figures([], period).mean_days_to_pay is None
        and not compliance.figures([], period).anything_to_report
    )


def test_reporting_periods_are_the_halves_of_the_financial_year_from_commencement() -> None:
    h1, h2 = compliance.reporting_period("2026-H1"), compliance.reporting_period("2026-H2")
    assert (h1.first_day, h1.last_day, h1.publish_by) == (date(2026, 4, 1), date(2026, 9, 30), date(2026, 10, 29))
    assert (h2.first_day, h2.last_day) == (date(2026, 10, 1), date(2027, 3, 31))
    first = compliance.reporting_period("2025-H2")
    assert (first.first_day, first.last_day) == (date(2026, 1, 1), date(2026, 3, 31))
    assert compliance.period_of(date(2027, 3, 31)) == h2 and compliance.period_of(date(2025, 12, 31)) is None
    assert [p.label for p in compliance.periods_until(date(2026, 10, 1))] == ["2026-H2", "2026-H1", "2025-H2"]
    for wrong in ("2026", "2026-H0", "2026-h1", "26-H1", "2025-H1", "2200-H1", " 2026-H1"):
        with pytest.raises(ValueError):
            compliance.reporting_period(wrong)
