"""Contracts and grants: the list and one contract, the commissioner's variations, extensions and termination,
and the contract's KPIs, their measurements and ratings."""

from __future__ import annotations

from datetime import date

from api.openapi import Param
from api.routes.common import Step, day, steps, text, uuid
from api.specs import Query, QueryContext, Route, route
from ledger.payments import accounts
from ledger.procurement import contracts, performance
from projections.catalogue import models, queries

TAGS = ("contracts",)
CONTRACT = "/contracts/{contract_id}"
AS_OF_DAY = day("as_of", "The day 'live' is judged on (YYYY-MM-DD, default today)")
FILTERS = (
    text("region", "Probation region area code, e.g. region-a"),
    text("category", "Service category code"),
    uuid("commissioner_id", "A commissioner party to the contract"),
    uuid("supplier_id", "The prime supplier"),
    AS_OF_DAY,
)


def _day(q: QueryContext) -> date:
    return q.day("as_of") or q.now().date()


def list_contracts(q: QueryContext, *, live_only: bool = False) -> models.ContractList:
    """Contracts within the caller's scope (a supplier: its own; a commissioner: those it is party to)."""
    return queries.list_contracts(
        q.conn,
        _day(q),
        region=q.scoped("region"),
        category=q.param("category"),
        commissioner_id=q.scoped_uuid("commissioner_id"),
        supplier_id=q.scoped_uuid("supplier_id"),
        live_only=live_only or q.bool_param("live"),
    )


def routes() -> list[Route]:
    changes: tuple[Step, ...] = (
        (
            "variations",
            "vary",
            "Vary value or term, with a reason (commitments follow)",
            accounts.vary_contract,
            contracts.VaryContract,
        ),
        (
            "extensions",
            "extend",
            "Extend by one of the contract's options",
            contracts.extend_contract,
            contracts.ExtendContract,
        ),
        (
            "termination",
            "terminate",
            "Terminate, with grounds",
            contracts.terminate_contract,
            contracts.TerminateContract,
        ),
        (
            "kpis",
            "define_kpi",
            "Define a KPI: its unit, target, which way is better and how near counts as approaching it",
            performance.define_kpi,
            performance.DefineKpi,
        ),
        (
            "mobilisation-milestones",
            "plan_milestone",
            "Plan a mobilisation milestone, due between mobilisation's start and the service's start",
            performance.plan_milestone,
            performance.PlanMilestone,
        ),
        (
            "milestone-achievements",
            "achieve_milestone",
            "Record the day a mobilisation milestone was achieved",
            performance.achieve_milestone,
            performance.AchieveMilestone,
        ),
        (
            "kpi-measurements",
            "measure_kpi",
            "Record a KPI's measured value for a period that has ended; the ledger rates it",
            performance.measure_kpi,
            performance.MeasureKpi,
        ),
    )
    return [
        route(
            "/contracts",
            get=Query(
                "contracts.list",
                "Contracts and grants, with value and dates",
                list_contracts,
                models.ContractList,
                params=(*FILTERS, Param("live", "query", {"type": "boolean"}, "Only live ones")),
                tags=TAGS,
            ),
        ),
        route(
            CONTRACT,
            get=Query(
                "contracts.get",
                "A contract or grant",
                lambda q, i: queries.get_contract(q.conn, i, _day(q)),
                models.ContractRecord,
                params=(AS_OF_DAY,),
                etag=True,
                tags=TAGS,
            ),
        ),
        *steps(CONTRACT, "contracts", TAGS, *changes),
        route(
            f"{CONTRACT}/performance",
            get=Query(
                "contracts.performance",
                "A contract's KPIs with each measurement and its rating; whether it is a larger contract (over"
                " £5 million), how many KPIs it still needs, and which are due an assessment; its mobilisation"
                " milestones and whether mobilisation is late",
                lambda q, i: performance.performance(q.ledger, i, q.now().date()),
                performance.PerformanceRecord,
                views=(),
                from_ledger=True,
                tags=TAGS,
            ),
        ),
    ]
