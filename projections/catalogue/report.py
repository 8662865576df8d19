"""The market health report (issue 19, item 3): per probation region and lot in a financial year, who is qualified
and active, call-offs and bids, awards and spend by supplier size and type, concentration, and the gaps.

It reads the catalogue (suppliers, call-offs, contracts) and the payments view's monthly roll-up (what was paid on
each contract in the year) and decides nothing itself: qualification is the invitation rule's answer
(`ledger.procurement.invitations`), the classes, concentration and gaps are `ledger.framework.market_health`'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from ledger.framework import categories, geography
from ledger.framework import market_health as health
from ledger.framework.suppliers import LotStatus, SupplierStanding, SupplierStatus
from ledger.payments import money
from ledger.procurement import invitations
from projections.base import fetch_rows
from projections.catalogue.models import MarketCell, MarketConcentration, MarketGap, MarketHealth, SizeAndType
from projections.export import csv_text

REGIONS = tuple(a.code for a in geography.AREAS if a.kind is geography.AreaKind.PROBATION_REGION)
POLICE_AREAS = tuple(a.code for a in geography.AREAS if a.kind is geography.AreaKind.POLICE_AREA)
LOTS = tuple(c.code for c in categories.SERVICE_CATEGORIES)


class _Supplier:
    __slots__ = ("is_small", "organisation_type", "standing")

    def __init__(self, standing: SupplierStanding, is_small: bool, organisation_type: str) -> None:
        self.standing = standing
        self.is_small = is_small
        self.organisation_type = organisation_type


def _suppliers(conn: psycopg.Connection[Any]) -> dict[UUID, _Supplier]:
    rows = fetch_rows(
        conn,
        "SELECT s.supplier_id, s.name, s.status, s.is_small, s.organisation_type,"
        " s.terms_version IS NOT NULL AS terms_accepted,"
        " (SELECT json_object_agg(l.category, l.status) FROM catalogue_supplier_lots l"
        "   WHERE l.supplier_id = s.supplier_id) AS lots,"
        " coalesce((SELECT array_agg(a.area_code ORDER BY a.area_code) FROM catalogue_supplier_areas a"
        "   WHERE a.supplier_id = s.supplier_id), '{}') AS declared_areas"
        " FROM catalogue_suppliers s",
    )
    return {
        row["supplier_id"]: _Supplier(
            SupplierStanding(
                supplier_id=row["supplier_id"],
                name=row["name"],
                status=SupplierStatus(row["status"]),
                lots={code: LotStatus(status) for code, status in (row["lots"] or {}).items()},
                terms_accepted=row["terms_accepted"],
                declared_areas=tuple(row["declared_areas"]),
            ),
            row["is_small"],
            row["organisation_type"],
        )
        for row in rows
    }


def _lots_of(row: dict[str, Any]) -> tuple[str, ...]:
    return tuple(code for code in (row["need"], row["cohort"]) if code)


def _qualified(suppliers: Iterable[_Supplier], lot: str, area: str) -> list[_Supplier]:
    """Those the invitation rule would invite to a call-off for `lot` in `area`."""
    chosen = []
    for supplier in suppliers:
        basis = invitations.decide(supplier.standing, (lot,), area)
        if basis is not None and basis.invited:
            chosen.append(supplier)
    return chosen


def _in_part(suppliers: Iterable[_Supplier], lot: str, region: str) -> int:
    """Appointed to the lot and active, with declared areas covering some of the region but not all of it."""
    count = 0
    for supplier in suppliers:
        standing = supplier.standing
        if standing.lots.get(lot) is not LotStatus.APPOINTED or standing.status is not SupplierStatus.ACTIVE:
            continue
        touching = any(geography.covers(region, a) or geography.covers(a, region) for a in standing.declared_areas)
        if touching and geography.uncovered(region, standing.declared_areas):
            count += 1
    return count


class _Tally:
    """Amounts by supplier size and type, and by supplier, as they are added."""

    def __init__(self) -> None:
        self.count = 0
        self.by_size: dict[health.SupplierSize, Decimal] = defaultdict(Decimal)
        self.by_type: dict[health.SupplierType, Decimal] = defaultdict(Decimal)
        self.by_supplier: dict[UUID, Decimal] = defaultdict(Decimal)

    def add(self, supplier_id: UUID, supplier: _Supplier | None, amount: Decimal) -> None:
        self.count += 1
        self.by_supplier[supplier_id] += amount
        if supplier is not None:
            self.by_size[health.size_of(supplier.is_small)] += amount
            self.by_type[health.type_of(supplier.organisation_type)] += amount

    def answer(self) -> SizeAndType:
        value = money.pence(sum(self.by_supplier.values(), Decimal(0)))
        small = money.pence(self.by_size[health.SupplierSize.SMALL])
        kinds = {kind: money.pence(self.by_type[kind]) for kind in health.SupplierType}
        return SizeAndType(
            count=self.count,
            value=value,
            small=small,
            large=money.pence(self.by_size[health.SupplierSize.LARGE]),
            small_share=health.share(small, value),
            voluntary=kinds[health.SupplierType.VOLUNTARY],
            mutual=kinds[health.SupplierType.MUTUAL],
            public=kinds[health.SupplierType.PUBLIC],
            private=kinds[health.SupplierType.PRIVATE],
        )

    def concentration(self) -> MarketConcentration:
        c = health.concentration(self.by_supplier)
        return MarketConcentration(
            suppliers=c.suppliers, top_supplier_share=c.top_supplier_share, hhi=c.hhi, level=c.level
        )


def market_health(
    conn: psycopg.Connection[Any],
    financial_year: str,
    *,
    region: str | None = None,
    category: str | None = None,
    minimum_qualified: int = health.MINIMUM_QUALIFIED,
) -> MarketHealth:
    """The report for one financial year ("2026-27"), optionally one region's or one lot's cells and gaps."""
    start, end = money.financial_year_bounds(financial_year)
    suppliers = _suppliers(conn)
    contracts = fetch_rows(
        conn,
        "SELECT contract_id, supplier_id, need, cohort, areas, regions, value, start_date, end_date, terminated_on,"
        " concluded_at FROM catalogue_contracts"
        " WHERE start_date <= %(end)s AND end_date >= %(start)s"
        "    AND (terminated_on IS NULL OR terminated_on > %(start)s)"
        "    OR concluded_at >= %(start)s AND concluded_at < %(after)s",
        {"start": start, "end": end, "after": _day_after(end)},
    )
    paid = {
        row["contract_id"]: row["amount"]
        for row in fetch_rows(
            conn,
            "SELECT contract_id, sum(amount) AS amount FROM finance_rollup"
            " WHERE kind = 'paid' AND financial_year = %s AND contract_id IS NOT NULL GROUP BY contract_id",
            (financial_year,),
        )
    }
    call_offs = fetch_rows(
        conn,
        "SELECT need, cohort, geography, tenders_received, tenders_opened_at IS NOT NULL AS opened"
        " FROM catalogue_call_offs WHERE published_at >= %s AND published_at < %s",
        (start, _day_after(end)),
    )
    regions = [r for r in REGIONS if region in (None, r)]
    lots = [c for c in LOTS if category in (None, c)]
    cells: dict[tuple[str, str], dict[str, Any]] = {
        (r, lot): {"active": set(), "awards": _Tally(), "spend": _Tally(), "bids": [], "published": 0}
        for r in regions
        for lot in lots
    }
    totals_awards, totals_spend = _Tally(), _Tally()
    for k in contracts:
        supplier = suppliers.get(k["supplier_id"])
        concluded = start <= k["concluded_at"].date() <= end
        live = (
            k["start_date"] <= end
            and k["end_date"] >= start
            and (k["terminated_on"] is None or k["terminated_on"] > start)
        )
        spent = paid.get(k["contract_id"], Decimal(0))
        if concluded:
            totals_awards.add(k["supplier_id"], supplier, k["value"])
        if spent:
            totals_spend.add(k["supplier_id"], supplier, spent)
        for r in k["regions"]:
            for lot in _lots_of(k):
                cell = cells.get((r, lot))
                if cell is None:
                    continue
                if live:
                    cell["active"].add(k["supplier_id"])
                if concluded:
                    cell["awards"].add(k["supplier_id"], supplier, k["value"])
                if spent:
                    cell["spend"].add(k["supplier_id"], supplier, spent)
    for c in call_offs:
        for r in geography.probation_regions([c["geography"]]):
            for lot in _lots_of(c):
                cell = cells.get((r, lot))
                if cell is None:
                    continue
                cell["published"] += 1
                if c["opened"]:
                    cell["bids"].append(c["tenders_received"])
    everyone = list(suppliers.values())
    answer = []
    for (r, lot), cell in cells.items():
        qualified = _qualified(everyone, lot, r)
        answer.append(
            MarketCell(
                region=r,
                region_name=geography.BY_CODE[r].name,
                category=lot,
                category_name=categories.BY_CODE[lot].name,
                suppliers_qualified=len(qualified),
                suppliers_qualified_in_part=_in_part(everyone, lot, r),
                small_suppliers_qualified=sum(1 for s in qualified if s.is_small),
                suppliers_active=len(cell["active"]),
                call_offs_published=cell["published"],
                call_offs_opened=len(cell["bids"]),
                bids_per_call_off=health.mean(cell["bids"]),
                awards=cell["awards"].answer(),
                spend=cell["spend"].answer(),
                concentration=cell["spend"].concentration(),
            )
        )
    return MarketHealth(
        financial_year=financial_year,
        minimum_qualified=minimum_qualified,
        cells=answer,
        gaps=_gaps(everyone, contracts, start, end, regions, lots, minimum_qualified),
        totals_awards=totals_awards.answer(),
        totals_spend=totals_spend.answer(),
        totals_concentration=totals_spend.concentration(),
    )


def _live_in(contract: dict[str, Any], start: date, end: date) -> bool:
    """Live at some time from `start` to `end`: begun by the end, not ended or terminated before the start."""
    terminated = contract["terminated_on"]
    return contract["start_date"] <= end and contract["end_date"] >= start and not (terminated and terminated <= start)


def _day_after(day: date) -> date:
    return day + timedelta(days=1)


def _gaps(
    suppliers: list[_Supplier],
    contracts: list[dict[str, Any]],
    start: date,
    end: date,
    regions: list[str],
    lots: list[str],
    minimum: int,
) -> list[MarketGap]:
    """Each lot in each police area of the regions asked about with too few qualified suppliers or no live
    contract at any time in the year."""
    live = [
        k
        for k in contracts
        if k["start_date"] <= end
        and k["end_date"] >= start
        and (k["terminated_on"] is None or k["terminated_on"] > start)
    ]
    gaps = []
    for area in POLICE_AREAS:
        region = geography.BY_CODE[area].parent_code or ""
        if region not in regions:
            continue
        for lot in lots:
            qualified = len(_qualified(suppliers, lot, area))
            serving = sum(1 for k in live if lot in _lots_of(k) and any(geography.covers(a, area) for a in k["areas"]))
            reasons = health.gap_reasons(qualified, serving, minimum)
            if reasons:
                gaps.append(
                    MarketGap(
                        category=lot,
                        category_name=categories.BY_CODE[lot].name,
                        area=area,
                        area_name=geography.BY_CODE[area].name,
                        region=region,
                        region_name=geography.BY_CODE[region].name,
                        suppliers_qualified=qualified,
                        live_contracts=serving,
                        reasons=list(reasons),
                    )
                )
    return gaps


CELL_COLUMNS = (
    "financial_year",
    "region",
    "region_name",
    "category",
    "category_name",
    "suppliers_qualified",
    "suppliers_qualified_in_part",
    "small_suppliers_qualified",
    "suppliers_active",
    "call_offs_published",
    "call_offs_opened",
    "bids_per_call_off",
    "awards_count",
    "awards_value",
    "awards_small",
    "awards_large",
    "awards_small_share",
    "awards_voluntary",
    "awards_mutual",
    "awards_public",
    "awards_private",
    "spend_value",
    "spend_small",
    "spend_large",
    "spend_small_share",
    "spend_voluntary",
    "spend_mutual",
    "spend_public",
    "spend_private",
    "spend_suppliers",
    "top_supplier_share",
    "hhi",
    "concentration",
)


def market_health_csv(report: MarketHealth) -> str:
    """The report's cells as CSV: one row per region and lot (money as plain decimals, shares as percentages)."""
    rows = []
    for c in report.cells:
        row: dict[str, Any] = {
            "financial_year": report.financial_year,
            "region": c.region,
            "region_name": c.region_name,
            "category": c.category,
            "category_name": c.category_name,
            "suppliers_qualified": c.suppliers_qualified,
            "suppliers_qualified_in_part": c.suppliers_qualified_in_part,
            "small_suppliers_qualified": c.small_suppliers_qualified,
            "suppliers_active": c.suppliers_active,
            "call_offs_published": c.call_offs_published,
            "call_offs_opened": c.call_offs_opened,
            "bids_per_call_off": c.bids_per_call_off,
            "spend_suppliers": c.concentration.suppliers,
            "top_supplier_share": c.concentration.top_supplier_share,
            "hhi": c.concentration.hhi,
            "concentration": c.concentration.level,
        }
        for prefix, tally in (("awards", c.awards), ("spend", c.spend)):
            for part in ("value", "small", "large", "small_share", "voluntary", "mutual", "public", "private"):
                row[f"{prefix}_{part}"] = getattr(tally, part)
        row["awards_count"] = c.awards.count
        rows.append(row)
    return csv_text(CELL_COLUMNS, rows)
