"""The payments view and its handlers: the journal of postings and the monthly rollup, charges, invoices,
payments and budget lines."""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
from psycopg import Cursor
from psycopg.types.json import Jsonb

from ledger.payments import compliance, money
from ledger.payments.accounts import ContractAccount
from ledger.payments.budgets import BudgetLine
from projections.base import LoggedEvent, View, fetch_one
from projections.payments.compliance import invoice_facts
from projections.sql import Where

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
    code_version = "4"  # 4: the day an invoice was received and its decisions took effect; paid days (0027)
    tables = (
        "finance_invoice_decisions",
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
        e = logged.event
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
                _account_opened(cur, logged)
            case ContractAccount.PriceScheduleSet():
                _price_schedule_set(cur, logged, contract_id)
            case ContractAccount.ChargeRecorded():
                _charge_recorded(cur, logged, contract_id)
                self._journal(cur, logged, e.postings, contract_id, e.earned_on)
            case ContractAccount.ChargeRefusedByCap():
                _charge_refused(cur, logged, contract_id)
            case ContractAccount.ChargeReversed():
                _charge_reversed(cur, logged)
                self._journal(cur, logged, e.postings, contract_id, today)
            case ContractAccount.InvoiceSubmitted():
                _invoice_submitted(cur, logged, contract_id)
            case ContractAccount.InvoiceLineApproved():
                _invoice_line_approved(cur, logged)
                _settle(cur, e.invoice_id)
                self._journal(cur, logged, e.postings, contract_id, today)
            case ContractAccount.InvoiceLineDisputed():
                _invoice_line_disputed(cur, logged)
                _settle(cur, e.invoice_id)
            case ContractAccount.CreditNoteIssued():
                _credit_note_issued(cur, logged)
                _settle(cur, e.invoice_id)
                self._journal(cur, logged, e.postings, contract_id, today)
            case ContractAccount.PaymentMade():
                _payment_made(cur, logged, contract_id)
                _settle(cur, e.invoice_id)
                self._journal(cur, logged, e.postings, contract_id, e.paid_on)
            case ContractAccount.PaymentReversed():
                _settle(cur, _payment_reversed(cur, logged))
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


# -- a contract's account: what each event writes ---------------------------------------------------------------


def _account_opened(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e = logged.event
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


def _price_schedule_set(cur: Cursor[Any], logged: LoggedEvent, contract_id: UUID | None) -> None:
    e = logged.event
    cur.execute(
        "UPDATE finance_accounts SET schedules = schedules || %s WHERE contract_id = %s",
        (_json([{"version": e.version, **msgspec.to_builtins(e.schedule)}]), contract_id),
    )


def _charge_recorded(cur: Cursor[Any], logged: LoggedEvent, contract_id: UUID | None) -> None:
    e = logged.event
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
            logged.envelope.recorded_at,
            contract_id,
        ),
    )


def _charge_refused(cur: Cursor[Any], logged: LoggedEvent, contract_id: UUID | None) -> None:
    e, at = logged.event, logged.envelope.recorded_at
    cur.execute(
        "INSERT INTO finance_refused_charges (position, contract_id, clause, basis, amount, cap, charged,"
        " recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (logged.position, contract_id, str(e.clause), _json(e.basis), e.amount, e.cap, e.charged, at),
    )


def _charge_reversed(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e = logged.event
    cur.execute(
        "UPDATE finance_charges SET reversed = true, reversal_reason = %s WHERE charge_id = %s",
        (e.reason, e.charge_id),
    )


def _invoice_submitted(cur: Cursor[Any], logged: LoggedEvent, contract_id: UUID | None) -> None:
    e = logged.event
    lines = msgspec.to_builtins(e.lines)
    cur.execute(
        "INSERT INTO finance_invoices (invoice_id, contract_id, supplier_id, commissioner_id,"
        " invoice_number, period_start, period_end, submitted_at, received_on, claimed, flagged_lines, lines)"
        " SELECT %s, contract_id, supplier_id, commissioner_id, %s, %s, %s, %s, %s, %s, %s, %s"
        " FROM finance_accounts WHERE contract_id = %s",
        (
            e.invoice_id,
            e.invoice_number,
            e.period_start,
            e.period_end,
            logged.envelope.recorded_at,
            logged.envelope.effective_at.astimezone(UTC).date(),
            sum((line.claimed for line in e.lines), Decimal(0)),
            sum(1 for line in e.lines if line.flag),
            _json(lines),
            contract_id,
        ),
    )


def _decided(cur: Cursor[Any], logged: LoggedEvent, kind: str, amount: Decimal | None, reason: str | None) -> None:
    """A decision on an invoice line, kept with who made it and when."""
    e = logged.event
    cur.execute(
        "INSERT INTO finance_invoice_decisions (position, invoice_id, line, kind, amount, reason, decided_by,"
        " recorded_at, effective_on) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            logged.position,
            e.invoice_id,
            e.line,
            kind,
            amount,
            reason,
            logged.envelope.actor_id,
            logged.envelope.recorded_at,
            logged.envelope.effective_at.astimezone(UTC).date(),
        ),
    )


def _invoice_line_approved(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e = logged.event
    cur.execute(
        "UPDATE finance_invoices SET approved = approved + %s WHERE invoice_id = %s",
        (e.amount, e.invoice_id),
    )
    cur.execute(
        "UPDATE finance_charges SET invoice_id = %s WHERE charge_id = ANY(%s)",
        (e.invoice_id, list(e.charge_ids)),
    )
    _decided(cur, logged, "approved", e.amount, None)


def _invoice_line_disputed(cur: Cursor[Any], logged: LoggedEvent) -> None:
    cur.execute(
        "UPDATE finance_invoices SET disputed_lines = disputed_lines + 1 WHERE invoice_id = %s",
        (logged.event.invoice_id,),
    )
    _decided(cur, logged, "disputed", None, logged.event.reason)


def _credit_note_issued(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e = logged.event
    cur.execute(
        "UPDATE finance_invoices SET credited = credited + %s WHERE invoice_id = %s",
        (e.amount, e.invoice_id),
    )
    _decided(cur, logged, "credit_note", e.amount, e.reason)


def _payment_made(cur: Cursor[Any], logged: LoggedEvent, contract_id: UUID | None) -> None:
    e, at = logged.event, logged.envelope.recorded_at
    cur.execute(
        "INSERT INTO finance_payments (payment_id, invoice_id, contract_id, amount, paid_on, remittance,"
        " recorded_at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (e.payment_id, e.invoice_id, contract_id, e.amount, e.paid_on, e.remittance_reference, at),
    )
    cur.execute("UPDATE finance_invoices SET paid = paid + %s WHERE invoice_id = %s", (e.amount, e.invoice_id))


def _payment_reversed(cur: Cursor[Any], logged: LoggedEvent) -> UUID | None:
    """The reversal kept on the payment; the invoice it was made against."""
    e = logged.event
    row = fetch_one(
        cur,
        "UPDATE finance_payments SET reversed = true, reversal_reason = %s WHERE payment_id = %s"
        " RETURNING invoice_id, amount",
        (e.reason, e.payment_id),
    )
    if row is None:
        return None
    cur.execute("UPDATE finance_invoices SET paid = paid - %s WHERE invoice_id = %s", (row[1], row[0]))
    return row[0]


def _settle(cur: Cursor[Any], invoice_id: UUID | None) -> None:
    """The day the invoice was paid, as the domain decides it from its facts: when its last payable sum was paid,
    once every line is decided (a line approved after a payment leaves it unpaid again)."""
    if invoice_id is None:
        return
    facts = invoice_facts(cur.connection, Where().add("i.invoice_id = %s", invoice_id))
    paid = compliance.paid_on(facts[0]) if facts else None
    cur.execute("UPDATE finance_invoices SET fully_paid_on = %s WHERE invoice_id = %s", (paid, invoice_id))
