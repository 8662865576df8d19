"""Selection questionnaires: a supplier submits one, the Authority assesses it lot by lot from its worklist."""

from __future__ import annotations

from uuid import UUID

from api.errors import invalid
from api.openapi import Param
from api.routes.common import page, uuid
from api.routes.suppliers import SUPPLIER
from api.specs import Command, CommandAccepted, Query, QueryContext, Route, route
from ledger.framework import suppliers
from projections.catalogue import models, queries

TAGS = ("suppliers",)
QUESTIONNAIRE = f"{SUPPLIER}/questionnaires/{{questionnaire_id}}"


class QuestionnaireAccepted(CommandAccepted, kw_only=True):
    """A questionnaire was submitted: `id` is the supplier, `questionnaire_id` the questionnaire (its `Location`)."""

    questionnaire_id: UUID


def _worklist(q: QueryContext) -> models.QuestionnairePage:
    raw = q.param("status")
    raw = models.QuestionnaireState.AWAITING_ASSESSMENT if raw is None else raw  # an empty one is no state: 422
    try:
        state = models.QuestionnaireState(raw)
    except ValueError:
        raise invalid([("status", f"one of {', '.join(models.QuestionnaireState)}")]) from None
    return queries.list_questionnaires(
        q.conn,
        state,
        supplier_id=q.uuid_param("supplier_id"),
        after=q.param("after"),
        limit=q.int_param("limit", default=50, low=1, high=500),
    )


def routes() -> list[Route]:
    return [
        route(
            f"{SUPPLIER}/questionnaires",
            post=Command(
                "questionnaires.submit",
                "Submit a selection questionnaire: evidence per lot and declared areas",
                suppliers.submit_questionnaire,
                suppliers.SubmitQuestionnaire,
                status=201,
                location="questionnaires.get",
                response=QuestionnaireAccepted,
                tags=TAGS,
            ),
        ),
        route(
            QUESTIONNAIRE,
            get=Query(
                "questionnaires.get",
                "A questionnaire: the lots it sought, each pending, passed, failed (with the reason) or withdrawn",
                lambda q, supplier_id, questionnaire_id: queries.get_questionnaire(
                    q.conn, supplier_id, questionnaire_id
                ),
                models.QuestionnaireRecord,
                tags=TAGS,
            ),
        ),
        route(
            "/questionnaires",
            get=Query(
                "questionnaires.worklist",
                "The Authority's worklist: questionnaires awaiting assessment (or assessed, or withdrawn), the"
                " longest waiting first, a page at a time, with the list's total",
                _worklist,
                models.QuestionnairePage,
                params=(
                    Param(
                        "status",
                        "query",
                        {"type": "string", "enum": list(models.QuestionnaireState)},
                        "Which questionnaires (awaiting-assessment)",
                    ),
                    uuid("supplier_id", "Only this supplier's"),
                    *page(50),
                ),
                tags=TAGS,
            ),
        ),
        route(
            f"{QUESTIONNAIRE}/assessments",
            post=Command(
                "questionnaires.assess_lot",
                "Assess one lot of a questionnaire, pass or fail, with a reason",
                suppliers.assess_lot,
                suppliers.AssessLot,
                tags=TAGS,
            ),
        ),
    ]
