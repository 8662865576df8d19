"""The payments view's answers: spend, aged payables, payments compliance and its notice, a contract's account,
invoices, payments and budget lines; and the cut of finance a query asks about."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec


class SpendLine(msgspec.Struct, kw_only=True):
    key: str | None
    name: str | None = None  # what the key names, from the catalogue or the reference lists (none for months, years)
    committed: Decimal
    charged: Decimal
    invoiced: Decimal
    paid: Decimal
    remaining: Decimal


class Spend(msgspec.Struct, kw_only=True):
    """Committed, charged, invoiced (approved net of credit notes), paid and remaining (committed - paid)."""

    group_by: str
    as_of: date | None
    axis: str
    lines: list[SpendLine]
    total: SpendLine


class FinanceCut(msgspec.Struct, kw_only=True):
    supplier_id: UUID | None = None
    contract_id: UUID | None = None
    commissioner_id: UUID | None = None
    region: str | None = None
    category: str | None = None
    financial_year: str | None = None


class AgedPayable(msgspec.Struct, kw_only=True):
    invoice_id: UUID
    invoice_number: str
    contract_id: UUID
    supplier_id: UUID
    commissioner_id: UUID
    supplier_name: str | None
    commissioner_name: str | None
    contract_title: str | None
    submitted_on: date
    outstanding: Decimal
    age_days: int
    bucket: str


class AgedPayables(msgspec.Struct, kw_only=True):
    as_of: date
    buckets: dict[str, Decimal]
    items: list[AgedPayable]


class PaymentsComplianceLine(msgspec.Struct, kw_only=True):
    """One commissioner's figures for a reporting period (Procurement Regulations 2024 reg. 38(2)(c), (d)):
    invoices paid in the period, counted on the day their last payable sum was paid, day 1 being the day after the
    invoice was received; sums that became payable (approved) in the period, and those not paid by its last day.
    Percentages of 100, to one decimal place (none when there is nothing to count)."""

    period: str
    first_day: date
    last_day: date
    commissioner_id: UUID
    commissioner_name: str | None
    invoices_paid: int
    mean_days_to_pay: Decimal | None
    paid_in_days_1_to_30: int
    paid_in_days_31_to_60: int
    paid_on_day_61_or_later: int
    percent_paid_in_days_1_to_30: Decimal | None
    percent_paid_in_days_31_to_60: Decimal | None
    percent_paid_on_day_61_or_later: Decimal | None
    sums_payable: int
    sums_payable_value: Decimal
    sums_not_paid_in_period: int
    sums_not_paid_in_period_value: Decimal
    percent_not_paid_in_period: Decimal | None


class PaymentsCompliance(msgspec.Struct, kw_only=True):
    """Procurement Act 2023 s.69: each commissioner's payments compliance figures for a six-month reporting period."""

    period: str
    first_day: date
    last_day: date
    publish_by: date  # s.69(1): the notice is published within 30 days beginning with the period's last day
    lines: list[PaymentsComplianceLine]


class AuthorityInformation(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    organisation_id: str
    commissioner_type: str
    area_code: str


class NoticePayments(msgspec.Struct, kw_only=True):
    """Reg. 38(2)(c): the invoices paid in the period, the mean days they took and the share in each band."""

    invoices_paid: int
    mean_days_to_pay: Decimal | None
    percent_paid_in_days_1_to_30: Decimal | None
    percent_paid_in_days_31_to_60: Decimal | None
    percent_paid_on_day_61_or_later: Decimal | None


class NoticeApproval(msgspec.Struct, kw_only=True):
    """Reg. 38(2)(e): the statement of the officer responsible for the authority's finances, which the ledger does
    not hold: the notice is a draft until they approve it."""

    statement: str = "I approve this payments compliance notice."
    name: str | None = None
    job_title: str | None = None


class PaymentsComplianceNotice(msgspec.Struct, kw_only=True):
    """A payments compliance notice (UK17) for one contracting authority and reporting period: what reg. 38 asks for,
    ready for the authority's approval and publication on the central digital platform."""

    notice_type: str = "UK17"
    status: str = "draft"
    contracting_authority: AuthorityInformation
    period: str
    first_day: date
    last_day: date
    publish_by: date
    required: bool  # s.69(1): a payment was made, or a sum became payable, in the period
    payments: NoticePayments
    sums_payable: int
    percent_not_paid_in_period: Decimal | None  # reg. 38(2)(d)
    approval: NoticeApproval


class ChargeLine(msgspec.Struct, kw_only=True):
    """A charge the contract earned: what a supplier's invoice lines name (`charge_ids`) to be matched."""

    charge_id: UUID
    clause: str
    schedule_version: int
    basis: dict[str, Any]
    amount: Decimal
    earned_on: date
    recorded_at: datetime
    reversed: bool
    reversal_reason: str | None
    invoice_id: UUID | None  # the invoice whose approved line it was matched to


class RefusedCharge(msgspec.Struct, kw_only=True):
    """A charge refused because it would have taken the contract beyond its value (the cap)."""

    position: int
    clause: str
    basis: dict[str, Any]
    amount: Decimal
    cap: Decimal
    charged: Decimal
    recorded_at: datetime


class AccountSummary(msgspec.Struct, kw_only=True):
    contract_id: UUID
    supplier_id: UUID
    commissioner_id: UUID
    schedules: list[dict[str, Any]]
    unfunded: list[Any]
    charged: Decimal
    refused_by_cap: Decimal
    invoices: list[dict[str, Any]]
    balances: dict[str, Decimal]
    version: int
    charges: list[ChargeLine] = []  # earned, oldest first (reversed ones too, marked)
    refused_charges: list[RefusedCharge] = []
    account_id: UUID | None = None  # the account's own record in the log (GET /audit/aggregates/{id})
    contract_title: str | None = None  # the names of what the ids above name, from the catalogue
    supplier_name: str | None = None
    commissioner_name: str | None = None


class InvoiceStatus(enum.StrEnum):
    """Where an invoice stands, from its lines' decisions and its payments."""

    SUBMITTED = "submitted"  # no line approved yet
    APPROVED = "approved"  # some approved, nothing paid
    PART_PAID = "part_paid"
    PAID = "paid"  # everything approved (net of credit notes) is paid
    DISPUTED = "disputed"  # a line is disputed, and the invoice is not paid in full


class InvoiceSummary(msgspec.Struct, kw_only=True):
    """An invoice's figures: claimed, approved, credited and paid, its flagged and disputed lines, where it stands and
    its age (days from submission to payment in full, or to today)."""

    invoice_id: UUID
    contract_id: UUID
    supplier_id: UUID
    commissioner_id: UUID
    supplier_name: str | None
    commissioner_name: str | None
    contract_title: str | None
    invoice_number: str
    period_start: date
    period_end: date
    submitted_at: str  # PostgreSQL's text form ("2026-03-12 10:15:00.123+00"), as the API has always answered it
    received_on: date  # the invoice day: the day its submission took effect (UTC)
    claimed: Decimal
    approved: Decimal
    credited: Decimal
    paid: Decimal
    flagged_lines: int
    unmatched_lines: int
    over_claimed_lines: int
    disputed_lines: int
    fully_paid_on: date | None
    status: InvoiceStatus
    age_days: int


class InvoiceList(msgspec.Struct, kw_only=True):
    items: list[InvoiceSummary]


class InvoicePayment(msgspec.Struct, kw_only=True):
    payment_id: UUID
    amount: Decimal
    paid_on: date
    reversed: bool
    remittance: str = ""
    reversal_reason: str | None = None


class DecisionKind(enum.StrEnum):
    APPROVED = "approved"
    DISPUTED = "disputed"
    CREDIT_NOTE = "credit_note"


class InvoiceDecision(msgspec.Struct, kw_only=True):
    """Finance's decision on an invoice line: approved (the amount), disputed (why), or credited (how much, why)."""

    line: int
    kind: DecisionKind
    amount: Decimal | None
    reason: str | None
    decided_by: str
    recorded_at: datetime


class InvoiceRecord(InvoiceSummary, kw_only=True):
    """An invoice: its figures, its lines as submitted with their match to charges, the charges they name, the
    decisions on each line and the payments made."""

    lines: list[dict[str, Any]]
    payments: list[InvoicePayment]
    decisions: list[InvoiceDecision] = []
    charges: list[ChargeLine] = []


class PaymentLine(msgspec.Struct, kw_only=True):
    payment_id: UUID
    invoice_id: UUID
    contract_id: UUID
    supplier_id: UUID
    amount: Decimal
    paid_on: date
    remittance: str
    reversed: bool
    reversal_reason: str | None


class PaymentList(msgspec.Struct, kw_only=True):
    items: list[PaymentLine]


class BudgetLineRecord(msgspec.Struct, kw_only=True):
    """A budget line: its amount and approved overrun, what is committed against it and what is still available to
    commit; and what its contracts were charged, invoiced and paid in its year (a contract's year counts against the
    line it was first committed against), and what remains unpaid of the line (amount + overrun - paid)."""

    line_id: UUID
    commissioner_id: UUID
    commissioner_name: str | None
    financial_year: str
    code: str
    name: str
    amount: Decimal
    ring_fenced: bool
    overrun: Decimal
    committed: Decimal
    available: Decimal
    charged: Decimal
    invoiced: Decimal
    paid: Decimal
    remaining: Decimal


class BudgetList(msgspec.Struct, kw_only=True):
    items: list[BudgetLineRecord]


class BurnMonth(msgspec.Struct, kw_only=True):
    month: str  # "2026-04"
    charged: Decimal
    invoiced: Decimal
    paid: Decimal
    charged_to_date: Decimal
    paid_to_date: Decimal


class BudgetBurn(msgspec.Struct, kw_only=True):
    """A budget line's year month by month: what its contracts were charged, invoiced and paid, and the running
    totals."""

    line: BudgetLineRecord
    months: list[BurnMonth]
