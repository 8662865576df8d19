"""Money movements as balanced double-entry postings, financial years and the account names: one place."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

import msgspec

from ledger.errors import ProgrammingError

PENNY = Decimal("0.01")


class Posting(msgspec.Struct, frozen=True):
    """One side of a money movement: positive is a debit, negative a credit."""

    account: str
    amount: Decimal


def pence(value: Decimal) -> Decimal:
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def transfer(debit: str, credit: str, amount: Decimal) -> tuple[Posting, ...]:
    """Debit one account and credit another with the same amount (a balanced pair)."""
    if amount < 0 or amount != pence(amount):
        raise ProgrammingError(f"transfer of {amount}: money moves in whole pence, never negative")
    return (Posting(debit, amount), Posting(credit, -amount))


def reverse(postings: tuple[Posting, ...]) -> tuple[Posting, ...]:
    return tuple(Posting(p.account, -p.amount) for p in postings)


def check_balanced(postings: tuple[Posting, ...]) -> tuple[Posting, ...]:
    """Refuse (as a programming error) any movement whose postings do not sum to zero."""
    if sum((p.amount for p in postings), Decimal(0)) != 0:
        raise ProgrammingError(f"unbalanced postings: {postings}")
    return postings


def financial_year(day: date) -> str:
    """UK public-sector financial year, 1 April to 31 March: 2026-04-01 is in "2026-27"."""
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def financial_year_problem(label: str | None) -> str | None:
    """What is wrong with a financial year's label ("2026-27": a year, then the next one's last two digits)."""
    if not label:
        return 'give a financial year, e.g. "2026-27"'
    if len(label) != 7 or not label[:4].isdigit() or label[4] != "-" or not label[5:].isdigit():
        return f'{label!r} is not a financial year, e.g. "2026-27"'
    start = int(label[:4])
    if not 2000 <= start <= 2099 or int(label[5:]) != (start + 1) % 100:
        return f'{label!r} is not a financial year: "{start}-{(start + 1) % 100:02d}" runs from 1 April {start}'
    return None


def financial_year_bounds(label: str) -> tuple[date, date]:
    start = int(label[:4])
    return date(start, 4, 1), date(start + 1, 3, 31)


# Account names. Balances are read from the journal of postings, per account.
def spend(contract_id: UUID) -> str:
    return f"spend:{contract_id}"


def accrued(contract_id: UUID) -> str:
    return f"accrued:{contract_id}"


def payable(contract_id: UUID) -> str:
    return f"payable:{contract_id}"


def cash(commissioner_id: UUID) -> str:
    return f"cash:{commissioner_id}"


def commitment(contract_id: UUID) -> str:
    return f"commitment:{contract_id}"


def budget(line_id: UUID) -> str:
    return f"budget:{line_id}"


def funding(commissioner_id: UUID) -> str:
    return f"funding:{commissioner_id}"
