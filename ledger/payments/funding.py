"""Joint funding: a call-off's commissioners sharing its cost (seed 000: "match or joint funding locally and
nationally"; seed 002: joint substance-misuse commissioning with local authority, PCC and the probation service).
Issue 19, item 1; ADR 42.

Before its contract is concluded, the lead commissioner records each funder's share of the call-off as percentages
summing to 100, optionally different for a financial year. When the contract is concluded, each year's commitment is
split across the funders' budget lines by that year's shares, to the penny: `split` gives each funder its exact
share rounded down to the penny and hands the pennies left over, one each, to the funders whose shares lost most to
the rounding (the largest remainder; ties to the earlier-listed funder), so the parts always sum to the whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Annotated, TypeVar
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.procurement.call_offs import CallOff, CallOffStatus
from ledger.store import Ledger, Recorded
from ledger.types import Score, score_errors

K = TypeVar("K")
PENNY = Decimal("0.01")
HUNDRED = Decimal(100)


def split(amount: Decimal, shares: Sequence[tuple[K, Decimal]]) -> list[tuple[K, Decimal]]:
    """`amount` (pounds, to the penny) split by `shares` (weights, any scale): each part to the penny, the parts summing
    to `amount` exactly; the pennies rounding leaves go one each to the largest remainders, ties to the earlier."""
    if not shares:
        raise ValueError("nobody to split among")
    total = sum((weight for _, weight in shares), Decimal(0))
    if total <= 0 or any(weight < 0 for _, weight in shares):
        raise ValueError("shares must be non-negative and not all zero")
    exact = [(key, amount * weight / total) for key, weight in shares]
    parts = [(key, value.quantize(PENNY, rounding=ROUND_DOWN)) for key, value in exact]
    left = int(((amount - sum((p for _, p in parts), Decimal(0))) / PENNY).to_integral_value())
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i][1] - parts[i][1]), i))
    for i in order[:left]:
        parts[i] = (parts[i][0], parts[i][1] + PENNY)
    return parts


class Share(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    commissioner_id: UUID
    percentage: Score  # 0 to 100, e.g. "62.5"


class YearShares(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    financial_year: Annotated[str, msgspec.Meta(pattern=r"^20[0-9]{2}-[0-9]{2}$")]
    shares: tuple[Share, ...]


class SetFunding(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Each funder's share of the call-off's cost: `shares` for every year, `years` for a year that differs."""

    shares: Annotated[tuple[Share, ...], msgspec.Meta(min_length=1, max_length=20)]
    years: tuple[YearShares, ...] = ()


def funding_id(call_off_id: UUID) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"funding:{call_off_id}")


def _share_errors(shares: Sequence[Share], path: str, funders: set[UUID]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for i, share in enumerate(shares):
        errors += score_errors(share.percentage, f"{path}[{i}].percentage")
        if share.commissioner_id not in funders:
            errors.append((f"{path}[{i}].commissioner_id", "not the call-off's lead or one of its partners"))
    named = [s.commissioner_id for s in shares]
    if len(set(named)) != len(named):
        errors.append((path, "a commissioner is listed twice"))
    total = sum((s.percentage for s in shares), Decimal(0))
    if not errors and total != HUNDRED:
        errors.append((path, f"the percentages sum to {total}, not 100"))
    return errors


class Funding(LedgerAggregate):
    """A call-off's funders and their shares, as its lead commissioner last recorded them."""

    @staticmethod
    def create_id(call_off_id: UUID) -> UUID:
        return funding_id(call_off_id)

    @event("FundingOpened")
    def __init__(self, call_off_id: UUID) -> None:
        self.call_off_id = call_off_id
        self.shares: tuple[Share, ...] = ()
        self.years: tuple[YearShares, ...] = ()

    def set(self, call_off: CallOff, command: SetFunding) -> None:
        if call_off.status in (CallOffStatus.AWARDED, CallOffStatus.CANCELLED, CallOffStatus.NO_AWARD):
            raise RuleViolation(
                "funding is agreed before the contract", f"the call-off is {call_off.status}: its shares are settled"
            )
        funders = {call_off.draft.lead_commissioner_id, *call_off.draft.partner_commissioner_ids}
        errors = _share_errors(command.shares, "$.shares", funders)
        for y, year in enumerate(command.years):
            errors += _share_errors(year.shares, f"$.years[{y}].shares", funders)
        if len({y.financial_year for y in command.years}) != len(command.years):
            errors.append(("$.years", "a financial year is listed twice"))
        if errors:
            raise InvalidCommand(errors)
        self._set(shares=command.shares, years=command.years)

    @event("FundingSharesSet")
    def _set(self, shares: tuple[Share, ...], years: tuple[YearShares, ...]) -> None:
        self.shares, self.years = shares, years

    def shares_in(self, financial_year: str) -> tuple[Share, ...]:
        for year in self.years:
            if year.financial_year == financial_year:
                return year.shares
        return self.shares


def set_funding(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: SetFunding) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)

    def decide() -> Funding:
        fid = funding_id(call_off_id)
        funding = ledger.load(Funding, fid) if ledger.exists(fid) else Funding(call_off_id=call_off_id)
        funding.set(call_off, command)
        return funding

    return ledger.execute(envelope, decide)


def funders_of(ledger: Ledger, call_off_id: UUID, lead: UUID, financial_year: str) -> list[tuple[UUID, Decimal]]:
    """Who pays for a year of a call-off's contract, with their percentages: the shares recorded, else the lead."""
    fid = funding_id(call_off_id)
    if not ledger.exists(fid):
        return [(lead, HUNDRED)]
    shares = ledger.load(Funding, fid).shares_in(financial_year)
    return [(s.commissioner_id, s.percentage) for s in shares if s.percentage > 0] or [(lead, HUNDRED)]
