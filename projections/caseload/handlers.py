"""The caseload view and its handlers: referrals and their delivery, Unpaid Work and programme groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from psycopg import Cursor

from ledger.audit.erasure import DataSubject
from ledger.cases.outcomes import Achievement
from ledger.cases.programmes import ProgrammeGroup
from ledger.cases.referrals import AppointmentKind, Attended, Referral
from ledger.cases.unpaid_work import UnpaidWorkOrder
from ledger.personal_data import store_sealed
from projections.base import LoggedEvent, View, update_row

_ATTENDANCE_STATUS = {Attended.YES: "attended", Attended.LATE: "late", Attended.NO: "did_not_attend"}

# The running totals the handlers keep and the queries read: referrals per provider, contract, region and status;
# Unpaid Work per provider and contract.
TOTALS = ("referrals", "attended", "recorded", "completed", "ended_early", "cancelled", "achieved", "rated")
UNPAID_WORK_TOTALS = ("orders", "completed", "hours_ordered", "hours_worked", "stand_downs")


def _count(cur: Cursor[Any], referral_id: UUID, sign: int) -> None:
    """Add (1) or take away (-1) a referral's part of the running totals of its provider, contract and region."""
    cur.execute(
        f"INSERT INTO caseload_totals (supplier_id, contract_id, region, status, {', '.join(TOTALS)})"
        " SELECT supplier_id, contract_id, region, status, %(s)s, %(s)s * sessions_attended, %(s)s * sessions_recorded,"
        " %(s)s * (end_state IS NOT DISTINCT FROM 'completed')::int,"
        " %(s)s * (end_state IS NOT DISTINCT FROM 'ended_early')::int,"
        " %(s)s * (end_state IS NOT DISTINCT FROM 'cancelled')::int, %(s)s * outcomes_achieved, %(s)s * outcomes_rated"
        " FROM caseload_referrals WHERE referral_id = %(r)s"
        " ON CONFLICT (supplier_id, contract_id, region, status) DO UPDATE SET "
        + ", ".join(f"{c} = caseload_totals.{c} + excluded.{c}" for c in TOTALS),
        {"s": sign, "r": referral_id},
    )


def _add_to_order_totals(source: str) -> str:
    """Add to the running Unpaid Work totals of the provider and contract that `source` names."""
    return (
        f"INSERT INTO caseload_unpaid_work_totals (supplier_id, contract_id, {', '.join(UNPAID_WORK_TOTALS)})"
        f" SELECT supplier_id, contract_id, %s, %s, %s, %s, %s FROM {source}"
        " ON CONFLICT (supplier_id, contract_id) DO UPDATE SET "
        + ", ".join(f"{c} = caseload_unpaid_work_totals.{c} + excluded.{c}" for c in UNPAID_WORK_TOTALS)
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
            *(added.get(column, 0) for column in UNPAID_WORK_TOTALS),
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
        rid = logged.originator_id
        counted = isinstance(logged.event, _CHANGE_TOTALS)
        if counted:  # the referral's part of the totals goes out as it was, and back in as it is
            _count(cur, rid, -1)
        sets = _referral_change(cur, logged)
        sets["version"] = logged.originator_version
        update_row(cur, "caseload_referrals", "referral_id", rid, sets)
        if counted or isinstance(logged.event, Referral.ReferralMade):
            _count(cur, rid, 1)

    @staticmethod
    def unpaid_work_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        # One statement per change where it can be: the order's row and its provider's totals together.
        # The order's rules are the ones its allocation recorded (its weekly minimum, the day its start is late);
        # at_risk_from follows hours_worked by itself (a generated column over the recorded minimum, 0019).
        e, oid = logged.event, logged.originator_id
        match e:
            case UnpaidWorkOrder.UnpaidWorkOrderAllocated():
                _order_allocated(cur, logged)
            case UnpaidWorkOrder.InductionCompleted():
                update_row(
                    cur,
                    "caseload_unpaid_work",
                    "order_id",
                    oid,
                    {"inducted_on": e.on, "version": logged.originator_version},
                )
            case UnpaidWorkOrder.UnpaidWorkSessionRecorded():
                _order_session_recorded(cur, logged)
            case UnpaidWorkOrder.StandDownRecorded():
                _change_order(cur, logged, "stand_downs = stand_downs + 1", stand_downs=1)
            case UnpaidWorkOrder.UnpaidWorkCompleted():
                _change_order(cur, logged, "completed_on = %s", (e.on,), completed=1)

    @staticmethod
    def programme_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e, gid, version = logged.event, logged.originator_id, logged.originator_version
        match e:
            case ProgrammeGroup.ProgrammeGroupFormed():
                _group_formed(cur, logged)
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
                _group_session_scheduled(cur, logged)
            case ProgrammeGroup.ProgrammeAttendanceRecorded():
                _group_attendance_recorded(cur, logged)
            case ProgrammeGroup.ProgrammeCompleted() | ProgrammeGroup.ParticipantWithdrawn():
                _participant_left(cur, logged)

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


# -- referrals: what each event writes, and the columns of the referral's row it sets ----------------------------


def _referral_change(cur: Cursor[Any], logged: LoggedEvent) -> dict[str, Any]:
    e = logged.event
    recorded = logged.envelope.recorded_at
    match e:
        case Referral.ReferralMade():
            _referral_made(cur, logged)
        case Referral.ReferralAcknowledged():
            return {"acknowledged_at": recorded}
        case Referral.CaseworkerAssigned():
            return _caseworker_assigned(cur, logged)
        case Referral.AppointmentScheduled():
            _appointment_scheduled(cur, logged)
        case Referral.AppointmentRescheduled():
            _appointment_rescheduled(cur, logged)
        case Referral.AppointmentCancelled():
            cur.execute(
                "UPDATE caseload_appointments SET status = 'cancelled' WHERE appointment_id = %s",
                (e.appointment_id,),
            )
        case Referral.AttendanceRecorded():
            _attendance_recorded(cur, logged)
        case Referral.AttendanceCorrected():
            _attendance_corrected(cur, logged)
        case Referral.PractitionerNotificationAcknowledged():
            cur.execute(
                "UPDATE caseload_appointments SET acknowledged = true WHERE appointment_id = %s",
                (e.appointment_id,),
            )
        case Referral.ActionPlanSubmitted():
            return {"action_plan_submitted_at": recorded, "sessions_planned": e.number_of_sessions}
        case Referral.ActionPlanApproved():
            return {"action_plan_approved_at": recorded, "status": "in_progress"}
        case Referral.ReferralAmended():
            amended = (
                ("complexity", e.complexity and str(e.complexity)),
                ("completion_deadline", e.completion_deadline),
                ("practitioner_id", e.practitioner_id),
            )
            return {k: v for k, v in amended if v is not None}
        case Referral.ReferralWithdrawn():
            return {
                "status": "concluded",
                "end_state": str(e.end_state),
                "end_reason": str(e.reason_code),
                "concluded_at": logged.envelope.effective_at,  # the day it was withdrawn, maybe before it was recorded
            }
        case Referral.EndOfServiceReported():
            ratings = [r.achievement for r in e.outcomes]
            return {
                "outcomes_rated": len(ratings),
                "outcomes_achieved": ratings.count(Achievement.ACHIEVED),
                "outcomes_partial": ratings.count(Achievement.PARTIALLY_ACHIEVED),
            }
        case Referral.ReferralConcluded():
            return {"status": "concluded", "end_state": str(e.end_state), "concluded_at": recorded}
    return {}


def _referral_made(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e, rid = logged.event, logged.originator_id
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
            logged.envelope.recorded_at,
            d.completion_deadline,
            logged.originator_version,
        ),
    )
    _keep_personal(cur, rid, e.subject_id, e.personal)


def _caseworker_assigned(cur: Cursor[Any], logged: LoggedEvent) -> dict[str, Any]:
    e, rid, recorded = logged.event, logged.originator_id, logged.envelope.recorded_at
    cur.execute(
        "UPDATE caseload_referrals SET status = 'assigned' WHERE referral_id = %s AND status = 'sent'",
        (rid,),
    )
    cur.execute(
        "INSERT INTO caseload_assignments (referral_id, caseworker_id, previous_caseworker_id,"
        " assigned_at, assigned_by, position) VALUES (%s, %s, %s, %s, %s, %s)",
        (rid, e.caseworker_id, e.previous_caseworker_id, recorded, logged.envelope.actor_id, logged.position),
    )
    return {"caseworker_id": e.caseworker_id, "assigned_at": recorded}


def _appointment_scheduled(cur: Cursor[Any], logged: LoggedEvent) -> None:
    a, rid = logged.event.appointment, logged.originator_id
    cur.execute(
        "INSERT INTO caseload_appointments (appointment_id, referral_id, supplier_id, kind, starts_at,"
        " duration_minutes, delivery_method, session_type, status)"
        " SELECT %s, referral_id, supplier_id, %s, %s, %s, %s, %s, 'scheduled' FROM caseload_referrals"
        " WHERE referral_id = %s",
        (a.id, str(a.kind), a.starts_at, a.duration_minutes, str(a.delivery_method), str(a.session_type), rid),
    )
    cur.execute(
        "UPDATE caseload_referrals SET first_appointment_at = least(coalesce(first_appointment_at, %s), %s)"
        " WHERE referral_id = %s",
        (a.starts_at, a.starts_at, rid),
    )


def _appointment_rescheduled(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e = logged.event
    cur.execute(
        "UPDATE caseload_appointments SET starts_at = %s, reschedules = reschedules + 1 WHERE appointment_id = %s",
        (e.starts_at, e.appointment_id),
    )
    cur.execute(
        "UPDATE caseload_referrals r SET first_appointment_at = (SELECT min(starts_at)"
        " FROM caseload_appointments a WHERE a.referral_id = r.referral_id AND a.status <> 'cancelled')"
        " WHERE referral_id = %s",
        (logged.originator_id,),
    )


def _attendance_recorded(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e, rid = logged.event, logged.originator_id
    at = e.attendance
    cur.execute(
        "UPDATE caseload_appointments SET status = %s, attendance_recorded_at = %s, absence = %s,"
        " notes = %s, notify = %s, rar = %s WHERE appointment_id = %s",
        (
            _ATTENDANCE_STATUS[at.attended],
            logged.envelope.recorded_at,
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
            (logged.envelope.effective_at, rid, at.appointment_id, str(AppointmentKind.SESSION)),
        )


def _attendance_corrected(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e = logged.event
    attended = e.attended in (Attended.YES, Attended.LATE)
    # The referral's counts move by what the correction changes, read from the appointment as it was
    # (a session's attendance; a session no longer attended no longer counts towards RAR days).
    cur.execute(
        "UPDATE caseload_referrals r SET sessions_attended = r.sessions_attended + %s"
        " - (a.status IN ('attended', 'late'))::int, rar_days = r.rar_days - (a.rar AND NOT %s)::int"
        " FROM caseload_appointments a WHERE r.referral_id = %s AND a.appointment_id = %s AND a.kind = %s",
        (int(attended), attended, logged.originator_id, e.appointment_id, str(AppointmentKind.SESSION)),
    )
    cur.execute(
        "UPDATE caseload_appointments SET status = %s, absence = %s, rar = rar AND %s WHERE appointment_id = %s",
        (_ATTENDANCE_STATUS[e.attended], e.absence and str(e.absence), attended, e.appointment_id),
    )


# -- Unpaid Work ------------------------------------------------------------------------------------------------


def _order_allocated(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e, oid = logged.event, logged.originator_id
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


def _order_session_recorded(cur: Cursor[Any], logged: LoggedEvent) -> None:
    w = logged.event.work
    cur.execute(
        "INSERT INTO caseload_unpaid_work_sessions (order_id, position, worked_on, hours, kind)"
        " VALUES (%s, %s, %s, %s, %s)",
        (logged.originator_id, logged.position, w.on, w.hours, str(w.kind)),
    )
    _change_order(
        cur,
        logged,
        "hours_worked = hours_worked + %s, training_hours = training_hours + %s,"
        " first_session_on = least(coalesce(first_session_on, %s), %s)",
        (w.hours, w.hours if w.kind == "training" else 0, w.on, w.on),
        hours_worked=w.hours,
    )


# -- programme groups -------------------------------------------------------------------------------------------


def _group_formed(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e = logged.event
    g = e.group
    cur.execute(
        "INSERT INTO caseload_programme_groups (group_id, programme, contract_id, supplier_id, name, mode,"
        " facilitator_id, version) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            logged.originator_id,
            str(g.programme),
            g.contract_id,
            e.supplier_id,
            g.name,
            str(g.mode),
            g.facilitator_id,
            logged.originator_version,
        ),
    )


def _group_session_scheduled(cur: Cursor[Any], logged: LoggedEvent) -> None:
    # The group's record numbers its sessions in the order they were scheduled; so does the view, in one
    # statement: the group's count, the session and a place in it for each of its participants.
    e = logged.event
    cur.execute(
        "WITH g AS (UPDATE caseload_programme_groups SET sessions_scheduled = sessions_scheduled + 1,"
        " first_session_on = least(coalesce(first_session_on, %s), %s), version = %s WHERE group_id = %s"
        " RETURNING group_id, sessions_scheduled AS number),"
        " s AS (INSERT INTO caseload_programme_sessions (group_id, number, kind, held_on)"
        " SELECT group_id, number, %s, %s FROM g)"
        " INSERT INTO caseload_programme_attendance (group_id, number, subject_id)"
        " SELECT g.group_id, g.number, p FROM g, unnest(%s::uuid[]) AS p",
        (e.on, e.on, logged.originator_version, logged.originator_id, str(e.kind), e.on, list(e.participants)),
    )


def _group_attendance_recorded(cur: Cursor[Any], logged: LoggedEvent) -> None:
    e, gid = logged.event, logged.originator_id
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
    update_row(cur, "caseload_programme_groups", "group_id", gid, {"version": logged.originator_version})


def _participant_left(cur: Cursor[Any], logged: LoggedEvent) -> None:
    """A participant completed the programme or withdrew: either way the group has one fewer."""
    e, gid = logged.event, logged.originator_id
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
        (int(completed), int(not completed), logged.originator_version, gid),
    )
