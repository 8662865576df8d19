"""Tables as CSV: a table page offers "Download this table (CSV)", the page's own address with `format=csv`, answered
with the same rows from the same operation call (money as plain decimals, dates and times in ISO 8601)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import falcon

from projections.export import csv_text

CSV = "csv"
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run a cell starting so as a formula


def wants_csv(req: falcon.Request) -> bool:
    return req.get_param("format") == CSV


def csv_href(req: falcon.Request) -> str:
    """This page's address (with its filters) asking for the table as CSV."""
    params = [(k, v) for k, v in req.params.items() if k != "format"]
    return f"{req.path}?{urlencode([*params, ('format', CSV)], doseq=True)}"


def _safe(value: Any) -> Any:
    """Text that a spreadsheet would take for a formula is written as text (OWASP CSV injection)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA) else value


def send_csv(resp: falcon.Response, filename: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Answer with the rows as a CSV download named `filename`."""
    resp.content_type = "text/csv; charset=utf-8"
    resp.set_header("Content-Disposition", f'attachment; filename="{filename}"')
    resp.text = csv_text(columns, ({c: _safe(row[c]) for c in columns} for row in rows))
