"""Every route of the API: which command or query each method runs (documented from the same specs)."""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import Any
from uuid import UUID

import msgspec

from api import policy
from api.endpoints import AsOf, Command, CommandAccepted, Query, QueryContext, endpoint
from api.errors import invalid
from api.openapi import Param
from api.services import Services
from ledger.framework import categories, commissioners, geography, suppliers
from ledger.payments import accounts
from ledger.procurement import call_offs, contracts
from projections.catalogue import models, queries
from projections.catalogue.handlers import CatalogueView
from projections.reference import ReferenceView


def _text(name: str, description: str) -> Param:
    return Param(name, "query", {"type": "string"}, description)


def _uuid(name: str, description: str) -> Param:
    return Param(name, "query", {"type": "string", "format": "uuid"}, description)


PAGE = (
    _text("after", "The next_after of the previous page"),
    Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size (50)"),
)


class OpenedTender(msgspec.Struct, kw_only=True):
    """An opened tender's content (only after the opening event)."""

    supplier_id: UUID
    stage: str
    submission: int
    content: call_offs.TenderContent


class OpenedTenders(msgspec.Struct, kw_only=True):
    call_off_id: UUID
    tenders: list[OpenedTender]


class QuestionnaireAccepted(CommandAccepted, kw_only=True):
    """A questionnaire was submitted: `id` is the supplier, `questionnaire_id` the questionnaire (its `Location`)."""

    questionnaire_id: UUID


def _supplier(q: QueryContext, supplier_id: UUID) -> models.SupplierRecord | None:
    """A supplier's page; its questionnaires only for the supplier itself and those who assess or audit them."""
    record = queries.get_supplier(q.conn, supplier_id)
    if record is not None and policy.reads_questionnaires(q.req.context.actor, supplier_id):
        record.questionnaires = queries.supplier_questionnaires(q.conn, supplier_id)
    return record


def _call_off(q: QueryContext, call_off_id: UUID) -> models.CallOffRecord | None:
    """A call-off's page: a supplier sees its own invitation, receipts and questions, never a competitor's."""
    own = policy.forced_filters(q.req.context.actor).get("supplier_id")
    return queries.get_call_off(q.conn, call_off_id, supplier_id=own)


def _questionnaires(q: QueryContext) -> models.QuestionnairePage:
    raw = q.param("status") or models.QuestionnaireState.AWAITING_ASSESSMENT
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


def _suppliers(q: QueryContext) -> models.SupplierPage:
    return queries.list_suppliers(
        q.conn,
        name_contains=q.param("name"),
        category=q.param("category"),
        status=q.param("status"),
        after=q.param("after"),
        limit=q.int_param("limit", default=50, low=1, high=500),
    )


def _eligibility(q: QueryContext) -> models.EligibilityReport:
    wanted, area = q.params("category"), q.param("area")
    errors = [("category", "give at least one category")] if not wanted else []
    errors += [("category", f"unknown service category {c!r}") for c in wanted if c not in categories.BY_CODE]
    errors += [] if area in geography.BY_CODE else [("area", f"unknown area {area!r}" if area else "give an area code")]
    if errors:
        raise invalid(errors)
    assert area is not None
    return queries.eligibility(q.conn, wanted, area)


def _day(q: QueryContext) -> date:
    return q.day("as_of") or q.now().date()


def _contracts(q: QueryContext, *, live_only: bool = False) -> models.ContractList:
    return queries.list_contracts(
        q.conn,
        _day(q),
        region=q.scoped("region"),
        category=q.param("category"),
        commissioner_id=q.scoped_uuid("commissioner_id"),
        supplier_id=q.scoped_uuid("supplier_id"),
        live_only=live_only or q.bool_param("live"),
    )


def _pipeline(q: QueryContext) -> models.Pipeline:
    return queries.pipeline(
        q.conn,
        status=q.param("status"),
        commissioner_id=q.scoped_uuid("commissioner_id"),
        invited_supplier_id=q.forced.get("supplier_id"),
        category=q.param("category"),
        limit=q.int_param("limit", default=100, low=1, high=500),
    )


def _opened_tenders(q: QueryContext, call_off_id: UUID) -> OpenedTenders:
    stage, tenders = call_offs.opened_tenders(q.ledger, call_off_id)
    items = [
        OpenedTender(
            supplier_id=tender.supplier_id,
            stage=str(stage),
            submission=tender.submission_count[stage],
            content=tender.submissions[stage],
        )
        for tender in tenders
    ]
    return OpenedTenders(call_off_id=call_off_id, tenders=items)


AS_OF_DAY = Param(
    "as_of", "query", {"type": "string", "format": "date"}, "The day 'live' is judged on (YYYY-MM-DD, default today)"
)
CONTRACT_FILTERS = (
    _text("region", "Probation region area code, e.g. region-a"),
    _text("category", "Service category code"),
    _uuid("commissioner_id", "A commissioner party to the contract"),
    _uuid("supplier_id", "The prime supplier"),
    AS_OF_DAY,
)


def build_routes(services: Services) -> list[tuple[str, Any]]:
    s, co, k = ("suppliers",), ("call-offs",), ("contracts",)
    sanction = suppliers.sanction
    return [
        (
            "/suppliers",
            endpoint(
                services,
                post=Command(
                    "Register a supplier organisation",
                    suppliers.register_supplier,
                    suppliers.RegisterSupplier,
                    status=201,
                    errors=(409,),
                    location="/suppliers/{id}",
                    tags=s,
                ),
                get=Query(
                    "List suppliers in the catalogue",
                    _suppliers,
                    models.SupplierPage,
                    params=(
                        _text("name", "Only suppliers whose name contains this text"),
                        _text("category", "Only suppliers appointed to this lot"),
                        _text("status", "active, suspended or excluded"),
                        *PAGE,
                    ),
                    tags=s,
                ),
            ),
        ),
        (
            "/suppliers/{supplier_id}",
            endpoint(
                services,
                get=Query(
                    "A supplier: lots, declared areas and standing (and, for the supplier itself, the Authority and"
                    " auditors, its questionnaires)",
                    _supplier,
                    models.SupplierRecord,
                    etag=True,
                    tags=s,
                ),
                patch=Command(
                    "Change a supplier's name, type or size",
                    suppliers.change_supplier_details,
                    suppliers.ChangeSupplierDetails,
                    if_match=True,
                    tags=s,
                ),
            ),
        ),
        (
            "/suppliers/{supplier_id}/questionnaires",
            endpoint(
                services,
                post=Command(
                    "Submit a selection questionnaire: evidence per lot and declared areas",
                    suppliers.submit_questionnaire,
                    suppliers.SubmitQuestionnaire,
                    status=201,
                    location="/suppliers/{id}/questionnaires/{questionnaire_id}",
                    response=QuestionnaireAccepted,
                    tags=s,
                ),
            ),
        ),
        (
            "/suppliers/{supplier_id}/questionnaires/{questionnaire_id}",
            endpoint(
                services,
                get=Query(
                    "A questionnaire: the lots it sought, each pending, passed, failed (with the reason) or withdrawn",
                    lambda q, supplier_id, questionnaire_id: queries.get_questionnaire(
                        q.conn, supplier_id, questionnaire_id
                    ),
                    models.QuestionnaireRecord,
                    tags=s,
                ),
            ),
        ),
        (
            "/questionnaires",
            endpoint(
                services,
                get=Query(
                    "The Authority's worklist: questionnaires awaiting assessment (or assessed, or withdrawn), the"
                    " longest waiting first, a page at a time, with the list's total",
                    _questionnaires,
                    models.QuestionnairePage,
                    params=(
                        Param(
                            "status",
                            "query",
                            {"type": "string", "enum": list(models.QuestionnaireState)},
                            "Which questionnaires (awaiting-assessment)",
                        ),
                        _uuid("supplier_id", "Only this supplier's"),
                        *PAGE,
                    ),
                    tags=s,
                ),
            ),
        ),
        (
            "/suppliers/{supplier_id}/questionnaires/{questionnaire_id}/assessments",
            endpoint(
                services,
                post=Command(
                    "Assess one lot of a questionnaire, pass or fail, with a reason",
                    suppliers.assess_lot,
                    suppliers.AssessLot,
                    tags=s,
                ),
            ),
        ),
        (
            "/suppliers/{supplier_id}/terms-acceptances",
            endpoint(
                services,
                post=Command(
                    "Accept the framework terms (passed lots are then appointed)",
                    suppliers.accept_framework_terms,
                    suppliers.AcceptFrameworkTerms,
                    tags=s,
                ),
            ),
        ),
        (
            "/suppliers/{supplier_id}/lot-withdrawals",
            endpoint(
                services,
                post=Command("Withdraw from a lot", suppliers.withdraw_from_lot, suppliers.WithdrawFromLot, tags=s),
            ),
        ),
        (
            "/suppliers/{supplier_id}/declared-areas",
            endpoint(
                services,
                put=Command(
                    "Change the declared areas by notice",
                    suppliers.change_declared_areas,
                    suppliers.ChangeDeclaredAreas,
                    tags=s,
                ),
            ),
        ),
        *[
            (
                f"/suppliers/{{supplier_id}}/{path}",
                endpoint(
                    services,
                    post=Command(
                        f"{action.capitalize()} the supplier, with grounds",
                        partial(_sanction, sanction, action),
                        suppliers.AuthorityDecision,
                        tags=s,
                    ),
                ),
            )
            for path, action in (("suspensions", "suspend"), ("exclusions", "exclude"), ("reinstatements", "reinstate"))
        ],
        (
            "/commissioners",
            endpoint(
                services,
                post=Command(
                    "Register a commissioning body",
                    commissioners.register_commissioner,
                    commissioners.RegisterCommissioner,
                    status=201,
                    errors=(409,),
                    location="/commissioners/{id}",
                    tags=("commissioners",),
                ),
                get=Query(
                    "List commissioning bodies",
                    lambda q: queries.list_commissioners(q.conn),
                    models.CommissionerList,
                    tags=("commissioners",),
                ),
            ),
        ),
        (
            "/commissioners/{commissioner_id}",
            endpoint(
                services,
                get=Query(
                    "A commissioning body",
                    lambda q, i: queries.get_commissioner(q.conn, i),
                    models.CommissionerRecord,
                    etag=True,
                    tags=("commissioners",),
                ),
            ),
        ),
        (
            "/commissioners/{commissioner_id}/user-agreement",
            endpoint(
                services,
                post=Command(
                    "Sign the framework user agreement (needed before any call-off)",
                    commissioners.sign_user_agreement,
                    commissioners.SignUserAgreement,
                    tags=("commissioners",),
                ),
            ),
        ),
        (
            "/call-offs",
            endpoint(
                services,
                post=Command(
                    "Draft a call-off competition",
                    call_offs.draft_call_off,
                    call_offs.DraftCallOff,
                    status=201,
                    location="/call-offs/{id}",
                    tags=co,
                ),
                get=Query(
                    "The call-off pipeline: counts by status and matching call-offs",
                    _pipeline,
                    models.Pipeline,
                    params=(
                        _text("status", "draft, open, evaluating, bafo, evaluated, standstill, awarded, ..."),
                        _uuid("commissioner_id", "Lead or partner commissioner"),
                        _text("category", "Need or cohort code"),
                    ),
                    tags=co,
                ),
            ),
        ),
        (
            "/call-offs/{call_off_id}",
            endpoint(
                services,
                get=Query(
                    "A call-off with its invitations (and why), tender receipts (never content), the clarifications"
                    " published and the questions asked (a supplier sees its own)",
                    _call_off,
                    models.CallOffRecord,
                    etag=True,
                    tags=co,
                ),
            ),
        ),
        *[
            (f"/call-offs/{{call_off_id}}/{path}", endpoint(services, post=command))
            for path, command in (
                (
                    "publication",
                    Command(
                        "Publish: the ledger computes and records the invitation list with its basis",
                        call_offs.publish_call_off,
                        tags=co,
                    ),
                ),
                (
                    "clarification-requests",
                    Command(
                        "An invited supplier asks a clarification question",
                        call_offs.request_clarification,
                        call_offs.AskClarification,
                        tags=co,
                    ),
                ),
                (
                    "clarifications",
                    Command(
                        "Publish a question and answer to every invited supplier",
                        call_offs.publish_clarification,
                        call_offs.PublishClarification,
                        tags=co,
                    ),
                ),
                (
                    "tender-opening",
                    Command("Open the sealed tenders (at or after the deadline)", call_offs.open_tenders, tags=co),
                ),
                (
                    "bafo",
                    Command(
                        "Invite best and final offers from named suppliers",
                        call_offs.invite_bafo,
                        call_offs.InviteBafo,
                        tags=co,
                    ),
                ),
                (
                    "scores",
                    Command(
                        "Record one evaluator's scores for one tender",
                        call_offs.record_scores,
                        call_offs.RecordScores,
                        tags=co,
                    ),
                ),
                (
                    "moderations",
                    Command(
                        "Record the moderated scores for one tender",
                        call_offs.moderate_scores,
                        call_offs.ModerateScores,
                        tags=co,
                    ),
                ),
                (
                    "evaluation",
                    Command(
                        "Complete evaluation: the ledger ranks the tenders", call_offs.complete_evaluation, tags=co
                    ),
                ),
                (
                    "award",
                    Command(
                        "Decide the award (a departure from the ranking needs a reason); standstill starts",
                        call_offs.decide_award,
                        call_offs.DecideAward,
                        tags=co,
                    ),
                ),
                (
                    "cancellation",
                    Command(
                        "Cancel, or close without award, with a reason",
                        call_offs.cancel_call_off,
                        call_offs.CancelCallOff,
                        tags=co,
                    ),
                ),
                (
                    "contract",
                    Command(
                        "Conclude the contract or grant after standstill",
                        accounts.conclude_contract,
                        contracts.ConcludeContract,
                        status=201,
                        location="/contracts/{id}",
                        tags=co + k,
                    ),
                ),
            )
        ],
        (
            "/call-offs/{call_off_id}/tenders",
            endpoint(
                services,
                post=Command(
                    "Submit (or resubmit before the deadline) a tender",
                    call_offs.submit_tender,
                    call_offs.SubmitTender,
                    status=201,
                    tags=co,
                ),
                get=Query(
                    "Opened tenders' content: refused (409) while sealed, for everyone",
                    _opened_tenders,
                    OpenedTenders,
                    from_ledger=True,
                    tags=co,
                ),
            ),
        ),
        (
            "/contracts",
            endpoint(
                services,
                get=Query(
                    "Contracts and grants, with value and dates",
                    _contracts,
                    models.ContractList,
                    params=(*CONTRACT_FILTERS, Param("live", "query", {"type": "boolean"}, "Only live ones")),
                    tags=k,
                ),
            ),
        ),
        (
            "/contracts/{contract_id}",
            endpoint(
                services,
                get=Query(
                    "A contract or grant",
                    lambda q, i: queries.get_contract(q.conn, i, _day(q)),
                    models.ContractRecord,
                    params=(AS_OF_DAY,),
                    etag=True,
                    tags=k,
                ),
            ),
        ),
        *[
            (f"/contracts/{{contract_id}}/{path}", endpoint(services, post=Command(summary, handler, body, tags=k)))
            for path, summary, handler, body in (
                (
                    "variations",
                    "Vary value or term, with a reason (commitments follow)",
                    accounts.vary_contract,
                    contracts.VaryContract,
                ),
                (
                    "extensions",
                    "Extend by one of the contract's options",
                    contracts.extend_contract,
                    contracts.ExtendContract,
                ),
                ("termination", "Terminate, with grounds", contracts.terminate_contract, contracts.TerminateContract),
            )
        ],
        (
            "/catalogue/eligibility",
            endpoint(
                services,
                get=Query(
                    "Suppliers that could be invited for these lots in this area (now, or as of a horizon), and why",
                    _eligibility,
                    models.EligibilityReport,
                    params=(
                        Param("category", "query", {"type": "array", "items": {"type": "string"}}, "Lot code(s)", True),
                        Param("area", "query", {"type": "string"}, "Area code", True),
                    ),
                    tags=("catalogue",),
                    as_of=AsOf(lambda: [ReferenceView(), CatalogueView()]),
                ),
            ),
        ),
        (
            "/catalogue/contracts",
            endpoint(
                services,
                get=Query(
                    "Live contracts by region, category, commissioner or supplier",
                    partial(_contracts, live_only=True),
                    models.ContractList,
                    params=CONTRACT_FILTERS,
                    tags=("catalogue",),
                ),
            ),
        ),
        (
            "/catalogue/pipeline",
            endpoint(
                services,
                get=Query(
                    "The call-off pipeline (draft, open, evaluating, standstill, awarded, cancelled ...)",
                    _pipeline,
                    models.Pipeline,
                    tags=("catalogue",),
                ),
            ),
        ),
    ]


def _sanction(
    handler: Any, action: str, ledger: Any, envelope: Any, supplier_id: UUID, command: suppliers.AuthorityDecision
) -> Any:
    return handler(ledger, envelope, supplier_id, action, command)
