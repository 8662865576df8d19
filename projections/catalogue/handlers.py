"""The catalogue view and its handlers: suppliers and their lots, commissioners, call-offs, tenders, contracts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Cursor

from ledger.framework import geography
from ledger.framework.commissioners import Commissioner
from ledger.framework.suppliers import LotStatus, Supplier, SupplierStatus
from ledger.procurement.call_offs import CallOff, CallOffStatus, Tender
from ledger.procurement.contracts import Contract
from ledger.procurement.planning import Plan, PlannedCallOff, PlanStatus
from projections.base import LoggedEvent, View, update_row
from projections.catalogue.models import QuestionnaireState


class CatalogueView(View):
    name = "catalogue"
    code_version = "5"  # 3: questionnaires and their lots (0020); 4: clarifications, uncovered (0022); 5: plans (0031)
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
        "catalogue_planned_call_offs",
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
        self.on(PlannedCallOff.CallOffPlanned, self.call_off_planned)
        for event_class in (
            PlannedCallOff.PlannedCallOffRevised,
            PlannedCallOff.PlannedCallOffWithdrawn,
            PlannedCallOff.PlannedCallOffFulfilled,
        ):
            self.on(event_class, self.plan_changed)
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
    def call_off_planned(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "INSERT INTO catalogue_planned_call_offs (plan_id, lead_commissioner_id, title, description, need, cohort,"
            " geography, award_type, estimated_value, estimated_annual_volume, volume_unit, expected_publication,"
            " initial_term_months, status, planned_at, version)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'planned', %s, %s)",
            (
                logged.originator_id,
                e.lead_commissioner_id,
                *_plan_columns(e.plan),
                logged.envelope.effective_at,
                logged.originator_version,
            ),
        )

    @staticmethod
    def plan_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        sets: dict[str, Any] = {"version": logged.originator_version}
        match e:
            case PlannedCallOff.PlannedCallOffRevised():
                sets |= dict(zip(_PLAN_COLUMNS, _plan_columns(e.plan), strict=True))
                sets |= {"revised_at": logged.envelope.effective_at, "revision_reason": e.reason}
            case PlannedCallOff.PlannedCallOffWithdrawn():
                sets |= {"status": PlanStatus.WITHDRAWN, "revision_reason": e.reason}
            case PlannedCallOff.PlannedCallOffFulfilled():
                sets |= {"status": PlanStatus.FULFILLED, "call_off_id": e.call_off_id}
        update_row(cur, "catalogue_planned_call_offs", "plan_id", logged.originator_id, sets)

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


_PLAN_COLUMNS = (
    "title",
    "description",
    "need",
    "cohort",
    "geography",
    "award_type",
    "estimated_value",
    "estimated_annual_volume",
    "volume_unit",
    "expected_publication",
    "initial_term_months",
)


def _plan_columns(plan: Plan) -> tuple[Any, ...]:
    return (
        plan.title,
        plan.description,
        plan.need,
        plan.cohort,
        plan.geography,
        str(plan.award_type),
        plan.estimated_value,
        plan.estimated_annual_volume,
        plan.volume_unit,
        plan.expected_publication,
        plan.initial_term_months,
    )
