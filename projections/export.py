"""CSV of view rows: one writer for every export, each row's values in the order of its columns."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import msgspec

from ledger.errors import ProgrammingError


def csv_text(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """A header of `columns`, then one line per row with the row's value for each column, in that order.

    Rows are mappings (the read pool hands out dict rows): iterating one would give its keys, not its values.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([cell(row[column]) for column in columns] for row in rows)
    return out.getvalue()


def cell(value: Any) -> str:
    """A value as a CSV cell: money as a plain decimal (never a float or an exponent), dates and times in ISO
    8601, booleans as JSON spells them, arrays and documents as JSON, nothing as an empty cell."""
    match value:
        case None:
            return ""
        case bool():
            return "true" if value else "false"
        case Decimal():
            return format(value, "f")
        case float():
            raise ProgrammingError("a float reached a CSV export: amounts in the ledger are Decimal")
        case date():  # datetimes too
            return value.isoformat()
        case list() | tuple() | dict():
            return msgspec.json.encode(value).decode()
    return str(value)
