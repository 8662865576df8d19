"""The caseload: its counts and the lists needing attention for a provider, caseworker, practitioner, region or
contract, each list a page at a time, and the provider performance report. Its cut is every caseload list's."""

from __future__ import annotations

from api.errors import invalid
from api.openapi import Param
from api.routes.common import day, page
from api.specs import AsOf, Query, QueryContext, Route, route
from projections.caseload import models, queries, report
from projections.caseload.handlers import CaseloadView
from projections.catalogue.handlers import CatalogueView

TAGS = ("caseload",)
CUT = (
    Param("supplier_id", "query", {"type": "string", "format": "uuid"}, "Provider"),
    Param("caseworker_id", "query", {"type": "string"}, "Provider caseworker"),
    Param("practitioner_id", "query", {"type": "string"}, "Probation practitioner"),
    Param("region", "query", {"type": "string"}, "Probation region area code"),
    Param("contract_id", "query", {"type": "string", "format": "uuid"}, "Contract"),
)
WAITING_DAYS = Param(
    "waiting_days", "query", {"type": "integer", "minimum": 0, "maximum": 365}, "Waiting threshold in days (10)"
)
ITEMS_PER_LIST = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Items per list (20)")
LIST_SUMMARIES = {
    models.CaseloadList.UNASSIGNED: "open referrals with no caseworker, the longest waiting first",
    models.CaseloadList.WAITING_FOR_FIRST_APPOINTMENT: "open referrals received more than waiting_days ago"
    " with no first appointment within waiting_days, the longest waiting first",
    models.CaseloadList.NOTIFICATIONS_PENDING: "attendance notifications the practitioner has not acknowledged,"
    " the oldest session first",
    models.CaseloadList.UNPAID_WORK_AT_RISK: "open Unpaid Work orders whose hours left cannot be worked by the"
    " deadline at the weekly minimum, the nearest deadline first",
    models.CaseloadList.UNPAID_WORK_STARTED_LATE: "open Unpaid Work orders not started within 7 working days of"
    " allocation, the earliest allocated first",
}


def pages(default: int) -> tuple[Param, ...]:
    return page(default, "page before")


def limit(q: QueryContext, default: int) -> int:
    return q.int_param("limit", default=default, low=1, high=500)


def _waiting_days(q: QueryContext) -> int:
    return q.int_param("waiting_days", default=10, low=0, high=365)


def cut(q: QueryContext) -> models.CaseloadFilter:
    """The part of the caseload asked for, narrowed to the caller's scope."""
    return models.CaseloadFilter(
        supplier_id=q.scoped_uuid("supplier_id"),
        caseworker_id=q.param("caseworker_id"),
        practitioner_id=q.param("practitioner_id"),
        region=q.scoped("region"),
        contract_id=q.uuid_param("contract_id"),
    )


def _report(q: QueryContext) -> str:
    start, end = q.required_day("from"), q.required_day("to")
    if end < start:
        raise invalid([("to", "must not be before from")])
    return report.performance_report(q.conn, cut(q), start, end, q.ledger.keys)


def _list_route(name: models.CaseloadList) -> Route:
    response = {
        models.CaseloadList.NOTIFICATIONS_PENDING: models.NotificationPage,
        models.CaseloadList.UNPAID_WORK_AT_RISK: models.UnpaidWorkPage,
        models.CaseloadList.UNPAID_WORK_STARTED_LATE: models.UnpaidWorkPage,
    }.get(name, models.ReferralPage)
    return route(
        f"/caseload/{name}",
        get=Query(
            f"caseload.{name.name.lower()}",
            f"One list of the caseload, a page at a time, with its total: {LIST_SUMMARIES[name]}",
            lambda q: queries.read_list(
                q.conn,
                cut(q),
                name,
                q.now(),
                q.ledger.keys,
                waiting_days=_waiting_days(q),
                after=q.param("after"),
                limit=limit(q, 50),
            ),
            response,
            views=("caseload", "catalogue"),
            as_of=AsOf(lambda: [CatalogueView(), CaseloadView()]),
            params=(*CUT, *pages(50))
            + ((WAITING_DAYS,) if name is models.CaseloadList.WAITING_FOR_FIRST_APPOINTMENT else ()),
            tags=TAGS,
        ),
    )


def routes() -> list[Route]:
    return [
        route(
            "/caseload",
            get=Query(
                "caseload.get",
                "The caseload for a provider, caseworker, practitioner, region or contract: its counts and"
                " the first page of each list that needs attention (GET /caseload/{list} reads on)",
                lambda q: queries.caseload(
                    q.conn, cut(q), q.now(), q.ledger.keys, waiting_days=_waiting_days(q), limit=limit(q, 20)
                ),
                models.Caseload,
                views=("caseload", "catalogue"),
                as_of=AsOf(lambda: [CatalogueView(), CaseloadView()]),
                params=(*CUT, WAITING_DAYS, ITEMS_PER_LIST),
                tags=TAGS,
            ),
        ),
        *(_list_route(name) for name in models.CaseloadList),
        route(
            "/caseload/report.csv",
            get=Query(
                "caseload.report",
                "Provider performance report: one CSV row per referral received in the period, with its timeline",
                _report,
                {"type": "string"},
                views=("caseload",),
                params=(*CUT, day("from", "First day", True), day("to", "Last day", True)),
                content_type="text/csv",
                tags=TAGS,
            ),
        ),
    ]
