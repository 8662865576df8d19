"""Referrals and their delivery: the practitioner refers, the provider acknowledges, assigns, schedules, records
attendance and reports; the practitioner approves, amends, acknowledges notifications and withdraws."""

from __future__ import annotations

from api.openapi import Param
from api.routes.caseload import CUT, cut, limit, pages
from api.routes.common import Step, steps
from api.specs import Command, Query, Route, route
from ledger.cases import referrals
from projections.caseload import models, queries

TAGS = ("referrals",)
REFERRAL = "/referrals/{referral_id}"
# Acknowledgement, the caseworker, appointments and attendance.
DELIVERY: tuple[Step, ...] = (
    (
        "acknowledgement",
        "acknowledge",
        "The provider acknowledges the referral",
        referrals.acknowledge_referral,
        None,
    ),
    (
        "caseworker",
        "assign_caseworker",
        "Assign or reassign the caseworker (history kept)",
        referrals.assign_caseworker,
        referrals.AssignCaseworker,
    ),
    (
        "appointments",
        "schedule_appointment",
        "Schedule the initial assessment or a session",
        referrals.schedule_appointment,
        referrals.ScheduleAppointment,
    ),
    (
        "appointment-changes",
        "reschedule_appointment",
        "Reschedule an appointment: reason and who asked",
        referrals.reschedule_appointment,
        referrals.RescheduleAppointment,
    ),
    (
        "appointment-cancellations",
        "cancel_appointment",
        "Cancel an appointment",
        referrals.cancel_appointment,
        referrals.CancelAppointment,
    ),
    (
        "attendance",
        "record_attendance",
        "Record attendance and feedback (effective at the session's time)",
        referrals.record_attendance,
        referrals.RecordAttendance,
    ),
    (
        "attendance-corrections",
        "correct_attendance",
        "Correct a recorded attendance, with a reason (charges are reversed or added, never edited)",
        referrals.correct_attendance,
        referrals.CorrectAttendance,
    ),
    (
        "notification-acknowledgements",
        "acknowledge_notification",
        "The practitioner acknowledges a notification",
        referrals.acknowledge_notification,
        referrals.AcknowledgeNotification,
    ),
)
# The action plan, amendments and notes, and how the referral ends.
PLAN_AND_ENDING: tuple[Step, ...] = (
    (
        "action-plan",
        "submit_action_plan",
        "Submit the action plan (after the initial assessment)",
        referrals.submit_action_plan,
        referrals.SubmitActionPlan,
    ),
    (
        "action-plan-approval",
        "approve_action_plan",
        "The practitioner approves the action plan",
        referrals.approve_action_plan,
        None,
    ),
    (
        "amendments",
        "amend",
        "Amend complexity, outcomes, deadline or practitioner, with a reason",
        referrals.amend_referral,
        referrals.AmendReferral,
    ),
    ("case-notes", "add_case_note", "Add a case note", referrals.add_case_note, referrals.AddCaseNote),
    (
        "withdrawal",
        "withdraw",
        "Withdraw or cancel with a coded reason",
        referrals.withdraw_referral,
        referrals.EndReferral,
    ),
    (
        "end-of-service-report",
        "report_end_of_service",
        "Rate each desired outcome; the referral concludes",
        referrals.report_end_of_service,
        referrals.ReportEndOfService,
    ),
)


def routes() -> list[Route]:
    return [
        route(
            "/referrals",
            post=Command(
                "referrals.make",
                "Refer a person on probation to a live contract's service",
                referrals.make_referral,
                referrals.MakeReferral,
                status=201,
                location="referrals.get",
                tags=TAGS,
            ),
            get=Query(
                "referrals.list",
                "Referrals in a cut of the caseload, the most recently received first, a page at a time",
                lambda q: queries.list_referrals(
                    q.conn, cut(q), q.ledger.keys, status=q.param("status"), after=q.param("after"), limit=limit(q, 100)
                ),
                models.ReferralList,
                views=("caseload",),
                params=(
                    *CUT,
                    Param("status", "query", {"type": "string"}, "sent, assigned, in_progress, concluded"),
                    *pages(100),
                ),
                tags=TAGS,
            ),
        ),
        route(
            REFERRAL,
            get=Query(
                "referrals.get",
                "A referral with its timeline, appointments and assignment history",
                lambda q, i: queries.get_referral(q.conn, i, q.ledger.keys),
                models.ReferralRecord,
                views=("caseload",),
                etag=True,
                tags=TAGS,
            ),
        ),
        *steps(REFERRAL, "referrals", TAGS, *DELIVERY, *PLAN_AND_ENDING),
    ]
