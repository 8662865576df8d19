"""Contract accounts: price schedules, periods and milestones charged, invoices matched, approved, disputed and
credited, payments made (once per Idempotency-Key) and reversed; the account, invoices and payments read."""

from __future__ import annotations

from uuid import UUID

from api.errors import invalid
from api.openapi import Param
from api.routes.common import Step, steps
from api.routes.contracts import CONTRACT
from api.routes.finance import CUT, TAGS, VIEWS, cut
from api.specs import AsOf, Command, Query, QueryContext, Route, route
from ledger.payments import accounts
from projections.payments import models, queries
from projections.payments.handlers import PaymentsView

INVOICE = f"{CONTRACT}/invoices/{{invoice_id}}"


def _invoice(q: QueryContext, invoice_id: UUID) -> models.InvoiceRecord | None:
    """An invoice the caller's scope holds (a supplier's own, a commissioner's own; any, for finance)."""
    scope = models.FinanceCut(supplier_id=q.forced.get("supplier_id"), commissioner_id=q.forced.get("commissioner_id"))
    return queries.get_invoice(q.conn, invoice_id, scope, q.now().date())


def _list_invoices(q: QueryContext) -> models.InvoiceList:
    status = q.param("status")
    statuses = [s.value for s in models.InvoiceStatus]
    if status is not None and status not in statuses:
        raise invalid([("status", f"one of {', '.join(statuses)}")])
    flagged = q.bool_param("flagged") if q.param("flagged") is not None else None
    return queries.list_invoices(
        q.conn,
        cut(q),
        q.now().date(),
        status=None if status is None else models.InvoiceStatus(status),
        flagged=flagged,
    )


def routes() -> list[Route]:
    return [
        route(
            f"{CONTRACT}/account",
            get=Query(
                "accounts.get",
                "The contract's account: schedules, charges, invoices, balances (now, or as of a horizon)",
                lambda q, i: queries.account_summary(q.conn, i),
                models.AccountSummary,
                views=VIEWS,
                etag=True,
                tags=TAGS,
                as_of=AsOf(lambda: [PaymentsView()], lambda contract_id: [accounts.account_id_for(contract_id)]),
            ),
        ),
        *_charges(),
        *_invoices(),
        *_reads(),
    ]


def _charges() -> list[Route]:
    """What the contract's account is charged, and a payment reversed."""
    account: tuple[Step, ...] = (
        (
            "price-schedules",
            "set_price_schedule",
            "Set a new version of the price schedule (effective-dated)",
            accounts.set_price_schedule,
            accounts.SetPriceSchedule,
        ),
        (
            "period-closures",
            "close_period",
            "A month has elapsed: its fixed fee is charged",
            accounts.close_period,
            accounts.ClosePeriod,
        ),
        (
            "milestones",
            "record_milestone",
            "A grant milestone is met: its instalment is charged",
            accounts.record_milestone,
            accounts.RecordMilestone,
        ),
    )
    return [
        *steps(CONTRACT, "accounts", TAGS, *account),
        route(
            f"{CONTRACT}/invoices",
            post=Command(
                "accounts.submit_invoice",
                "Submit an invoice: each line is matched to charges (three-way match)",
                accounts.submit_invoice,
                accounts.SubmitInvoice,
                status=201,
                location="accounts.get_invoice",
                tags=TAGS,
            ),
        ),
        *steps(
            CONTRACT,
            "accounts",
            TAGS,
            (
                "payment-reversals",
                "reverse_payment",
                "Reverse a payment, with a reason",
                accounts.reverse_payment,
                accounts.ReversePayment,
            ),
        ),
    ]


def _invoices() -> list[Route]:
    """The finance officer's decisions on an invoice, and its payment."""
    invoice: tuple[Step, ...] = (
        (
            "approvals",
            "approve_invoice_line",
            "Approve an invoice line (only as much as was charged)",
            accounts.approve_invoice_line,
            accounts.LineDecision,
        ),
        (
            "disputes",
            "dispute_invoice_line",
            "Dispute an invoice line, with a reason",
            accounts.dispute_invoice_line,
            accounts.LineDecision,
        ),
        (
            "credit-notes",
            "issue_credit_note",
            "Issue a credit note against an approved line",
            accounts.issue_credit_note,
            accounts.CreditNote,
        ),
    )
    return [
        *steps(INVOICE, "accounts", TAGS, *invoice),
        route(
            f"{INVOICE}/payments",
            post=Command(
                "accounts.make_payment",
                "Pay an approved invoice (never more than approved); needs an Idempotency-Key",
                accounts.make_payment,
                accounts.MakePayment,
                status=201,
                idempotent=True,
                tags=TAGS,
            ),
        ),
    ]


def _reads() -> list[Route]:
    return [
        route(
            "/invoices",
            get=Query(
                "accounts.list_invoices",
                "Invoices, by supplier, contract or commissioner, where they stand and whether a line is flagged:"
                " names, match flags, disputes and age",
                _list_invoices,
                models.InvoiceList,
                views=VIEWS,
                params=(
                    *CUT[:3],
                    Param(
                        "status",
                        "query",
                        {"type": "string", "enum": [s.value for s in models.InvoiceStatus]},
                        "Where it stands",
                    ),
                    Param(
                        "flagged",
                        "query",
                        {"type": "boolean"},
                        "Only invoices with (true) or without (false) a line the three-way match flagged",
                    ),
                ),
                tags=TAGS,
            ),
        ),
        route(
            "/invoices/{invoice_id}",
            get=Query(
                "accounts.get_invoice",
                "An invoice: lines with their match, the charges they name, each line's decisions (approvals,"
                " disputes with reasons, credit notes), payments",
                _invoice,
                models.InvoiceRecord,
                views=VIEWS,
                tags=TAGS,
            ),
        ),
        route(
            "/payments",
            get=Query(
                "accounts.list_payments",
                "Payments made (and reversed)",
                lambda q: queries.list_payments(q.conn, cut(q)),
                models.PaymentList,
                views=VIEWS,
                params=CUT[:3],
                tags=TAGS,
            ),
        ),
    ]
