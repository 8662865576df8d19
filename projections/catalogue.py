"""The catalogue view: who can deliver what, where, under which contract; and the queries that read it."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg import Cursor

from ledger.framework import geography
from ledger.framework.commissioners import Commissioner
from ledger.framework.suppliers import LotStatus, OrganisationType, Supplier, SupplierStanding, SupplierStatus
from ledger.procurement import invitations
from ledger.procurement.call_offs import CallOff, CallOffStatus, Tender
from ledger.procurement.contracts import Contract
from projections import pages
from projections.base import LoggedEvent, View, fetch_pipelined, fetch_rows, update_row
from projections.pages import Listing
from projections.sql import Where


class CatalogueView(View):
    name = "catalogue"
    code_version = "4"  # 3: questionnaires and their lots (migration 0020); 4: clarifications, uncovered (0022)
    tables = (
        "catalogue_suppliers",
        "catalogue_supplier_lots",
        "catalogue_supplier_areas",
        "catalogue_commissioners",
        "catalogue_call_offs",
        "catalogue_invitations",
        "catalogue_tenders",
        "catalogue_tender_receipts",
        "catalogue_contracts",
        "catalogue_questionnaires",
        "catalogue_questionnaire_lots",
        "catalogue_clarification_questions",
        "catalogue_clarifications",
    )

    def register(self) -> None:
        self.on(Supplier.SupplierRegistered, self.supplier_registered)
        for event_class in (
            Supplier.SupplierDetailsChanged,
            Supplier.QuestionnaireSubmitted,
            Supplier.LotAssessed,
            Supplier.FrameworkTermsAccepted,
            Supplier.SupplierAppointedToLot,
            Supplier.SupplierWithdrewFromLot,
            Supplier.DeclaredAreasChanged,
            Supplier.SupplierSuspended,
            Supplier.SupplierExcluded,
            Supplier.SupplierReinstated,
        ):
            self.on(event_class, self.supplier_changed)
        self.on(Supplier.QuestionnaireSubmitted, self.questionnaire_submitted)
        self.on(Supplier.LotAssessed, self.questionnaire_lot_assessed)
        self.on(Supplier.SupplierWithdrewFromLot, self.questionnaire_lot_withdrawn)
        self.on(Commissioner.CommissionerRegistered, self.commissioner_registered)
        self.on(Commissioner.UserAgreementSigned, self.agreement_signed)
        for event_class in (
            CallOff.CallOffDrafted,
            CallOff.CallOffPublished,
            CallOff.TendersOpened,
            CallOff.BafoInvited,
            CallOff.EvaluationCompleted,
            CallOff.AwardDecided,
            CallOff.CallOffContractConcluded,
            CallOff.CallOffCancelled,
            CallOff.NoAwardDecided,
        ):
            self.on(event_class, self.call_off_changed)
        self.on(CallOff.ClarificationRequested, self.clarification_requested)
        self.on(CallOff.ClarificationPublished, self.clarification_published)
        self.on(Tender.TenderStarted, self.tender_started)
        self.on(Tender.TenderSubmitted, self.tender_submitted)
        for event_class in (
            Contract.ContractConcluded,
            Contract.ContractVaried,
            Contract.ContractExtended,
            Contract.ContractTerminated,
        ):
            self.on(event_class, self.contract_changed)

    # -- suppliers ---------------------------------------------------------------------------------

    @staticmethod
    def supplier_registered(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "INSERT INTO catalogue_suppliers (supplier_id, name, legal_identifier, organisation_type,"
            " is_small, registered_at, version, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                logged.originator_id,
                e.name,
                e.legal_identifier,
                str(e.organisation_type),
                e.is_small,
                e.envelope.effective_at,
                logged.originator_version,
                logged.position,
            ),
        )

    @staticmethod
    def supplier_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, sid, at = logged.event, logged.originator_id, logged.envelope.effective_at
        match e:
            case Supplier.SupplierDetailsChanged():
                cur.execute(
                    "UPDATE catalogue_suppliers SET name = coalesce(%s, name),"
                    " organisation_type = coalesce(%s, organisation_type), is_small = coalesce(%s, is_small)"
                    " WHERE supplier_id = %s",
                    (e.name, e.organisation_type and str(e.organisation_type), e.is_small, sid),
                )
            case Supplier.QuestionnaireSubmitted():
                for lot in e.lots:
                    _set_lot(cur, sid, lot.category, LotStatus.PENDING, e.questionnaire_id, at, None)
                _set_areas(cur, sid, e.declared_areas)
            case Supplier.LotAssessed():
                status = LotStatus.PASSED if e.outcome == "pass" else LotStatus.FAILED
                _set_lot(cur, sid, e.category, status, e.questionnaire_id, at, e.reason)
            case Supplier.SupplierAppointedToLot():
                _set_lot(cur, sid, e.category, LotStatus.APPOINTED, e.questionnaire_id, at, None)
            case Supplier.SupplierWithdrewFromLot():
                _set_lot(cur, sid, e.category, LotStatus.WITHDRAWN, None, at, e.reason)
            case Supplier.DeclaredAreasChanged():
                _set_areas(cur, sid, e.declared_areas)
            case Supplier.FrameworkTermsAccepted():
                cur.execute(
                    "UPDATE catalogue_suppliers SET terms_version = %s WHERE supplier_id = %s", (e.terms_version, sid)
                )
            case Supplier.SupplierSuspended() | Supplier.SupplierExcluded() | Supplier.SupplierReinstated():
                status = {
                    Supplier.SupplierSuspended: SupplierStatus.SUSPENDED,
                    Supplier.SupplierExcluded: SupplierStatus.EXCLUDED,
                    Supplier.SupplierReinstated: SupplierStatus.ACTIVE,
                }[type(e)]
                cur.execute(
                    "UPDATE catalogue_suppliers SET status = %s, status_grounds = %s WHERE supplier_id = %s",
                    (str(status), e.grounds, sid),
                )
        cur.execute(
            "UPDATE catalogue_suppliers SET version = %s, position = %s WHERE supplier_id = %s",
            (logged.originator_version, logged.position, sid),
        )

    # -- commissioners -----------------------------------------------------------------------------

    @staticmethod
    def commissioner_registered(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "INSERT INTO catalogue_commissioners (commissioner_id, name, organisation_id, commissioner_type,"
            " area_code, registered_at, version) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            (
                logged.originator_id,
                e.name,
                e.organisation_id,
                e.commissioner_type,
                e.area,
                logged.envelope.effective_at,
                logged.originator_version,
            ),
        )

    @staticmethod
    def agreement_signed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        cur.execute(
            "UPDATE catalogue_commissioners SET agreement_version = %s, agreement_signed_at = %s, version = %s"
            " WHERE commissioner_id = %s",
            (
                logged.event.agreement_version,
                logged.envelope.effective_at,
                logged.originator_version,
                logged.originator_id,
            ),
        )

    # -- call-offs ---------------------------------------------------------------------------------

    @staticmethod
    def call_off_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, cid, at = logged.event, logged.originator_id, logged.envelope.recorded_at
        sets: dict[str, Any] = {}
        match e:
            case CallOff.CallOffDrafted():
                d = e.draft
                cur.execute(
                    "INSERT INTO catalogue_call_offs (call_off_id, title, status, need, cohort, geography, award_type,"
                    " estimated_value, lead_commissioner_id, partner_commissioner_ids, drafted_at, response_deadline,"
                    " version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        cid,
                        d.title,
                        str(CallOffStatus.DRAFT),
                        d.need,
                        d.cohort,
                        d.geography,
                        str(d.award_type),
                        d.estimated_value,
                        d.lead_commissioner_id,
                        list(d.partner_commissioner_ids),
                        at,
                        d.response_deadline,
                        logged.originator_version,
                    ),
                )
            case CallOff.CallOffPublished():
                sets = {"status": CallOffStatus.OPEN, "published_at": at, "invited_count": len(e.invited)}
                cur.executemany(
                    "INSERT INTO catalogue_invitations (call_off_id, supplier_id, supplier_name, invited, reasons,"
                    " uncovered) VALUES (%s, %s, %s, %s, %s, %s)",
                    [
                        (cid, b.supplier_id, b.supplier_name, b.invited, list(b.reasons), list(b.uncovered))
                        for b in e.basis
                    ],
                )
            case CallOff.TendersOpened():
                sets = {"status": CallOffStatus.EVALUATING, "tenders_opened_at": at}
            case CallOff.BafoInvited():
                sets = {"status": CallOffStatus.BAFO, "response_deadline": e.deadline, "tenders_opened_at": None}
            case CallOff.EvaluationCompleted():
                sets = {"status": CallOffStatus.EVALUATED}
            case CallOff.AwardDecided():
                sets = {
                    "status": CallOffStatus.STANDSTILL,
                    "awarded_supplier_id": e.supplier_id,
                    "standstill_ends": e.standstill_ends,
                }
            case CallOff.CallOffContractConcluded():
                sets = {"status": CallOffStatus.AWARDED, "contract_id": e.contract_id}
            case CallOff.CallOffCancelled():
                sets = {"status": CallOffStatus.CANCELLED, "closed_reason": e.reason}
            case CallOff.NoAwardDecided():
                sets = {"status": CallOffStatus.NO_AWARD, "closed_reason": e.reason}
        sets["version"] = logged.originator_version
        update_row(cur, "catalogue_call_offs", "call_off_id", cid, sets)

    @staticmethod
    def clarification_requested(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "INSERT INTO catalogue_clarification_questions (question_id, position, call_off_id, supplier_id, question,"
            " asked_at) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                e.question_id,
                logged.position,
                logged.originator_id,
                e.supplier_id,
                e.question,
                logged.envelope.recorded_at,
            ),
        )

    @staticmethod
    def clarification_published(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, at = logged.event, logged.envelope.recorded_at
        cur.execute(
            "INSERT INTO catalogue_clarifications (position, call_off_id, question_id, question, answer, published_at)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (logged.position, logged.originator_id, e.question_id, e.question, e.answer, at),
        )
        if e.question_id is not None:
            cur.execute(
                "UPDATE catalogue_clarification_questions SET answered_at = %s WHERE question_id = %s",
                (at, e.question_id),
            )

    @staticmethod
    def tender_started(cur: Cursor[Any], logged: LoggedEvent) -> None:
        cur.execute(
            "INSERT INTO catalogue_tenders (tender_id, call_off_id, supplier_id) VALUES (%s, %s, %s)",
            (logged.originator_id, logged.event.call_off_id, logged.event.supplier_id),
        )

    @staticmethod
    def tender_submitted(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, at = logged.event, logged.envelope.recorded_at
        cur.execute(
            "INSERT INTO catalogue_tender_receipts (tender_id, stage, submissions, first_at, last_at)"
            " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (tender_id, stage) DO UPDATE SET"
            " submissions = excluded.submissions, last_at = excluded.last_at",
            (logged.originator_id, str(e.stage), e.submission, at, at),
        )
        if e.submission == 1:
            cur.execute(
                "UPDATE catalogue_call_offs SET tenders_received = tenders_received + 1"
                " WHERE call_off_id = (SELECT call_off_id FROM catalogue_tenders WHERE tender_id = %s)",
                (logged.originator_id,),
            )

    # -- contracts ---------------------------------------------------------------------------------

    @staticmethod
    def contract_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, kid = logged.event, logged.originator_id
        sets: dict[str, Any] = {}
        match e:
            case Contract.ContractConcluded():
                cur.execute(
                    "INSERT INTO catalogue_contracts (contract_id, call_off_id, award_type, supplier_id,"
                    " commissioner_ids, need, cohort, areas, regions, value, start_date, end_date, mobilisation_date,"
                    " extension_options, status, concluded_at, version)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        kid,
                        e.call_off_id,
                        str(e.award_type),
                        e.supplier_id,
                        list(e.commissioner_ids),
                        e.need,
                        e.cohort,
                        list(e.areas),
                        geography.probation_regions(e.areas),
                        e.value,
                        e.start_date,
                        e.end_date,
                        e.mobilisation_date,
                        list(e.extension_options_months),
                        "active",
                        logged.envelope.recorded_at,
                        logged.originator_version,
                    ),
                )
            case Contract.ContractVaried():
                if e.new_value is not None:
                    sets["value"] = e.new_value
                if e.new_end_date is not None:
                    sets["end_date"] = e.new_end_date
            case Contract.ContractExtended():
                # Remove the one option used (the same length may be offered more than once).
                cur.execute(
                    "UPDATE catalogue_contracts SET extension_options ="
                    " extension_options[:array_position(extension_options, %(m)s) - 1]"
                    " || extension_options[array_position(extension_options, %(m)s) + 1:] WHERE contract_id = %(k)s",
                    {"m": e.months, "k": kid},
                )
                sets["end_date"] = e.new_end_date
            case Contract.ContractTerminated():
                sets = {"status": "terminated", "terminated_on": e.effective_date}
        sets["version"] = logged.originator_version
        update_row(cur, "catalogue_contracts", "contract_id", kid, sets)

    # -- questionnaires ----------------------------------------------------------------------------

    @staticmethod
    def questionnaire_submitted(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "INSERT INTO catalogue_questionnaires (questionnaire_id, supplier_id, submitted_at, declared_areas, state)"
            " VALUES (%s, %s, %s, %s, %s)",
            (
                e.questionnaire_id,
                logged.originator_id,
                logged.envelope.effective_at,
                list(e.declared_areas),
                str(QuestionnaireState.AWAITING_ASSESSMENT),
            ),
        )
        cur.executemany(
            "INSERT INTO catalogue_questionnaire_lots (questionnaire_id, category, status) VALUES (%s, %s, %s)",
            [(e.questionnaire_id, lot.category, str(LotStatus.PENDING)) for lot in e.lots],
        )

    @staticmethod
    def questionnaire_lot_assessed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, at = logged.event, logged.envelope.effective_at
        status = LotStatus.PASSED if e.outcome == "pass" else LotStatus.FAILED
        cur.execute(
            "UPDATE catalogue_questionnaire_lots SET status = %s, reason = %s, assessed_at = %s"
            " WHERE questionnaire_id = %s AND category = %s",
            (str(status), e.reason, at, e.questionnaire_id, e.category),
        )
        cur.execute(
            f"{_SETTLE} WHERE q.questionnaire_id = %(questionnaire)s", {"at": at, "questionnaire": e.questionnaire_id}
        )

    @staticmethod
    def questionnaire_lot_withdrawn(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """A lot withdrawn while awaiting assessment is no longer to be assessed (one already assessed stays so)."""
        e, at, sid = logged.event, logged.envelope.effective_at, logged.originator_id
        cur.execute(
            "UPDATE catalogue_questionnaire_lots l SET status = %s, reason = %s, withdrawn_at = %s"
            " FROM catalogue_questionnaires q WHERE q.questionnaire_id = l.questionnaire_id AND q.supplier_id = %s"
            " AND q.state = %s AND l.category = %s AND l.status = %s",
            (
                str(LotStatus.WITHDRAWN),
                e.reason,
                at,
                sid,
                str(QuestionnaireState.AWAITING_ASSESSMENT),
                e.category,
                str(LotStatus.PENDING),
            ),
        )
        cur.execute(
            f"{_SETTLE} WHERE q.supplier_id = %(supplier)s AND q.state = %(awaiting)s",
            {"at": at, "supplier": sid, "awaiting": str(QuestionnaireState.AWAITING_ASSESSMENT)},
        )


class QuestionnaireState(enum.StrEnum):
    AWAITING_ASSESSMENT = "awaiting-assessment"  # a lot still awaits the Authority's assessment
    ASSESSED = "assessed"  # every lot sought was assessed (or withdrawn before its assessment)
    WITHDRAWN = "withdrawn"  # every lot sought was withdrawn before its assessment


# A questionnaire's state from its lots' (in the statement after the lot's own change); `settled_at` is when the
# last lot awaiting assessment stopped waiting.
_SETTLE = (
    "UPDATE catalogue_questionnaires q SET state = CASE"
    " WHEN EXISTS (SELECT 1 FROM catalogue_questionnaire_lots l WHERE l.questionnaire_id = q.questionnaire_id"
    "   AND l.status = 'pending') THEN 'awaiting-assessment'"
    " WHEN EXISTS (SELECT 1 FROM catalogue_questionnaire_lots l WHERE l.questionnaire_id = q.questionnaire_id"
    "   AND l.status <> 'withdrawn') THEN 'assessed'"
    " ELSE 'withdrawn' END,"
    " settled_at = CASE WHEN EXISTS (SELECT 1 FROM catalogue_questionnaire_lots l"
    "   WHERE l.questionnaire_id = q.questionnaire_id AND l.status = 'pending') THEN NULL ELSE %(at)s END"
)


def _set_lot(
    cur: Cursor[Any],
    supplier_id: UUID,
    category: str,
    status: LotStatus,
    questionnaire_id: UUID | None,
    at: datetime,
    reason: str | None,
) -> None:
    cur.execute(
        "INSERT INTO catalogue_supplier_lots (supplier_id, category, status, questionnaire_id, since, reason)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (supplier_id, category) DO UPDATE SET status = excluded.status,"
        " questionnaire_id = excluded.questionnaire_id, since = excluded.since, reason = excluded.reason",
        (supplier_id, category, str(status), questionnaire_id, at, reason),
    )


def _set_areas(cur: Cursor[Any], supplier_id: UUID, areas: tuple[str, ...]) -> None:
    cur.execute("DELETE FROM catalogue_supplier_areas WHERE supplier_id = %s", (supplier_id,))
    cur.executemany(
        "INSERT INTO catalogue_supplier_areas (supplier_id, area_code) VALUES (%s, %s)",
        [(supplier_id, a) for a in areas],
    )


# -- queries ---------------------------------------------------------------------------------------


class LotRecord(msgspec.Struct, kw_only=True):
    category: str
    status: LotStatus
    since: datetime
    reason: str | None = None


class SupplierRecord(msgspec.Struct, kw_only=True):
    """A supplier as the catalogue shows it: lots, declared areas and standing."""

    id: UUID
    name: str
    legal_identifier: str
    organisation_type: OrganisationType
    is_small: bool
    registered_at: datetime
    status: SupplierStatus
    status_grounds: str | None = None
    terms_version: str | None = None
    lots: list[LotRecord] = []
    declared_areas: list[str] = []
    version: int
    # Its selection questionnaires, the first submitted first: shown to the supplier itself and to those who
    # assess or audit them (null for everyone else).
    questionnaires: list[QuestionnaireRecord] | None = None


class SupplierPage(msgspec.Struct, kw_only=True):
    items: list[SupplierRecord]
    next_after: str | None = None


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
    clauses, params = [], []
    if name_contains:
        escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append("s.name ILIKE %s")
        params.append(f"%{escaped}%")
    if category:
        clauses.append(
            "EXISTS (SELECT 1 FROM catalogue_supplier_lots l WHERE l.supplier_id = s.supplier_id"
            " AND l.category = %s AND l.status = 'appointed')"
        )
        params.append(category)
    if status:
        clauses.append("s.status = %s")
        params.append(status)
    if after:
        clauses.append("s.legal_identifier > %s")
        params.append(after)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = fetch_rows(conn, f"{_SUPPLIER_SELECT}{where} ORDER BY s.legal_identifier LIMIT %s", [*params, limit + 1])
    items = [_to(SupplierRecord, r) for r in rows[:limit]]
    return SupplierPage(items=items, next_after=items[-1].legal_identifier if len(rows) > limit else None)


class EligibleSupplier(msgspec.Struct, kw_only=True):
    supplier_id: UUID
    name: str
    eligible: bool
    reasons: list[str]
    uncovered: list[str] = []  # the parts of the area its declared areas leave out


class EligibilityReport(msgspec.Struct, kw_only=True):
    """Who could be invited today to a call-off for these lots in this area, and why (or why not)."""

    categories: list[str]
    area: str
    eligible: list[EligibleSupplier]
    not_eligible: list[EligibleSupplier]


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


class CommissionerRecord(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    organisation_id: str
    commissioner_type: str
    area_code: str
    agreement_version: str | None = None
    agreement_signed_at: datetime | None = None
    version: int


_COMMISSIONER_SELECT = (
    "SELECT commissioner_id AS id, name, organisation_id, commissioner_type, area_code, agreement_version,"
    " agreement_signed_at, version FROM catalogue_commissioners"
)


def get_commissioner(conn: psycopg.Connection[Any], commissioner_id: UUID) -> CommissionerRecord | None:
    rows = fetch_rows(conn, f"{_COMMISSIONER_SELECT} WHERE commissioner_id = %s", (commissioner_id,))
    return _to(CommissionerRecord, rows[0]) if rows else None


class CommissionerList(msgspec.Struct, kw_only=True):
    items: list[CommissionerRecord]


def list_commissioners(conn: psycopg.Connection[Any]) -> CommissionerList:
    return CommissionerList(
        items=[_to(CommissionerRecord, r) for r in fetch_rows(conn, f"{_COMMISSIONER_SELECT} ORDER BY name")]
    )


class Invitation(msgspec.Struct, kw_only=True):
    supplier_id: UUID
    supplier_name: str
    invited: bool
    reasons: list[str]
    uncovered: list[str]  # the parts of the geography a near miss's declared areas leave out


class ClarificationQuestion(msgspec.Struct, kw_only=True):
    """A question an invited supplier asked (seen by the commissioners, and by the supplier who asked it)."""

    question_id: UUID
    supplier_id: UUID
    question: str
    asked_at: datetime
    answered_at: datetime | None


class PublishedClarification(msgspec.Struct, kw_only=True):
    """A question (anonymised) and its answer, as published to every invited supplier."""

    question: str
    answer: str
    published_at: datetime


class TenderReceipt(msgspec.Struct, kw_only=True):
    """That a tender arrived, and when: never its content."""

    supplier_id: UUID
    stage: str
    submissions: int
    first_at: datetime
    last_at: datetime


class CallOffRecord(msgspec.Struct, kw_only=True):
    id: UUID
    title: str
    status: CallOffStatus
    need: str | None
    cohort: str | None
    geography: str
    award_type: str
    estimated_value: Decimal
    lead_commissioner_id: UUID
    partner_commissioner_ids: list[UUID]
    drafted_at: datetime
    published_at: datetime | None
    response_deadline: datetime
    invited_count: int | None
    tenders_received: int
    tenders_opened_at: datetime | None
    awarded_supplier_id: UUID | None
    standstill_ends: datetime | None
    contract_id: UUID | None
    closed_reason: str | None
    version: int
    invitations: list[Invitation] = []
    receipts: list[TenderReceipt] = []
    clarifications: list[PublishedClarification] = []
    questions: list[ClarificationQuestion] = []


_CALL_OFF_SELECT = (
    "SELECT call_off_id AS id, title, status, need, cohort, geography, award_type, estimated_value,"
    " lead_commissioner_id, partner_commissioner_ids, drafted_at, published_at, response_deadline, invited_count,"
    " tenders_received, tenders_opened_at, awarded_supplier_id, standstill_ends, contract_id, closed_reason, version"
    " FROM catalogue_call_offs"
)


_OWN = "(%s::uuid IS NULL OR supplier_id = %s)"  # every supplier's rows, or one supplier's own


def get_call_off(
    conn: psycopg.Connection[Any], call_off_id: UUID, *, supplier_id: UUID | None = None
) -> CallOffRecord | None:
    """A call-off's page. For one supplier (`supplier_id`) its own invitation, receipts and questions only: who
    else was invited, tendered or asked is not a competitor's to know."""
    rows, invitations, receipts, clarifications, questions = fetch_pipelined(
        conn,
        [
            (f"{_CALL_OFF_SELECT} WHERE call_off_id = %s", (call_off_id,)),
            (
                "SELECT supplier_id, supplier_name, invited, reasons, uncovered FROM catalogue_invitations"
                f" WHERE call_off_id = %s AND {_OWN} ORDER BY invited DESC, lower(supplier_name)",
                (call_off_id, supplier_id, supplier_id),
            ),
            (
                "SELECT t.supplier_id, r.stage, r.submissions, r.first_at, r.last_at FROM catalogue_tender_receipts r"
                f" JOIN catalogue_tenders t USING (tender_id) WHERE t.call_off_id = %s AND {_OWN}"
                " ORDER BY r.stage, r.first_at",
                (call_off_id, supplier_id, supplier_id),
            ),
            (
                "SELECT question, answer, published_at FROM catalogue_clarifications WHERE call_off_id = %s"
                " ORDER BY position",
                (call_off_id,),
            ),
            (
                "SELECT question_id, supplier_id, question, asked_at, answered_at"
                f" FROM catalogue_clarification_questions WHERE call_off_id = %s AND {_OWN}"
                " ORDER BY position",
                (call_off_id, supplier_id, supplier_id),
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


class Pipeline(msgspec.Struct, kw_only=True):
    """The call-off pipeline: counts by status, and the call-offs matching the filters."""

    counts: dict[str, int]
    items: list[CallOffRecord]


def pipeline(
    conn: psycopg.Connection[Any],
    *,
    status: str | None = None,
    commissioner_id: UUID | None = None,
    invited_supplier_id: UUID | None = None,
    category: str | None = None,
    limit: int = 100,
) -> Pipeline:
    clauses, params = [], []
    if invited_supplier_id:
        clauses.append(
            "EXISTS (SELECT 1 FROM catalogue_invitations i WHERE i.call_off_id = catalogue_call_offs.call_off_id"
            " AND i.supplier_id = %s AND i.invited)"
        )
        params.append(invited_supplier_id)
    if commissioner_id:
        clauses.append("(lead_commissioner_id = %s OR %s = ANY(partner_commissioner_ids))")
        params += [commissioner_id, commissioner_id]
    if category:
        clauses.append("(need = %s OR cohort = %s)")
        params += [category, category]
    scope = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    counts = {s.value: 0 for s in CallOffStatus}
    for row in fetch_rows(
        conn, f"SELECT status, count(*) AS n FROM catalogue_call_offs{scope} GROUP BY status", params
    ):
        counts[row["status"]] = row["n"]
    if status:
        clauses.append("status = %s")
        params.append(status)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = fetch_rows(
        conn, f"{_CALL_OFF_SELECT}{where} ORDER BY drafted_at DESC, call_off_id LIMIT %s", [*params, limit]
    )
    return Pipeline(counts=counts, items=[_to(CallOffRecord, r) for r in rows])


class ContractRecord(msgspec.Struct, kw_only=True):
    id: UUID
    call_off_id: UUID
    award_type: str
    supplier_id: UUID
    supplier_name: str | None
    commissioner_ids: list[UUID]
    need: str | None
    cohort: str | None
    areas: list[str]
    regions: list[str]
    value: Decimal
    start_date: date
    end_date: date
    mobilisation_date: date | None
    extension_options: list[int]
    status: str
    terminated_on: date | None
    live: bool
    version: int


class ContractList(msgspec.Struct, kw_only=True):
    as_of: date
    count: int
    total_value: Decimal
    items: list[ContractRecord]


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
    clauses = []
    params: dict[str, Any] = {"day": day}
    if region:
        clauses.append("%(region)s = ANY(k.regions)")
        params["region"] = region
    if category:
        clauses.append("(k.need = %(category)s OR k.cohort = %(category)s)")
        params["category"] = category
    if commissioner_id:
        clauses.append("%(commissioner)s = ANY(k.commissioner_ids)")
        params["commissioner"] = commissioner_id
    if supplier_id:
        clauses.append("k.supplier_id = %(supplier)s")
        params["supplier"] = supplier_id
    if live_only:
        clauses.append(_LIVE)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    items = [
        _to(ContractRecord, r)
        for r in fetch_rows(conn, f"{_CONTRACT_SELECT}{where} ORDER BY k.start_date, k.contract_id", params)
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


# -- questionnaires: the supplier's, and the Authority's worklist ----------------------------------------


class QuestionnaireLot(msgspec.Struct, kw_only=True):
    """A lot a questionnaire sought: pending until assessed passed or failed (with the reason), or withdrawn by
    the supplier before its assessment."""

    category: str
    status: LotStatus
    reason: str | None = None
    assessed_at: datetime | None = None
    withdrawn_at: datetime | None = None


class QuestionnaireRecord(msgspec.Struct, kw_only=True):
    """A selection questionnaire: the lots it sought and their state; `awaiting` names the lots still to be
    assessed. `settled_at` is when the last of them stopped waiting."""

    id: UUID
    supplier_id: UUID
    supplier_name: str
    submitted_at: datetime
    declared_areas: list[str]
    state: QuestionnaireState
    settled_at: datetime | None = None
    awaiting: list[str]
    lots: list[QuestionnaireLot]


class QuestionnairePage(msgspec.Struct, kw_only=True):
    """A page of questionnaires, the longest waiting first: `total` in the whole list; `next_after`, passed as
    `after`, reads the next page (null on the last)."""

    total: int
    items: list[QuestionnaireRecord]
    next_after: str | None = None


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
