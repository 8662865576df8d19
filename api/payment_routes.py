"""Routes of payments: price schedules, charges, invoices, payments, budgets and the finance queries."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api.endpoints import AsOf, Command, Query, QueryContext, endpoint
from api.errors import invalid
from api.openapi import Param
from api.services import Services
from ledger.payments import accounts, budgets
from projections.payments import exports, models, queries
from projections.payments.handlers import PaymentsView

FINANCE = ("finance",)
CUT = (
    Param("supplier_id", "query", {"type": "string", "format": "uuid"}, "Supplier"),
    Param("contract_id", "query", {"type": "string", "format": "uuid"}, "Contract"),
    Param("commissioner_id", "query", {"type": "string", "format": "uuid"}, "Commissioner"),
    Param("region", "query", {"type": "string"}, "Probation region area code"),
    Param("category", "query", {"type": "string"}, "Service category"),
    Param("financial_year", "query", {"type": "string"}, 'e.g. "2026-27"'),
)
AS_OF = Param("as_of", "query", {"type": "string", "format": "date"}, "Answer as at the end of this day")
AXIS = Param("axis", "query", {"type": "string", "enum": ["effective", "recorded"]}, "Which clock as_of reads")


def _cut(q: QueryContext) -> models.FinanceCut:
    return models.FinanceCut(
        supplier_id=q.scoped_uuid("supplier_id"),
        contract_id=q.uuid_param("contract_id"),
        commissioner_id=q.scoped_uuid("commissioner_id"),
        region=q.param("region"),
        category=q.param("category"),
        financial_year=q.param("financial_year"),
    )


def _spend(q: QueryContext) -> models.Spend:
    group_by = q.param("group_by")
    group_by = "contract" if group_by is None else group_by  # given but empty is refused, not the default
    if group_by not in queries.GROUPS:
        raise invalid([("group_by", f"one of {', '.join(queries.GROUPS)}")])
    axis = q.param("axis")
    axis = "effective" if axis is None else axis
    if axis not in ("effective", "recorded"):
        raise invalid([("axis", "effective or recorded")])
    return queries.spend(q.conn, _cut(q), group_by, as_of=q.day("as_of"), axis=axis)


def _prompt(q: QueryContext) -> models.PromptPayment:
    start, end = q.day("from"), q.day("to")
    if start is None or end is None:
        raise invalid([(n, "required: a date, YYYY-MM-DD") for n, v in (("from", start), ("to", end)) if v is None])
    return queries.prompt_payment(q.conn, start, end)


def _invoices(q: QueryContext) -> models.InvoiceList:
    return queries.list_invoices(q.conn, _cut(q))


def _invoice(q: QueryContext, invoice_id: UUID) -> models.InvoiceRecord | None:
    """An invoice the caller's scope holds (a supplier's own, a commissioner's own; any, for finance)."""
    scope = models.FinanceCut(supplier_id=q.forced.get("supplier_id"), commissioner_id=q.forced.get("commissioner_id"))
    return queries.get_invoice(q.conn, invoice_id, scope)


def _payments(q: QueryContext) -> models.PaymentList:
    return queries.list_payments(q.conn, _cut(q))


def _budgets(q: QueryContext) -> models.BudgetList:
    return queries.list_budget_lines(q.conn, commissioner_id=q.scoped_uuid("commissioner_id"))


def _export(q: QueryContext, table: str) -> str | None:
    return exports.export_csv(q.conn, table)


def build_payment_routes(services: Services) -> list[tuple[str, Any]]:
    views = ("payments",)
    contract_commands = (
        (
            "price-schedules",
            Command(
                "Set a new version of the price schedule (effective-dated)",
                accounts.set_price_schedule,
                accounts.SetPriceSchedule,
                tags=FINANCE,
            ),
        ),
        (
            "period-closures",
            Command(
                "A month has elapsed: its fixed fee is charged",
                accounts.close_period,
                accounts.ClosePeriod,
                tags=FINANCE,
            ),
        ),
        (
            "milestones",
            Command(
                "A grant milestone is met: its instalment is charged",
                accounts.record_milestone,
                accounts.RecordMilestone,
                tags=FINANCE,
            ),
        ),
        (
            "invoices",
            Command(
                "Submit an invoice: each line is matched to charges (three-way match)",
                accounts.submit_invoice,
                accounts.SubmitInvoice,
                status=201,
                location="/invoices/{id}",
                tags=FINANCE,
            ),
        ),
        (
            "payment-reversals",
            Command(
                "Reverse a payment, with a reason", accounts.reverse_payment, accounts.ReversePayment, tags=FINANCE
            ),
        ),
    )
    invoice_commands = (
        (
            "approvals",
            Command(
                "Approve an invoice line (only as much as was charged)",
                accounts.approve_invoice_line,
                accounts.LineDecision,
                tags=FINANCE,
            ),
        ),
        (
            "disputes",
            Command(
                "Dispute an invoice line, with a reason",
                accounts.dispute_invoice_line,
                accounts.LineDecision,
                tags=FINANCE,
            ),
        ),
        (
            "credit-notes",
            Command(
                "Issue a credit note against an approved line",
                accounts.issue_credit_note,
                accounts.CreditNote,
                tags=FINANCE,
            ),
        ),
        (
            "payments",
            Command(
                "Pay an approved invoice (never more than approved); needs an Idempotency-Key",
                accounts.make_payment,
                accounts.MakePayment,
                status=201,
                idempotent=True,
                tags=FINANCE,
            ),
        ),
    )
    return [
        (
            "/contracts/{contract_id}/account",
            endpoint(
                services,
                get=Query(
                    "The contract's account: schedules, charges, invoices, balances (now, or as of a horizon)",
                    lambda q, i: queries.account_summary(q.conn, i),
                    models.AccountSummary,
                    views=views,
                    etag=True,
                    tags=FINANCE,
                    as_of=AsOf(lambda: [PaymentsView()], lambda contract_id: [accounts.account_id_for(contract_id)]),
                ),
            ),
        ),
        *[
            (f"/contracts/{{contract_id}}/{path}", endpoint(services, post=command))
            for path, command in contract_commands
        ],
        *[
            (f"/contracts/{{contract_id}}/invoices/{{invoice_id}}/{path}", endpoint(services, post=command))
            for path, command in invoice_commands
        ],
        (
            "/invoices",
            endpoint(
                services,
                get=Query(
                    "Invoices, by supplier, contract or commissioner",
                    _invoices,
                    models.InvoiceList,
                    views=views,
                    params=CUT[:3],
                    tags=FINANCE,
                ),
            ),
        ),
        (
            "/invoices/{invoice_id}",
            endpoint(
                services,
                get=Query(
                    "An invoice: lines with their match, approvals, payments",
                    _invoice,
                    models.InvoiceRecord,
                    views=views,
                    tags=FINANCE,
                ),
            ),
        ),
        (
            "/payments",
            endpoint(
                services,
                get=Query(
                    "Payments made (and reversed)",
                    _payments,
                    models.PaymentList,
                    views=views,
                    params=CUT[:3],
                    tags=FINANCE,
                ),
            ),
        ),
        (
            "/budgets",
            endpoint(
                services,
                post=Command(
                    "Set a budget line for a commissioner and financial year",
                    budgets.set_budget_line,
                    budgets.SetBudgetLine,
                    status=201,
                    tags=FINANCE,
                ),
                get=Query(
                    "Budget lines: amount, overrun, committed, available",
                    _budgets,
                    models.BudgetList,
                    views=views,
                    tags=FINANCE,
                ),
            ),
        ),
        (
            "/budgets/{line_id}/overruns",
            endpoint(
                services,
                post=Command(
                    "Approve an overrun of a budget line, with a reason",
                    budgets.approve_overrun,
                    budgets.ApproveOverrun,
                    tags=FINANCE,
                ),
            ),
        ),
        (
            "/finance/spend",
            endpoint(
                services,
                get=Query(
                    "Committed, charged, invoiced, paid and remaining, grouped by supplier, contract, commissioner,"
                    " region, category, financial year or month",
                    _spend,
                    models.Spend,
                    views=views,
                    params=(
                        *CUT,
                        Param(
                            "group_by",
                            "query",
                            {"type": "string", "enum": list(queries.GROUPS)},
                            "Grouping (contract)",
                        ),
                        AS_OF,
                        AXIS,
                    ),
                    tags=FINANCE,
                ),
            ),
        ),
        (
            "/finance/aged-payables",
            endpoint(
                services,
                get=Query(
                    "Approved, unpaid invoices by age",
                    lambda q: queries.aged_payables(q.conn, _cut(q), q.day("as_of") or q.ledger.now().date()),
                    models.AgedPayables,
                    views=views,
                    params=(*CUT[:3], AS_OF),
                    tags=FINANCE,
                ),
            ),
        ),
        (
            "/finance/prompt-payment",
            endpoint(
                services,
                get=Query(
                    "Share of valid invoices paid within 30 days, per commissioner (Procurement Act 2023 s.69)",
                    _prompt,
                    models.PromptPayment,
                    views=views,
                    params=(
                        Param("from", "query", {"type": "string", "format": "date"}, "First day", True),
                        Param("to", "query", {"type": "string", "format": "date"}, "Last day", True),
                    ),
                    tags=FINANCE,
                ),
            ),
        ),
        (
            "/finance/export/{table}",
            endpoint(
                services,
                get=Query(
                    "CSV export: postings, charges, refused-charges, invoices, payments or budget-lines",
                    _export,
                    {"type": "string"},
                    views=views,
                    content_type="text/csv",
                    tags=FINANCE,
                ),
            ),
        ),
    ]
