"""Finance's queries over the payments view: spend as at any date, aged payables, a contract's account, invoices,
payments, budget lines and their burn (payments compliance: `compliance.py`). What the view names by id (suppliers,
commissioners, contracts) is named from the catalogue, regions and categories from the reference lists."""

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
    BudgetBurn,
    BudgetLineRecord,
    BudgetList,
    BurnMonth,
    ChargeLine,
    FinanceCut,
    InvoiceList,
    InvoiceRecord,
    InvoiceStatus,
    InvoiceSummary,
    PaymentLine,
    PaymentList,
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


# The names of what the payments view holds by id, in SQL, for the id expression given.
SUPPLIER_NAME = "(SELECT s.name FROM catalogue_suppliers s WHERE s.supplier_id = {})"
COMMISSIONER_NAME = "(SELECT c.name FROM catalogue_commissioners c WHERE c.commissioner_id = {})"
CONTRACT_TITLE = (
    "(SELECT o.title FROM catalogue_contracts k JOIN catalogue_call_offs o ON o.call_off_id = k.call_off_id"
    " WHERE k.contract_id = {})"
)
_KEY_NAMES = {  # group by -> the name of a spend line's key
    "supplier": SUPPLIER_NAME.format("key::uuid"),
    "contract": CONTRACT_TITLE.format("key::uuid"),
    "commissioner": COMMISSIONER_NAME.format("key::uuid"),
    "region": "(SELECT a.name FROM ref_areas a WHERE a.code = key)",
    "category": "(SELECT c.name FROM ref_service_categories c WHERE c.code = key)",
    "financial_year": "NULL::text",
    "month": "NULL::text",
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
    name = _KEY_NAMES[group_by]
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            f"SELECT key, {name} AS name, committed, charged, invoiced, paid FROM (SELECT key,"
            " coalesce(sum(amount) FILTER (WHERE kind = 'committed'), 0) AS committed,"
            " coalesce(sum(amount) FILTER (WHERE kind = 'charged'), 0) AS charged,"
            " coalesce(sum(amount) FILTER (WHERE kind = 'invoiced'), 0) AS invoiced,"
            " coalesce(sum(amount) FILTER (WHERE kind = 'paid'), 0) AS paid"
            f" FROM ({union}) moved WHERE kind IS NOT NULL GROUP BY 1) grouped"
            " ORDER BY key IS NULL, name, key",  # by name where there is one; months and years in order
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
            "SELECT i.invoice_id, i.invoice_number, i.contract_id, i.supplier_id, i.commissioner_id,"
            f" {SUPPLIER_NAME.format('i.supplier_id')} AS supplier_name,"
            f" {COMMISSIONER_NAME.format('i.commissioner_id')} AS commissioner_name,"
            f" {CONTRACT_TITLE.format('i.contract_id')} AS contract_title, i.submitted_at::date AS submitted_on,"
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


def account_summary(conn: psycopg.Connection[Any], contract_id: UUID) -> AccountSummary | None:
    cur = conn.cursor(row_factory=dict_row)
    account = cur.execute(
        f"SELECT a.*, {CONTRACT_TITLE.format('a.contract_id')} AS contract_title,"
        f" {SUPPLIER_NAME.format('a.supplier_id')} AS supplier_name,"
        f" {COMMISSIONER_NAME.format('a.commissioner_id')} AS commissioner_name"
        " FROM finance_accounts a WHERE a.contract_id = %s",
        (contract_id,),
    ).fetchone()
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
        contract_title=account["contract_title"],
        supplier_name=account["supplier_name"],
        commissioner_name=account["commissioner_name"],
    )


# An invoice's figures, names and standing; its time in PostgreSQL's text form, as the API has always answered it.
_INVOICE_STATUS = (
    "CASE WHEN i.fully_paid_on IS NOT NULL THEN 'paid' WHEN i.disputed_lines > 0 THEN 'disputed'"
    " WHEN i.paid > 0 THEN 'part_paid' WHEN i.approved > 0 THEN 'approved' ELSE 'submitted' END"
)
_FLAGGED = "(SELECT count(*) FROM jsonb_array_elements(i.lines) l WHERE l->>'flag' = '{}')::int"
_INVOICE_COLUMNS = (
    "i.invoice_id, i.contract_id, i.supplier_id, i.commissioner_id,"
    f" {SUPPLIER_NAME.format('i.supplier_id')} AS supplier_name,"
    f" {COMMISSIONER_NAME.format('i.commissioner_id')} AS commissioner_name,"
    f" {CONTRACT_TITLE.format('i.contract_id')} AS contract_title,"
    " i.invoice_number, i.period_start, i.period_end, i.submitted_at::text, i.received_on,"
    " i.claimed, i.approved, i.credited, i.paid,"
    f" i.flagged_lines, {_FLAGGED.format('unmatched')} AS unmatched_lines,"
    f" {_FLAGGED.format('over-claimed')} AS over_claimed_lines, i.disputed_lines, i.fully_paid_on,"
    f" {_INVOICE_STATUS} AS status, coalesce(i.fully_paid_on, %s) - i.received_on AS age_days"
)


def list_invoices(
    conn: psycopg.Connection[Any],
    cut: FinanceCut,
    today: date,
    *,
    status: InvoiceStatus | None = None,
    flagged: bool | None = None,
) -> InvoiceList:
    """The cut's invoices (by supplier, contract and commissioner; where they stand; with a flagged line, or none),
    the latest submitted first: 500 at most."""
    where = (
        _invoices_of(cut, "i")
        .given(None if status is None else str(status), f"{_INVOICE_STATUS} = %s")
        .given(flagged, "(i.flagged_lines > 0) = %s")
    )
    rows = fetch_rows(
        conn,
        f"SELECT {_INVOICE_COLUMNS} FROM finance_invoices i WHERE {where.sql} ORDER BY i.submitted_at DESC LIMIT 500",
        [today, *where.params],
    )
    return InvoiceList(items=[msgspec.convert(row, InvoiceSummary) for row in rows])


def get_invoice(
    conn: psycopg.Connection[Any], invoice_id: UUID, scope: FinanceCut, today: date
) -> InvoiceRecord | None:
    """An invoice with its lines, the charges they name, the decisions on each line and the payments, if it is within
    `scope` (a supplier's own, a commissioner's own)."""
    where = Where().add("invoice_id = %s", invoice_id) & _invoices_of(scope, "i")
    rows = fetch_rows(
        conn,
        f"SELECT {_INVOICE_COLUMNS}, i.lines FROM finance_invoices i WHERE {where.sql}",
        [today, *where.params],
    )
    if not rows:
        return None
    charges = fetch_rows(
        conn,
        "SELECT charge_id, clause, schedule_version, basis, amount, earned_on, recorded_at, reversed, reversal_reason,"
        " invoice_id FROM finance_charges WHERE contract_id = %s AND charge_id = ANY(%s)"
        " ORDER BY earned_on, recorded_at, charge_id",
        (rows[0]["contract_id"], [c for line in rows[0]["lines"] for c in line["charge_ids"]]),
    )
    decisions = fetch_rows(
        conn,
        "SELECT line, kind, amount, reason, decided_by, recorded_at FROM finance_invoice_decisions"
        " WHERE invoice_id = %s ORDER BY position",
        (invoice_id,),
    )
    payments = fetch_rows(
        conn,
        "SELECT payment_id, amount, paid_on, reversed, remittance, reversal_reason FROM finance_payments"
        " WHERE invoice_id = %s ORDER BY paid_on, recorded_at",
        (invoice_id,),
    )
    return msgspec.convert({**rows[0], "charges": charges, "decisions": decisions, "payments": payments}, InvoiceRecord)


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


# A budget line's contracts: each contract's year counts against the line it was first committed against that year
# (a variation commits against the core line; a year is never counted twice). `lines` is the budget lines a Where
# picks, and must hold every line of a commissioner's year that it holds any of.
_FUNDED = (
    "lines AS (SELECT * FROM finance_budget_lines WHERE {where}),"
    " funded AS (SELECT DISTINCT ON (p.contract_id, p.financial_year) p.contract_id, p.financial_year, l.line_id"
    "  FROM lines l JOIN finance_postings p ON p.account = 'budget:' || l.line_id::text"
    "   AND p.event_type = 'CommitmentRecorded'"
    "  ORDER BY p.contract_id, p.financial_year, p.position)"
)
_SPENT = (
    "coalesce(sum(r.amount) FILTER (WHERE r.kind = 'charged'), 0) AS charged,"
    " coalesce(sum(r.amount) FILTER (WHERE r.kind = 'invoiced'), 0) AS invoiced,"
    " coalesce(sum(r.amount) FILTER (WHERE r.kind = 'paid'), 0) AS paid"
    " FROM funded f JOIN finance_rollup r ON r.contract_id = f.contract_id AND r.financial_year = f.financial_year"
)


def list_budget_lines(
    conn: psycopg.Connection[Any],
    *,
    commissioner_id: UUID | None = None,
    financial_year: str | None = None,
    line_id: UUID | None = None,
) -> BudgetList:
    """Budget lines (a commissioner's, or everyone's; of a financial year, or every year), by commissioner's name,
    financial year and code (ring-fenced lines last), with what their contracts were charged, invoiced and paid."""
    where = Where().given(commissioner_id, "commissioner_id = %s").given(financial_year, "financial_year = %s")
    only = Where().given(line_id, "l.line_id = %s")
    rows = fetch_rows(
        conn,
        f"WITH {_FUNDED.format(where=where.sql)}, spent AS (SELECT f.line_id, {_SPENT} GROUP BY f.line_id)"
        " SELECT l.line_id, l.commissioner_id,"
        f" {COMMISSIONER_NAME.format('l.commissioner_id')} AS commissioner_name, l.financial_year, l.code, l.name,"
        " l.amount, l.ring_fenced, l.overrun, l.committed, l.amount + l.overrun - l.committed AS available,"
        " coalesce(s.charged, 0) AS charged, coalesce(s.invoiced, 0) AS invoiced, coalesce(s.paid, 0) AS paid,"
        " l.amount + l.overrun - coalesce(s.paid, 0) AS remaining"
        f" FROM lines l LEFT JOIN spent s ON s.line_id = l.line_id WHERE {only.sql}"
        " ORDER BY commissioner_name, l.commissioner_id, l.financial_year, l.ring_fenced, l.code",
        [*where.params, *only.params],
    )
    return BudgetList(items=[BudgetLineRecord(**row) for row in rows])


def budget_burn(
    conn: psycopg.Connection[Any], line_id: UUID, *, commissioner_id: UUID | None = None
) -> BudgetBurn | None:
    """A budget line's year month by month (April to March): what its contracts were charged, invoiced and paid, with
    running totals; None when there is no such line (or it is not `commissioner_id`'s)."""
    found = fetch_rows(
        conn,
        "SELECT commissioner_id, financial_year FROM finance_budget_lines WHERE line_id = %s",
        (line_id,),
    )
    if not found or commissioner_id not in (None, found[0]["commissioner_id"]):
        return None
    owner, year = found[0]["commissioner_id"], found[0]["financial_year"]
    (line,) = list_budget_lines(conn, commissioner_id=owner, financial_year=year, line_id=line_id).items
    where = Where().add("commissioner_id = %s AND financial_year = %s", owner, year)
    spent = {
        r["month"]: r
        for r in fetch_rows(
            conn,
            f"WITH {_FUNDED.format(where=where.sql)}"
            f" SELECT to_char(r.month, 'YYYY-MM') AS month, {_SPENT} WHERE f.line_id = %s GROUP BY 1",
            [*where.params, line_id],
        )
    }
    start = int(year[:4])
    months, charged, paid = [], Decimal(0), Decimal(0)
    for n in range(12):
        month = f"{start + (3 + n) // 12}-{(3 + n) % 12 + 1:02d}"
        row = spent.get(month, {"charged": Decimal(0), "invoiced": Decimal(0), "paid": Decimal(0)})
        charged, paid = charged + row["charged"], paid + row["paid"]
        months.append(
            BurnMonth(
                month=month,
                charged=row["charged"],
                invoiced=row["invoiced"],
                paid=row["paid"],
                charged_to_date=charged,
                paid_to_date=paid,
            )
        )
    return BudgetBurn(line=line, months=months)
