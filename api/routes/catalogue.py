"""The catalogue: who could be invited for a need in an area (and why), live contracts, the call-off pipeline, and
the market's health."""

from __future__ import annotations

from functools import partial

from api.errors import invalid
from api.openapi import Param
from api.routes.call_offs import pipeline
from api.routes.contracts import FILTERS, list_contracts
from api.specs import AsOf, Query, QueryContext, Route, route
from ledger.framework import categories, geography, market_health
from ledger.payments import money
from projections.catalogue import models, queries, report
from projections.catalogue.handlers import CatalogueView
from projections.reference import ReferenceView

TAGS = ("catalogue",)


def _eligibility(q: QueryContext) -> models.EligibilityReport:
    wanted, area = q.params("category"), q.param("area")
    errors = [("category", "give at least one category")] if not wanted else []
    errors += [("category", f"unknown service category {c!r}") for c in wanted if c not in categories.BY_CODE]
    errors += [] if area in geography.BY_CODE else [("area", f"unknown area {area!r}" if area else "give an area code")]
    if errors:
        raise invalid(errors)
    assert area is not None
    return queries.eligibility(q.conn, wanted, area)


def _market_health(q: QueryContext) -> models.MarketHealth:
    year, region, category = q.param("financial_year"), q.param("region"), q.param("category")
    errors = []
    if (problem := money.financial_year_problem(year)) is not None:
        errors.append(("financial_year", problem))
    if region is not None and region not in report.REGIONS:
        errors.append(("region", f"{region!r} is not a probation region's area code (region-a ... region-l)"))
    if category is not None and category not in categories.BY_CODE:
        errors.append(("category", f"unknown service category {category!r}"))
    minimum = q.int_param("minimum_qualified", default=market_health.MINIMUM_QUALIFIED, low=1, high=100)
    if errors:
        raise invalid(errors)
    assert year is not None
    return report.market_health(q.conn, year, region=region, category=category, minimum_qualified=minimum)


MARKET_HEALTH_PARAMS = (
    Param("financial_year", "query", {"type": "string", "pattern": r"^20[0-9]{2}-[0-9]{2}$"}, 'e.g. "2026-27"', True),
    Param("region", "query", {"type": "string"}, "One probation region's area code (all when absent)"),
    Param("category", "query", {"type": "string"}, "One lot (all when absent)"),
    Param(
        "minimum_qualified",
        "query",
        {"type": "integer", "minimum": 1, "maximum": 100},
        f"A lot in an area with fewer qualified suppliers is a gap ({market_health.MINIMUM_QUALIFIED})",
    ),
)


def _forward_pipeline(q: QueryContext) -> models.ForwardPipeline:
    category, area = q.param("category"), q.param("area")
    errors = (
        [] if category is None or category in categories.BY_CODE else [("category", f"unknown category {category!r}")]
    )
    errors += [] if area is None or area in geography.BY_CODE else [("area", f"unknown area {area!r}")]
    if errors:
        raise invalid(errors)
    return queries.forward_pipeline(
        q.conn,
        supplier_id=q.forced.get("supplier_id"),
        category=category,
        area=area,
        commissioner_id=q.uuid_param("commissioner_id"),
        include_closed=q.bool_param("include_closed"),
    )


def routes() -> list[Route]:
    return [
        route(
            "/catalogue/eligibility",
            get=Query(
                "catalogue.eligibility",
                "Suppliers that could be invited for these lots in this area (now, or as of a horizon), and why",
                _eligibility,
                models.EligibilityReport,
                params=(
                    Param("category", "query", {"type": "array", "items": {"type": "string"}}, "Lot code(s)", True),
                    Param("area", "query", {"type": "string"}, "Area code", True),
                ),
                tags=TAGS,
                as_of=AsOf(lambda: [ReferenceView(), CatalogueView()]),
            ),
        ),
        route(
            "/catalogue/contracts",
            get=Query(
                "catalogue.contracts",
                "Live contracts by region, category, commissioner or supplier",
                partial(list_contracts, live_only=True),
                models.ContractList,
                params=FILTERS,
                tags=TAGS,
            ),
        ),
        route(
            "/catalogue/pipeline",
            get=Query(
                "catalogue.pipeline",
                "The call-off pipeline (draft, open, evaluating, standstill, awarded, cancelled ...)",
                pipeline,
                models.Pipeline,
                tags=TAGS,
            ),
        ),
        route(
            "/catalogue/forward-pipeline",
            get=Query(
                "catalogue.forward_pipeline",
                "The forward pipeline: planned call-offs by expected month of publication, with their estimated value"
                " and volumes (a supplier sees those for its lots and areas)",
                _forward_pipeline,
                models.ForwardPipeline,
                params=(
                    Param("category", "query", {"type": "string"}, "A lot (need or cohort)"),
                    Param("area", "query", {"type": "string"}, "Plans whose geography overlaps this area"),
                    Param("commissioner_id", "query", {"type": "string", "format": "uuid"}, "Lead commissioner"),
                    Param("include_closed", "query", {"type": "boolean"}, "Also fulfilled and withdrawn plans"),
                ),
                tags=TAGS,
            ),
        ),
        route(
            "/catalogue/market-health",
            get=Query(
                "catalogue.market_health",
                "Market health in a financial year, per probation region and lot: suppliers qualified and active,"
                " call-offs and bids, awards and spend by supplier size and type, concentration, and the gaps",
                _market_health,
                models.MarketHealth,
                views=("catalogue", "payments"),
                params=MARKET_HEALTH_PARAMS,
                tags=TAGS,
            ),
        ),
        route(
            "/catalogue/market-health.csv",
            get=Query(
                "catalogue.market_health_csv",
                "Market health in a financial year as CSV: one row per probation region and lot",
                lambda q: report.market_health_csv(_market_health(q)),
                {"type": "string"},
                views=("catalogue", "payments"),
                params=MARKET_HEALTH_PARAMS,
                content_type="text/csv",
                tags=TAGS,
            ),
        ),
    ]
