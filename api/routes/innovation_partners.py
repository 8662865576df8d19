"""Innovation Partners: each probation region's, designated by the Authority from the contract its own competition
won; Unpaid Work orders and programme groups are placed only under it (issue 19, item 5; ADR 41)."""

from __future__ import annotations

from api.specs import Command, Query, QueryContext, Route, route
from ledger.procurement import innovation_partners

TAGS = ("innovation-partners",)


def _list(q: QueryContext) -> innovation_partners.PartnerList:
    return innovation_partners.partners(q.ledger)


def routes() -> list[Route]:
    return [
        route(
            "/innovation-partners",
            post=Command(
                "innovation_partners.designate",
                "Designate a region's Innovation Partner: the contract its own region-wide competition won (a later"
                " designation replaces the earlier)",
                innovation_partners.designate_partner,
                innovation_partners.DesignatePartner,
                tags=TAGS,
            ),
            get=Query(
                "innovation_partners.list",
                "Each probation region's Innovation Partner (its contract and supplier), and the earlier ones",
                _list,
                innovation_partners.PartnerList,
                views=(),
                from_ledger=True,
                tags=TAGS,
            ),
        ),
    ]
