"""Unpaid Work orders: allocation to the innovation partner, the list and one order, inductions, sessions and
stand-downs."""

from __future__ import annotations

from api.routes.caseload import CUT, cut, limit, pages
from api.routes.common import Step, steps
from api.specs import Command, Query, Route, route
from ledger.cases import unpaid_work
from projections.caseload import models, queries

TAGS = ("unpaid-work",)
ORDER = "/unpaid-work/{order_id}"
ORDER_STEPS: tuple[Step, ...] = (
    (
        "induction",
        "complete_induction",
        "Induction with risk and needs assessment",
        unpaid_work.complete_induction,
        unpaid_work.CompleteInduction,
    ),
    (
        "sessions",
        "record_work",
        "Hours worked in a session, with placement",
        unpaid_work.record_work,
        unpaid_work.RecordWork,
    ),
    (
        "stand-downs",
        "record_stand_down",
        "A stand-down: reported, no placement",
        unpaid_work.record_stand_down,
        unpaid_work.RecordStandDown,
    ),
)


def routes() -> list[Route]:
    return [
        route(
            "/unpaid-work",
            post=Command(
                "unpaid_work.allocate",
                "Allocate an Unpaid Work order to the innovation partner",
                unpaid_work.allocate_order,
                unpaid_work.AllocateOrder,
                status=201,
                location="unpaid_work.get",
                tags=TAGS,
            ),
            get=Query(
                "unpaid_work.list",
                "Unpaid Work orders: hours ordered and worked, weeks below minimum, risk of missing 12 months;"
                " the most recently allocated first, a page at a time",
                lambda q: queries.unpaid_work_orders(
                    q.conn, cut(q), q.now().date(), q.ledger.keys, after=q.param("after"), limit=limit(q, 100)
                ),
                models.UnpaidWorkList,
                views=("caseload",),
                params=(*CUT, *pages(100)),
                tags=TAGS,
            ),
        ),
        route(
            ORDER,
            get=Query(
                "unpaid_work.get",
                "An Unpaid Work order: its contract and provider, hours ordered and worked, deadline and risk",
                lambda q, i: queries.get_unpaid_work_order(q.conn, i, q.now().date(), q.ledger.keys),
                models.UnpaidWorkOrderRecord,
                views=("caseload",),
                etag=True,
                tags=TAGS,
            ),
        ),
        *steps(ORDER, "unpaid_work", TAGS, *ORDER_STEPS),
    ]
