"""The catalogue: who could be invited for a need in an area (and why), live contracts, the call-off pipeline."""

from __future__ import annotations

from functools import partial

from api.errors import invalid
from api.openapi import Param
from api.routes.call_offs import pipeline
from api.routes.contracts import FILTERS, list_contracts
from api.specs import AsOf, Query, QueryContext, Route, route
from ledger.framework import categories, geography
from projections.catalogue import models, queries
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
    ]
