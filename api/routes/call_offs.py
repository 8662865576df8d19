"""Call-off competitions: drafting, publication with its invitation list, clarifications, opening, BAFO,
evaluation, award, cancellation and the contract concluded after standstill."""

from __future__ import annotations

from uuid import UUID

from api import policy
from api.routes.common import Step, steps, text, uuid
from api.specs import Command, Query, QueryContext, Route, route
from ledger.payments import accounts, funding
from ledger.procurement import call_offs, contracts
from projections.catalogue import models, queries

TAGS = ("call-offs",)


def _call_off(q: QueryContext, call_off_id: UUID) -> models.CallOffRecord | None:
    """A call-off's page: a supplier sees its own invitation, receipts and questions, never a competitor's."""
    own = policy.forced_filters(q.actor).get("supplier_id")
    return queries.get_call_off(q.conn, call_off_id, supplier_id=own)


def pipeline(q: QueryContext) -> models.Pipeline:
    """Call-offs by stage, within the caller's scope (a supplier: those it was invited to)."""
    return queries.pipeline(
        q.conn,
        status=q.param("status"),
        commissioner_id=q.scoped_uuid("commissioner_id"),
        invited_supplier_id=q.forced.get("supplier_id"),
        category=q.param("category"),
        limit=q.int_param("limit", default=100, low=1, high=500),
    )


CALL_OFF = "/call-offs/{call_off_id}"
STEPS: tuple[Step, ...] = (
    (
        "funding",
        "set_funding",
        "Record each funder's share of the call-off's cost (percentages summing to 100, a year's own where it"
        " differs); the contract's commitments are split by them, to the penny",
        funding.set_funding,
        funding.SetFunding,
    ),
    (
        "publication",
        "publish",
        "Publish: the ledger computes and records the invitation list with its basis",
        call_offs.publish_call_off,
        None,
    ),
    (
        "clarification-requests",
        "ask_clarification",
        "An invited supplier asks a clarification question",
        call_offs.request_clarification,
        call_offs.AskClarification,
    ),
    (
        "clarifications",
        "publish_clarification",
        "Publish a question and answer to every invited supplier",
        call_offs.publish_clarification,
        call_offs.PublishClarification,
    ),
    (
        "tender-opening",
        "open_tenders",
        "Open the sealed tenders (at or after the deadline)",
        call_offs.open_tenders,
        None,
    ),
    (
        "bafo",
        "invite_bafo",
        "Invite best and final offers from named suppliers",
        call_offs.invite_bafo,
        call_offs.InviteBafo,
    ),
    (
        "scores",
        "record_scores",
        "Record one evaluator's scores for one tender",
        call_offs.record_scores,
        call_offs.RecordScores,
    ),
    (
        "moderations",
        "moderate_scores",
        "Record the moderated scores for one tender",
        call_offs.moderate_scores,
        call_offs.ModerateScores,
    ),
    (
        "evaluation",
        "complete_evaluation",
        "Complete evaluation: the ledger ranks the tenders",
        call_offs.complete_evaluation,
        None,
    ),
    (
        "award",
        "decide_award",
        "Decide the award (a departure from the ranking needs a reason); standstill starts",
        call_offs.decide_award,
        call_offs.DecideAward,
    ),
    (
        "cancellation",
        "cancel",
        "Cancel, or close without award, with a reason",
        call_offs.cancel_call_off,
        call_offs.CancelCallOff,
    ),
)


def routes() -> list[Route]:
    return [
        route(
            "/call-offs",
            post=Command(
                "call_offs.draft",
                "Draft a call-off competition",
                call_offs.draft_call_off,
                call_offs.DraftCallOff,
                status=201,
                location="call_offs.get",
                tags=TAGS,
            ),
            get=Query(
                "call_offs.list",
                "The call-off pipeline: counts by status and matching call-offs",
                pipeline,
                models.Pipeline,
                params=(
                    text("status", "draft, open, evaluating, bafo, evaluated, standstill, awarded, ..."),
                    uuid("commissioner_id", "Lead or partner commissioner"),
                    text("category", "Need or cohort code"),
                ),
                tags=TAGS,
            ),
        ),
        route(
            CALL_OFF,
            get=Query(
                "call_offs.get",
                "A call-off with its invitations (and why), tender receipts (never content), the clarifications"
                " published and the questions asked (a supplier sees its own)",
                _call_off,
                models.CallOffRecord,
                etag=True,
                tags=TAGS,
            ),
        ),
        *steps(CALL_OFF, "call_offs", TAGS, *STEPS),
        route(
            f"{CALL_OFF}/contract",
            post=Command(
                "call_offs.conclude_contract",
                "Conclude the contract or grant after standstill",
                accounts.conclude_contract,
                contracts.ConcludeContract,
                status=201,
                location="contracts.get",
                tags=(*TAGS, "contracts"),
            ),
        ),
    ]
