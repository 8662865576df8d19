"""The caseload view: referrals and their delivery, Unpaid Work and programmes; the queries that read it."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg import Cursor

from ledger.audit.erasure import DataSubject
from ledger.cases import unpaid_work
from ledger.cases.outcomes import Achievement
from ledger.cases.programmes import RULES as PROGRAMME_RULES
from ledger.cases.programmes import GroupMode, ProgrammeGroup
from ledger.cases.referrals import (
    AppointmentKind,
    AttendanceNotes,
    Attended,
    Identity,
    PersonDetails,
    Referral,
    ReferralPersonalData,
)
from ledger.cases.unpaid_work import UnpaidWorkOrder
from ledger.personal_data import ERASED, KeyRing, Revealer, Sealed, load_sealed, store_sealed
from projections import pages
from projections.base import LoggedEvent, View, fetch_pipelined, fetch_rows, update_row
from projections.export import csv_text
from projections.pages import Listing

_ATTENDANCE_STATUS = {Attended.YES: "attended", Attended.LATE: "late", Attended.NO: "did_not_attend"}


_UNPAID_WORK_TOTALS = ("orders", "completed", "hours_ordered", "hours_worked", "stand_downs")
_TOTAL_TYPES = {"hours_worked": "numeric"}  # the others are whole numbers (a sum of integers is numeric)
_TOTALS = ("referrals", "attended", "recorded", "completed", "ended_early", "cancelled", "achieved", "rated")


def _count(cur: Cursor[Any], referral_id: UUID, sign: int) -> None:
    """Add (1) or take away (-1) a referral's part of the running totals of its provider, contract and region."""
    cur.execute(
        f"INSERT INTO caseload_totals (supplier_id, contract_id, region, status, {', '.join(_TOTALS)})"
        " SELECT supplier_id, contract_id, region, status, %(s)s, %(s)s * sessions_attended, %(s)s * sessions_recorded,"
        " %(s)s * (end_state IS NOT DISTINCT FROM 'completed')::int,"
        " %(s)s * (end_state IS NOT DISTINCT FROM 'ended_early')::int,"
        " %(s)s * (end_state IS NOT DISTINCT FROM 'cancelled')::int, %(s)s * outcomes_achieved, %(s)s * outcomes_rated"
        " FROM caseload_referrals WHERE referral_id = %(r)s"
        " ON CONFLICT (supplier_id, contract_id, region, status) DO UPDATE SET "
        + ", ".join(f"{c} = caseload_totals.{c} + excluded.{c}" for c in _TOTALS),
        {"s": sign, "r": referral_id},
    )


def _add_to_order_totals(source: str) -> str:
    """Add to the running Unpaid Work totals of the provider and contract that `source` names."""
    return (
        f"INSERT INTO caseload_unpaid_work_totals (supplier_id, contract_id, {', '.join(_UNPAID_WORK_TOTALS)})"
        f" SELECT supplier_id, contract_id, %s, %s, %s, %s, %s FROM {source}"
        " ON CONFLICT (supplier_id, contract_id) DO UPDATE SET "
        + ", ".join(f"{c} = caseload_unpaid_work_totals.{c} + excluded.{c}" for c in _UNPAID_WORK_TOTALS)
    )


_NEW_ORDER_TOTALS = _add_to_order_totals("(VALUES (%s::uuid, %s::uuid)) AS v (supplier_id, contract_id)")
_CHANGED_ORDER_TOTALS = _add_to_order_totals("o")


def _change_order(
    cur: Cursor[Any], logged: LoggedEvent, assignments: str, params: Sequence[Any] = (), **added: Any
) -> None:
    """Update an order's row and, in the same statement, add to its provider's and contract's totals."""
    cur.execute(
        f"WITH o AS (UPDATE caseload_unpaid_work SET {assignments}, version = %s WHERE order_id = %s"
        f" RETURNING supplier_id, contract_id) {_CHANGED_ORDER_TOTALS}",
        [
            *params,
            logged.originator_version,
            logged.originator_id,
            *(added.get(column, 0) for column in _UNPAID_WORK_TOTALS),
        ],
    )


def _keep_personal(cur: Cursor[Any], record_id: UUID, subject_id: UUID, personal: Any) -> None:
    cur.execute(
        "INSERT INTO caseload_people (record_id, subject_id, personal) VALUES (%s, %s, %s)",
        (record_id, subject_id, store_sealed(personal)),
    )


# The events that change what a referral adds to the totals (its status, sessions, end and outcomes); the
# others (acknowledgement, appointments scheduled or moved, notes on the plan, amendments) leave it as it was.
_CHANGE_TOTALS = (
    Referral.CaseworkerAssigned,
    Referral.AttendanceRecorded,
    Referral.AttendanceCorrected,
    Referral.ActionPlanApproved,
    Referral.ReferralWithdrawn,
    Referral.EndOfServiceReported,
    Referral.ReferralConcluded,
)


class CaseloadView(View):
    name = "caseload"
    code_version = "6"
    tables = (
        "caseload_people",
        "caseload_referrals",
        "caseload_totals",
        "caseload_assignments",
        "caseload_appointments",
        "caseload_unpaid_work",
        "caseload_unpaid_work_totals",
        "caseload_unpaid_work_sessions",
        "caseload_programme_groups",
        "caseload_programme_participants",
        "caseload_programme_sessions",
        "caseload_programme_attendance",
    )

    def register(self) -> None:
        for event_class in (
            Referral.ReferralMade,
            Referral.ReferralAcknowledged,
            Referral.CaseworkerAssigned,
            Referral.AppointmentScheduled,
            Referral.AppointmentRescheduled,
            Referral.AppointmentCancelled,
            Referral.AttendanceRecorded,
            Referral.AttendanceCorrected,
            Referral.PractitionerNotificationAcknowledged,
            Referral.ActionPlanSubmitted,
            Referral.ActionPlanApproved,
            Referral.ReferralAmended,
            Referral.ReferralWithdrawn,
            Referral.EndOfServiceReported,
            Referral.ReferralConcluded,
        ):
            self.on(event_class, self.referral_changed)
        for event_class in (
            UnpaidWorkOrder.UnpaidWorkOrderAllocated,
            UnpaidWorkOrder.InductionCompleted,
            UnpaidWorkOrder.UnpaidWorkSessionRecorded,
            UnpaidWorkOrder.StandDownRecorded,
            UnpaidWorkOrder.UnpaidWorkCompleted,
        ):
            self.on(event_class, self.unpaid_work_changed)
        for event_class in (
            ProgrammeGroup.ProgrammeGroupFormed,
            ProgrammeGroup.ParticipantJoined,
            ProgrammeGroup.ProgrammeSessionScheduled,
            ProgrammeGroup.ProgrammeAttendanceRecorded,
            ProgrammeGroup.ProgrammeCompleted,
            ProgrammeGroup.ParticipantWithdrawn,
        ):
            self.on(event_class, self.programme_changed)
        self.on(DataSubject.PersonalDataErased, self.personal_data_erased)

    @staticmethod
    def referral_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, rid = logged.event, logged.originator_id
        recorded, effective = logged.envelope.recorded_at, logged.envelope.effective_at
        sets: dict[str, Any] = {}
        counted = isinstance(e, _CHANGE_TOTALS)
        if counted:  # the referral's part of the totals goes out as it was, and back in as it is
            _count(cur, rid, -1)
        match e:
            case Referral.ReferralMade():
                d = e.details
                cur.execute(
                    "INSERT INTO caseload_referrals (referral_id, reference_number, contract_id, supplier_id,"
                    " practitioner_id, region, category, complexity, subject_id, status, received_at,"
                    " completion_deadline, version)"
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, 'sent', %s, %s, %s)",
                    (
                        rid,
                        e.reference_number,
                        d.contract_id,
                        e.supplier_id,
                        e.practitioner_id,
                        e.region,
                        d.category,
                        str(d.complexity),
                        e.subject_id,
                        recorded,
                        d.completion_deadline,
                        logged.originator_version,
                    ),
                )
                _keep_personal(cur, rid, e.subject_id, e.personal)
            case Referral.ReferralAcknowledged():
                sets = {"acknowledged_at": recorded}
            case Referral.CaseworkerAssigned():
                sets = {"caseworker_id": e.caseworker_id, "assigned_at": recorded}
                cur.execute(
                    "UPDATE caseload_referrals SET status = 'assigned' WHERE referral_id = %s AND status = 'sent'",
                    (rid,),
                )
                cur.execute(
                    "INSERT INTO caseload_assignments (referral_id, caseworker_id, previous_caseworker_id,"
                    " assigned_at, assigned_by, position) VALUES (%s, %s, %s, %s, %s, %s)",
                    (
                        rid,
                        e.caseworker_id,
                        e.previous_caseworker_id,
                        recorded,
                        logged.envelope.actor_id,
                        logged.position,
                    ),
                )
            case Referral.AppointmentScheduled():
                a = e.appointment
                cur.execute(
                    "INSERT INTO caseload_appointments (appointment_id, referral_id, supplier_id, kind, starts_at,"
                    " duration_minutes, delivery_method, session_type, status)"
                    " SELECT %s, referral_id, supplier_id, %s, %s, %s, %s, %s, 'scheduled' FROM caseload_referrals"
                    " WHERE referral_id = %s",
                    (
                        a.id,
                        str(a.kind),
                        a.starts_at,
                        a.duration_minutes,
                        str(a.delivery_method),
                        str(a.session_type),
                        rid,
                    ),
                )
                cur.execute(
                    "UPDATE caseload_referrals SET first_appointment_at = least(coalesce(first_appointment_at, %s), %s)"
                    " WHERE referral_id = %s",
                    (a.starts_at, a.starts_at, rid),
                )
            case Referral.AppointmentRescheduled():
                cur.execute(
                    "UPDATE caseload_appointments SET starts_at = %s, reschedules = reschedules + 1"
                    " WHERE appointment_id = %s",
                    (e.starts_at, e.appointment_id),
                )
                cur.execute(
                    "UPDATE caseload_referrals r SET first_appointment_at = (SELECT min(starts_at)"
                    " FROM caseload_appointments a WHERE a.referral_id = r.referral_id AND a.status <> 'cancelled')"
                    " WHERE referral_id = %s",
                    (rid,),
                )
            case Referral.AppointmentCancelled():
                cur.execute(
                    "UPDATE caseload_appointments SET status = 'cancelled' WHERE appointment_id = %s",
                    (e.appointment_id,),
                )
            case Referral.AttendanceRecorded():
                at = e.attendance
                cur.execute(
                    "UPDATE caseload_appointments SET status = %s, attendance_recorded_at = %s, absence = %s,"
                    " notes = %s, notify = %s, rar = %s WHERE appointment_id = %s",
                    (
                        _ATTENDANCE_STATUS[at.attended],
                        recorded,
                        at.absence and str(at.absence),
                        store_sealed(e.notes),
                        at.notify_practitioner,
                        at.counts_towards_rar,
                        at.appointment_id,
                    ),
                )
                # Decided in SQL by the appointment's kind, so the worker never waits for a reply here.
                attended = at.attended in (Attended.YES, Attended.LATE)
                cur.execute(
                    "UPDATE caseload_referrals SET sessions_recorded = sessions_recorded + 1,"
                    " sessions_attended = sessions_attended + %s, rar_days = rar_days + %s WHERE referral_id = %s"
                    " AND EXISTS (SELECT 1 FROM caseload_appointments WHERE appointment_id = %s AND kind = %s)",
                    (int(attended), int(at.counts_towards_rar), rid, at.appointment_id, str(AppointmentKind.SESSION)),
                )
                if attended:
                    cur.execute(
                        "UPDATE caseload_referrals SET initial_assessment_at = %s WHERE referral_id = %s"
                        " AND EXISTS (SELECT 1 FROM caseload_appointments WHERE appointment_id = %s AND kind <> %s)",
                        (effective, rid, at.appointment_id, str(AppointmentKind.SESSION)),
                    )
            case Referral.AttendanceCorrected():
                attended = e.attended in (Attended.YES, Attended.LATE)
                # The referral's counts move by what the correction changes, read from the appointment as it was
                # (a session's attendance; a session no longer attended no longer counts towards RAR days).
                cur.execute(
                    "UPDATE caseload_referrals r SET sessions_attended = r.sessions_attended + %s"
                    " - (a.status IN ('attended', 'late'))::int, rar_days = r.rar_days - (a.rar AND NOT %s)::int"
                    " FROM caseload_appointments a WHERE r.referral_id = %s AND a.appointment_id = %s AND a.kind = %s",
                    (int(attended), attended, rid, e.appointment_id, str(AppointmentKind.SESSION)),
                )
                cur.execute(
                    "UPDATE caseload_appointments SET status = %s, absence = %s, rar = rar AND %s"
                    " WHERE appointment_id = %s",
                    (_ATTENDANCE_STATUS[e.attended], e.absence and str(e.absence), attended, e.appointment_id),
                )
            case Referral.PractitionerNotificationAcknowledged():
                cur.execute(
                    "UPDATE caseload_appointments SET acknowledged = true WHERE appointment_id = %s",
                    (e.appointment_id,),
                )
            case Referral.ActionPlanSubmitted():
                sets = {"action_plan_submitted_at": recorded, "sessions_planned": e.number_of_sessions}
            case Referral.ActionPlanApproved():
                sets = {"action_plan_approved_at": recorded, "status": "in_progress"}
            case Referral.ReferralAmended():
                sets = {
                    k: v
                    for k, v in (
                        ("complexity", e.complexity and str(e.complexity)),
                        ("completion_deadline", e.completion_deadline),
                        ("practitioner_id", e.practitioner_id),
                    )
                    if v is not None
                }
            case Referral.ReferralWithdrawn():
                sets = {
                    "status": "concluded",
                    "end_state": str(e.end_state),
                    "end_reason": str(e.reason_code),
                    "concluded_at": effective,  # the day it was withdrawn, which may be before it was recorded
                }
            case Referral.EndOfServiceReported():
                ratings = [r.achievement for r in e.outcomes]
                sets = {
                    "outcomes_rated": len(ratings),
                    "outcomes_achieved": ratings.count(Achievement.ACHIEVED),
                    "outcomes_partial": ratings.count(Achievement.PARTIALLY_ACHIEVED),
                }
            case Referral.ReferralConcluded():
                sets = {"status": "concluded", "end_state": str(e.end_state), "concluded_at": recorded}
        sets["version"] = logged.originator_version
        update_row(cur, "caseload_referrals", "referral_id", rid, sets)
        if counted or isinstance(e, Referral.ReferralMade):
            _count(cur, rid, 1)

    @staticmethod
    def unpaid_work_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        # One statement per change where it can be: the order's row and its provider's totals together.
        # The order's rules are the ones its allocation recorded (its weekly minimum, the day its start is late);
        # at_risk_from follows hours_worked by itself (a generated column over the recorded minimum, 0019).
        e, oid = logged.event, logged.originator_id
        match e:
            case UnpaidWorkOrder.UnpaidWorkOrderAllocated():
                o = e.order
                cur.execute(
                    "INSERT INTO caseload_unpaid_work (order_id, contract_id, supplier_id, subject_id,"
                    " hours_ordered, employed, made_on, allocated_on, complete_by, start_late_from,"
                    " weekly_minimum_hours, version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        oid,
                        o.contract_id,
                        e.supplier_id,
                        e.subject_id,
                        o.hours_ordered,
                        o.employed,
                        o.made_on,
                        e.allocated_on,
                        e.complete_by,
                        e.start_late_from,
                        e.weekly_minimum_hours,
                        logged.originator_version,
                    ),
                )
                _keep_personal(cur, oid, e.subject_id, e.personal)
                cur.execute(_NEW_ORDER_TOTALS, (1, 0, o.hours_ordered, 0, 0, e.supplier_id, o.contract_id))
            case UnpaidWorkOrder.InductionCompleted():
                update_row(
                    cur,
                    "caseload_unpaid_work",
                    "order_id",
                    oid,
                    {"inducted_on": e.on, "version": logged.originator_version},
                )
            case UnpaidWorkOrder.UnpaidWorkSessionRecorded():
                w = e.work
                cur.execute(
                    "INSERT INTO caseload_unpaid_work_sessions (order_id, position, worked_on, hours, kind)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    (oid, logged.position, w.on, w.hours, str(w.kind)),
                )
                _change_order(
                    cur,
                    logged,
                    "hours_worked = hours_worked + %s, training_hours = training_hours + %s,"
                    " first_session_on = least(coalesce(first_session_on, %s), %s)",
                    (w.hours, w.hours if w.kind == "training" else 0, w.on, w.on),
                    hours_worked=w.hours,
                )
            case UnpaidWorkOrder.StandDownRecorded():
                _change_order(cur, logged, "stand_downs = stand_downs + 1", stand_downs=1)
            case UnpaidWorkOrder.UnpaidWorkCompleted():
                _change_order(cur, logged, "completed_on = %s", (e.on,), completed=1)

    @staticmethod
    def programme_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, gid, version = logged.event, logged.originator_id, logged.originator_version
        match e:
            case ProgrammeGroup.ProgrammeGroupFormed():
                g = e.group
                cur.execute(
                    "INSERT INTO caseload_programme_groups (group_id, programme, contract_id, supplier_id, name, mode,"
                    " facilitator_id, version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    (
                        gid,
                        str(g.programme),
                        g.contract_id,
                        e.supplier_id,
                        g.name,
                        str(g.mode),
                        g.facilitator_id,
                        version,
                    ),
                )
            case ProgrammeGroup.ParticipantJoined():
                cur.execute(
                    "INSERT INTO caseload_programme_participants (group_id, subject_id, position, joined_at, status,"
                    " personal) VALUES (%s, %s, %s, %s, 'current', %s)",
                    (gid, e.subject_id, logged.position, logged.envelope.recorded_at, store_sealed(e.personal)),
                )
                cur.execute(
                    "UPDATE caseload_programme_groups SET participants = participants + 1, version = %s"
                    " WHERE group_id = %s",
                    (version, gid),
                )
            case ProgrammeGroup.ProgrammeSessionScheduled():
                # The group's record numbers its sessions in the order they were scheduled; so does the view, in
                # one statement: the group's count, the session and a place in it for each of its participants.
                cur.execute(
                    "WITH g AS (UPDATE caseload_programme_groups SET sessions_scheduled = sessions_scheduled + 1,"
                    " first_session_on = least(coalesce(first_session_on, %s), %s), version = %s WHERE group_id = %s"
                    " RETURNING group_id, sessions_scheduled AS number),"
                    " s AS (INSERT INTO caseload_programme_sessions (group_id, number, kind, held_on)"
                    " SELECT group_id, number, %s, %s FROM g)"
                    " INSERT INTO caseload_programme_attendance (group_id, number, subject_id)"
                    " SELECT g.group_id, g.number, p FROM g, unnest(%s::uuid[]) AS p",
                    (e.on, e.on, version, gid, str(e.kind), e.on, list(e.participants)),
                )
            case ProgrammeGroup.ProgrammeAttendanceRecorded():
                cur.execute(
                    "UPDATE caseload_programme_attendance SET attendance = %s, absence = %s, recorded_at = %s"
                    " WHERE group_id = %s AND number = %s AND subject_id = %s",
                    (
                        _ATTENDANCE_STATUS[e.attended],
                        e.absence and str(e.absence),
                        logged.envelope.recorded_at,
                        gid,
                        e.session,
                        e.subject_id,
                    ),
                )
                update_row(cur, "caseload_programme_groups", "group_id", gid, {"version": version})
            case ProgrammeGroup.ProgrammeCompleted() | ProgrammeGroup.ParticipantWithdrawn():
                completed = isinstance(e, ProgrammeGroup.ProgrammeCompleted)
                reason = None if completed else str(e.reason_code)
                cur.execute(
                    "UPDATE caseload_programme_participants SET status = %s, left_on = %s, end_reason = %s"
                    " WHERE group_id = %s AND subject_id = %s",
                    ("completed" if completed else "withdrawn", e.on, reason, gid, e.subject_id),
                )
                cur.execute(
                    "UPDATE caseload_programme_groups SET participants = participants - 1, completed = completed + %s,"
                    " withdrawn = withdrawn + %s, version = %s WHERE group_id = %s",
                    (int(completed), int(not completed), version, gid),
                )

    @staticmethod
    def personal_data_erased(cur: Cursor[Any], logged: LoggedEvent) -> None:
        """The key is gone: the view drops its sealed copies too, and says so."""
        subject = logged.event.subject_id
        cur.execute(
            "UPDATE caseload_appointments SET notes = NULL WHERE referral_id IN"
            " (SELECT referral_id FROM caseload_referrals WHERE subject_id = %s)",
            (subject,),
        )
        cur.execute("UPDATE caseload_people SET personal = NULL WHERE subject_id = %s", (subject,))
        cur.execute("UPDATE caseload_programme_participants SET personal = NULL WHERE subject_id = %s", (subject,))
        for table in ("caseload_referrals", "caseload_unpaid_work"):
            cur.execute(f"UPDATE {table} SET erased = true WHERE subject_id = %s", (subject,))


# -- queries ---------------------------------------------------------------------------------------


class CaseloadFilter(msgspec.Struct, kw_only=True):
    supplier_id: UUID | None = None
    caseworker_id: str | None = None
    practitioner_id: str | None = None
    region: str | None = None
    contract_id: UUID | None = None

    def where(self, alias: str = "r") -> tuple[str, list[Any]]:
        clauses, params = [], []
        for column, value in (
            ("supplier_id", self.supplier_id),
            ("caseworker_id", self.caseworker_id),
            ("practitioner_id", self.practitioner_id),
            ("region", self.region),
            ("contract_id", self.contract_id),
        ):
            if value is not None:
                clauses.append(f"{alias}.{column} = %s")
                params.append(value)
        return (" AND ".join(clauses) or "true"), params


class ReferralLine(msgspec.Struct, kw_only=True):
    """A referral in a list. `crn` and `person_name` are null, and `erased` true, once the person's data is
    erased."""

    id: UUID
    reference_number: str
    crn: str | None
    person_name: str | None
    erased: bool
    category: str
    complexity: str
    status: str
    supplier_id: UUID
    caseworker_id: str | None
    practitioner_id: str
    region: str | None
    received_at: datetime
    first_appointment_at: datetime | None
    sessions_planned: int | None
    sessions_attended: int
    end_state: str | None


class PendingNotification(msgspec.Struct, kw_only=True):
    referral_id: UUID
    reference_number: str
    appointment_id: UUID
    session_at: datetime
    attendance: str
    absence: str | None
    concerns: str | None
    practitioner_id: str
    erased: bool


class UnpaidWorkLine(msgspec.Struct, kw_only=True):
    order_id: UUID
    crn: str | None
    erased: bool
    hours_ordered: int
    hours_worked: Decimal
    training_hours: Decimal
    allocated_on: date
    complete_by: date
    completed_on: date | None
    stand_downs: int
    weekly_minimum_hours: Decimal
    weeks_below_minimum: int
    started_late: bool
    at_risk: bool


class ReferralList(msgspec.Struct, kw_only=True):
    """A page of referrals; `next_after`, passed as `after`, reads the next page (null on the last)."""

    items: list[ReferralLine]
    next_after: str | None = None


class UnpaidWorkList(msgspec.Struct, kw_only=True):
    """A page of Unpaid Work orders; `next_after`, passed as `after`, reads the next page (null on the last)."""

    items: list[UnpaidWorkLine]
    next_after: str | None = None


class ReferralPage(msgspec.Struct, kw_only=True):
    """A page of a list of referrals: `total` in the whole list; `next_after`, passed as `after`, reads the
    next page (null on the last)."""

    total: int
    items: list[ReferralLine]
    next_after: str | None = None


class NotificationPage(msgspec.Struct, kw_only=True):
    """A page of the notifications waiting for the practitioner's acknowledgement."""

    total: int
    items: list[PendingNotification]
    next_after: str | None = None


class UnpaidWorkPage(msgspec.Struct, kw_only=True):
    """A page of a list of Unpaid Work orders."""

    total: int
    items: list[UnpaidWorkLine]
    next_after: str | None = None


class UnpaidWorkSummary(msgspec.Struct, kw_only=True):
    """Every order of the cut, counted from running totals; the open ones at risk or started late, paged."""

    orders: int
    completed: int
    hours_ordered: int
    hours_worked: Decimal
    stand_downs: int
    at_risk: UnpaidWorkPage
    started_late: UnpaidWorkPage


class ProgrammeGroupLine(msgspec.Struct, kw_only=True):
    group_id: UUID
    programme: str
    name: str
    participants: int
    sessions_scheduled: int


class Caseload(msgspec.Struct, kw_only=True):
    """One cut of the caseload (by provider, caseworker, practitioner, region or contract): its counts, and the
    first page of each list that needs someone's attention, the longest waiting first (`GET /caseload/{list}`
    reads on)."""

    as_of: datetime
    by_status: dict[str, int]
    unassigned: ReferralPage
    waiting_for_first_appointment: ReferralPage
    waiting_days: int
    attendance_rate: Decimal | None
    notifications_pending: NotificationPage
    completed: int
    ended_early: int
    cancelled: int
    outcome_achievement_rate: Decimal | None
    unpaid_work: UnpaidWorkSummary
    programme_groups_below_minimum: list[ProgrammeGroupLine]


_REFERRAL_COLUMNS = (
    "r.referral_id AS id, r.reference_number, r.erased, r.category, r.complexity, r.status, r.supplier_id,"
    " r.caseworker_id, r.practitioner_id, r.region, r.received_at, r.first_appointment_at, r.sessions_planned,"
    " r.sessions_attended, r.end_state"
)
# The person behind each row of a page (sealed: revealed only for those allowed to read it).
_WITH_PERSONAL = "SELECT x.*, p.personal FROM ({page}) x LEFT JOIN caseload_people p ON p.record_id = x.id"
# An order's flags, for the day asked about, and the hours worked in each week: for a page's orders only.
# Each takes the day asked about as its parameter.
_STARTED_LATE = "u.completed_on IS NULL AND coalesce(u.first_session_on, %s) >= u.start_late_from"
_AT_RISK = "u.completed_on IS NULL AND u.at_risk_from <= %s"
_ORDER_COLUMNS = (
    "u.order_id, u.hours_ordered, u.hours_worked, u.training_hours, u.allocated_on, u.complete_by, u.completed_on,"
    f" u.stand_downs, u.weekly_minimum_hours, u.first_session_on, u.erased, {_STARTED_LATE} AS started_late,"
    f" {_AT_RISK} AS at_risk"
)
_ORDER_PAGE = (
    "SELECT x.*, p.personal, w.weeks, w.week_hours FROM ({page}) x"
    " LEFT JOIN caseload_people p ON p.record_id = x.order_id"
    " LEFT JOIN LATERAL (SELECT array_agg(week ORDER BY week) AS weeks,"
    " array_agg(hours ORDER BY week) AS week_hours FROM (SELECT date_trunc('week', s.worked_on)::date AS week,"
    " sum(s.hours) AS hours FROM caseload_unpaid_work_sessions s WHERE s.order_id = x.order_id GROUP BY 1) weekly)"
    " w ON true"
)


# A group below its programme's minimum size (the domain's number for each programme), counting its current
# participants; a fixed group everyone has left is over, not short.
_BELOW_MINIMUM = (
    "g.participants < CASE g.programme "
    + " ".join("WHEN %s THEN %s" for _ in PROGRAMME_RULES)
    + f" END AND NOT (g.mode = '{GroupMode.FIXED}' AND g.participants = 0 AND g.completed + g.withdrawn > 0)"
)
_MINIMUM_GROUPS = [value for p, rules in PROGRAMME_RULES.items() for value in (str(p), rules.min_group)]


class CaseloadList(enum.StrEnum):
    """The lists of a caseload that need someone's attention, each read a page at a time."""

    UNASSIGNED = "unassigned"
    WAITING_FOR_FIRST_APPOINTMENT = "waiting-for-first-appointment"
    NOTIFICATIONS_PENDING = "notifications-pending"
    UNPAID_WORK_AT_RISK = "unpaid-work-at-risk"
    UNPAID_WORK_STARTED_LATE = "unpaid-work-started-late"


def _rate(numerator: int, denominator: int) -> Decimal | None:
    return (Decimal(numerator) / Decimal(denominator)).quantize(Decimal("0.001")) if denominator else None


def _referrals(cut: CaseloadFilter, condition: str, params: Sequence[Any] = (), *, descending: bool = False) -> Listing:
    where, cut_params = cut.where()
    return Listing(
        source="caseload_referrals r",
        where=f"{where} AND {condition}",
        params=[*cut_params, *params],
        key="r.received_at",
        ident="r.referral_id",
        columns=_REFERRAL_COLUMNS,
        key_type=datetime,
        decorate=_WITH_PERSONAL,
        descending=descending,
    )


def _orders(
    cut: CaseloadFilter, today: date, condition: str, params: Sequence[Any] = (), *, key: str, descending: bool = False
) -> Listing:
    where, cut_params = _regions_join(cut, "u")
    return Listing(
        source="caseload_unpaid_work u",
        where=f"{where} AND {condition}",
        params=[*cut_params, *params],
        key=key,
        ident="u.order_id",
        columns=_ORDER_COLUMNS,
        column_params=[today, today],
        key_type=date,
        decorate=_ORDER_PAGE,
        descending=descending,
    )


def caseload_list(cut: CaseloadFilter, name: CaseloadList, now: datetime, waiting_days: int) -> Listing:
    """One list of the cut's caseload, the longest waiting first (at risk: the nearest deadline first)."""
    today = now.date()
    match name:
        case CaseloadList.UNASSIGNED:
            return _referrals(cut, "r.status <> 'concluded' AND r.caseworker_id IS NULL")
        case CaseloadList.WAITING_FOR_FIRST_APPOINTMENT:
            return _referrals(
                cut,
                "r.status <> 'concluded' AND r.received_at < %s"
                " AND (r.first_appointment_at IS NULL OR r.first_appointment_at - r.received_at > %s)",
                [now - timedelta(days=waiting_days), timedelta(days=waiting_days)],
            )
        case CaseloadList.NOTIFICATIONS_PENDING:
            where, params = cut.where()
            if cut.supplier_id is not None:  # from the provider's own pending notifications (their index)
                where, params = f"a.supplier_id = %s AND {where}", [cut.supplier_id, *params]
            return Listing(
                # From the few notifications waiting, to their referrals (not from every referral of the cut).
                source="caseload_appointments a JOIN caseload_referrals r ON r.referral_id = a.referral_id",
                where=f"a.notify AND NOT a.acknowledged AND {where}",
                params=params,
                key="a.starts_at",
                ident="a.appointment_id",
                columns="r.referral_id, r.reference_number, a.appointment_id, a.starts_at AS session_at,"
                " a.status AS attendance, a.absence, r.practitioner_id, r.erased",
                key_type=datetime,
                # The sealed notes are wide: fetched for the page's rows only, not sorted with every candidate.
                decorate="SELECT x.*, n.notes FROM ({page}) x JOIN caseload_appointments n USING (appointment_id)",
            )
        case CaseloadList.UNPAID_WORK_AT_RISK:
            return _orders(cut, today, _AT_RISK, [today], key="u.complete_by")
        case CaseloadList.UNPAID_WORK_STARTED_LATE:
            return _orders(cut, today, _STARTED_LATE, [today], key="u.allocated_on")
    raise ValueError(name)  # pragma: no cover - the match is exhaustive


def list_referrals(
    conn: psycopg.Connection[Any],
    cut: CaseloadFilter,
    keys: KeyRing,
    *,
    status: str | None = None,
    after: str | None = None,
    limit: int = 200,
) -> ReferralList:
    """The cut's referrals, the most recently received first."""
    listing = _referrals(cut, "r.status = %s" if status else "true", [status] if status else [], descending=True)
    rows, next_after = pages.cut(fetch_rows(conn, *listing.page(_cursor(listing, after), limit)), limit)
    return ReferralList(
        items=_referral_lines(rows, keys.revealer(load_sealed(r["personal"]) for r in rows)), next_after=next_after
    )


def unpaid_work_orders(
    conn: psycopg.Connection[Any],
    cut: CaseloadFilter,
    today: date,
    keys: KeyRing,
    *,
    after: str | None = None,
    limit: int = 100,
) -> UnpaidWorkList:
    """The cut's Unpaid Work orders, the most recently allocated first."""
    listing = _orders(cut, today, "true", key="u.allocated_on", descending=True)
    rows, next_after = pages.cut(fetch_rows(conn, *listing.page(_cursor(listing, after), limit)), limit)
    reveal = keys.revealer(load_sealed(r["personal"]) for r in rows)
    return UnpaidWorkList(items=_unpaid_work_lines(rows, today, reveal), next_after=next_after)


def _cursor(listing: Listing, after: str | None) -> pages.Cursor | None:
    return None if after is None else pages.Cursor.parse(after, listing.key_type)


def _sealed(name: CaseloadList, rows: list[dict[str, Any]]) -> list[Sealed | None]:
    column = "notes" if name is CaseloadList.NOTIFICATIONS_PENDING else "personal"
    return [load_sealed(row[column]) for row in rows]


def _page(
    name: CaseloadList, total: int, rows: list[dict[str, Any]], after: str | None, reveal: Revealer, today: date
) -> ReferralPage | NotificationPage | UnpaidWorkPage:
    match name:
        case CaseloadList.NOTIFICATIONS_PENDING:
            return NotificationPage(total=total, items=_notifications(rows, reveal), next_after=after)
        case CaseloadList.UNPAID_WORK_AT_RISK | CaseloadList.UNPAID_WORK_STARTED_LATE:
            return UnpaidWorkPage(total=total, items=_unpaid_work_lines(rows, today, reveal), next_after=after)
    return ReferralPage(total=total, items=_referral_lines(rows, reveal), next_after=after)


def _pages(
    found: dict[CaseloadList, tuple[list[dict[str, Any]], list[dict[str, Any]]]], limit: int, keys: KeyRing, today: date
) -> dict[CaseloadList, ReferralPage | NotificationPage | UnpaidWorkPage]:
    """Each list's page from its count and its rows, with the keys for every page fetched in one query."""
    cuts = {name: pages.cut(rows, limit) for name, (_, rows) in found.items()}
    reveal = keys.revealer([sealed for name, (rows, _) in cuts.items() for sealed in _sealed(name, rows)])
    return {name: _page(name, found[name][0][0]["n"], *cuts[name], reveal, today) for name in found}


def read_list(
    conn: psycopg.Connection[Any],
    cut: CaseloadFilter,
    name: CaseloadList,
    now: datetime,
    keys: KeyRing,
    *,
    waiting_days: int = 10,
    after: str | None = None,
    limit: int = 50,
) -> ReferralPage | NotificationPage | UnpaidWorkPage:
    """A page of one list of the cut's caseload, with the list's total."""
    listing = caseload_list(cut, name, now, waiting_days)
    counted, rows = fetch_pipelined(conn, [listing.count(), listing.page(_cursor(listing, after), limit)])
    return _pages({name: (counted, rows)}, limit, keys, now.date())[name]


def _revealed(rows: list[dict[str, Any]], keys: KeyRing, column: str = "personal") -> tuple[list[Any], Revealer]:
    """The sealed values of a column (popped from the rows), and the keys to open them, fetched at once."""
    sealed = [load_sealed(row.pop(column)) for row in rows]
    return sealed, keys.revealer(sealed)


def _referral_lines(rows: list[dict[str, Any]], reveal: Revealer) -> list[ReferralLine]:
    lines = []
    for row in rows:
        personal = reveal(load_sealed(row.pop("personal")), ReferralPersonalData)
        row["crn"] = personal.crn if personal else None
        row["person_name"] = f"{personal.person.given_name} {personal.person.family_name}" if personal else None
        row["erased"] = row["erased"] or personal is None
        lines.append(msgspec.convert(row, ReferralLine))
    return lines


def _notifications(rows: list[dict[str, Any]], reveal: Revealer) -> list[PendingNotification]:
    for row in rows:
        notes = reveal(load_sealed(row.pop("notes")), AttendanceNotes)
        row["concerns"] = notes.concerns if notes else None
    return [msgspec.convert(row, PendingNotification) for row in rows]


def _regions_join(cut: CaseloadFilter, table: str) -> tuple[str, list[Any]]:
    """Unpaid Work and programme groups filtered like referrals (their region is their contract's)."""
    clauses, params = [], []
    if cut.supplier_id:
        clauses.append(f"{table}.supplier_id = %s")
        params.append(cut.supplier_id)
    if cut.contract_id:
        clauses.append(f"{table}.contract_id = %s")
        params.append(cut.contract_id)
    if cut.region:
        clauses.append(
            f"EXISTS (SELECT 1 FROM catalogue_contracts k WHERE k.contract_id = {table}.contract_id"
            " AND %s = ANY(k.regions))"
        )
        params.append(cut.region)
    if cut.caseworker_id or cut.practitioner_id:
        clauses.append("false")  # orders and groups are not held by one caseworker or practitioner
    return (" AND ".join(clauses) or "true"), params


def _unpaid_work_lines(rows: list[dict[str, Any]], today: date, reveal: Revealer) -> list[UnpaidWorkLine]:
    lines = []
    for row in rows:
        identity = reveal(load_sealed(row.pop("personal")), Identity)
        weeks = dict(zip(row.pop("weeks") or (), row.pop("week_hours") or (), strict=True))
        row["weeks_below_minimum"] = (
            0
            if row["completed_on"]
            else unpaid_work.weeks_below_minimum(row["first_session_on"], weeks, row["weekly_minimum_hours"], today)
        )
        row["crn"] = identity.crn if identity else None
        row["erased"] = row["erased"] or identity is None
        lines.append(msgspec.convert(row, UnpaidWorkLine))
    return lines


def caseload(
    conn: psycopg.Connection[Any],
    cut: CaseloadFilter,
    now: datetime,
    keys: KeyRing,
    *,
    waiting_days: int = 10,
    limit: int = 20,
) -> Caseload:
    """The cut's counts and the first `limit` of each of its lists, in two round trips (and one for keys)."""
    where, params = cut.where()
    # The counts come from the running totals when the cut is a provider, contract or region (however long
    # their history); a caseworker's or practitioner's own caseload is small enough to count directly.
    personal_cut = cut.caseworker_id is not None or cut.practitioner_id is not None
    sums = ", ".join(f"coalesce(sum({c}), 0) AS {c}" for c in _TOTALS[1:])
    counts = (
        f"SELECT status, sum(referrals) AS n, {sums} FROM caseload_totals r WHERE {where} GROUP BY status"
        if not personal_cut
        else "SELECT status, count(*) AS n, coalesce(sum(sessions_attended), 0) AS attended,"
        " coalesce(sum(sessions_recorded), 0) AS recorded,"
        " count(*) FILTER (WHERE end_state = 'completed') AS completed,"
        " count(*) FILTER (WHERE end_state = 'ended_early') AS ended_early,"
        " count(*) FILTER (WHERE end_state = 'cancelled') AS cancelled,"
        " coalesce(sum(outcomes_achieved), 0) AS achieved, coalesce(sum(outcomes_rated), 0) AS rated"
        f" FROM caseload_referrals r WHERE {where} GROUP BY status"
    )
    upw_where, upw_params = _regions_join(cut, "u")
    group_where, group_params = _regions_join(cut, "g")
    lists = {name: caseload_list(cut, name, now, waiting_days) for name in CaseloadList}
    # Every query goes out at once (one round trip's wait, not thirteen), then one query for the keys.
    groups, upw_totals, small_groups, *found = fetch_pipelined(
        conn,
        [
            (counts, params),
            (
                "SELECT "
                + ", ".join(
                    f"coalesce(sum({c}), 0)::{_TOTAL_TYPES.get(c, 'bigint')} AS {c}" for c in _UNPAID_WORK_TOTALS
                )
                + f" FROM caseload_unpaid_work_totals u WHERE {upw_where}",
                upw_params,
            ),
            (
                "SELECT group_id, programme, name, participants, sessions_scheduled FROM caseload_programme_groups g"
                f" WHERE {group_where} AND {_BELOW_MINIMUM} ORDER BY name",
                [*group_params, *_MINIMUM_GROUPS],
            ),
            *(query for listing in lists.values() for query in (listing.count(), listing.page(None, limit))),
        ],
    )
    read = _pages({name: (found[2 * i], found[2 * i + 1]) for i, name in enumerate(lists)}, limit, keys, now.date())
    totals = {k: sum(g[k] for g in groups) for k in _TOTALS[1:]}
    return Caseload(
        as_of=now,
        by_status={g["status"]: g["n"] for g in groups if g["n"]},
        unassigned=read[CaseloadList.UNASSIGNED],
        waiting_for_first_appointment=read[CaseloadList.WAITING_FOR_FIRST_APPOINTMENT],
        waiting_days=waiting_days,
        attendance_rate=_rate(totals["attended"], totals["recorded"]),
        notifications_pending=read[CaseloadList.NOTIFICATIONS_PENDING],
        completed=totals["completed"],
        ended_early=totals["ended_early"],
        cancelled=totals["cancelled"],
        outcome_achievement_rate=_rate(totals["achieved"], totals["rated"]),
        unpaid_work=UnpaidWorkSummary(
            **upw_totals[0],
            at_risk=read[CaseloadList.UNPAID_WORK_AT_RISK],
            started_late=read[CaseloadList.UNPAID_WORK_STARTED_LATE],
        ),
        programme_groups_below_minimum=[msgspec.convert(r, ProgrammeGroupLine) for r in small_groups],
    )


class AssignmentLine(msgspec.Struct, kw_only=True):
    caseworker_id: str
    previous_caseworker_id: str | None
    assigned_at: datetime
    assigned_by: str


class AppointmentLine(msgspec.Struct, kw_only=True):
    appointment_id: UUID
    kind: str
    starts_at: datetime
    duration_minutes: int
    delivery_method: str
    session_type: str
    status: str
    reschedules: int
    attendance_recorded_at: datetime | None
    absence: str | None
    behaviour: str | None
    concerns: str | None
    notify: bool
    acknowledged: bool
    rar: bool


class ReferralRecord(msgspec.Struct, kw_only=True):
    """A referral with its timeline, appointments and assignment history.

    The person's details are revealed to those allowed to read them; once erased they are null and
    `erased` is true.
    """

    id: UUID
    reference_number: str
    contract_id: UUID
    supplier_id: UUID
    practitioner_id: str
    region: str | None
    category: str
    complexity: str
    crn: str | None
    person_name: str | None
    person: PersonDetails | None
    needs_and_accessibility: str | None
    risk_summary: str | None
    erased: bool
    status: str
    caseworker_id: str | None
    received_at: datetime
    acknowledged_at: datetime | None
    assigned_at: datetime | None
    first_appointment_at: datetime | None
    initial_assessment_at: datetime | None
    action_plan_submitted_at: datetime | None
    action_plan_approved_at: datetime | None
    sessions_planned: int | None
    sessions_attended: int
    sessions_recorded: int
    rar_days: int
    completion_deadline: date
    end_state: str | None
    end_reason: str | None
    concluded_at: datetime | None
    outcomes_rated: int
    outcomes_achieved: int
    outcomes_partial: int
    version: int
    assignments: list[AssignmentLine]
    appointments: list[AppointmentLine]


def get_referral(conn: psycopg.Connection[Any], referral_id: UUID, keys: KeyRing) -> ReferralRecord | None:
    rows = fetch_rows(
        conn,
        "SELECT r.*, r.referral_id AS id, p.personal FROM caseload_referrals r"
        " LEFT JOIN caseload_people p ON p.record_id = r.referral_id WHERE r.referral_id = %s",
        (referral_id,),
    )
    if not rows:
        return None
    row = rows[0]
    row["assignments"] = fetch_rows(
        conn,
        "SELECT caseworker_id, previous_caseworker_id, assigned_at, assigned_by FROM caseload_assignments"
        " WHERE referral_id = %s ORDER BY position",
        (referral_id,),
    )
    appointments = fetch_rows(
        conn, "SELECT * FROM caseload_appointments WHERE referral_id = %s ORDER BY starts_at", (referral_id,)
    )
    notes = [load_sealed(a.pop("notes")) for a in appointments]
    sealed = load_sealed(row.pop("personal"))
    reveal = keys.revealer([sealed, *notes])
    personal = reveal(sealed, ReferralPersonalData)
    row.update(
        crn=personal.crn if personal else None,
        person_name=f"{personal.person.given_name} {personal.person.family_name}" if personal else None,
        person=personal.person if personal else None,
        needs_and_accessibility=personal.needs_and_accessibility if personal else None,
        risk_summary=personal.risk_summary if personal else None,
        erased=row["erased"] or personal is None,
    )
    for appointment, value in zip(appointments, notes, strict=True):
        opened = reveal(value, AttendanceNotes)
        appointment["behaviour"] = opened.behaviour if opened else None
        appointment["concerns"] = opened.concerns if opened else None
    row["appointments"] = appointments
    return msgspec.convert(row, ReferralRecord, strict=False)


class ProgrammeParticipantLine(msgspec.Struct, kw_only=True):
    """A participant, current or past. `crn` is null, and `erased` true, once their personal data is erased."""

    subject_id: UUID
    crn: str | None
    erased: bool
    status: str  # current, completed, withdrawn
    joined_at: datetime
    left_on: date | None
    end_reason: str | None
    sessions_booked: int
    sessions_attended: int  # attended or late
    sessions_missed: int  # recorded as did not attend


class ProgrammeSessionPlace(msgspec.Struct, kw_only=True):
    subject_id: UUID
    attendance: str | None  # attended, late, did_not_attend; null until recorded
    absence: str | None


class ProgrammeSessionLine(msgspec.Struct, kw_only=True):
    number: int
    kind: str
    on: date
    participants: list[ProgrammeSessionPlace]


class ProgrammeGroupRecord(msgspec.Struct, kw_only=True):
    """A programme group: its participants now and before (those who completed the programme or withdrew have
    left it, and no longer count towards its size), and its sessions, numbered in the order they were scheduled,
    with each participant's attendance."""

    id: UUID
    programme: str
    contract_id: UUID
    supplier_id: UUID
    name: str
    mode: str
    facilitator_id: str
    current: int
    completed: int
    withdrawn: int
    sessions_scheduled: int
    first_session_on: date | None
    version: int
    participants: list[ProgrammeParticipantLine]
    sessions: list[ProgrammeSessionLine]


def get_programme_group(conn: psycopg.Connection[Any], group_id: UUID, keys: KeyRing) -> ProgrammeGroupRecord | None:
    groups, people, places = fetch_pipelined(
        conn,
        [
            (
                "SELECT group_id AS id, programme, contract_id, supplier_id, name, mode, facilitator_id,"
                " participants AS current, completed, withdrawn, sessions_scheduled, first_session_on, version"
                " FROM caseload_programme_groups WHERE group_id = %s",
                (group_id,),
            ),
            (
                "SELECT p.subject_id, p.status, p.joined_at, p.left_on, p.end_reason, p.personal,"
                " count(a.number) AS sessions_booked,"
                " count(a.number) FILTER (WHERE a.attendance IN ('attended', 'late')) AS sessions_attended,"
                " count(a.number) FILTER (WHERE a.attendance = 'did_not_attend') AS sessions_missed"
                " FROM caseload_programme_participants p LEFT JOIN caseload_programme_attendance a"
                " ON a.group_id = p.group_id AND a.subject_id = p.subject_id WHERE p.group_id = %s"
                " GROUP BY p.group_id, p.subject_id ORDER BY p.position",
                (group_id,),
            ),
            (
                "SELECT s.number, s.kind, s.held_on AS on, a.subject_id, a.attendance, a.absence"
                " FROM caseload_programme_sessions s JOIN caseload_programme_attendance a USING (group_id, number)"
                " WHERE s.group_id = %s ORDER BY s.number, a.subject_id",
                (group_id,),
            ),
        ],
    )
    if not groups:
        return None
    sealed, reveal = _revealed(people, keys)
    for person, value in zip(people, sealed, strict=True):
        identity = reveal(value, Identity)
        person["crn"] = identity.crn if identity else None
        person["erased"] = identity is None
    sessions: dict[int, dict[str, Any]] = {}
    for place in places:
        number = place.pop("number")
        line = sessions.setdefault(number, {"number": number, "kind": place.pop("kind"), "on": place.pop("on")})
        line.setdefault("participants", []).append({k: place[k] for k in ("subject_id", "attendance", "absence")})
    return msgspec.convert(
        {**groups[0], "participants": people, "sessions": list(sessions.values())}, ProgrammeGroupRecord, strict=False
    )


REPORT_COLUMNS = (
    "reference_number",
    "crn",
    "supplier_id",
    "contract_id",
    "region",
    "category",
    "complexity",
    "caseworker_id",
    "received_at",
    "assigned_at",
    "first_appointment_at",
    "action_plan_approved_at",
    "sessions_planned",
    "sessions_attended",
    "outcomes_rated",
    "outcomes_achieved",
    "outcomes_partial",
    "end_state",
    "concluded_at",
)


def performance_report(
    conn: psycopg.Connection[Any], cut: CaseloadFilter, start: date, end: date, keys: KeyRing
) -> str:
    """A provider performance report as CSV: one row per referral received in [start, end], with its timeline.

    The CRN column says "erased" for a person whose personal data has been erased.
    """
    where, params = cut.where()
    columns = ", ".join("p.personal" if c == "crn" else "r." + c for c in REPORT_COLUMNS)
    rows = fetch_rows(
        conn,
        f"SELECT {columns} FROM caseload_referrals r LEFT JOIN caseload_people p ON p.record_id = r.referral_id"
        f" WHERE {where}"
        " AND r.received_at >= %s AND r.received_at < %s ORDER BY r.received_at, r.reference_number",
        [*params, start, end + timedelta(days=1)],
    )
    sealed, reveal = _revealed(rows, keys)
    for row, value in zip(rows, sealed, strict=True):
        personal = reveal(value, ReferralPersonalData)
        row["crn"] = personal.crn if personal else ERASED
    return csv_text(REPORT_COLUMNS, rows)


# -- one Unpaid Work order, one programme group ------------------------------------------------------


class UnpaidWorkOrderRecord(UnpaidWorkLine, kw_only=True):
    """One Unpaid Work order: whose it is (contract, provider), its hours and deadline, and how it is going."""

    contract_id: UUID
    supplier_id: UUID
    employed: bool
    inducted_on: date | None
    first_session_on: date | None
    version: int


def get_unpaid_work_order(
    conn: psycopg.Connection[Any], order_id: UUID, today: date, keys: KeyRing
) -> UnpaidWorkOrderRecord | None:
    rows = fetch_rows(
        conn,
        _ORDER_PAGE.format(
            page=f"SELECT {_ORDER_COLUMNS}, u.contract_id, u.supplier_id, u.employed, u.inducted_on, u.version"
            " FROM caseload_unpaid_work u WHERE u.order_id = %s"
        ),
        [today, today, order_id],
    )
    if not rows:
        return None
    owned = {
        k: rows[0][k] for k in ("contract_id", "supplier_id", "employed", "inducted_on", "first_session_on", "version")
    }
    (line,) = _unpaid_work_lines(rows, today, keys.revealer(load_sealed(r["personal"]) for r in rows))
    return UnpaidWorkOrderRecord(**msgspec.structs.asdict(line), **owned)
