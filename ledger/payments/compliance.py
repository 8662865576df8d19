"""Payments compliance (Procurement Act 2023 s.68-69, Procurement Regulations 2024 reg. 38): the reporting periods,
when an invoice's sums became payable and were paid, the days it took, and the figures of a payments compliance
notice. Pure functions over an invoice's facts, which the payments view supplies (ADR 33)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

# Section 69 came into force in England on 1 January 2026 (Commencement No. 4 Regulations 2025): the first reporting
# period runs from then to 31 March 2026, and each later one is six months, 1 April or 1 October onwards.
COMMENCEMENT = date(2026, 1, 1)
PUBLISH_WITHIN_DAYS = 30  # s.69(1): within 30 days beginning with the period's last day
BANDS = ("1-30", "31-60", "61+")  # reg. 38(2)(c)(ii): days after the invoice day
_PERIOD = re.compile(r"^(?P<year>[0-9]{4})-H(?P<half>[12])$")
_FIRST_YEAR, _LAST_YEAR = 2025, 2199


@dataclass(frozen=True)
class ReportingPeriod:
    """A six-month reporting period, named by the financial year it falls in: "2026-H1" is 1 April to 30 September
    2026, "2026-H2" 1 October 2026 to 31 March 2027; "2025-H2" starts on commencement, 1 January 2026."""

    label: str
    first_day: date
    last_day: date

    @property
    def publish_by(self) -> date:
        return self.last_day + timedelta(days=PUBLISH_WITHIN_DAYS - 1)

    def holds(self, day: date | None) -> bool:
        return day is not None and self.first_day <= day <= self.last_day


def reporting_period(label: str) -> ReportingPeriod:
    """The period a label names; ValueError saying what is wrong with any other text."""
    found = _PERIOD.match(label)
    if found is None:
        raise ValueError('a reporting period: the financial year it starts in and its half, e.g. "2026-H1"')
    year, half = int(found["year"]), int(found["half"])
    if not _FIRST_YEAR <= year <= _LAST_YEAR or (year, half) < (_FIRST_YEAR, 2):
        raise ValueError(
            f"no reporting period before 2025-H2 (section 69 came into force on {COMMENCEMENT.isoformat()})"
            f" nor after {_LAST_YEAR}-H2"
        )
    if half == 1:
        return ReportingPeriod(label, date(year, 4, 1), date(year, 9, 30))
    return ReportingPeriod(label, max(date(year, 10, 1), COMMENCEMENT), date(year + 1, 3, 31))


def period_of(day: date) -> ReportingPeriod | None:
    """The reporting period a day falls in (None before commencement)."""
    if day < COMMENCEMENT:
        return None
    year = day.year if day.month >= 4 else day.year - 1
    return reporting_period(f"{year}-H{1 if 4 <= day.month <= 9 else 2}")


def periods_until(day: date) -> list[ReportingPeriod]:
    """Every reporting period from the first to the one `day` falls in, the latest first."""
    found: list[ReportingPeriod] = []
    period = period_of(day)
    while period is not None:
        found.append(period)
        period = period_of(period.first_day - timedelta(days=1))
    return found


# -- an invoice's facts -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineDecided:
    """A decision on an invoice line, on the day it took effect: approved (its amount), disputed, or a credit note
    against it (its amount)."""

    line: int
    kind: str  # approved, disputed, credit_note
    amount: Decimal | None
    on: date


@dataclass(frozen=True)
class Payment:
    amount: Decimal
    paid_on: date  # when the supplier received it (reg. 38(4)); a reversed payment was never made


@dataclass(frozen=True)
class PayableSum:
    """A line's sum, payable from the day it was approved (verified as valid and undisputed) net of its credit notes;
    `paid_on`: the day the payments covered it (None: not yet)."""

    line: int
    amount: Decimal
    payable_on: date
    paid_on: date | None


@dataclass(frozen=True)
class InvoiceFacts:
    invoice_id: UUID
    commissioner_id: UUID
    received_on: date  # the invoice day (reg. 38(3))
    lines: int
    decisions: tuple[LineDecided, ...]
    payments: tuple[Payment, ...]


def payable_sums(invoice: InvoiceFacts) -> list[PayableSum]:
    """The invoice's payable sums, each marked paid when the payments, oldest first, covered it and every sum payable
    before it. A disputed line is not payable (its dispute is the decision on it; the supplier invoices it again), and
    a line fully credited leaves nothing payable."""
    approved: dict[int, tuple[Decimal, date]] = {}
    credited: dict[int, Decimal] = {}
    for d in invoice.decisions:
        if d.kind == "approved" and d.amount is not None:
            approved[d.line] = (d.amount, d.on)
        elif d.kind == "credit_note" and d.amount is not None:
            credited[d.line] = credited.get(d.line, Decimal(0)) + d.amount
    owed = sorted(
        ((on, line, amount - credited.get(line, Decimal(0))) for line, (amount, on) in approved.items()),
        key=lambda s: (s[0], s[1]),
    )
    payments = sorted(invoice.payments, key=lambda p: p.paid_on)
    sums, paid, cursor, covered = [], Decimal(0), 0, Decimal(0)
    for on, line, amount in owed:
        if amount <= 0:
            continue
        covered += amount
        while paid < covered and cursor < len(payments):
            paid += payments[cursor].amount
            cursor += 1
        settled = payments[cursor - 1].paid_on if paid >= covered and cursor else None
        sums.append(PayableSum(line=line, amount=amount, payable_on=on, paid_on=settled))
    return sums


def paid_on(invoice: InvoiceFacts, sums: Sequence[PayableSum] | None = None) -> date | None:
    """The day the invoice was paid: when its last payable sum was, once every line is decided (None until then, and
    for an invoice with nothing payable)."""
    sums = payable_sums(invoice) if sums is None else sums
    decided = {d.line for d in invoice.decisions if d.kind in ("approved", "disputed")}
    if len(decided) < invoice.lines or not sums or any(s.paid_on is None for s in sums):
        return None
    return max(s.paid_on for s in sums if s.paid_on is not None)


def days_to_pay(received_on: date, paid: date) -> int:
    """The day of payment, day 1 being the day after the invoice day (reg. 38(2)(c)); paid on the day received is 0."""
    return (paid - received_on).days


def band(days: int) -> str:
    return "1-30" if days <= 30 else "31-60" if days <= 60 else "61+"


# -- the figures of a notice --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Reg. 38(2)(c) and (d) for one contracting authority and period: invoices paid in the period (by the day their
    last payable sum was paid), the mean days they took and how many fell in each band; sums that became payable in
    the period, and those not paid by its last day."""

    invoices_paid: int
    total_days: int
    paid_in_band: dict[str, int]
    sums_payable: int
    sums_payable_value: Decimal
    sums_unpaid: int
    sums_unpaid_value: Decimal

    @property
    def mean_days_to_pay(self) -> Decimal | None:
        return _ratio(Decimal(self.total_days), self.invoices_paid, Decimal("0.1"))

    def percent_in_band(self, name: str) -> Decimal | None:
        return _ratio(Decimal(100 * self.paid_in_band[name]), self.invoices_paid, Decimal("0.1"))

    @property
    def percent_unpaid(self) -> Decimal | None:
        return _ratio(Decimal(100 * self.sums_unpaid), self.sums_payable, Decimal("0.1"))

    @property
    def anything_to_report(self) -> bool:
        """Whether s.69(1) asks for a notice: a payment made, or a sum became payable, in the period."""
        return self.invoices_paid > 0 or self.sums_payable > 0


def _ratio(numerator: Decimal, denominator: int, places: Decimal) -> Decimal | None:
    return (numerator / denominator).quantize(places, rounding=ROUND_HALF_UP) if denominator else None


def figures(invoices: Iterable[InvoiceFacts], period: ReportingPeriod) -> Figures:
    """The period's figures over the invoices (of one contracting authority)."""
    paid_count, total_days, bands = 0, 0, dict.fromkeys(BANDS, 0)
    payable, payable_value, unpaid, unpaid_value = 0, Decimal(0), 0, Decimal(0)
    for invoice in invoices:
        sums = payable_sums(invoice)
        paid = paid_on(invoice, sums)
        if paid is not None and period.holds(paid):
            days = days_to_pay(invoice.received_on, paid)
            paid_count, total_days = paid_count + 1, total_days + days
            bands[band(days)] += 1
        for s in sums:
            if period.holds(s.payable_on):
                payable, payable_value = payable + 1, payable_value + s.amount
                if s.paid_on is None or s.paid_on > period.last_day:
                    unpaid, unpaid_value = unpaid + 1, unpaid_value + s.amount
    return Figures(
        invoices_paid=paid_count,
        total_days=total_days,
        paid_in_band=bands,
        sums_payable=payable,
        sums_payable_value=payable_value,
        sums_unpaid=unpaid,
        sums_unpaid_value=unpaid_value,
    )
