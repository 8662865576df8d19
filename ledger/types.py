"""Constrained value types shared by commands (validated by msgspec, documented in OpenAPI), and the rules for
text, money and dates that every command body is held to at the boundary (`api.media` applies them)."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Annotated, Any

import msgspec

# -- text ------------------------------------------------------------------------------------------
#
# Unicode control and format characters (categories Cc, Cf; also lone surrogates Cs and the line and paragraph
# separators Zl, Zp) change how text is displayed without being seen: a right-to-left override makes a name
# read backwards on a page or an FOI disclosure. No text field takes them, with one exception: free text
# (long text and reasons) keeps line feeds, carriage returns and tabs. The ranges are those of Unicode 14
# (Python 3.11's `unicodedata`); `tests/test_hostile_input.py` checks them against `unicodedata` itself.
UNSEEN_CHARACTERS = (
    "\u0000-\u001f\u007f-\u009f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0001\U000e0020-\U000e007f"
)
FREE_TEXT_ALLOWS = "\t\n\r"
_UNSEEN = re.compile(f"[{UNSEEN_CHARACTERS}]")
FREE_TEXT = "free_text"  # Meta(extra=...) key: newlines and tabs are allowed in this field


def text_errors(value: str, path: str, *, free_text: bool = False) -> list[tuple[str, str]]:
    """The first control or format character in `value`, named (free text may hold line breaks and tabs)."""
    for found in _UNSEEN.finditer(value):
        character = found.group()
        if free_text and character in FREE_TEXT_ALLOWS:
            continue
        name = unicodedata.name(character, f"category {unicodedata.category(character)}")
        hint = "; only free text (long text, reasons) may break lines" if character in FREE_TEXT_ALLOWS else ""
        return [(path, f"contains U+{ord(character):04X} {name}: control and format characters are not allowed{hint}")]
    return []


def _text(min_length: int, max_length: int, description: str, *, free_text: bool = False) -> Any:
    rule = "Free text: line breaks and tabs allowed" if free_text else "One line"
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length,
        pattern=r"\S",
        description=f"{description}{rule}; no control or format characters (Unicode Cc, Cf)",
        extra={FREE_TEXT: True} if free_text else {},
    )


Name = Annotated[str, _text(1, 200, "")]
ShortText = Annotated[str, _text(1, 500, "")]
LongText = Annotated[str, _text(1, 20_000, "", free_text=True)]
Reason = Annotated[str, _text(3, 2_000, "Why: recorded with the decision. ", free_text=True)]
DocumentRef = Annotated[str, msgspec.Meta(min_length=1, max_length=300, description="Document store reference")]

# -- decimals: money, scores, hours ----------------------------------------------------------------
#
# A decimal travels as a JSON string of digits with at most two places: "100", "100.5", "100.50". Never a JSON
# number (a client's float may already have lost the pence), no exponent ("1e3"), no digit separators ("1_000"),
# no spaces, no sign (nothing the ledger counts is negative), no leading zeros ("0100"), no "NaN" or "Infinity".
DECIMAL_PATTERN = r"^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$"
_DECIMAL = re.compile(DECIMAL_PATTERN)
_DECIMAL_SCHEMA = {"type": "string", "pattern": DECIMAL_PATTERN}


def decimal_errors(raw: object, path: str) -> list[tuple[str, str]]:
    """A decimal field as sent: a string of digits with at most two decimal places (before its own range rule)."""
    if not isinstance(raw, str):
        return [(path, 'must be a decimal string such as "1250.00", not a JSON number')]
    if len(raw) > 40 or not _DECIMAL.match(raw):
        return [(path, 'must be digits with at most two decimal places, e.g. "1250.00" (no sign, exponent or spaces)')]
    return []


# msgspec cannot bound a Decimal: `money_errors` and `score_errors` do, naming the field.
Money = Annotated[
    Decimal,
    msgspec.Meta(
        description='Pounds as a decimal string, pence precision, e.g. "1250.00"', extra_json_schema=_DECIMAL_SCHEMA
    ),
]
Score = Annotated[
    Decimal, msgspec.Meta(description='0 to 100, as a decimal string, e.g. "72.5"', extra_json_schema=_DECIMAL_SCHEMA)
]

Quantity = Annotated[
    Decimal,
    msgspec.Meta(
        description='A measured quantity as a decimal string, e.g. "91.5" (see quantity_errors for its range)',
        extra_json_schema=_DECIMAL_SCHEMA,
    ),
]


MAX_MONEY = Decimal("100000000000")
MAX_QUANTITY = Decimal("1000000000")


def money_errors(value: Decimal, path: str) -> list[tuple[str, str]]:
    """Money is non-negative pounds with pence precision: no fractions of a penny, never a float."""
    if not value.is_finite() or value < 0 or value > MAX_MONEY:
        return [(path, f"must be between 0 and {MAX_MONEY}")]
    if value != value.quantize(Decimal("0.01")):
        return [(path, "must be whole pence (at most 2 decimal places)")]
    return []


def quantity_errors(value: Decimal, path: str) -> list[tuple[str, str]]:
    if not value.is_finite() or not Decimal(0) <= value <= MAX_QUANTITY:
        return [(path, f"must be from 0 to {MAX_QUANTITY}")]
    return []


def score_errors(value: Decimal, path: str) -> list[tuple[str, str]]:
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        return [(path, "must be from 0 to 100")]
    return []


# -- dates and moments -----------------------------------------------------------------------------
#
# The ledger's calendar: every date and moment a client sends (in a body or a query) lies between these days (a
# moment by its UTC day). Outside them no record of this service can fall, and inside them every rule's date
# arithmetic (a term in months, a deadline in working days, "now" less a waiting time) stays within Python's
# calendar (years 1 to 9999), wherever it is done.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
EARLIEST_MOMENT = datetime.combine(EARLIEST_DAY, time.min, UTC)
_CALENDAR = f"from {EARLIEST_DAY.isoformat()} to {LATEST_DAY.isoformat()}"

UtcDateTime = Annotated[datetime, msgspec.Meta(tz=True, description=f"RFC 3339 with a UTC offset, {_CALENDAR} (UTC)")]


def day_errors(value: date, path: str) -> list[tuple[str, str]]:
    if isinstance(value, datetime):
        return moment_errors(value, path)
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        return [(path, f"must be a date {_CALENDAR}")]
    return []


def moment_errors(value: datetime, path: str) -> list[tuple[str, str]]:
    try:
        day = value.astimezone(UTC).date() if value.tzinfo is not None else value.date()
    except OverflowError:  # e.g. 9999-12-31T23:59:59-12:00 is in year 10000 in UTC
        day = None
    if day is None or not EARLIEST_DAY <= day <= LATEST_DAY:
        return [(path, f"must be a moment {_CALENDAR} (UTC)")]
    return []
