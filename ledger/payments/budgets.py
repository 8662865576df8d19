"""Budget lines per commissioner and financial year, and the commitments awards make against them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework.commissioners import Commissioner
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.payments import funding, money, ring_fences
from ledger.payments.money import Posting
from ledger.store import Ledger, Recorded
from ledger.types import Money, Name, Reason, money_errors

FinancialYear = Annotated[str, msgspec.Meta(pattern=r"^20[0-9]{2}-[0-9]{2}$", description='e.g. "2026-27"')]
LineCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=40)]
CORE = "core"
ROIF = "roif"  # Regional Outcome and Innovation Fund: ring-fenced


class SetBudgetLine(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    commissioner_id: UUID
    financial_year: FinancialYear
    code: LineCode = CORE
    name: Name
    amount: Money
    ring_fenced: bool = False


class ApproveOverrun(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount: Money
    reason: Reason


def budget_line_id(commissioner_id: UUID, financial_year: str, code: str) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"budget:{commissioner_id}:{financial_year}:{code}")


class BudgetLine(LedgerAggregate):
    @staticmethod
    def create_id(commissioner_id: UUID, financial_year: str, code: str) -> UUID:
        return budget_line_id(commissioner_id, financial_year, code)

    @event("BudgetLineSet")
    def __init__(
        self,
        commissioner_id: UUID,
        financial_year: str,
        code: str,
        name: str,
        amount: Decimal,
        ring_fenced: bool,
        postings: tuple[Posting, ...],
    ) -> None:
        self.commissioner_id = commissioner_id
        self.financial_year = financial_year
        self.code = code
        self.amount = amount
        self.ring_fenced = ring_fenced
        self.committed = Decimal(0)
        self.overrun = Decimal(0)

    @event("BudgetOverrunApproved")
    def approve_overrun(self, amount: Decimal, reason: str) -> None:
        self.overrun += amount

    @event("CommitmentRecorded")
    def commit(self, contract_id: UUID, amount: Decimal, postings: tuple[Posting, ...]) -> None:
        self.committed += amount

    @event("CommitmentReleased")
    def release(self, contract_id: UUID, amount: Decimal, postings: tuple[Posting, ...]) -> None:
        self.committed -= amount

    @property
    def available(self) -> Decimal:
        return self.amount + self.overrun - self.committed


def set_budget_line(ledger: Ledger, envelope: Envelope, command: SetBudgetLine) -> Recorded:
    if errors := money_errors(command.amount, "$.amount"):
        raise InvalidCommand(errors)
    start, _ = money.financial_year_bounds(command.financial_year)
    if f"{start.year}-{(start.year + 1) % 100:02d}" != command.financial_year:
        raise InvalidCommand([("$.financial_year", "the second year must follow the first, e.g. 2026-27")])
    commissioner = ledger.load(Commissioner, command.commissioner_id)
    ring_fences.check_holder(command.code, command.ring_fenced, commissioner.commissioner_type)
    line_id = budget_line_id(commissioner.id, command.financial_year, command.code)
    if ledger.exists(line_id):
        raise RuleViolation("budget line already set", f"{command.code} {command.financial_year} exists")
    return ledger.execute(
        envelope,
        lambda: BudgetLine(
            commissioner_id=commissioner.id,
            financial_year=command.financial_year,
            code=command.code,
            name=command.name,
            amount=command.amount,
            ring_fenced=command.ring_fenced,
            postings=money.check_balanced(
                money.transfer(money.budget(line_id), money.funding(commissioner.id), command.amount)
            ),
        ),
    )


def approve_overrun(ledger: Ledger, envelope: Envelope, line_id: UUID, command: ApproveOverrun) -> Recorded:
    if errors := money_errors(command.amount, "$.amount"):
        raise InvalidCommand(errors)
    line = ledger.load(BudgetLine, line_id)
    ring_fences.check_overrun_approver(line.code, line.ring_fenced, envelope.actor_role)

    def approve() -> BudgetLine:
        line.approve_overrun(amount=command.amount, reason=command.reason)
        return line

    return ledger.execute(envelope, approve, reason=command.reason)


def split_by_financial_year(value: Decimal, start: date, end: date) -> list[tuple[str, Decimal]]:
    """A contract's value spread over the financial years it spans, by days; pence balance to the total."""
    total_days = (end - start).days + 1
    shares: list[tuple[str, Decimal]] = []
    day = start
    while day <= end:
        fy = money.financial_year(day)
        _, fy_end = money.financial_year_bounds(fy)
        last = min(end, fy_end)
        shares.append((fy, money.pence(value * Decimal((last - day).days + 1) / Decimal(total_days))))
        day = last + timedelta(days=1)
    drift = value - sum((amount for _, amount in shares), Decimal(0))
    fy, amount = shares[-1]
    shares[-1] = (fy, amount + drift)
    return shares


def commitments(
    ledger: Ledger,
    payers: Callable[[str], Sequence[tuple[UUID, Decimal]]],
    funded: ring_fences.Funded,
    value: Decimal,
    start: date,
    end: date,
    code: str,
) -> tuple[list[BudgetLine], list[tuple[str, Decimal]]]:
    """Commit a contract's value against its funders' budget lines, year by year: each year's amount split across
    that year's `payers` (commissioner, percentage) to the penny (`funding.split`).

    A part with a budget line is committed against it and refused beyond what is available (an approved overrun raises
    what is available); a part with no line is left unfunded, visible to finance on the contract's account (the
    answer's second list, by year). A ring-fenced line commits only what its fund's terms allow.
    """
    lines: list[BudgetLine] = []
    unfunded: dict[str, Decimal] = {}
    for fy, amount in split_by_financial_year(value, start, end):
        for commissioner_id, part in funding.split(amount, list(payers(fy))):
            line_id = budget_line_id(commissioner_id, fy, code)
            if not ledger.exists(line_id):
                unfunded[fy] = unfunded.get(fy, Decimal(0)) + part
                continue
            line = ledger.load(BudgetLine, line_id)
            if line.ring_fenced:
                holder = ledger.load(Commissioner, commissioner_id)
                ring_fences.check_commitment(ring_fences.terms_of(line.code), funded, holder.area)
            if part > line.available:
                raise RuleViolation(
                    "commitment beyond the budget line",
                    f"{fy} {code}: {part} needed, {line.available} available; approve an overrun first",
                )
            line.commit(
                contract_id=funded.contract_id,
                amount=part,
                postings=money.check_balanced(
                    money.transfer(money.commitment(funded.contract_id), money.budget(line_id), part)
                ),
            )
            lines.append(line)
    return lines, sorted(unfunded.items())


def adjust_commitment(
    ledger: Ledger, commissioner_id: UUID, contract_id: UUID, delta: Decimal, on: date, code: str = CORE
) -> BudgetLine | None:
    """A variation's change of value, committed (or released) against the line of the year it takes effect."""
    line_id = budget_line_id(commissioner_id, money.financial_year(on), code)
    if delta == 0 or not ledger.exists(line_id):
        return None
    line = ledger.load(BudgetLine, line_id)
    if delta > 0:
        if delta > line.available:
            raise RuleViolation(
                "commitment beyond the budget line",
                f"{line.financial_year} {code}: {delta} needed, {line.available} available; approve an overrun first",
            )
        line.commit(
            contract_id=contract_id,
            amount=delta,
            postings=money.check_balanced(money.transfer(money.commitment(contract_id), money.budget(line_id), delta)),
        )
    else:
        released = min(-delta, line.committed)
        line.release(
            contract_id=contract_id,
            amount=released,
            postings=money.check_balanced(
                money.transfer(money.budget(line_id), money.commitment(contract_id), released)
            ),
        )
    return line
