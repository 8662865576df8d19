"""The market's health (commissioners, the Authority, auditors and finance): per region and lot in a financial year,
who is qualified and active, competition, awards and spend by supplier size and type, concentration and the gaps,
with a chart of spend by supplier type beside the tables that hold the figures. It runs
`catalogue.market_health`, the operation `GET /catalogue/market-health` is, and its tables download as CSV."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import falcon

from api.operations import Operations
from api.web import tables
from api.web.calls import PageCalls
from api.web.charts import bar_chart
from api.web.finance import common
from api.web.render import render
from api.web.tables import Cell, Column, Table
from ledger.framework import market_health

FIELDS = {
    "financial_year": ("financial_year", "Financial year"),
    "region": ("region", "Region"),
    "category": ("category", "Service category"),
    "minimum_qualified": ("minimum_qualified", "Fewest qualified suppliers"),
}
TYPES = (("voluntary", "Voluntary and community"), ("mutual", "Mutual"), ("public", "Public"), ("private", "Private"))


def _share(value: Decimal | str | None) -> Cell:
    """A percentage the operation gave (75.00) as the page shows it (75.00%) and the CSV holds it (75.00)."""
    if value is None:
        return Cell("", "", numeric=True)
    return Cell(f"{value}%", str(value), numeric=True)


def _hhi(value: Decimal | None, level: str | None) -> Cell:
    if value is None:
        return Cell("", "", numeric=True)
    return Cell(f"{Decimal(value):,.0f}", str(value), numeric=True, title=level)


def _count(value: Any) -> Cell:
    return Cell("" if value is None else str(value), "" if value is None else str(value), numeric=True)


class MarketHealth:
    """GET /app/catalogue/market-health."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form = common.Form()
        options = {
            "financial_year": common.financial_years(common.today(self.operations)),
            "region": common.regions(),
            "category": common.service_categories(),
        }
        year = form.text(req, "financial_year", dict(options["financial_year"])) or common.this_year(self.operations)
        form.values["financial_year"] = year
        region = form.text(req, "region", dict(options["region"]))
        category = form.text(req, "category", dict(options["category"]))
        minimum = form.text(req, "minimum_qualified") or str(market_health.MINIMUM_QUALIFIED)
        form.values["minimum_qualified"] = minimum
        query = {"financial_year": year, "region": region, "category": category, "minimum_qualified": minimum}
        answer = common.ask(
            calls,
            form,
            "catalogue.market_health",
            query=query,
            fields=FIELDS,
            messages={"minimum_qualified": "Fewest qualified suppliers must be a whole number from 1 to 100"},
        )
        shown = tables.offer(req, *_tables(answer)) if answer is not None else []
        if shown and tables.respond(req, resp, shown):
            return
        render(
            req,
            resp,
            "pages/market/health.html",
            **form.page(),
            options=options,
            year_name=common.year_name(year),
            answer=answer,
            types=TYPES,
            tables=shown,
            chart=_chart(answer) if answer is not None and any(c.spend.count for c in answer.cells) else None,
        )


def _tables(answer: Any) -> list[Table]:
    busy = [c for c in answer.cells if c.suppliers_qualified or c.suppliers_active or c.call_offs_published]
    cells = Table(
        name="regions-and-lots",
        caption="Each region and lot with suppliers or competitions",
        columns=[
            Column("Region"),
            Column("Lot"),
            Column("Qualified for the whole region", numeric=True),
            Column("Qualified for part of it", numeric=True),
            Column("Small suppliers qualified", numeric=True),
            Column("Suppliers with a live contract", numeric=True),
            Column("Call-offs published", numeric=True),
            Column("Bids per call-off", numeric=True),
            Column("Awarded", numeric=True),
            Column("Awarded to small suppliers", numeric=True),
            Column("Paid", numeric=True),
            Column("Paid to small suppliers", numeric=True),
            Column("Largest supplier's share of payments", numeric=True),
            Column("Concentration (HHI)", numeric=True),
        ],
        rows=[
            [
                tables.text(c.region_name, title=c.region),
                tables.text(c.category_name, title=c.category),
                _count(c.suppliers_qualified),
                _count(c.suppliers_qualified_in_part),
                _count(c.small_suppliers_qualified),
                _count(c.suppliers_active),
                _count(c.call_offs_published),
                _count(c.bids_per_call_off),
                tables.money(c.awards.value),
                _share(c.awards.small_share),
                tables.money(c.spend.value),
                _share(c.spend.small_share),
                _share(c.concentration.top_supplier_share),
                _hhi(c.concentration.hhi, c.concentration.level),
            ]
            for c in busy
        ],
    )
    gaps = Table(
        name="gaps",
        caption=f"Gaps: lots in police areas with fewer than {answer.minimum_qualified} qualified suppliers"
        " or no live contract",
        columns=[
            Column("Police area"),
            Column("Region"),
            Column("Lot"),
            Column("Qualified suppliers", numeric=True),
            Column("Live contracts", numeric=True),
            Column("Why it is a gap"),
        ],
        rows=[
            [
                tables.text(g.area_name, title=g.area),
                tables.text(g.region_name, title=g.region),
                tables.text(g.category_name, title=g.category),
                _count(g.suppliers_qualified),
                _count(g.live_contracts),
                tables.text("; ".join(g.reasons)),
            ]
            for g in answer.gaps
        ],
    )
    by_type = Table(
        name="by-supplier-type",
        caption="Awards and payments by supplier size and type, each contract counted once",
        columns=[Column("Suppliers"), Column("Awarded", numeric=True), Column("Paid", numeric=True)],
        rows=[
            [tables.text("Small"), tables.money(answer.totals_awards.small), tables.money(answer.totals_spend.small)],
            [tables.text("Large"), tables.money(answer.totals_awards.large), tables.money(answer.totals_spend.large)],
            *(
                [
                    tables.text(words),
                    tables.money(getattr(answer.totals_awards, kind)),
                    tables.money(getattr(answer.totals_spend, kind)),
                ]
                for kind, words in TYPES
            ),
        ],
        total=[tables.text("Total"), tables.money(answer.totals_awards.value), tables.money(answer.totals_spend.value)],
    )
    return [by_type, cells, gaps]


def _chart(answer: Any) -> str:
    """Payments per region by supplier type (a contract serving two regions is drawn in both)."""
    paid: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for cell in answer.cells:
        for kind, _ in TYPES:
            paid[cell.region_name][kind] += Decimal(getattr(cell.spend, kind))
    regions = [name for name, kinds in paid.items() if any(kinds.values())]
    return bar_chart(regions, {words: [paid[r][kind] for r in regions] for kind, words in TYPES})


def routes(operations: Operations) -> list[tuple[str, Any]]:
    return [("/app/catalogue/market-health", MarketHealth(operations))]
