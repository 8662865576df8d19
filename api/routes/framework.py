"""The framework agreement: its term as it stands (start, end, how far it may still run, each extension and why),
and the Authority's decision to extend it (issue 19, item 6; ADR 39)."""

from __future__ import annotations

from api.specs import Command, Query, QueryContext, Route, route
from ledger.framework import agreement

TAGS = ("framework",)


def _term(q: QueryContext) -> agreement.Term:
    return agreement.current_term(q.ledger)


def routes() -> list[Route]:
    return [
        route(
            "/framework",
            get=Query(
                "framework.get",
                "The framework agreement's term: start, end, the latest it may be extended to, and each extension",
                _term,
                agreement.Term,
                views=(),
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            "/framework/extensions",
            post=Command(
                "framework.extend",
                "Extend the framework agreement's term (the Authority's decision, with its reason): to a later end,"
                " within three years of the original, decided while it runs",
                agreement.extend_framework,
                agreement.ExtendFramework,
                tags=TAGS,
            ),
        ),
    ]
