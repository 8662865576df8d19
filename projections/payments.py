"""The payment view: the journal of postings, charges, invoices, payments and budgets; finance's queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg import Cursor
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ledger.payments import money
from ledger.payments.accounts import ContractAccount
from ledger.payments.budgets import BudgetLine
from projections.base import LoggedEvent, View, fetch_one
from projections.export import csv_text

_encode = msgspec.json.Encoder(decimal_format="string")


def _json(value: Any) -> Jsonb:
    return Jsonb(msgspec.json.decode(_encode.encode(value)))


def _kind(account: str, event_type: str) -> tuple[str, int] | None:
    """What a posting adds to finance's figures, and with which sign (the one place these rules live)."""
    if account.startswith("commitment:"):
        return "committed", 1
    if account.startswith("spend:"):
        return "charged", 1
    if account.startswith("payable:") and event_type in ("InvoiceLineApproved", "CreditNoteIssued"):
        return "invoiced", -1
    if account.startswith("cash:"):
        return "paid", -1
    return None


class PaymentsView(View):
    name = "payments"
    code_version = "2"
    tables = (
        "finance_rollup",
        "finance_accounts",
        "finance_postings",
        "finance_charges",
        "finance_refused_charges",
        "finance_invoices",
        "finance_payments",
        "finance_budget_lines",
    )

    def register(self) -> None:
        for event_class in (
            ContractAccount.ContractAccountOpened,
            ContractAccount.PriceScheduleSet,
            ContractAccount.ChargeRecorded,
            ContractAccount.ChargeRefusedByCap,
            ContractAccount.ChargeReversed,
            ContractAccount.InvoiceSubmitted,
            ContractAccount.InvoiceLineApproved,
            ContractAccount.InvoiceLineDisputed,
            ContractAccount.CreditNoteIssued,
            ContractAccount.PaymentMade,
            ContractAccount.PaymentReversed,
        ):
            self.on(event_class, self.account_changed)
        for event_class in (
            BudgetLine.BudgetLineSet,
            BudgetLine.BudgetOverrunApproved,
            BudgetLine.CommitmentRecorded,
            BudgetLine.CommitmentReleased,
        ):
            self.on(event_class, self.budget_changed)

    def __init__(self) -> None:
        super().__init__()
        # Facts fixed when an account or budget line opens, remembered so that applying an event need not
        # wait for a query's reply (they are looked up only after a restart).
        self._contract_of: dict[UUID, UUID] = {}  # account id -> contract id
        self._dims: dict[UUID, tuple[Any, ...]] = {}  # contract id -> supplier, commissioner, category, regions
        self._year_of: dict[UUID, str] = {}  # budget line id -> financial year

    def _dimensions(self, cur: Cursor[Any], contract_id: UUID | None) -> tuple[Any, ...]:
        if contract_id is None:
            return (None, None, None, None)
        if contract_id not in self._dims:
            row = fetch_one(
                cur,
                "SELECT supplier_id, commissioner_id, category, regions FROM finance_accounts WHERE contract_id = %s",
                (contract_id,),
            )
            if row is None:
                return (None, None, None, None)
            self._dims[contract_id] = tuple(row)
        return self._dims[contract_id]

    def _journal(
        self,
        cur: Cursor[Any],
        logged: LoggedEvent,
        postings: tuple[money.Posting, ...],
        contract_id: UUID | None,
        effective_on: date,
    ) -> None:
        dims = self._dimensions(cur, contract_id)
        event_type = type(logged.event).__name__
        month = effective_on.replace(day=1)
        recorded_month = logged.envelope.recorded_at.astimezone(UTC).date().replace(day=1)
        rolled = []
        for posting in postings:
            kind = _kind(posting.account, event_type)
            if kind is not None:
                rolled.append((kind[0], kind[1] * posting.amount))
        if rolled:
            cur.executemany(
                "INSERT INTO finance_rollup (month, recorded_month, kind, contract_id, supplier_id, commissioner_id,"
                " category, regions, financial_year, amount) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (month, recorded_month, kind, contract_id, supplier_id, commissioner_id, category,"
                " regions, financial_year) DO UPDATE SET amount = finance_rollup.amount + excluded.amount",
                [
                    (month, recorded_month, kind, contract_id, *dims, money.financial_year(effective_on), amount)
                    for kind, amount in rolled
                ],
            )
        cur.executemany(
            "INSERT INTO finance_postings (position, seq, event_type, account, amount, contract_id, supplier_id,"
            " commissioner_id, category, regions, recorded_at, effective_on, financial_year)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (
                    logged.position,
                    seq,
                    type(logged.event).__name__,
                    p.account,
                    p.amount,
                    contract_id,
                    *dims,
                    logged.envelope.recorded_at,
                    effective_on,
                    money.financial_year(effective_on),
                )
                for seq, p in enumerate(postings)
            ],
        )

    def account_changed(self, cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, at = logged.event, logged.envelope.recorded_at
        today = logged.envelope.effective_at.date()
        contract_id = self._contract_of.get(logged.originator_id)
        if contract_id is None and not isinstance(e, ContractAccount.ContractAccountOpened):
            contract_row = fetch_one(
                cur, "SELECT contract_id FROM finance_accounts WHERE account_id = %s", (logged.originator_id,)
            )
            contract_id = contract_row[0] if contract_row else None
        contract_id = contract_id or getattr(e, "contract_id", None)
        match e:
            case ContractAccount.ContractAccountOpened():
                self._contract_of[logged.originator_id] = e.contract_id
                self._dims[e.contract_id] = (e.supplier_id, e.commissioner_id, e.category, list(e.regions))
                cur.execute(
                    "INSERT INTO finance_accounts (contract_id, account_id, supplier_id, commissioner_id, category,"
                    " regions, unfunded, version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        e.contract_id,
                        logged.originator_id,
                        e.supplier_id,
                        e.commissioner_id,
                        e.category,
                        list(e.regions),
                        _json(e.unfunded),
                        logged.originator_version,
                    ),
                )
            case ContractAccount.PriceScheduleSet():
                cur.execute(
                    "UPDATE finance_accounts SET schedules = schedules || %s WHERE contract_id = %s",
                    (_json([{"version": e.version, **msgspec.to_builtins(e.schedule)}]), contract_id),
                )
            case ContractAccount.ChargeRecorded():
                cur.execute(
                    "INSERT INTO finance_charges (charge_id, contract_id, supplier_id, commissioner_id, clause,"
                    " schedule_version, basis, amount, earned_on, recorded_at)"
                    " SELECT %s, contract_id, supplier_id, commissioner_id, %s, %s, %s, %s, %s, %s"
                    " FROM finance_accounts WHERE contract_id = %s",
                    (
                        e.charge_id,
                        str(e.clause),
                        e.schedule_version,
                        _json(e.basis),
                        e.amount,
                        e.earned_on,
                        at,
                        contract_id,
                    ),
                )
                self._journal(cur, logged, e.postings, contract_id, e.earned_on)
            case ContractAccount.ChargeRefusedByCap():
                cur.execute(
                    "INSERT INTO finance_refused_charges (position, contract_id, clause, basis, amount, cap, charged,"
                    " recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (logged.position, contract_id, str(e.clause), _json(e.basis), e.amount, e.cap, e.charged, at),
                )
            case ContractAccount.ChargeReversed():
                cur.execute(
                    "UPDATE finance_charges SET reversed = true, reversal_reason = %s WHERE charge_id = %s",
                    (e.reason, e.charge_id),
                )
                self._journal(cur, logged, e.postings, contract_id, today)
            case ContractAccount.InvoiceSubmitted():
                lines = msgspec.to_builtins(e.lines)
                cur.execute(
                    "INSERT INTO finance_invoices (invoice_id, contract_id, supplier_id, commissioner_id,"
                    " invoice_number, period_start, period_end, submitted_at, claimed, flagged_lines, lines)"
                    " SELECT %s, contract_id, supplier_id, commissioner_id, %s, %s, %s, %s, %s, %s, %s"
                    " FROM finance_accounts WHERE contract_id = %s",
                    (
                        e.invoice_id,
                        e.invoice_number,
                        e.period_start,
                        e.period_end,
                        at,
                        sum((line.claimed for line in e.lines), Decimal(0)),
                        sum(1 for line in e.lines if line.flag),
                        _json(lines),
                        contract_id,
                    ),
                )
            case ContractAccount.InvoiceLineApproved():
                cur.execute(
                    "UPDATE finance_invoices SET approved = approved + %s WHERE invoice_id = %s",
                    (e.amount, e.invoice_id),
                )
                cur.execute(
                    "UPDATE finance_charges SET invoice_id = %s WHERE charge_id = ANY(%s)",
                    (e.invoice_id, list(e.charge_ids)),
                )
                self._journal(cur, logged, e.postings, contract_id, today)
            case ContractAccount.InvoiceLineDisputed():
                cur.execute(
                    "UPDATE finance_invoices SET disputed_lines = disputed_lines + 1 WHERE invoice_id = %s",
                    (e.invoice_id,),
                )
            case ContractAccount.CreditNoteIssued():
                cur.execute(
                    "UPDATE finance_invoices SET credited = credited + %s WHERE invoice_id = %s",
                    (e.amount, e.invoice_id),
                )
                self._journal(cur, logged, e.postings, contract_id, today)
            case ContractAccount.PaymentMade():
                cur.execute(
                    "INSERT INTO finance_payments (payment_id, invoice_id, contract_id, amount, paid_on, remittance,"
                    " recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                    (e.payment_id, e.invoice_id, contract_id, e.amount, e.paid_on, e.remittance_reference, at),
                )
                cur.execute(
                    "UPDATE finance_invoices SET paid = paid + %(a)s, fully_paid_on = CASE WHEN paid + %(a)s"
                    " >= approved - credited AND approved > 0 THEN %(on)s ELSE NULL END WHERE invoice_id = %(i)s",
                    {"a": e.amount, "on": e.paid_on, "i": e.invoice_id},
                )
                self._journal(cur, logged, e.postings, contract_id, e.paid_on)
            case ContractAccount.PaymentReversed():
                row = fetch_one(
                    cur,
                    "UPDATE finance_payments SET reversed = true, reversal_reason = %s WHERE payment_id = %s"
                    " RETURNING invoice_id, amount",
                    (e.reason, e.payment_id),
                )
                if row:
                    cur.execute(
                        "UPDATE finance_invoices SET paid = paid - %s, fully_paid_on = NULL WHERE invoice_id = %s",
                        (row[1], row[0]),
                    )
                self._journal(cur, logged, e.postings, contract_id, today)
        if contract_id is not None:
            cur.execute(
                "UPDATE finance_accounts SET version = %s WHERE contract_id = %s",
                (logged.originator_version, contract_id),
            )

    def budget_changed(self, cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, lid = logged.event, logged.originator_id
        match e:
            case BudgetLine.BudgetLineSet():
                self._year_of[lid] = e.financial_year
                cur.execute(
                    "INSERT INTO finance_budget_lines (line_id, commissioner_id, financial_year, code, name, amount,"
                    " ring_fenced, version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        lid,
                        e.commissioner_id,
                        e.financial_year,
                        e.code,
                        e.name,
                        e.amount,
                        e.ring_fenced,
                        logged.originator_version,
                    ),
                )
                start, _ = money.financial_year_bounds(e.financial_year)
                self._journal(cur, logged, e.postings, None, start)
            case BudgetLine.BudgetOverrunApproved():
                cur.execute(
                    "UPDATE finance_budget_lines SET overrun = overrun + %s WHERE line_id = %s", (e.amount, lid)
                )
            case BudgetLine.CommitmentRecorded() | BudgetLine.CommitmentReleased():
                change = e.amount if isinstance(e, BudgetLine.CommitmentRecorded) else -e.amount
                cur.execute(
                    "UPDATE finance_budget_lines SET committed = committed + %s WHERE line_id = %s", (change, lid)
                )
                fy = self._year_of.get(lid)
                if fy is None:
                    row = fetch_one(cur, "SELECT financial_year FROM finance_budget_lines WHERE line_id = %s", (lid,))
                    fy = self._year_of[lid] = row[0] if row else None
                start, _ = money.financial_year_bounds(fy) if fy else (logged.envelope.effective_at.date(), None)
                self._journal(cur, logged, e.postings, e.contract_id, start)
        cur.execute("UPDATE finance_budget_lines SET version = %s WHERE line_id = %s", (logged.originator_version, lid))


# -- queries ---------------------------------------------------------------------------------------

GROUPS = {  # group by -> (key over the rollup, key over postings)
    "supplier": ("supplier_id::text", "supplier_id::text"),
    "contract": ("contract_id::text", "contract_id::text"),
    "commissioner": ("commissioner_id::text", "commissioner_id::text"),
    "region": ("region", "region"),
    "category": ("category", "category"),
    "financial_year": ("financial_year", "financial_year"),
    "month": ("to_char(month, 'YYYY-MM')", "to_char(effective_on, 'YYYY-MM')"),
}
# A posting's kind, in SQL, for the current month's postings (as `_kind` says in Python).
_POSTING_KIND = (
    "CASE WHEN account LIKE 'commitment:%%' THEN 'committed' WHEN account LIKE 'spend:%%' THEN 'charged'"
    " WHEN account LIKE 'payable:%%' AND event_type IN ('InvoiceLineApproved', 'CreditNoteIssued') THEN 'invoiced'"
    " WHEN account LIKE 'cash:%%' THEN 'paid' END"
)
_POSTING_SIGN = "CASE WHEN account LIKE 'payable:%%' OR account LIKE 'cash:%%' THEN -1 ELSE 1 END"


class SpendLine(msgspec.Struct, kw_only=True):
    key: str | None
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


def _cut_sql(cut: FinanceCut) -> tuple[list[str], list[Any]]:
    clauses, params = [], []
    for column, value in (
        ("supplier_id", cut.supplier_id),
        ("contract_id", cut.contract_id),
        ("commissioner_id", cut.commissioner_id),
        ("category", cut.category),
        ("financial_year", cut.financial_year),
    ):
        if value is not None:
            clauses.append(f"{column} = %s")
            params.append(value)
    if cut.region is not None:
        clauses.append("%s = ANY(regions)")
        params.append(cut.region)
    return clauses, params


def spend(
    conn: psycopg.Connection[Any], cut: FinanceCut, group_by: str, *, as_of: date | None = None, axis: str = "effective"
) -> Spend:
    """Spend by a cut: the monthly rollup's complete months, plus, as at a date, that month's own postings."""
    clauses, params = _cut_sql(cut)
    rollup_key, posting_key = GROUPS[group_by]
    rollup_where, rollup_params = list(clauses), list(params)
    parts = []
    if as_of is not None:
        first = as_of.replace(day=1)
        rollup_where.append(("month" if axis == "effective" else "recorded_month") + " < %s")
        rollup_params.append(first)
        tail_where = [*clauses]
        tail_params = [*params]
        if axis == "effective":
            tail_where.append("effective_on >= %s AND effective_on <= %s")
            tail_params += [first, as_of]
        else:
            tail_where.append("recorded_at >= %s AND recorded_at < %s")
            tail_params += [
                datetime.combine(first, time.min, UTC),
                datetime.combine(as_of + timedelta(days=1), time.min, UTC),
            ]
        tail = (
            f"SELECT {posting_key} AS key, {_POSTING_KIND} AS kind, {_POSTING_SIGN} * amount AS amount FROM"
            + _regions_unnested("finance_postings", group_by)
            + f" WHERE {' AND '.join(tail_where)}"
        )
        parts.append((tail, tail_params))
    rollup = (
        f"SELECT {rollup_key} AS key, kind, amount FROM"
        + _regions_unnested("finance_rollup", group_by)
        + f" WHERE {' AND '.join(rollup_where) or 'true'}"
    )
    parts.insert(0, (rollup, rollup_params))
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


class AgedPayable(msgspec.Struct, kw_only=True):
    invoice_id: UUID
    invoice_number: str
    contract_id: UUID
    supplier_id: UUID
    submitted_on: date
    outstanding: Decimal
    age_days: int
    bucket: str


class AgedPayables(msgspec.Struct, kw_only=True):
    as_of: date
    buckets: dict[str, Decimal]
    items: list[AgedPayable]


def aged_payables(conn: psycopg.Connection[Any], cut: FinanceCut, as_of: date) -> AgedPayables:
    """Approved and unpaid invoices by age since receipt, with payments made by the end of `as_of`."""
    clauses, params = ["i.submitted_at::date <= %s"], [as_of, as_of]
    for column, value in (
        ("supplier_id", cut.supplier_id),
        ("contract_id", cut.contract_id),
        ("commissioner_id", cut.commissioner_id),
    ):
        if value is not None:
            clauses.append(f"i.{column} = %s")
            params.append(value)
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT i.invoice_id, i.invoice_number, i.contract_id, i.supplier_id, i.submitted_at::date AS submitted_on,"
            " (i.approved - i.credited - coalesce((SELECT sum(pay.amount) FROM finance_payments pay"
            "   WHERE pay.invoice_id = i.invoice_id AND pay.paid_on <= %s AND NOT pay.reversed), 0)) AS outstanding"
            f" FROM finance_invoices i WHERE {' AND '.join(clauses)} ORDER BY i.submitted_at",
            params,
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


class PromptPaymentLine(msgspec.Struct, kw_only=True):
    commissioner_id: UUID
    valid_invoices: int
    paid_within_30_days: int
    share: Decimal | None


class PromptPayment(msgspec.Struct, kw_only=True):
    """Procurement Act 2023 s.69: the share of valid invoices paid within 30 days, per commissioner."""

    period_start: date
    period_end: date
    lines: list[PromptPaymentLine]


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


EXPORTS = {
    "postings": "SELECT * FROM finance_postings ORDER BY position, seq",
    "charges": "SELECT * FROM finance_charges ORDER BY earned_on, charge_id",
    "refused-charges": "SELECT * FROM finance_refused_charges ORDER BY position",
    "invoices": "SELECT invoice_id, contract_id, supplier_id, commissioner_id, invoice_number, period_start,"
    " period_end, submitted_at, claimed, approved, credited, paid, flagged_lines, disputed_lines, fully_paid_on"
    " FROM finance_invoices ORDER BY submitted_at",
    "payments": "SELECT * FROM finance_payments ORDER BY paid_on, payment_id",
    "budget-lines": "SELECT * FROM finance_budget_lines ORDER BY commissioner_id, financial_year, code",
}


def export_csv(conn: psycopg.Connection[Any], table: str) -> str | None:
    """One finance table as CSV, every column of every row (None: no such export)."""
    sql = EXPORTS.get(table)
    if sql is None:
        return None
    cur = conn.cursor(row_factory=dict_row).execute(sql)
    return csv_text([c.name for c in cur.description or ()], cur.fetchall())


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
