"""Working days in England and Wales: bank holidays against GOV.UK's published dates, and FOIA s.10 deadlines."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.audit.foi import foi_due_date
from ledger.working_days import (
    add_working_days,
    bank_holidays,
    easter_sunday,
    is_working_day,
    working_days_between,
)

# https://www.gov.uk/bank-holidays (England and Wales), as published.
PUBLISHED = {
    2020: ["01-01", "04-10", "04-13", "05-08", "05-25", "08-31", "12-25", "12-28"],
    2021: ["01-01", "04-02", "04-05", "05-03", "05-31", "08-30", "12-27", "12-28"],
    2022: ["01-03", "04-15", "04-18", "05-02", "06-02", "06-03", "08-29", "09-19", "12-26", "12-27"],
    2023: ["01-02", "04-07", "04-10", "05-01", "05-08", "05-29", "08-28", "12-25", "12-26"],
    2024: ["01-01", "03-29", "04-01", "05-06", "05-27", "08-26", "12-25", "12-26"],
    2025: ["01-01", "04-18", "04-21", "05-05", "05-26", "08-25", "12-25", "12-26"],
    2026: ["01-01", "04-03", "04-06", "05-04", "05-25", "08-31", "12-25", "12-28"],
    2027: ["01-01", "03-26", "03-29", "05-03", "05-31", "08-30", "12-27", "12-28"],
}


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_bank_holidays_are_the_published_gov_uk_dates(year: int) -> None:
    assert sorted(bank_holidays(year)) == [date.fromisoformat(f"{year}-{day}") for day in PUBLISHED[year]]


def test_easter_follows_the_gregorian_computus() -> None:
    assert [easter_sunday(y) for y in (2000, 2008, 2011, 2038)] == [
        date(2000, 4, 23),
        date(2008, 3, 23),
        date(2011, 4, 24),
        date(2038, 4, 25),
    ]


def test_weekends_and_bank_holidays_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 3, 7))  # Saturday
    assert not is_working_day(date(2026, 3, 8))  # Sunday
    assert not is_working_day(date(2026, 4, 3))  # Good Friday
    assert not is_working_day(date(2026, 12, 28))  # Boxing Day's substitute
    assert is_working_day(date(2026, 3, 9))


def test_the_response_is_due_on_the_twentieth_working_day_following_receipt() -> None:
    # The day of receipt is not counted: received on Monday 2 March 2026, due on Monday 30 March.
    assert foi_due_date(date(2026, 3, 2)) == date(2026, 3, 30)
    # Good Friday and Easter Monday are skipped.
    assert foi_due_date(date(2026, 3, 20)) == date(2026, 4, 21)
    # Christmas Day, Boxing Day's substitute and New Year's Day are skipped.
    assert foi_due_date(date(2026, 12, 18)) == date(2027, 1, 20)
    # Received on a Saturday: the count starts on Monday, as it would for a Friday receipt.
    assert foi_due_date(date(2026, 3, 7)) == foi_due_date(date(2026, 3, 6)) == date(2026, 4, 7)  # over Easter


def test_working_days_between_counts_what_add_working_days_adds() -> None:
    start = date(2026, 3, 20)
    for n in range(0, 45):
        end = add_working_days(start, n)
        assert working_days_between(start, end) == n
        assert working_days_between(end, start) == -n
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 6)) == 0  # Good Friday to Easter Monday
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1
    assert add_working_days(start, 0) == start
    with pytest.raises(ValueError):
        add_working_days(start, -1)
