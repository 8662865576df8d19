"""The forward pipeline: call-offs commissioners plan, revise, withdraw or fulfil with the call-off drafted for them
(issue 19, item 4; ADR 38). The market reads the plans at GET /catalogue/forward-pipeline."""

from __future__ import annotations

from uuid import UUID

from api.routes.common import Step, steps
from api.specs import Command, Query, QueryContext, Route, route
from ledger.procurement import planning
from projections.catalogue import models, queries

TAGS = ("planning",)
PLAN = "/planned-call-offs/{plan_id}"
STEPS: tuple[Step, ...] = (
    (
        "revisions",
        "revise",
        "Revise a plan (its lots, geography, estimates or month), with a reason",
        planning.revise_plan,
        planning.RevisePlan,
    ),
    ("withdrawal", "withdraw", "Withdraw a plan, with a reason", planning.withdraw_plan, planning.WithdrawPlan),
    (
        "fulfilment",
        "fulfil",
        "Record the call-off drafted for a plan (the lead's own, for its lots and geography)",
        planning.fulfil_plan,
        planning.FulfilPlan,
    ),
)


def _plan(q: QueryContext, plan_id: UUID) -> models.PlannedCallOffRecord | None:
    return queries.get_planned_call_off(q.conn, plan_id)


def routes() -> list[Route]:
    return [
        route(
            "/planned-call-offs",
            post=Command(
                "planning.plan",
                "Plan a call-off: its lot(s), geography, estimated value and annual volume, and the month it is"
                " expected to be published, for the market to prepare",
                planning.plan_call_off,
                planning.PlanCallOff,
                status=201,
                location="planning.get",
                tags=TAGS,
            ),
        ),
        route(
            PLAN,
            get=Query(
                "planning.get",
                "A planned call-off: what is planned, its estimates, status and the call-off that fulfilled it",
                _plan,
                models.PlannedCallOffRecord,
                tags=TAGS,
            ),
        ),
        *steps(PLAN, "planning", TAGS, *STEPS),
    ]
