"""Tables as CSV: a table page's own address with `format=csv` answers the rows the page shows, from the same
operation call, written as the API's exports write them (money as plain decimals, dates and times in ISO 8601)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

import falcon

from projections.export import csv_text


def wants_csv(req: falcon.Request, table: str | None = None) -> bool:
    """Whether this request asks for the page's table (of a page with several, the one named) as CSV."""
    return req.get_param("format") == "csv" and (table is None or req.get_param("table") == table)


def csv_href(req: falcon.Request, table: str | None = None) -> str:
    """The page's own address, with its filters, asking for the table as CSV."""
    params = {k: v for k, v in req.params.items() if k not in ("format", "table")}
    params = {**params, **({"table": table} if table else {}), "format": "csv"}
    return f"{req.path}?{urlencode(params, doseq=True)}"


def send_csv(resp: falcon.Response, filename: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    resp.content_type = "text/csv; charset=utf-8"
    resp.downloadable_as = filename
    resp.text = csv_text(columns, rows)
