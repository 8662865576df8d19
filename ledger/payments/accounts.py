"""A contract's account: its price schedules, the charges its deliveries earn, invoices and payments.

One stream per contract, so that its invariants hold under concurrency: never charge beyond the cap,
never approve more than was charged, never pay more than was approved.

Concluding and varying a contract are procurement's commands, with procurement's rules
(`ledger.procurement.contracts`); `conclude_contract` and `vary_contract` here hand them what payments records in
the same transaction: the new contract's account and the commitment of its value, or the commitment's change.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope, effective
from ledger.errors import ConcurrencyConflict, InvalidCommand, RuleViolation
from ledger.framework import categories, geography
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.payments import budgets, funding, money, ring_fences
from ledger.payments.money import Posting
from ledger.procurement import contracts
from ledger.procurement.contracts import ConcludeContract, Contract, VaryContract
from ledger.store import Ledger, Recorded
from ledger.types import Money, Reason, ShortText, money_errors


class Clause(enum.StrEnum):
    FIXED_FEE = "fixed_fee"  # per calendar month elapsed
    REFERRAL_FEE = "referral_fee"  # per accepted referral, by complexity
    SESSION_FEE = "session_fee"  # per attended session
    OUTCOME_PAYMENT = "outcome_payment"  # per desired outcome achieved
    GRANT_INSTALMENT = "grant_instalment"  # on a date or milestone


class Instalment(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    milestone: ShortText
    amount: Money
    due_on: date | None = None


class SetPriceSchedule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A new version of the contract's price schedule, in force from `effective_from`."""

    effective_from: date
    fixed_fee_per_month: Money | None = None
    referral_fee: dict[categories.Complexity, Money] = {}
    session_fee: Money | None = None
    outcome_payment: Money | None = None
    instalments: tuple[Instalment, ...] = ()


class InvoiceLine(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    description: ShortText
    amount: Money
    charge_ids: Annotated[tuple[UUID, ...], msgspec.Meta(max_length=5000)] = ()


class SubmitInvoice(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    invoice_number: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    period_start: date
    period_end: date
    lines: Annotated[tuple[InvoiceLine, ...], msgspec.Meta(min_length=1, max_length=500)]


class LineDecision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    line: Annotated[int, msgspec.Meta(ge=1)]
    reason: Reason | None = None


class CreditNote(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    line: Annotated[int, msgspec.Meta(ge=1)]
    amount: Money
    reason: Reason


class MakePayment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A payment, effective on the day it was paid (not after today, not before the invoice was submitted)."""

    amount: Money
    paid_on: date
    remittance_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]


class ReversePayment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    payment_id: UUID
    reason: Reason


class RecordMilestone(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    milestone: ShortText
    met_on: Annotated[
        date | None,
        msgspec.Meta(description="The day the milestone was met (default: now): its instalment is earned then"),
    ] = None


class ClosePeriod(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    month: Annotated[str, msgspec.Meta(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description='"2026-09"')]


class Basis(msgspec.Struct, frozen=True, kw_only=True):
    """The fact that earned a charge: its kind and the records it names."""

    kind: str  # referral_accepted, session_attended, outcome_achieved, period_elapsed, milestone_met
    referral_id: UUID | None = None
    appointment_id: UUID | None = None
    outcome: str | None = None
    period: str | None = None
    milestone: str | None = None


class MatchedLine(msgspec.Struct, frozen=True, kw_only=True):
    """The three-way match of one invoice line: the contract, its charges, the invoice."""

    line: int
    description: str
    claimed: Decimal
    charged: Decimal
    charge_ids: tuple[UUID, ...]
    flag: str | None  # None when matched; "unmatched" or "over-claimed"
    detail: str | None = None


class LineStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    DISPUTED = "disputed"


@dataclass
class ChargeState:
    amount: Decimal
    clause: Clause
    earned_on: date
    basis: Basis
    reversed: bool = False
    invoice_id: UUID | None = None


@dataclass
class InvoiceState:
    number: str
    submitted_at: datetime
    lines: list[MatchedLine]
    status: dict[int, LineStatus] = field(default_factory=dict)
    approved: Decimal = Decimal(0)
    credited: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)


def account_id_for(contract_id: UUID) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"account:{contract_id}")


def charge_id_for(contract_id: UUID, clause: Clause, basis: Basis) -> UUID:
    """One fact earns one charge per clause: the id derives from both, so it can never be charged twice."""
    return uuid5(LEDGER_NAMESPACE, f"charge:{contract_id}:{clause}:{msgspec.json.encode(basis).decode()}")


class AccountState(msgspec.Struct, kw_only=True):
    """A contract account's state, for its snapshots: one field per attribute of `ContractAccount`."""

    contract_id: UUID
    supplier_id: UUID
    commissioner_id: UUID
    category: str
    regions: tuple[str, ...]
    schedules: list[tuple[int, SetPriceSchedule]]
    charges: dict[UUID, ChargeState]
    charged: Decimal
    invoices: dict[UUID, InvoiceState]
    invoice_numbers: set[str]
    payments: dict[UUID, tuple[UUID, Decimal, bool]]


class ContractAccount(LedgerAggregate):
    # Every charge is an event of the account: its stream grows with delivery, so it is loaded from a snapshot.
    snapshot_every = 100
    snapshot_state = AccountState

    @staticmethod
    def create_id(contract_id: UUID) -> UUID:
        return account_id_for(contract_id)

    @event("ContractAccountOpened")
    def __init__(
        self,
        contract_id: UUID,
        supplier_id: UUID,
        commissioner_id: UUID,
        category: str,
        regions: tuple[str, ...],
        unfunded: tuple[tuple[str, Decimal], ...],
    ) -> None:
        self.contract_id = contract_id
        self.supplier_id = supplier_id
        self.commissioner_id = commissioner_id
        self.category = category
        self.regions = regions
        self.schedules: list[tuple[int, SetPriceSchedule]] = []
        self.charges: dict[UUID, ChargeState] = {}
        self.charged = Decimal(0)
        self.invoices: dict[UUID, InvoiceState] = {}
        self.invoice_numbers: set[str] = set()
        self.payments: dict[UUID, tuple[UUID, Decimal, bool]] = {}

    @event("PriceScheduleSet")
    def set_schedule(self, version: int, schedule: SetPriceSchedule) -> None:
        self.schedules.append((version, schedule))

    @event("ChargeRecorded")
    def record_charge(
        self,
        charge_id: UUID,
        clause: Clause,
        schedule_version: int,
        basis: Basis,
        amount: Decimal,
        earned_on: date,
        postings: tuple[Posting, ...],
    ) -> None:
        self.charges[charge_id] = ChargeState(amount=amount, clause=clause, earned_on=earned_on, basis=basis)
        self.charged += amount

    @event("ChargeRefusedByCap")
    def refuse_by_cap(
        self, clause: Clause, schedule_version: int, basis: Basis, amount: Decimal, cap: Decimal, charged: Decimal
    ) -> None:
        pass

    @event("ChargeReversed")
    def reverse_charge(self, charge_id: UUID, reason: str, postings: tuple[Posting, ...]) -> None:
        charge = self.charges[charge_id]
        charge.reversed = True
        self.charged -= charge.amount

    @event("InvoiceSubmitted")
    def submit_invoice(
        self,
        invoice_id: UUID,
        invoice_number: str,
        period_start: date,
        period_end: date,
        lines: tuple[MatchedLine, ...],
    ) -> None:
        self.invoices[invoice_id] = InvoiceState(
            number=invoice_number,
            submitted_at=self.event_time,
            lines=list(lines),
            status={line.line: LineStatus.SUBMITTED for line in lines},
        )
        self.invoice_numbers.add(invoice_number)

    @event("InvoiceLineApproved")
    def approve_line(
        self, invoice_id: UUID, line: int, amount: Decimal, charge_ids: tuple[UUID, ...], postings: tuple[Posting, ...]
    ) -> None:
        invoice = self.invoices[invoice_id]
        invoice.status[line] = LineStatus.APPROVED
        invoice.approved += amount
        for charge_id in charge_ids:
            self.charges[charge_id].invoice_id = invoice_id

    @event("InvoiceLineDisputed")
    def dispute_line(self, invoice_id: UUID, line: int, reason: str) -> None:
        self.invoices[invoice_id].status[line] = LineStatus.DISPUTED

    @event("CreditNoteIssued")
    def credit(self, invoice_id: UUID, line: int, amount: Decimal, reason: str, postings: tuple[Posting, ...]) -> None:
        self.invoices[invoice_id].credited += amount

    @event("PaymentMade")
    def pay(
        self,
        payment_id: UUID,
        invoice_id: UUID,
        amount: Decimal,
        paid_on: date,
        remittance_reference: str,
        postings: tuple[Posting, ...],
    ) -> None:
        self.invoices[invoice_id].paid += amount
        self.payments[payment_id] = (invoice_id, amount, False)

    @event("PaymentReversed")
    def reverse_payment(self, payment_id: UUID, reason: str, postings: tuple[Posting, ...]) -> None:
        invoice_id, amount, _ = self.payments[payment_id]
        self.payments[payment_id] = (invoice_id, amount, True)
        self.invoices[invoice_id].paid -= amount

    # -- derived -----------------------------------------------------------------------------------

    def schedule_on(self, day: date) -> tuple[int, SetPriceSchedule] | None:
        in_force = [(v, s) for v, s in self.schedules if s.effective_from <= day]
        return max(in_force, key=lambda item: (item[1].effective_from, item[0])) if in_force else None

    def unpaid_approved(self, invoice_id: UUID) -> Decimal:
        invoice = self.invoices[invoice_id]
        return invoice.approved - invoice.credited - invoice.paid


# -- charging (called by the commands whose facts earn money, inside their transaction) --------------


@dataclass(frozen=True)
class Billable:
    """A fact that may earn money under the contract's price schedule."""

    contract_id: UUID
    basis: Basis
    earned_on: date
    complexity: categories.Complexity | None = None
    count: int = 1


def _amount(schedule: SetPriceSchedule, clause: Clause, fact: Billable) -> Decimal | None:
    match clause:
        case Clause.REFERRAL_FEE:
            return schedule.referral_fee.get(fact.complexity) if fact.complexity else None
        case Clause.SESSION_FEE:
            return schedule.session_fee
        case Clause.OUTCOME_PAYMENT:
            return schedule.outcome_payment * fact.count if schedule.outcome_payment is not None else None
        case Clause.FIXED_FEE:
            return schedule.fixed_fee_per_month
        case Clause.GRANT_INSTALMENT:
            found = [i.amount for i in schedule.instalments if i.milestone == fact.basis.milestone]
            return found[0] if found else None
    return None


_CLAUSE_FOR = {
    "referral_accepted": Clause.REFERRAL_FEE,
    "session_attended": Clause.SESSION_FEE,
    "outcome_achieved": Clause.OUTCOME_PAYMENT,
    "period_elapsed": Clause.FIXED_FEE,
    "milestone_met": Clause.GRANT_INSTALMENT,
}


def charge(ledger: Ledger, fact: Billable) -> ContractAccount | None:
    """The contract's account with the charge this fact earns (or its refusal by the cap), or None.

    Call it inside the command that records the fact, and record the account with it: the charge is
    then written in the same transaction as the fact that earned it.
    """
    account_id = account_id_for(fact.contract_id)
    if not ledger.exists(account_id):
        return None
    account = ledger.load(ContractAccount, account_id)
    in_force = account.schedule_on(fact.earned_on)
    if in_force is None:
        return None
    version, schedule = in_force
    clause = _CLAUSE_FOR[fact.basis.kind]
    amount = _amount(schedule, clause, fact)
    if not amount:
        return None
    charge_id = charge_id_for(fact.contract_id, clause, fact.basis)
    if charge_id in account.charges and not account.charges[charge_id].reversed:
        return None  # already charged
    cap = ledger.load(Contract, fact.contract_id).value  # the contract value, with approved variations
    if account.charged + amount > cap:
        account.refuse_by_cap(
            clause=clause, schedule_version=version, basis=fact.basis, amount=amount, cap=cap, charged=account.charged
        )
        return account
    if charge_id in account.charges:  # charged, reversed, and earned again: a fresh charge for the same fact
        charge_id = uuid5(charge_id, str(len(account.charges)))
    account.record_charge(
        charge_id=charge_id,
        clause=clause,
        schedule_version=version,
        basis=fact.basis,
        amount=amount,
        earned_on=fact.earned_on,
        postings=money.check_balanced(
            money.transfer(money.spend(fact.contract_id), money.accrued(fact.contract_id), amount)
        ),
    )
    return account


def reverse_charges(ledger: Ledger, contract_id: UUID, basis: Basis, reason: str) -> ContractAccount | None:
    """Reverse the live charges a fact earned (a correction never edits a charge)."""
    account_id = account_id_for(contract_id)
    if not ledger.exists(account_id):
        return None
    account = ledger.load(ContractAccount, account_id)
    live = [cid for cid, c in account.charges.items() if c.basis == basis and not c.reversed]
    for charge_id in live:
        if account.charges[charge_id].invoice_id is not None:
            raise RuleViolation("charge already invoiced", "issue a credit note against the invoice first")
        account.reverse_charge(
            charge_id=charge_id,
            reason=reason,
            postings=money.check_balanced(
                money.reverse(
                    money.transfer(
                        money.spend(contract_id), money.accrued(contract_id), account.charges[charge_id].amount
                    )
                )
            ),
        )
    return account if live else None


def with_retries(attempt: object, tries: int = 3) -> Recorded:
    """Run a command that also writes the contract's account; a lost race on the account is re-run."""
    for remaining in range(tries, 0, -1):
        try:
            return attempt()  # type: ignore[operator]
        except ConcurrencyConflict:
            if remaining == 1:
                raise
    raise AssertionError("unreachable")


# -- finance commands ----------------------------------------------------------------------------


def _account(ledger: Ledger, contract_id: UUID) -> ContractAccount:
    account_id = account_id_for(contract_id)
    if not ledger.exists(account_id):
        raise RuleViolation("contract has no account", "the contract was concluded before accounts existed")
    return ledger.load(ContractAccount, account_id)


def set_price_schedule(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: SetPriceSchedule) -> Recorded:
    amounts = [
        ("$.fixed_fee_per_month", command.fixed_fee_per_month),
        ("$.session_fee", command.session_fee),
        ("$.outcome_payment", command.outcome_payment),
    ]
    amounts += [(f"$.referral_fee.{k}", v) for k, v in command.referral_fee.items()]
    amounts += [(f"$.instalments[{i}].amount", x.amount) for i, x in enumerate(command.instalments)]
    errors = [e for path, value in amounts if value is not None for e in money_errors(value, path)]
    if errors:
        raise InvalidCommand(errors)
    account = _account(ledger, contract_id)
    contract = ledger.load(Contract, contract_id)
    if command.effective_from > contract.end_date:
        raise RuleViolation("schedule within the contract term", f"the contract ends {contract.end_date}")

    def set_schedule() -> ContractAccount:
        account.set_schedule(version=len(account.schedules) + 1, schedule=command)
        return account

    return ledger.execute(envelope, set_schedule)


def close_period(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: ClosePeriod) -> Recorded:
    """A calendar month has elapsed: its fixed fee is earned (once)."""
    year, month = map(int, command.month.split("-"))
    last_day = date(year, month, calendar.monthrange(year, month)[1])
    if envelope.recorded_at.date() <= last_day:
        raise RuleViolation("period not yet elapsed", f"{command.month} ends {last_day}")
    fact = Billable(
        contract_id=contract_id, basis=Basis(kind="period_elapsed", period=command.month), earned_on=last_day
    )
    # The month's fee is earned on its last day, whenever the month is closed.
    return _charge_only(ledger, effective(envelope, last_day, fact="period closure", field="$.month"), fact)


def record_milestone(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: RecordMilestone) -> Recorded:
    met = envelope
    if command.met_on is not None:
        met = effective(envelope, command.met_on, fact="milestone", field="$.met_on")
    fact = Billable(
        contract_id=contract_id,
        basis=Basis(kind="milestone_met", milestone=command.milestone),
        earned_on=met.effective_at.date(),
    )
    return _charge_only(ledger, met, fact)


def _charge_only(ledger: Ledger, envelope: Envelope, fact: Billable) -> Recorded:
    def charged() -> ContractAccount:
        account = charge(ledger, fact)
        if account is None:
            raise RuleViolation("nothing to charge", "no schedule clause in force earns money for this, or it was")
        return account

    return with_retries(lambda: ledger.execute(envelope, charged))


def _match(account: ContractAccount, command: SubmitInvoice) -> tuple[MatchedLine, ...]:
    claimed_elsewhere: set[UUID] = set()
    lines = []
    for number, line in enumerate(command.lines, start=1):
        problems, good = [], []
        for charge_id in line.charge_ids:
            c = account.charges.get(charge_id)
            if c is None:
                problems.append(f"{charge_id} is not a charge of this contract")
            elif c.reversed:
                problems.append(f"{charge_id} was reversed")
            elif c.invoice_id is not None or charge_id in claimed_elsewhere:
                problems.append(f"{charge_id} is already invoiced")
            elif not command.period_start <= c.earned_on <= command.period_end:
                problems.append(f"{charge_id} was earned outside the period")
            else:
                good.append(charge_id)
        claimed_elsewhere.update(good)
        charged = sum((account.charges[c].amount for c in good), Decimal(0))
        flag = None
        if not good:
            flag = "unmatched"
        elif line.amount > charged:
            flag = "over-claimed"
        elif line.amount < charged or problems:
            flag = "unmatched"
        lines.append(
            MatchedLine(
                line=number,
                description=line.description,
                claimed=line.amount,
                charged=charged,
                charge_ids=tuple(good),
                flag=flag,
                detail="; ".join(problems) or None,
            )
        )
    return tuple(lines)


def submit_invoice(
    ledger: Ledger, envelope: Envelope, contract_id: UUID, command: SubmitInvoice, *, request_key: str | None = None
) -> Recorded:
    errors = [e for i, line in enumerate(command.lines) for e in money_errors(line.amount, f"$.lines[{i}].amount")]
    if command.period_end < command.period_start:
        errors.append(("$.period_end", "must not be before period_start"))
    if errors:
        raise InvalidCommand(errors)
    account = _account(ledger, contract_id)
    if command.invoice_number in account.invoice_numbers:
        raise RuleViolation("invoice number already used", f"{command.invoice_number} was submitted before")
    invoice_id = uuid5(account.id, f"invoice:{command.invoice_number}")

    def submit() -> ContractAccount:
        account.submit_invoice(
            invoice_id=invoice_id,
            invoice_number=command.invoice_number,
            period_start=command.period_start,
            period_end=command.period_end,
            lines=_match(account, command),
        )
        return account

    recorded = ledger.execute(envelope, submit)
    return Recorded(
        aggregate_id=invoice_id, version=recorded.version, position=recorded.position, events=recorded.events
    )


def _invoice(account: ContractAccount, invoice_id: UUID) -> InvoiceState:
    invoice = account.invoices.get(invoice_id)
    if invoice is None:
        raise RuleViolation("unknown invoice", f"the contract has no invoice {invoice_id}")
    return invoice


def _line(invoice: InvoiceState, number: int) -> MatchedLine:
    if not 1 <= number <= len(invoice.lines):
        raise RuleViolation("unknown invoice line", f"the invoice has {len(invoice.lines)} lines")
    return invoice.lines[number - 1]


def approve_invoice_line(
    ledger: Ledger, envelope: Envelope, contract_id: UUID, invoice_id: UUID, command: LineDecision
) -> Recorded:
    account = _account(ledger, contract_id)
    invoice = _invoice(account, invoice_id)
    line = _line(invoice, command.line)
    if invoice.status[line.line] is not LineStatus.SUBMITTED:
        raise RuleViolation("line already decided", f"line {line.line} is {invoice.status[line.line]}")
    if line.flag is not None:
        raise RuleViolation(
            "never approve more than was charged",
            f"line {line.line} is {line.flag}: claimed {line.claimed}, charged {line.charged}",
        )
    if any(account.charges[c].reversed or account.charges[c].invoice_id for c in line.charge_ids):
        raise RuleViolation("never approve more than was charged", "a matched charge was reversed or invoiced since")

    def approve() -> ContractAccount:
        account.approve_line(
            invoice_id=invoice_id,
            line=line.line,
            amount=line.claimed,
            charge_ids=line.charge_ids,
            postings=money.check_balanced(
                money.transfer(money.accrued(contract_id), money.payable(contract_id), line.claimed)
            ),
        )
        return account

    return ledger.execute(envelope, approve)


def dispute_invoice_line(
    ledger: Ledger, envelope: Envelope, contract_id: UUID, invoice_id: UUID, command: LineDecision
) -> Recorded:
    if not command.reason:
        raise InvalidCommand([("$.reason", "a dispute says why")])
    account = _account(ledger, contract_id)
    invoice = _invoice(account, invoice_id)
    line = _line(invoice, command.line)
    if invoice.status[line.line] is not LineStatus.SUBMITTED:
        raise RuleViolation("line already decided", f"line {line.line} is {invoice.status[line.line]}")

    def dispute() -> ContractAccount:
        account.dispute_line(invoice_id=invoice_id, line=line.line, reason=command.reason)
        return account

    return ledger.execute(envelope, dispute, reason=command.reason)


def issue_credit_note(
    ledger: Ledger, envelope: Envelope, contract_id: UUID, invoice_id: UUID, command: CreditNote
) -> Recorded:
    if errors := money_errors(command.amount, "$.amount"):
        raise InvalidCommand(errors)
    account = _account(ledger, contract_id)
    invoice = _invoice(account, invoice_id)
    line = _line(invoice, command.line)
    if invoice.status[line.line] is not LineStatus.APPROVED:
        raise RuleViolation("credit only an approved line", f"line {line.line} is {invoice.status[line.line]}")
    if command.amount > account.unpaid_approved(invoice_id):
        raise RuleViolation(
            "credit exceeds the unpaid approved amount", f"{account.unpaid_approved(invoice_id)} is approved and unpaid"
        )

    def credit() -> ContractAccount:
        account.credit(
            invoice_id=invoice_id,
            line=line.line,
            amount=command.amount,
            reason=command.reason,
            postings=money.check_balanced(
                money.transfer(money.payable(contract_id), money.accrued(contract_id), command.amount)
            ),
        )
        return account

    return ledger.execute(envelope, credit, reason=command.reason)


def make_payment(
    ledger: Ledger,
    envelope: Envelope,
    contract_id: UUID,
    invoice_id: UUID,
    command: MakePayment,
    *,
    request_key: str | None = None,
) -> Recorded:
    if errors := money_errors(command.amount, "$.amount"):
        raise InvalidCommand(errors)
    account = _account(ledger, contract_id)
    _invoice(account, invoice_id)
    payment_id = uuid5(invoice_id, f"payment:{request_key or command.remittance_reference}")
    if payment_id in account.payments:
        paid_invoice, paid_amount, _ = account.payments[payment_id]
        if request_key is not None and (paid_invoice, paid_amount) == (invoice_id, command.amount):
            # The same request retried with its Idempotency-Key after the first was recorded but its answer lost
            # (the process died between the commit and the reply): it succeeded, so say so; nothing is written.
            return Recorded(
                aggregate_id=payment_id, version=account.version, position=ledger.position_of(account.id), events=0
            )
        raise RuleViolation("payment already made", f"payment {payment_id} was recorded before")
    if command.amount <= 0 or command.amount > account.unpaid_approved(invoice_id):
        raise RuleViolation(
            "never pay more than was approved",
            f"{account.unpaid_approved(invoice_id)} is approved and unpaid on this invoice",
        )
    submitted = ("the invoice was submitted", account.invoices[invoice_id].submitted_at)
    paid = effective(envelope, command.paid_on, fact="payment", field="$.paid_on", after=submitted)

    def pay() -> ContractAccount:
        account.pay(
            payment_id=payment_id,
            invoice_id=invoice_id,
            amount=command.amount,
            paid_on=command.paid_on,
            remittance_reference=command.remittance_reference,
            postings=money.check_balanced(
                money.transfer(money.payable(contract_id), money.cash(account.commissioner_id), command.amount)
            ),
        )
        return account

    recorded = ledger.execute(paid, pay)
    return Recorded(
        aggregate_id=payment_id, version=recorded.version, position=recorded.position, events=recorded.events
    )


def reverse_payment(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: ReversePayment) -> Recorded:
    account = _account(ledger, contract_id)
    payment = account.payments.get(command.payment_id)
    if payment is None:
        raise RuleViolation("unknown payment", f"no payment {command.payment_id} on this contract")
    if payment[2]:
        raise RuleViolation("payment already reversed", "a payment is reversed once")

    def reverse() -> ContractAccount:
        account.reverse_payment(
            payment_id=command.payment_id,
            reason=command.reason,
            postings=money.check_balanced(
                money.reverse(
                    money.transfer(money.payable(contract_id), money.cash(account.commissioner_id), payment[1])
                )
            ),
        )
        return account

    return ledger.execute(envelope, reverse, reason=command.reason)


def conclude_contract(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: ConcludeContract) -> Recorded:
    """Conclude the contract (procurement's command and rules) with its account opened and its value committed
    against the lead commissioner's budget lines, in the same transaction."""
    return contracts.conclude_contract(
        ledger,
        envelope,
        call_off_id,
        command,
        with_contract=lambda contract: _open_account(ledger, contract, command.budget_line),
    )


def _open_account(ledger: Ledger, contract: Contract, budget_line: str) -> list[LedgerAggregate]:
    """A new contract's account and the commitment of its value across the years it spans, each year split across
    its funders' budget lines by their shares (the lead's alone when no shares were recorded); parts with no budget
    line are recorded on the account as unfunded."""
    lead = contract.commissioner_ids[0]
    funded = ring_fences.Funded(
        contract_id=contract.id,
        award_type=contract.award_type,
        lots=tuple(code for code in (contract.need, contract.cohort) if code),
        areas=tuple(contract.areas),
    )
    lines, unfunded = budgets.commitments(
        ledger,
        lambda fy: funding.funders_of(ledger, contract.call_off_id, lead, fy),
        funded,
        contract.value,
        contract.start_date,
        contract.end_date,
        budget_line,
    )
    account = ContractAccount(
        contract_id=contract.id,
        supplier_id=contract.supplier_id,
        commissioner_id=lead,
        category=contract.need or contract.cohort or "",
        regions=tuple(geography.probation_regions(contract.areas)),
        unfunded=tuple(unfunded),
    )
    return [account, *lines]


def vary_contract(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: VaryContract) -> Recorded:
    """Vary a contract (procurement's command and rules); a change of value moves its commitment, and so its cap, in
    the same transaction: in the financial year of the day the variation took effect."""

    def commitment(contract: Contract, change: Decimal, on: date) -> list[LedgerAggregate]:
        line = budgets.adjust_commitment(ledger, contract.commissioner_ids[0], contract.id, change, on)
        return [] if line is None else [line]

    return contracts.vary_contract(ledger, envelope, contract_id, command, with_variation=commitment)
