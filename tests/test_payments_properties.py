"""Property: over random sequences of deliveries, corrections, invoices, approvals, payments, credits and
reversals, the postings always balance, no invariant breaks, and the payment view equals the events."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal
from uuid import UUID

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.cases import referrals as rf
from ledger.envelope import Actor, make_envelope
from ledger.errors import RuleViolation
from ledger.payments import accounts
from ledger.payments.accounts import ContractAccount, account_id_for
from projections.runner import wait_for_position
from tests.market import Market
from tests.test_payments import SCHEDULE, priced, started

FINANCE = Actor(id="finance-1", role="finance_officer", organisation_id="hmpps-finance")
CASEWORKER = Actor(id="cw-1", role="provider_caseworker", organisation_id="provider")


@pytest.fixture(scope="module")
def world(make_database, settings):
    market = Market(make_database(), settings)
    contract, _ = priced(market, **{**SCHEDULE, "fixed_fee_per_month": None})
    referral = started(market, contract, sessions=100)
    yield market, UUID(contract), UUID(referral)
    market.close()


operations = st.lists(
    st.tuples(
        st.sampled_from(["attend", "miss", "correct", "invoice", "approve", "pay", "credit", "reverse"]),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=10,
)


def run(market: Market, contract: UUID, referral: UUID, op: str, n: int) -> None:
    ledger = market.app.services.ledger
    env = lambda actor=FINANCE: make_envelope(actor, recorded_at=market.clock.now)  # noqa: E731
    account = ledger.load(ContractAccount, account_id_for(contract))
    if op in ("attend", "miss"):
        starts = market.clock.now + timedelta(minutes=5)
        rf.schedule_appointment(
            ledger,
            env(CASEWORKER),
            referral,
            rf.ScheduleAppointment(starts_at=starts, delivery_method=rf.DeliveryMethod.PHONE),
        )
        market.clock.advance(minutes=10)
        appointment = max(ledger.load(rf.Referral, referral).appointments.values(), key=lambda a: a.starts_at)
        rf.record_attendance(
            ledger,
            env(CASEWORKER),
            referral,
            rf.RecordAttendance(
                appointment_id=appointment.id,
                attended=rf.Attended.YES if op == "attend" else rf.Attended.NO,
                absence=None if op == "attend" else rf.Absence.ACCEPTABLE,
            ),
        )
    elif op == "correct":
        attended = [
            a
            for a in ledger.load(rf.Referral, referral).appointments.values()
            if a.kind is rf.AppointmentKind.SESSION and a.attended is not None
        ]
        if attended:
            a = attended[n % len(attended)]
            to = rf.Attended.NO if a.attended is not rf.Attended.NO else rf.Attended.YES
            rf.correct_attendance(
                ledger,
                env(CASEWORKER),
                referral,
                rf.CorrectAttendance(
                    appointment_id=a.id,
                    attended=to,
                    absence=rf.Absence.ACCEPTABLE if to is rf.Attended.NO else None,
                    reason="register checked",
                ),
            )
    elif op == "invoice":
        open_charges = [cid for cid, c in account.charges.items() if not c.reversed and c.invoice_id is None]
        if open_charges:
            amount = sum((account.charges[c].amount for c in open_charges), Decimal(0))
            claimed = amount + (Decimal("10.00") if n % 4 == 0 else 0)  # sometimes over-claimed
            accounts.submit_invoice(
                ledger,
                env(),
                contract,
                accounts.SubmitInvoice(
                    invoice_number=f"P-{len(account.invoices)}-{n}",
                    period_start=market.clock.now.date() - timedelta(days=3650),
                    period_end=market.clock.now.date(),
                    lines=(accounts.InvoiceLine(description="All", amount=claimed, charge_ids=tuple(open_charges)),),
                ),
            )
    elif op == "approve" and account.invoices:
        invoice_id = list(account.invoices)[n % len(account.invoices)]
        accounts.approve_invoice_line(ledger, env(), contract, invoice_id, accounts.LineDecision(line=1))
    elif op in ("pay", "credit") and account.invoices:
        invoice_id = list(account.invoices)[n % len(account.invoices)]
        unpaid = account.unpaid_approved(invoice_id)
        amount = (unpaid * Decimal(n % 100 + 1) / 100).quantize(Decimal("0.01")) or Decimal("0.01")
        if op == "pay":
            accounts.make_payment(
                ledger,
                env(),
                contract,
                invoice_id,
                accounts.MakePayment(amount=amount, paid_on=market.clock.now.date(), remittance_reference=f"R{n}"),
                request_key=f"k{n}",
            )
        else:
            accounts.issue_credit_note(
                ledger, env(), contract, invoice_id, accounts.CreditNote(line=1, amount=amount, reason="adjustment")
            )
    elif op == "reverse" and account.payments:
        payment_id = list(account.payments)[n % len(account.payments)]
        accounts.reverse_payment(
            ledger, env(), contract, accounts.ReversePayment(payment_id=payment_id, reason="bounced")
        )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_postings_balance_invariants_hold_and_the_view_equals_the_events(world, steps) -> None:
    market, contract, referral = world
    for op, n in steps:
        # A refused command writes nothing; the invariants below must hold either way.
        with contextlib.suppress(RuleViolation):
            run(market, contract, referral, op, n)
    ledger = market.app.services.ledger
    account = ledger.load(ContractAccount, account_id_for(contract))
    for invoice_id, invoice in account.invoices.items():
        assert Decimal(0) <= invoice.paid <= invoice.approved - invoice.credited, invoice_id
        matched = sum((line.charged for line in invoice.lines if invoice.status[line.line] == "approved"), Decimal(0))
        assert invoice.approved <= matched
    assert account.charged == sum((c.amount for c in account.charges.values() if not c.reversed), Decimal(0))
    with psycopg.connect(market.url, autocommit=True) as conn:
        assert wait_for_position(conn, ["payments"], ledger.head(), timeout=10)
        unbalanced = conn.execute(
            "SELECT position FROM finance_postings GROUP BY position HAVING sum(amount) <> 0"
        ).fetchall()
        assert unbalanced == []
        assert conn.execute("SELECT coalesce(sum(amount), 0) FROM finance_postings").fetchone()[0] == 0
        charged = conn.execute(
            "SELECT coalesce(sum(amount), 0) FROM finance_charges WHERE contract_id = %s AND NOT reversed", (contract,)
        ).fetchone()[0]
        assert charged == account.charged
        rows = conn.execute(
            "SELECT invoice_id, approved, credited, paid FROM finance_invoices WHERE contract_id = %s", (contract,)
        ).fetchall()
        view = {r[0]: (r[1], r[2], r[3]) for r in rows}
        events = {i: (inv.approved, inv.credited, inv.paid) for i, inv in account.invoices.items()}
        assert view == events
        spend = conn.execute(
            "SELECT coalesce(sum(amount), 0) FROM finance_postings WHERE account = %s", (f"spend:{contract}",)
        ).fetchone()[0]
        assert spend == account.charged
