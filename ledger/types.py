"""Constrained value types shared by commands (validated by msgspec, documented in OpenAPI)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"\S")]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000, pattern=r"\S")]
Reason = Annotated[
    str,
    msgspec.Meta(min_length=3, max_length=2_000, pattern=r"\S", description="Why: recorded with the decision"),
]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9\-]*$")]
# msgspec cannot bound a Decimal: `check_money` and `check_score` do, naming the field.
Money = Annotated[Decimal, msgspec.Meta(description='Pounds as a decimal string, pence precision, e.g. "1250.00"')]
Score = Annotated[Decimal, msgspec.Meta(description="0 to 100, as a decimal string")]
Weight = Annotated[int, msgspec.Meta(ge=1, le=100)]
UtcDateTime = Annotated[datetime, msgspec.Meta(tz=True, description="RFC 3339 with a UTC offset")]
DocumentRef = Annotated[str, msgspec.Meta(min_length=1, max_length=300, description="Document store reference")]


MAX_MONEY = Decimal("100000000000")


def money_errors(value: Decimal, path: str) -> list[tuple[str, str]]:
    """Money is non-negative pounds with pence precision: no fractions of a penny, never a float."""
    if not value.is_finite() or value < 0 or value > MAX_MONEY:
        return [(path, f"must be between 0 and {MAX_MONEY}")]
    if value != value.quantize(Decimal("0.01")):
        return [(path, "must be whole pence (at most 2 decimal places)")]
    return []


def score_errors(value: Decimal, path: str) -> list[tuple[str, str]]:
    if not value.is_finite() or not Decimal(0) <= value <= Decimal(100):
        return [(path, "must be from 0 to 100")]
    return []
