"""The catalogue's queries: suppliers, eligibility, commissioners, call-offs and the pipeline, contracts,
questionnaires (the Authority's worklist), call-offs due for opening."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg

from ledger.framework.suppliers import LotStatus, SupplierStanding, SupplierStatus
from ledger.procurement import invitations, planning
from ledger.procurement.call_offs import CallOffStatus
from projections import pages
from projections.base import fetch_pipelined, fetch_rows
from projections.catalogue.models import (
    CallOffRecord,
    CommissionerList,
    CommissionerRecord,
    ContractList,
    ContractRecord,
    EligibilityReport,
    EligibleSupplier,
    ForwardPipeline,
    Pipeline,
    PlannedCallOffRecord,
    QuestionnairePage,
    QuestionnaireRecord,
    QuestionnaireState,
    SupplierPage,
    SupplierRecord,
)
from projections.pages import Listing
from projections.sql import Where

_SUPPLIER_SELECT = (
    "SELECT s.supplier_id AS id, s.name, s.legal_identifier, s.organisation_type, s.is_small, s.registered_at,"
    " s.status, s.status_grounds, s.terms_version, s.version,"
    " coalesce((SELECT json_agg(json_build_object('category', l.category, 'status', l.status, 'since', l.since,"
    "   'reason', l.reason) ORDER BY l.category) FROM catalogue_supplier_lots l WHERE l.supplier_id = s.supplier_id),"
    "   '[]') AS lots,"
    " coalesce((SELECT array_agg(a.area_code ORDER BY a.area_code) FROM catalogue_supplier_areas a"
    "   WHERE a.supplier_id = s.supplier_id), '{}') AS declared_areas"
    " FROM catalogue_suppliers s"
)


def _to(kind: type[Any], row: dict[str, Any]) -> Any:
    return msgspec.convert(row, kind, strict=False)


def get_supplier(conn: psycopg.Connection[Any], supplier_id: UUID) -> SupplierRecord | None:
    rows = fetch_rows(conn, f"{_SUPPLIER_SELECT} WHERE s.supplier_id = %s", (supplier_id,))
    return _to(SupplierRecord, rows[0]) if rows else None


def _containing(text: str | None) -> str | None:
    """A LIKE pattern for names containing `text` as it is (its own % and _ are not wildcards)."""
    if not text:
        return None
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def list_suppliers(
    conn: psycopg.Connection[Any],
    *,
    name_contains: str | None = None,
    category: str | None = None,
    status: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> SupplierPage:
    """Suppliers ordered by legal identifier, a page at a time (keyset paging)."""
    where = (
        Where(empty_is_absent=True)
        .given(_containing(name_contains), "s.name ILIKE %s")
        .given(
            category,
            "EXISTS (SELECT 1 FROM catalogue_supplier_lots l WHERE l.supplier_id = s.supplier_id"
            " AND l.category = %s AND l.status = 'appointed')",
        )
        .given(status, "s.status = %s")
        .given(after, "s.legal_identifier > %s")
    )
    rows = fetch_rows(
        conn, f"{_SUPPLIER_SELECT} WHERE {where.sql} ORDER BY s.legal_identifier LIMIT %s", [*where.params, limit + 1]
    )
    items = [_to(SupplierRecord, r) for r in rows[:limit]]
    return SupplierPage(items=items, next_after=items[-1].legal_identifier if len(rows) > limit else None)


def eligibility(conn: psycopg.Connection[Any], categories: list[str], area: str) -> EligibilityReport:
    """The invitation rule (`ledger.procurement.invitations`) asked about every supplier the catalogue holds
    with any of these lots appointed or passed, as a call-off published now would ask it."""
    wanted = tuple(dict.fromkeys(categories))
    rows = fetch_rows(
        conn,
        "SELECT s.supplier_id, s.name, s.status, s.terms_version IS NOT NULL AS terms_accepted,"
        " (SELECT json_object_agg(l.category, l.status) FROM catalogue_supplier_lots l"
        "   WHERE l.supplier_id = s.supplier_id AND l.category = ANY(%(lots)s)) AS lots,"
        " coalesce((SELECT array_agg(a.area_code ORDER BY a.area_code) FROM catalogue_supplier_areas a"
        "   WHERE a.supplier_id = s.supplier_id), '{}') AS declared_areas"
        " FROM catalogue_suppliers s WHERE EXISTS (SELECT 1 FROM catalogue_supplier_lots l WHERE"
        "   l.supplier_id = s.supplier_id AND l.category = ANY(%(lots)s) AND l.status IN ('appointed', 'passed'))",
        {"lots": list(wanted)},
    )
    standings = [
        SupplierStanding(
            supplier_id=row["supplier_id"],
            name=row["name"],
            status=SupplierStatus(row["status"]),
            lots={code: LotStatus(status) for code, status in (row["lots"] or {}).items()},
            terms_accepted=row["terms_accepted"],
            declared_areas=tuple(row["declared_areas"]),
        )
        for row in rows
    ]
    eligible, not_eligible = [], []
    for basis in invitations.invitation_basis(standings, wanted, area):
        entry = EligibleSupplier(
            supplier_id=basis.supplier_id,
            name=basis.supplier_name,
            eligible=basis.invited,
            reasons=list(basis.reasons),
            uncovered=list(basis.uncovered),
        )
        (eligible if basis.invited else not_eligible).append(entry)
    return EligibilityReport(categories=list(wanted), area=area, eligible=eligible, not_eligible=not_eligible)


_COMMISSIONER_SELECT = (
    "SELECT commissioner_id AS id, name, organisation_id, commissioner_type, area_code, agreement_version,"
    " agreement_signed_at, version FROM catalogue_commissioners"
)


def get_commissioner(conn: psycopg.Connection[Any], commissioner_id: UUID) -> CommissionerRecord | None:
    rows = fetch_rows(conn, f"{_COMMISSIONER_SELECT} WHERE commissioner_id = %s", (commissioner_id,))
    return _to(CommissionerRecord, rows[0]) if rows else None


def list_commissioners(conn: psycopg.Connection[Any]) -> CommissionerList:
    return CommissionerList(
        items=[_to(CommissionerRecord, r) for r in fetch_rows(conn, f"{_COMMISSIONER_SELECT} ORDER BY name")]
    )


_CALL_OFF_SELECT = (
    "SELECT call_off_id AS id, title, status, need, cohort, geography, award_type, estimated_value,"
    " lead_commissioner_id, partner_commissioner_ids, drafted_at, published_at, response_deadline, invited_count,"
    " tenders_received, tenders_opened_at, awarded_supplier_id, standstill_ends, contract_id, closed_reason, version"
    " FROM catalogue_call_offs"
)


def get_call_off(
    conn: psycopg.Connection[Any], call_off_id: UUID, *, supplier_id: UUID | None = None
) -> CallOffRecord | None:
    """A call-off's page. For one supplier (`supplier_id`) its own invitation, receipts and questions only: who
    else was invited, tendered or asked is not a competitor's to know."""
    own = Where().given(supplier_id, "supplier_id = %s")  # every supplier's rows, or one supplier's own
    rows, invitations, receipts, clarifications, questions = fetch_pipelined(
        conn,
        [
            (f"{_CALL_OFF_SELECT} WHERE call_off_id = %s", (call_off_id,)),
            (
                "SELECT supplier_id, supplier_name, invited, reasons, uncovered FROM catalogue_invitations"
                f" WHERE call_off_id = %s AND {own.sql} ORDER BY invited DESC, lower(supplier_name)",
                (call_off_id, *own.params),
            ),
            (
                "SELECT t.supplier_id, r.stage, r.submissions, r.first_at, r.last_at FROM catalogue_tender_receipts r"
                f" JOIN catalogue_tenders t USING (tender_id) WHERE t.call_off_id = %s AND {own.sql}"
                " ORDER BY r.stage, r.first_at",
                (call_off_id, *own.params),
            ),
            (
                "SELECT question, answer, published_at FROM catalogue_clarifications WHERE call_off_id = %s"
                " ORDER BY position",
                (call_off_id,),
            ),
            (
                "SELECT question_id, supplier_id, question, asked_at, answered_at"
                f" FROM catalogue_clarification_questions WHERE call_off_id = %s AND {own.sql}"
                " ORDER BY position",
                (call_off_id, *own.params),
            ),
        ],
    )
    if not rows:
        return None
    return _to(
        CallOffRecord,
        {
            **rows[0],
            "invitations": invitations,
            "receipts": receipts,
            "clarifications": clarifications,
            "questions": questions,
        },
    )


def pipeline(
    conn: psycopg.Connection[Any],
    *,
    status: str | None = None,
    commissioner_id: UUID | None = None,
    invited_supplier_id: UUID | None = None,
    category: str | None = None,
    limit: int = 100,
) -> Pipeline:
    scope = (  # what the counts by status count
        Where(empty_is_absent=True)
        .given(
            invited_supplier_id,
            "EXISTS (SELECT 1 FROM catalogue_invitations i WHERE i.call_off_id = catalogue_call_offs.call_off_id"
            " AND i.supplier_id = %s AND i.invited)",
        )
        .given(commissioner_id, "(lead_commissioner_id = %s OR %s = ANY(partner_commissioner_ids))")
        .given(category, "(need = %s OR cohort = %s)")
    )
    counts = {s.value: 0 for s in CallOffStatus}
    for row in fetch_rows(
        conn, f"SELECT status, count(*) AS n FROM catalogue_call_offs WHERE {scope.sql} GROUP BY status", scope.params
    ):
        counts[row["status"]] = row["n"]
    where = scope.given(status, "status = %s")
    rows = fetch_rows(
        conn,
        f"{_CALL_OFF_SELECT} WHERE {where.sql} ORDER BY drafted_at DESC, call_off_id LIMIT %s",
        [*where.params, limit],
    )
    return Pipeline(counts=counts, items=[_to(CallOffRecord, r) for r in rows])


# Live on a day: started, not ended, not terminated on or before it.
_LIVE = "k.start_date <= %(day)s AND %(day)s <= k.end_date AND (k.terminated_on IS NULL OR %(day)s < k.terminated_on)"

_CONTRACT_SELECT = (
    "SELECT k.contract_id AS id, k.call_off_id, k.award_type, k.supplier_id, s.name AS supplier_name,"
    " k.commissioner_ids, k.need, k.cohort, k.areas, k.regions, k.value, k.start_date, k.end_date,"
    " k.mobilisation_date, k.extension_options, k.status, k.terminated_on, k.version,"
    f" ({_LIVE}) AS live"
    " FROM catalogue_contracts k LEFT JOIN catalogue_suppliers s ON s.supplier_id = k.supplier_id"
)


def get_contract(conn: psycopg.Connection[Any], contract_id: UUID, day: date) -> ContractRecord | None:
    rows = fetch_rows(conn, f"{_CONTRACT_SELECT} WHERE k.contract_id = %(id)s", {"day": day, "id": contract_id})
    return _to(ContractRecord, rows[0]) if rows else None


def list_contracts(
    conn: psycopg.Connection[Any],
    day: date,
    *,
    region: str | None = None,
    category: str | None = None,
    commissioner_id: UUID | None = None,
    supplier_id: UUID | None = None,
    live_only: bool = False,
) -> ContractList:
    where = (  # named: `day` is the selected `live` column's too
        Where(named={"day": day}, empty_is_absent=True)
        .given(region, "%(region)s = ANY(k.regions)", region=region)
        .given(category, "(k.need = %(category)s OR k.cohort = %(category)s)", category=category)
        .given(commissioner_id, "%(commissioner)s = ANY(k.commissioner_ids)", commissioner=commissioner_id)
        .given(supplier_id, "k.supplier_id = %(supplier)s", supplier=supplier_id)
        .given(live_only, _LIVE)
    )
    items = [
        _to(ContractRecord, r)
        for r in fetch_rows(
            conn, f"{_CONTRACT_SELECT} WHERE {where.sql} ORDER BY k.start_date, k.contract_id", where.params
        )
    ]
    return ContractList(
        as_of=day, count=len(items), total_value=sum((i.value for i in items), Decimal("0.00")), items=items
    )


def due_for_opening(conn: psycopg.Connection[Any], now: datetime) -> list[UUID]:
    """Call-offs whose current deadline has passed with their tenders still sealed."""
    rows = fetch_rows(
        conn,
        "SELECT call_off_id FROM catalogue_call_offs WHERE status IN ('open', 'bafo')"
        " AND response_deadline <= %s AND tenders_opened_at IS NULL ORDER BY response_deadline",
        (now,),
    )
    return [r["call_off_id"] for r in rows]


_QUESTIONNAIRE_COLUMNS = (
    "q.questionnaire_id AS id, q.supplier_id, s.name AS supplier_name, q.submitted_at, q.declared_areas, q.state,"
    " q.settled_at"
)

_QUESTIONNAIRE_SOURCE = "catalogue_questionnaires q JOIN catalogue_suppliers s ON s.supplier_id = q.supplier_id"


# Each questionnaire's lots: for the rows read only (a page's, a supplier's).
_WITH_LOTS = (
    "SELECT x.*, l.lots, coalesce(l.awaiting, '{{}}') AS awaiting FROM ({page}) x"
    " CROSS JOIN LATERAL (SELECT json_agg(json_build_object('category', l.category, 'status', l.status,"
    "   'reason', l.reason, 'assessed_at', l.assessed_at, 'withdrawn_at', l.withdrawn_at) ORDER BY l.category)"
    "   AS lots, array_agg(l.category ORDER BY l.category) FILTER (WHERE l.status = 'pending') AS awaiting"
    "   FROM catalogue_questionnaire_lots l WHERE l.questionnaire_id = x.id) l"
)


def _questionnaires(conn: psycopg.Connection[Any], where: str, params: Any) -> list[QuestionnaireRecord]:
    rows = fetch_rows(
        conn,
        _WITH_LOTS.format(page=f"SELECT {_QUESTIONNAIRE_COLUMNS} FROM {_QUESTIONNAIRE_SOURCE} WHERE {where}")
        + " ORDER BY x.submitted_at, x.id",
        params,
    )
    return [_to(QuestionnaireRecord, r) for r in rows]


def get_questionnaire(
    conn: psycopg.Connection[Any], supplier_id: UUID, questionnaire_id: UUID
) -> QuestionnaireRecord | None:
    found = _questionnaires(conn, "q.supplier_id = %s AND q.questionnaire_id = %s", (supplier_id, questionnaire_id))
    return found[0] if found else None


def supplier_questionnaires(conn: psycopg.Connection[Any], supplier_id: UUID) -> list[QuestionnaireRecord]:
    """A supplier's questionnaires, the first submitted first."""
    return _questionnaires(conn, "q.supplier_id = %s", (supplier_id,))


def list_questionnaires(
    conn: psycopg.Connection[Any],
    state: QuestionnaireState = QuestionnaireState.AWAITING_ASSESSMENT,
    *,
    supplier_id: UUID | None = None,
    after: str | None = None,
    limit: int = 50,
) -> QuestionnairePage:
    """Questionnaires in one state (by default the Authority's worklist: those awaiting assessment), the first
    submitted (the longest waiting) first, a page at a time."""
    listing = Listing(
        source=_QUESTIONNAIRE_SOURCE,
        where=Where().add("q.state = %s", str(state)).given(supplier_id, "q.supplier_id = %s"),
        key="q.submitted_at",
        ident="q.questionnaire_id",
        columns=_QUESTIONNAIRE_COLUMNS,
        key_type=datetime,
        decorate=_WITH_LOTS,
    )
    cursor = None if after is None else pages.Cursor.parse(after, datetime)
    counted, rows = fetch_pipelined(conn, [listing.count(), listing.page(cursor, limit)])
    rows, next_after = pages.cut(rows, limit)
    return QuestionnairePage(
        total=counted[0]["n"], items=[_to(QuestionnaireRecord, r) for r in rows], next_after=next_after
    )


_PLAN_SELECT = (
    "SELECT p.plan_id AS id, p.lead_commissioner_id, c.name AS lead_commissioner_name, p.title, p.description, p.need,"
    " p.cohort, p.geography, p.award_type, p.estimated_value, p.estimated_annual_volume, p.volume_unit,"
    " p.expected_publication, p.initial_term_months, p.status, p.call_off_id, p.planned_at, p.revised_at,"
    " p.revision_reason, p.version"
    " FROM catalogue_planned_call_offs p"
    " LEFT JOIN catalogue_commissioners c ON c.commissioner_id = p.lead_commissioner_id"
)


def get_planned_call_off(conn: psycopg.Connection[Any], plan_id: UUID) -> PlannedCallOffRecord | None:
    rows = fetch_rows(conn, f"{_PLAN_SELECT} WHERE p.plan_id = %s", (plan_id,))
    return _to(PlannedCallOffRecord, rows[0]) if rows else None


def forward_pipeline(
    conn: psycopg.Connection[Any],
    *,
    supplier_id: UUID | None = None,
    category: str | None = None,
    area: str | None = None,
    commissioner_id: UUID | None = None,
    include_closed: bool = False,
) -> ForwardPipeline:
    """Planned call-offs, soonest first; for a supplier, only those for a lot it holds (appointed, or passed and
    awaiting its acceptance of the terms) in an area overlapping one it declared."""
    where = (
        Where()
        .given(None if include_closed else True, "p.status = 'planned'")
        .given(category, "(p.need = %s OR p.cohort = %s)", category, category)
        .given(commissioner_id, "p.lead_commissioner_id = %s", commissioner_id)
    )
    plans = [
        _to(PlannedCallOffRecord, r)
        for r in fetch_rows(
            conn, f"{_PLAN_SELECT} WHERE {where.sql} ORDER BY p.expected_publication, p.planned_at", where.params
        )
    ]
    if area is not None:
        plans = [p for p in plans if planning.overlaps(area, p.geography)]
    if supplier_id is not None:
        held = fetch_rows(
            conn,
            "SELECT coalesce((SELECT array_agg(l.category) FROM catalogue_supplier_lots l WHERE l.supplier_id = %(s)s"
            "   AND l.status IN ('appointed', 'passed')), '{}') AS lots,"
            " coalesce((SELECT array_agg(a.area_code) FROM catalogue_supplier_areas a WHERE a.supplier_id = %(s)s),"
            "   '{}') AS areas",
            {"s": supplier_id},
        )[0]
        plans = [p for p in plans if planning.serves(held["lots"], held["areas"], lots_of(p), p.geography)]
    return ForwardPipeline(
        count=len(plans), total_estimated_value=sum((p.estimated_value for p in plans), Decimal("0.00")), items=plans
    )


def lots_of(plan: PlannedCallOffRecord) -> tuple[str, ...]:
    return tuple(code for code in (plan.need, plan.cohort) if code)
