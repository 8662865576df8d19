"""Budget lines per commissioner and financial year, with what is committed, charged and paid against them; the
ring-fenced Regional Outcome and Innovation Fund apart; and a line's burn over its year, month by month."""

from __future__ import annotations

from typing import Any

import falcon

from api.operations import Operations
from api.web import tables
from api.web.calls import PageCalls
from api.web.charts import bar_chart
from api.web.finance import common
from api.web.render import render
from api.web.tables import Column, Table

LINE_COLUMNS = (
    Column("Commissioner and budget line"),
    Column("Budget", numeric=True),
    Column("Committed", numeric=True),
    Column("Available to commit", numeric=True),
    Column("Charged", numeric=True),
    Column("Paid", numeric=True),
    Column("Remaining", numeric=True),
)
FIGURES = ("amount", "committed", "available", "charged", "paid", "remaining")  # overruns: on each line's page


class Budgets:
    """GET /app/finance/budgets: a financial year's budget lines (the ring-fenced fund apart)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = common.Form()
        years = common.financial_years(common.today(self.operations))
        commissioners = common.commissioner_options(calls)
        year = form.text(req, "financial_year", dict(years)) or common.this_year(self.operations)
        form.values["financial_year"] = year
        commissioner = form.text(req, "commissioner_id", dict(commissioners))
        answer = common.ask(
            calls,
            form,
            "finance.list_budget_lines",
            query={"financial_year": year, "commissioner_id": commissioner},
            fields={"commissioner_id": ("commissioner_id", "Commissioner")},
        )
        items = answer.items if answer is not None else []
        found = tables.offer(
            req,
            lines_table("budget-lines", "Budget lines", [b for b in items if not b.ring_fenced]),
            lines_table(
                "ring-fenced-lines",
                "Ring-fenced: Regional Outcome and Innovation Fund",
                [b for b in items if b.ring_fenced],
            ),
        )
        if tables.respond(req, resp, found):
            return
        render(
            req,
            resp,
            "pages/finance/budgets.html",
            **form.page(),
            years=years,
            year_name=common.year_name(year),
            commissioners=commissioners,
            core=found[0],
            ring_fenced=found[1],
        )


def lines_table(name: str, caption: str, lines: list[Any]) -> Table:
    return Table(
        name=name,
        caption=caption,
        columns=LINE_COLUMNS,
        rows=[
            [
                tables.text(
                    f"{b.commissioner_name or b.commissioner_id}: {b.name}",
                    href=f"/app/finance/budgets/{b.line_id}",
                    title=f"{b.commissioner_id} {b.code}",
                ),
                *(tables.money(getattr(b, f)) for f in FIGURES),
            ]
            for b in lines
        ],
        total=[
            tables.text("Total"),
            *(tables.money(sum(getattr(b, f) for b in lines)) for f in FIGURES),
        ]
        if lines
        else None,
    )


class BudgetLine:
    """GET /app/finance/budgets/{line_id}: a budget line and its burn over the year, month by month."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response, line_id: str) -> None:
        burn = PageCalls(self.operations, req).query("finance.budget_burn", path={"line_id": line_id})
        line = burn.line
        table = tables.offer(req, burn_table(burn))[0]
        if tables.respond(req, resp, [table]):
            return
        render(
            req,
            resp,
            "pages/finance/budget_line.html",
            line=line,
            year_name=common.year_name(line.financial_year),
            table=table,
            chart=bar_chart(
                [row[0].text for row in table.rows],
                {"Charged": [m.charged for m in burn.months], "Paid": [m.paid for m in burn.months]},
            ),
        )


def burn_table(burn: Any) -> Table:
    line = burn.line
    return Table(
        name="burn-by-month",
        caption="Burn by month",
        columns=(
            Column("Month"),
            *(Column(c, numeric=True) for c in ("Charged", "Invoiced", "Paid", "Charged to date", "Paid to date")),
        ),
        rows=[
            [
                tables.Cell(common.month_name(m.month), m.month),
                *(tables.money(v) for v in (m.charged, m.invoiced, m.paid, m.charged_to_date, m.paid_to_date)),
            ]
            for m in burn.months
        ],
        total=[
            tables.text("Total"),
            *(tables.money(v) for v in (line.charged, line.invoiced, line.paid)),
            tables.money(None),
            tables.money(None),
        ],
    )
