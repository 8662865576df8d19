"""The finance dashboard: committed, charged, invoiced, paid and remaining by any cut, as at any date on either clock,
with a chart beside the table that holds its figures."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import falcon

from api.operations import Operations
from api.web import tables
from api.web.calls import PageCalls
from api.web.charts import bar_chart
from api.web.finance import common
from api.web.render import render
from api.web.tables import Column, Table

GROUPS = {
    "region": "Region",
    "category": "Service category",
    "commissioner": "Commissioner",
    "supplier": "Supplier",
    "contract": "Contract",
    "financial_year": "Financial year",
    "month": "Month",
}
# Where a line's name leads: the same figures for that one thing, by the next finer cut (a contract: its account).
DRILL = {
    "region": ("region", "contract"),
    "category": ("category", "contract"),
    "commissioner": ("commissioner_id", "contract"),
    "supplier": ("supplier_id", "contract"),
    "financial_year": ("financial_year", "month"),
}
FILTERS = ("region", "category", "commissioner_id", "supplier_id", "financial_year")
FIELDS = {  # the operation's parameters -> the form's fields
    "as_of": ("as_at", "As at"),
    "commissioner_id": ("commissioner_id", "Commissioner"),
    "supplier_id": ("supplier_id", "Supplier"),
    "financial_year": ("financial_year", "Financial year"),
    "region": ("region", "Region"),
    "category": ("category", "Service category"),
}
COLUMNS = ("Committed", "Charged", "Invoiced", "Paid", "Remaining")


class Spend:
    """GET /app/finance: the dashboard (finance officers and auditors; commissioners see their own)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = common.Form()
        group_by = form.text(req, "group_by", GROUPS) or "region"
        form.values["group_by"] = group_by
        options = {
            "region": common.regions(),
            "category": common.service_categories(),
            "commissioner_id": common.commissioner_options(calls),
            "supplier_id": common.supplier_options(calls),
            "financial_year": common.financial_years(common.today(self.operations)),
        }
        cut = {name: form.text(req, name, dict(options[name])) for name in FILTERS}
        as_at = form.day(req, "as_at", "The date")
        axis = form.text(req, "axis", dict(common.CLOCKS)) or "effective"
        form.values["axis"] = axis
        query = {"group_by": group_by, **cut, "as_of": as_at.isoformat() if as_at else None, "axis": axis}
        answer = common.ask(calls, form, "finance.spend", query=query, fields=FIELDS)
        table = tables.offer(req, spend_table(answer, group_by, cut))[0] if answer is not None else None
        if table is not None and tables.respond(req, resp, [table]):
            return
        render(
            req,
            resp,
            "pages/finance/spend.html",
            **form.page(),
            groups=list(GROUPS.items()),
            options=options,
            clocks=common.CLOCKS,
            commissioner_filter=bool(options["commissioner_id"]),
            group_name=GROUPS[group_by].lower(),
            as_at=as_at,
            axis=axis,
            table=table,
            chart=_chart(table, answer) if table is not None and table.rows else None,
        )


def spend_table(answer: Any, group_by: str, cut: dict[str, str | None]) -> Table:
    rows = [[_key(line, group_by, cut), *_figures(line)] for line in answer.lines]
    return Table(
        name=f"spend-by-{group_by.replace('_', '-')}",
        caption=f"Money by {GROUPS[group_by].lower()}",
        columns=[Column(GROUPS[group_by]), *(Column(c, numeric=True) for c in COLUMNS)],
        rows=rows,
        total=[tables.text("Total"), *_figures(answer.total)],
    )


def _figures(line: Any) -> list[tables.Cell]:
    return [tables.money(v) for v in (line.committed, line.charged, line.invoiced, line.paid, line.remaining)]


def _key(line: Any, group_by: str, cut: dict[str, str | None]) -> tables.Cell:
    """A line's name (its code on hover; a month or year downloads as its code), leading to the same money for it
    alone by a finer cut, or for a contract to its account."""
    if line.key is None:
        return tables.text("Not recorded")
    if group_by == "month":
        return tables.Cell(common.month_name(line.key), line.key, title=line.key)
    if group_by == "contract":
        return tables.text(line.name or line.key, href=f"/app/contracts/{line.key}/account", title=line.key)
    parameter, finer = DRILL[group_by]
    narrowed = {**{k: v for k, v in cut.items() if v}, parameter: line.key, "group_by": finer}
    href = f"/app/finance?{urlencode(narrowed)}"
    if group_by == "financial_year":
        return tables.Cell(common.year_name(line.key), line.key, href=href)
    return tables.text(line.name or line.key, href=href, title=line.key)


def _chart(table: Table, answer: Any) -> str:
    """Charged, invoiced and paid per line, named as the table names them (committed and remaining dwarf them: they
    are in the table)."""
    return bar_chart(
        [row[0].text for row in table.rows],
        {
            "Charged": [line.charged for line in answer.lines],
            "Invoiced": [line.invoiced for line in answer.lines],
            "Paid": [line.paid for line in answer.lines],
        },
    )
