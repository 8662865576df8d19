"""Tables as a page shows them and as they download: one set of rows, drawn as a GOV.UK table
(`components/tables.html`) or written as CSV at the page's own address with `format=csv` (money as plain decimals,
dates in ISO 8601), so that the download always holds the rows the page shows."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

import falcon

from api.web import format as fmt
from projections.export import csv_text

# A spreadsheet runs a cell starting with these as a formula: text cells starting so are written quoted by an '.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Cell:
    """One value: `text` as the page shows it, `value` as the CSV holds it."""

    text: str
    value: str
    numeric: bool = False
    href: str | None = None  # a link to what it names
    title: str | None = None  # the code behind a name, shown on hover
    tag: str | None = None  # a status, shown as a tag reading `text`


@dataclass(frozen=True)
class Column:
    heading: str
    numeric: bool = False


@dataclass(frozen=True)
class Table:
    name: str  # what `table=` names in the download's address, and its file's name
    caption: str
    columns: Sequence[Column]
    rows: Sequence[Sequence[Cell]]
    total: Sequence[Cell] | None = None  # a totals row, in the download too
    href: str = field(default="", compare=False)  # where it downloads (set by `offer`)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(column.heading for column in self.columns)
        for row in [*self.rows, *([self.total] if self.total else [])]:
            writer.writerow(_safe(cell) for cell in row)
        return out.getvalue()


def _safe(cell: Cell) -> str:
    return cell.value if cell.numeric else _formula_safe(cell.value)


def _formula_safe(value: Any) -> Any:
    """Text that a spreadsheet would take for a formula is written as text (OWASP CSV injection)."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA) else value


# -- cells -------------------------------------------------------------------------------------------------------


def text(value: str | None, *, href: str | None = None, title: str | None = None) -> Cell:
    shown = value or ""
    return Cell(shown, shown, href=href, title=title)


def money(value: Decimal | str | None) -> Cell:
    if value is None or value == "":
        return Cell("", "", numeric=True)
    amount = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Cell(fmt.money(amount), str(amount), numeric=True)


def number(value: int | None) -> Cell:
    return Cell("" if value is None else f"{value:,}", "" if value is None else str(value), numeric=True)


def day(value: date | str | None, *, href: str | None = None) -> Cell:
    if value is None or value == "":
        return Cell("", "")
    parsed = date.fromisoformat(value) if isinstance(value, str) else value
    return Cell(fmt.gov_date(parsed), parsed.isoformat(), href=href)


def moment(value: datetime | None) -> Cell:
    return Cell(fmt.gov_time(value), fmt.iso(value)) if value else Cell("", "")


def tag(status: str, words: str | None = None) -> Cell:
    shown = words or fmt.humanise(status)
    return Cell(shown, shown, tag=status)


def percent(share: Decimal | str | None) -> Cell:
    """A share (0.875) as the page shows it (87.5%) and the CSV holds it (87.5)."""
    if share is None or share == "":
        return Cell("", "", numeric=True)
    value = (Decimal(share) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Cell(f"{value}%", str(value), numeric=True)


# -- the download ------------------------------------------------------------------------------------------------


def offer(req: falcon.Request, *tables: Table, path: str | None = None) -> list[Table]:
    """The tables with the address each downloads from: this page's (or `path`, where a form posted elsewhere draws
    the page again), with its filters, and `format=csv`."""
    params = [(k, v) for k, values in req.params.items() for v in _listed(values) if k not in ("format", "table")]
    return [
        replace(table, href=f"{path or req.path}?{urlencode([*params, ('format', 'csv'), ('table', table.name)])}")
        for table in tables
    ]


def _listed(values: str | list[str]) -> list[str]:
    return values if isinstance(values, list) else [values]


def respond(req: falcon.Request, resp: falcon.Response, tables: Sequence[Table]) -> bool:
    """Answer with the table a download asks for, as CSV (True), or leave the page to be drawn (False)."""
    if req.get_param("format") != "csv":
        return False
    wanted = req.get_param("table") or (tables[0].name if tables else "")
    table = next((t for t in tables if t.name == wanted), None)
    if table is None:
        raise falcon.HTTPNotFound(description=f"This page has no table called {wanted!r} to download.")
    resp.content_type = "text/csv; charset=utf-8"
    resp.set_header("Content-Disposition", f'attachment; filename="{table.name}.csv"')
    resp.text = table.csv()
    return True


# -- a page's rows as they are (for pages that draw their own table markup) --------------------------------------


def wants_csv(req: falcon.Request, table: str | None = None) -> bool:
    """Whether this request asks for the page's table (of a page with several, the one named) as CSV."""
    return req.get_param("format") == "csv" and (table is None or req.get_param("table") == table)


def csv_href(req: falcon.Request, table: str | None = None) -> str:
    """This page's address (with its filters) asking for its table (or the one named) as CSV."""
    params = [(k, v) for k, values in req.params.items() for v in _listed(values) if k not in ("format", "table")]
    return f"{req.path}?{urlencode([*params, *([('table', table)] if table else []), ('format', 'csv')])}"


def send_csv(resp: falcon.Response, filename: str, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Answer with the rows as a CSV download named `filename` (money and dates as the API gives them)."""
    resp.content_type = "text/csv; charset=utf-8"
    resp.set_header("Content-Disposition", f'attachment; filename="{filename}"')
    resp.text = csv_text(columns, ({c: _formula_safe(row[c]) for c in columns} for row in rows))
