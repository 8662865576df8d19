"""Finance's queries over the payments view: spend as at any date, aged payables, prompt payment, a contract's
account, invoices, payments and budget lines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg.rows import dict_row

from projections.base import fetch_rows
from projections.payments.models import (
    AccountSummary,
    AgedPayable,
    AgedPayables,
    BudgetLineRecord,
    BudgetList,
    ChargeLine,
    FinanceCut,
    InvoiceList,
    InvoiceRecord,
    InvoiceSummary,
    PaymentLine,
    PaymentList,
    PromptPayment,
    PromptPaymentLine,
    RefusedCharge,
    Spend,
    SpendLine,
)
from projections.sql import Where

GROUPS = {  # group by -> (key over the rollup, key over postings)
    "supplier": ("supplier_id::text", "supplier_id::text"),
    "contract": ("contract_id::text", "contract_id::text"),
    "commissioner": ("commissioner_id::text", "commissioner_id::text"),
    "region": ("region", "region"),
    "category": ("category", "category"),
    "financial_year": ("financial_year", "financial_year"),
    "month": ("to_char(month, 'YYYY-MM')", "to_char(effective_on, 'YYYY-MM')"),
}


# A posting's kind, in SQL, for the current month's postings (as the handlers' `_kind` says in Python).
_POSTING_KIND = (
    "CASE WHEN account LIKE 'commitment:%%' THEN 'committed' WHEN account LIKE 'spend:%%' THEN 'charged'"
    " WHEN account LIKE 'payable:%%' AND event_type IN ('InvoiceLineApproved', 'CreditNoteIssued') THEN 'invoiced'"
    " WHEN account LIKE 'cash:%%' THEN 'paid' END"
)

_POSTING_SIGN = "CASE WHEN account LIKE 'payable:%%' OR account LIKE 'cash:%%' THEN -1 ELSE 1 END"


def _postings_of(cut: FinanceCut) -> Where:
    """The cut's postings (or rolled-up months): each of them carries every dimension of the cut."""
    return (
        Where()
        .given(cut.supplier_id, "supplier_id = %s")
        .given(cut.contract_id, "contract_id = %s")
        .given(cut.commissioner_id, "commissioner_id = %s")
        .given(cut.category, "category = %s")
        .given(cut.financial_year, "financial_year = %s")
        .given(cut.region, "%s = ANY(regions)")
    )


def spend(
    conn: psycopg.Connection[Any], cut: FinanceCut, group_by: str, *, as_of: date | None = None, axis: str = "effective"
) -> Spend:
    """Spend by a cut: the monthly rollup's complete months, plus, as at a date, that month's own postings."""
    cut_where = _postings_of(cut)
    rollup_key, posting_key = GROUPS[group_by]
    rollup_where = cut_where
    parts = []
    if as_of is not None:
        first = as_of.replace(day=1)
        rollup_where = cut_where.add(("month" if axis == "effective" else "recorded_month") + " < %s", first)
        if axis == "effective":
            tail_where = cut_where.add("effective_on >= %s AND effective_on <= %s", first, as_of)
        else:
            tail_where = cut_where.add(
                "recorded_at >= %s AND recorded_at < %s",
                datetime.combine(first, time.min, UTC),
                datetime.combine(as_of + timedelta(days=1), time.min, UTC),
            )
        tail = (
            f"SELECT {posting_key} AS key, {_POSTING_KIND} AS kind, {_POSTING_SIGN} * amount AS amount FROM"
            + _regions_unnested("finance_postings", group_by)
            + f" WHERE {tail_where.sql}"
        )
        parts.append((tail, tail_where.params))
    rollup = (
        f"SELECT {rollup_key} AS key, kind, amount FROM"
        + _regions_unnested("finance_rollup", group_by)
        + f" WHERE {rollup_where.sql}"
    )
    parts.insert(0, (rollup, rollup_where.params))
    union = " UNION ALL ".join(sql for sql, _ in parts)
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT key,"
            " coalesce(sum(amount) FILTER (WHERE kind = 'committed'), 0) AS committed,"
            " coalesce(sum(amount) FILTER (WHERE kind = 'charged'), 0) AS charged,"
            " coalesce(sum(amount) FILTER (WHERE kind = 'invoiced'), 0) AS invoiced,"
            " coalesce(sum(amount) FILTER (WHERE kind = 'paid'), 0) AS paid"
            f" FROM ({union}) moved WHERE kind IS NOT NULL GROUP BY 1 ORDER BY 1 NULLS LAST",
            [p for _, part_params in parts for p in part_params],
        )
        .fetchall()
    )
    lines = [SpendLine(remaining=r["committed"] - r["paid"], **r) for r in rows]
    total = SpendLine(
        key=None,
        committed=sum((line.committed for line in lines), Decimal(0)),
        charged=sum((line.charged for line in lines), Decimal(0)),
        invoiced=sum((line.invoiced for line in lines), Decimal(0)),
        paid=sum((line.paid for line in lines), Decimal(0)),
        remaining=Decimal(0),
    )
    total.remaining = total.committed - total.paid
    return Spend(group_by=group_by, as_of=as_of, axis=axis, lines=lines, total=total)


def _regions_unnested(table: str, group_by: str) -> str:
    """The table, with one row per region when spend is grouped by region (a contract may span several)."""
    if group_by != "region":
        return f" {table}"
    return f" (SELECT t.*, unnest(coalesce(t.regions, ARRAY[NULL::text])) AS region FROM {table} t) t"


def _invoices_of(cut: FinanceCut, alias: str) -> Where:
    """The cut's invoices (`alias`), by the supplier, contract and commissioner of each (its other dimensions are
    the contract's, not the invoice's)."""
    return (
        Where()
        .given(cut.supplier_id, f"{alias}.supplier_id = %s")
        .given(cut.contract_id, f"{alias}.contract_id = %s")
        .given(cut.commissioner_id, f"{alias}.commissioner_id = %s")
    )


def aged_payables(conn: psycopg.Connection[Any], cut: FinanceCut, as_of: date) -> AgedPayables:
    """Approved and unpaid invoices by age since receipt, with payments made by the end of `as_of`."""
    where = Where().add("i.submitted_at::date <= %s", as_of) & _invoices_of(cut, "i")
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT i.invoice_id, i.invoice_number, i.contract_id, i.supplier_id, i.submitted_at::date AS submitted_on,"
            " (i.approved - i.credited - coalesce((SELECT sum(pay.amount) FROM finance_payments pay"
            "   WHERE pay.invoice_id = i.invoice_id AND pay.paid_on <= %s AND NOT pay.reversed), 0)) AS outstanding"
            f" FROM finance_invoices i WHERE {where.sql} ORDER BY i.submitted_at",
            [as_of, *where.params],
        )
        .fetchall()
    )
    items = []
    buckets = {"0-30": Decimal(0), "31-60": Decimal(0), "61-90": Decimal(0), "over 90": Decimal(0)}
    for r in rows:
        if r["outstanding"] <= 0:
            continue
        age = (as_of - r["submitted_on"]).days
        bucket = "0-30" if age <= 30 else "31-60" if age <= 60 else "61-90" if age <= 90 else "over 90"
        buckets[bucket] += r["outstanding"]
        items.append(AgedPayable(age_days=age, bucket=bucket, **r))
    return AgedPayables(as_of=as_of, buckets=buckets, items=items)


def prompt_payment(conn: psycopg.Connection[Any], start: date, end: date) -> PromptPayment:
    """Valid invoices (every line matched to its charges) received in the period; paid in full in 30 days."""
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT commissioner_id, count(*) AS valid_invoices,"
            " count(*) FILTER (WHERE fully_paid_on IS NOT NULL AND fully_paid_on <= submitted_at::date + 30)"
            "   AS paid_within_30_days"
            " FROM finance_invoices WHERE flagged_lines = 0 AND submitted_at::date BETWEEN %s AND %s"
            " GROUP BY commissioner_id ORDER BY commissioner_id",
            (start, end),
        )
        .fetchall()
    )
    return PromptPayment(
        period_start=start,
        period_end=end,
        lines=[
            PromptPaymentLine(
                share=(Decimal(r["paid_within_30_days"]) / Decimal(r["valid_invoices"])).quantize(Decimal("0.001")),
                **r,
            )
            for r in rows
        ],
    )


def account_summary(conn: psycopg.Connection[Any], contract_id: UUID) -> AccountSummary | None:
    cur = conn.cursor(row_factory=dict_row)
    account = cur.execute("SELECT * FROM finance_accounts WHERE contract_id = %s", (contract_id,)).fetchone()
    if account is None:
        return None
    charged = cur.execute(
        "SELECT coalesce(sum(amount), 0) AS s FROM finance_charges WHERE contract_id = %s AND NOT reversed",
        (contract_id,),
    ).fetchone()["s"]
    refused = cur.execute(
        "SELECT coalesce(sum(amount), 0) AS s FROM finance_refused_charges WHERE contract_id = %s", (contract_id,)
    ).fetchone()["s"]
    invoices = cur.execute(
        "SELECT invoice_id::text, invoice_number, submitted_at::text, claimed::text, approved::text, credited::text,"
        " paid::text, flagged_lines, disputed_lines, lines FROM finance_invoices WHERE contract_id = %s"
        " ORDER BY submitted_at",
        (contract_id,),
    ).fetchall()
    balances = {
        r["account"]: r["balance"]
        for r in cur.execute(
            "SELECT account, sum(amount) AS balance FROM finance_postings WHERE contract_id = %s GROUP BY account",
            (contract_id,),
        ).fetchall()
    }
    charge_lines = cur.execute(
        "SELECT charge_id, clause, schedule_version, basis, amount, earned_on, recorded_at, reversed, reversal_reason,"
        " invoice_id FROM finance_charges WHERE contract_id = %s ORDER BY earned_on, recorded_at, charge_id",
        (contract_id,),
    ).fetchall()
    refused_lines = cur.execute(
        "SELECT position, clause, basis, amount, cap, charged, recorded_at FROM finance_refused_charges"
        " WHERE contract_id = %s ORDER BY position",
        (contract_id,),
    ).fetchall()
    return AccountSummary(
        account_id=account["account_id"],
        charges=[msgspec.convert(r, ChargeLine) for r in charge_lines],
        refused_charges=[msgspec.convert(r, RefusedCharge) for r in refused_lines],
        contract_id=contract_id,
        supplier_id=account["supplier_id"],
        commissioner_id=account["commissioner_id"],
        schedules=account["schedules"],
        unfunded=account["unfunded"],
        charged=charged,
        refused_by_cap=refused,
        invoices=invoices,
        balances=balances,
        version=account["version"],
    )


# An invoice's figures; its time in PostgreSQL's text form, as the API has always answered it.
_INVOICE_COLUMNS = (
    "invoice_id, contract_id, supplier_id, invoice_number, period_start, period_end, submitted_at::text,"
    " claimed, approved, credited, paid, flagged_lines, disputed_lines, fully_paid_on"
)


def list_invoices(conn: psycopg.Connection[Any], cut: FinanceCut) -> InvoiceList:
    """The cut's invoices (by supplier, contract and commissioner), the latest submitted first: 500 at most."""
    where = _invoices_of(cut, "i")
    rows = fetch_rows(
        conn,
        f"SELECT {_INVOICE_COLUMNS} FROM finance_invoices i WHERE {where.sql} ORDER BY submitted_at DESC LIMIT 500",
        where.params,
    )
    return InvoiceList(items=[InvoiceSummary(**row) for row in rows])


def get_invoice(conn: psycopg.Connection[Any], invoice_id: UUID, scope: FinanceCut) -> InvoiceRecord | None:
    """An invoice with its lines and payments, if it is within `scope` (a supplier's own, a commissioner's own)."""
    where = Where().add("invoice_id = %s", invoice_id) & _invoices_of(scope, "i")
    rows = fetch_rows(
        conn,
        f"SELECT {_INVOICE_COLUMNS}, lines,"
        " (SELECT coalesce(json_agg(json_build_object('payment_id', payment_id, 'amount', amount::text,"
        "   'paid_on', paid_on, 'reversed', reversed) ORDER BY paid_on), '[]') FROM finance_payments p"
        "   WHERE p.invoice_id = i.invoice_id) AS payments"
        f" FROM finance_invoices i WHERE {where.sql}",
        where.params,
    )
    return msgspec.convert(rows[0], InvoiceRecord) if rows else None


def list_payments(conn: psycopg.Connection[Any], cut: FinanceCut) -> PaymentList:
    """Payments made (and reversed) under the cut's contracts, the latest paid first: 500 at most."""
    where = (
        Where()
        .given(cut.contract_id, "p.contract_id = %s")
        .given(cut.supplier_id, "i.supplier_id = %s")
        .given(cut.commissioner_id, "i.commissioner_id = %s")
    )
    rows = fetch_rows(
        conn,
        "SELECT p.payment_id, p.invoice_id, p.contract_id, i.supplier_id, p.amount, p.paid_on, p.remittance,"
        " p.reversed, p.reversal_reason FROM finance_payments p"
        f" JOIN finance_invoices i USING (invoice_id) WHERE {where.sql} ORDER BY p.paid_on DESC LIMIT 500",
        where.params,
    )
    return PaymentList(items=[PaymentLine(**row) for row in rows])


def list_budget_lines(conn: psycopg.Connection[Any], *, commissioner_id: UUID | None = None) -> BudgetList:
    """Budget lines (a commissioner's, or everyone's), by commissioner, financial year and code."""
    where = Where().given(commissioner_id, "commissioner_id = %s")
    rows = fetch_rows(
        conn,
        "SELECT line_id, commissioner_id, financial_year, code, name, amount, ring_fenced, overrun, committed,"
        f" amount + overrun - committed AS available FROM finance_budget_lines WHERE {where.sql}"
        " ORDER BY commissioner_id, financial_year, code",
        where.params,
    )
    return BudgetList(items=[BudgetLineRecord(**row) for row in rows])
