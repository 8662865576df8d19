"""Working days in England and Wales: bank holidays for any year, and counting days in them.

Shared by every capability that counts working days (Unpaid Work's start, the FOI clock); it knows no rule of theirs.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

CALENDAR_RULE = "england-and-wales-bank-holidays-v1"

# Bank holidays moved or added by proclamation, which no rule predicts (regular day -> the day it moved to).
_MOVED: dict[date, date] = {
    date(2020, 5, 4): date(2020, 5, 8),  # early May moved to Friday for the 75th anniversary of VE Day
    date(2022, 5, 30): date(2022, 6, 2),  # spring moved to Thursday for the Platinum Jubilee
}
_ADDED = (
    date(2022, 6, 3),  # Platinum Jubilee
    date(2022, 9, 19),  # State Funeral of Queen Elizabeth II
    date(2023, 5, 8),  # Coronation of King Charles III
)

_MONDAY, _FRIDAY, _SATURDAY, _SUNDAY = 0, 4, 5, 6


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(_MONDAY - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - _MONDAY) % 7)


def _next_weekday(day: date) -> date:
    while day.weekday() in (_SATURDAY, _SUNDAY):
        day += timedelta(days=1)
    return day


@cache
def bank_holidays(year: int) -> frozenset[date]:
    """The England and Wales bank holidays of one year, substitute days included."""
    easter = easter_sunday(year)
    christmas = date(year, 12, 25)
    if christmas.weekday() == _SATURDAY:  # both days fall on the weekend: Monday and Tuesday stand in
        christmas_days = {christmas + timedelta(days=2), christmas + timedelta(days=3)}
    elif christmas.weekday() == _SUNDAY:  # Boxing Day is the Monday; Christmas' substitute the Tuesday
        christmas_days = {christmas + timedelta(days=1), christmas + timedelta(days=2)}
    elif christmas.weekday() == _FRIDAY:  # Boxing Day is a Saturday: the Monday stands in
        christmas_days = {christmas, christmas + timedelta(days=3)}
    else:
        christmas_days = {christmas, christmas + timedelta(days=1)}
    regular = {
        _next_weekday(date(year, 1, 1)),
        easter - timedelta(days=2),  # Good Friday
        easter + timedelta(days=1),  # Easter Monday
        _first_monday(year, 5),  # early May
        _last_monday(year, 5),  # spring
        _last_monday(year, 8),  # summer
        *christmas_days,
    }
    moved = {_MOVED.get(day, day) for day in regular}
    return frozenset(moved | {day for day in _ADDED if day.year == year})


def is_working_day(day: date) -> bool:
    return day.weekday() not in (_SATURDAY, _SUNDAY) and day not in bank_holidays(day.year)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (`start` itself is not counted, whether or not it is a working day)."""
    if n < 0:
        raise ValueError("count working days forwards")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days after `start` up to and including `end`; negative when `end` is before `start`.

    `working_days_between(d, add_working_days(d, n)) == n`.
    """
    if end < start:
        return -working_days_between(end, start)
    return sum(1 for offset in range(1, (end - start).days + 1) if is_working_day(start + timedelta(days=offset)))
