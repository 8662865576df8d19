"""Routes of the caseload: referrals and delivery, Unpaid Work, accredited programmes, the caseload view."""

from __future__ import annotations

from typing import Any

from api.endpoints import AsOf, Command, Query, QueryContext, endpoint
from api.errors import invalid
from api.openapi import Param
from api.services import Services
from ledger.cases import programmes, referrals, unpaid_work
from projections.caseload import models, queries, report
from projections.caseload.handlers import CaseloadView
from projections.catalogue.handlers import CatalogueView

CUT = (
    Param("supplier_id", "query", {"type": "string", "format": "uuid"}, "Provider"),
    Param("caseworker_id", "query", {"type": "string"}, "Provider caseworker"),
    Param("practitioner_id", "query", {"type": "string"}, "Probation practitioner"),
    Param("region", "query", {"type": "string"}, "Probation region area code"),
    Param("contract_id", "query", {"type": "string", "format": "uuid"}, "Contract"),
)


def _page_params(default: int) -> tuple[Param, ...]:
    return (
        Param("after", "query", {"type": "string"}, "The next_after of the page before"),
        Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, f"Page size ({default})"),
    )


WAITING_DAYS = Param(
    "waiting_days", "query", {"type": "integer", "minimum": 0, "maximum": 365}, "Waiting threshold in days (10)"
)
ITEMS_PER_LIST = Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Items per list (20)")


def _limit(q: QueryContext, default: int) -> int:
    return q.int_param("limit", default=default, low=1, high=500)


def _waiting_days(q: QueryContext) -> int:
    return q.int_param("waiting_days", default=10, low=0, high=365)


def _list_route(services: Services, name: models.CaseloadList) -> tuple[str, Any]:
    response = {
        models.CaseloadList.NOTIFICATIONS_PENDING: models.NotificationPage,
        models.CaseloadList.UNPAID_WORK_AT_RISK: models.UnpaidWorkPage,
        models.CaseloadList.UNPAID_WORK_STARTED_LATE: models.UnpaidWorkPage,
    }.get(name, models.ReferralPage)
    return (
        f"/caseload/{name}",
        endpoint(
            services,
            get=Query(
                f"One list of the caseload, a page at a time, with its total: {LIST_SUMMARIES[name]}",
                lambda q: queries.read_list(
                    q.conn,
                    _cut(q),
                    name,
                    q.now(),
                    q.ledger.keys,
                    waiting_days=_waiting_days(q),
                    after=q.param("after"),
                    limit=_limit(q, 50),
                ),
                response,
                views=("caseload", "catalogue"),
                as_of=AsOf(lambda: [CatalogueView(), CaseloadView()]),
                params=(*CUT, *_page_params(50))
                + ((WAITING_DAYS,) if name is models.CaseloadList.WAITING_FOR_FIRST_APPOINTMENT else ()),
                tags=("caseload",),
            ),
        ),
    )


LIST_SUMMARIES = {
    models.CaseloadList.UNASSIGNED: "open referrals with no caseworker, the longest waiting first",
    models.CaseloadList.WAITING_FOR_FIRST_APPOINTMENT: "open referrals received more than waiting_days ago"
    " with no first appointment within waiting_days, the longest waiting first",
    models.CaseloadList.NOTIFICATIONS_PENDING: "attendance notifications the practitioner has not acknowledged,"
    " the oldest session first",
    models.CaseloadList.UNPAID_WORK_AT_RISK: "open Unpaid Work orders whose hours left cannot be worked by the"
    " deadline at the weekly minimum, the nearest deadline first",
    models.CaseloadList.UNPAID_WORK_STARTED_LATE: "open Unpaid Work orders not started within 7 working days of"
    " allocation, the earliest allocated first",
}


def _cut(q: QueryContext) -> models.CaseloadFilter:
    return models.CaseloadFilter(
        supplier_id=q.scoped_uuid("supplier_id"),
        caseworker_id=q.param("caseworker_id"),
        practitioner_id=q.param("practitioner_id"),
        region=q.scoped("region"),
        contract_id=q.uuid_param("contract_id"),
    )


def _report(q: QueryContext) -> str:
    start, end = q.required_day("from"), q.required_day("to")
    if end < start:
        raise invalid([("to", "must not be before from")])
    return report.performance_report(q.conn, _cut(q), start, end, q.ledger.keys)


def _referral_command(path: str, summary: str, handler: Any, body: type | None = None) -> tuple[str, Any]:
    return path, Command(summary, handler, body, tags=("referrals",))


def build_caseload_routes(services: Services) -> list[tuple[str, Any]]:
    referral_commands = (
        _referral_command("acknowledgement", "The provider acknowledges the referral", referrals.acknowledge_referral),
        _referral_command(
            "caseworker",
            "Assign or reassign the caseworker (history kept)",
            referrals.assign_caseworker,
            referrals.AssignCaseworker,
        ),
        _referral_command(
            "appointments",
            "Schedule the initial assessment or a session",
            referrals.schedule_appointment,
            referrals.ScheduleAppointment,
        ),
        _referral_command(
            "appointment-changes",
            "Reschedule an appointment: reason and who asked",
            referrals.reschedule_appointment,
            referrals.RescheduleAppointment,
        ),
        _referral_command(
            "appointment-cancellations",
            "Cancel an appointment",
            referrals.cancel_appointment,
            referrals.CancelAppointment,
        ),
        _referral_command(
            "attendance",
            "Record attendance and feedback (effective at the session's time)",
            referrals.record_attendance,
            referrals.RecordAttendance,
        ),
        _referral_command(
            "attendance-corrections",
            "Correct a recorded attendance, with a reason (charges are reversed or added, never edited)",
            referrals.correct_attendance,
            referrals.CorrectAttendance,
        ),
        _referral_command(
            "notification-acknowledgements",
            "The practitioner acknowledges a notification",
            referrals.acknowledge_notification,
            referrals.AcknowledgeNotification,
        ),
        _referral_command(
            "action-plan",
            "Submit the action plan (after the initial assessment)",
            referrals.submit_action_plan,
            referrals.SubmitActionPlan,
        ),
        _referral_command(
            "action-plan-approval", "The practitioner approves the action plan", referrals.approve_action_plan
        ),
        _referral_command(
            "amendments",
            "Amend complexity, outcomes, deadline or practitioner, with a reason",
            referrals.amend_referral,
            referrals.AmendReferral,
        ),
        _referral_command("case-notes", "Add a case note", referrals.add_case_note, referrals.AddCaseNote),
        _referral_command(
            "withdrawal", "Withdraw or cancel with a coded reason", referrals.withdraw_referral, referrals.EndReferral
        ),
        _referral_command(
            "end-of-service-report",
            "Rate each desired outcome; the referral concludes",
            referrals.report_end_of_service,
            referrals.ReportEndOfService,
        ),
    )
    upw, prog = ("unpaid-work",), ("programmes",)
    return [
        (
            "/referrals",
            endpoint(
                services,
                post=Command(
                    "Refer a person on probation to a live contract's service",
                    referrals.make_referral,
                    referrals.MakeReferral,
                    status=201,
                    location="/referrals/{id}",
                    tags=("referrals",),
                ),
                get=Query(
                    "Referrals in a cut of the caseload, the most recently received first, a page at a time",
                    lambda q: queries.list_referrals(
                        q.conn,
                        _cut(q),
                        q.ledger.keys,
                        status=q.param("status"),
                        after=q.param("after"),
                        limit=_limit(q, 100),
                    ),
                    models.ReferralList,
                    views=("caseload",),
                    params=(
                        *CUT,
                        Param("status", "query", {"type": "string"}, "sent, assigned, in_progress, concluded"),
                        *_page_params(100),
                    ),
                    tags=("referrals",),
                ),
            ),
        ),
        (
            "/referrals/{referral_id}",
            endpoint(
                services,
                get=Query(
                    "A referral with its timeline, appointments and assignment history",
                    lambda q, i: queries.get_referral(q.conn, i, q.ledger.keys),
                    models.ReferralRecord,
                    views=("caseload",),
                    etag=True,
                    tags=("referrals",),
                ),
            ),
        ),
        *[
            (f"/referrals/{{referral_id}}/{path}", endpoint(services, post=command))
            for path, command in referral_commands
        ],
        (
            "/unpaid-work",
            endpoint(
                services,
                post=Command(
                    "Allocate an Unpaid Work order to the innovation partner",
                    unpaid_work.allocate_order,
                    unpaid_work.AllocateOrder,
                    status=201,
                    location="/unpaid-work/{id}",
                    tags=upw,
                ),
                get=Query(
                    "Unpaid Work orders: hours ordered and worked, weeks below minimum, risk of missing 12 months;"
                    " the most recently allocated first, a page at a time",
                    lambda q: queries.unpaid_work_orders(
                        q.conn, _cut(q), q.now().date(), q.ledger.keys, after=q.param("after"), limit=_limit(q, 100)
                    ),
                    models.UnpaidWorkList,
                    views=("caseload",),
                    params=(*CUT, *_page_params(100)),
                    tags=upw,
                ),
            ),
        ),
        (
            "/unpaid-work/{order_id}",
            endpoint(
                services,
                get=Query(
                    "An Unpaid Work order: its contract and provider, hours ordered and worked, deadline and risk",
                    lambda q, i: queries.get_unpaid_work_order(q.conn, i, q.now().date(), q.ledger.keys),
                    models.UnpaidWorkOrderRecord,
                    views=("caseload",),
                    etag=True,
                    tags=upw,
                ),
            ),
        ),
        *[
            (f"/unpaid-work/{{order_id}}/{path}", endpoint(services, post=Command(summary, handler, body, tags=upw)))
            for path, summary, handler, body in (
                (
                    "induction",
                    "Induction with risk and needs assessment",
                    unpaid_work.complete_induction,
                    unpaid_work.CompleteInduction,
                ),
                (
                    "sessions",
                    "Hours worked in a session, with placement",
                    unpaid_work.record_work,
                    unpaid_work.RecordWork,
                ),
                (
                    "stand-downs",
                    "A stand-down: reported, no placement",
                    unpaid_work.record_stand_down,
                    unpaid_work.RecordStandDown,
                ),
            )
        ],
        (
            "/programmes",
            endpoint(
                services,
                post=Command(
                    "Form a Thinking Skills Programme or Building Better Relationships group",
                    programmes.form_group,
                    programmes.FormGroup,
                    status=201,
                    location="/programmes/{id}",
                    tags=prog,
                ),
            ),
        ),
        *[
            (f"/programmes/{{group_id}}/{path}", endpoint(services, post=Command(summary, handler, body, tags=prog)))
            for path, summary, handler, body in (
                (
                    "participants",
                    "Add a participant (BBR: men convicted of intimate partner violence)",
                    programmes.join_group,
                    programmes.JoinGroup,
                ),
                (
                    "sessions",
                    "Schedule a group session (for every participant who still needs one) or an individual session",
                    programmes.schedule_session,
                    programmes.ScheduleProgrammeSession,
                ),
                (
                    "attendance",
                    "Record a session's register (effective on the session's day); a participant who has attended"
                    " all their sessions completes the programme and leaves the group",
                    programmes.record_attendance,
                    programmes.RecordProgrammeAttendance,
                ),
                (
                    "withdrawals",
                    "A participant leaves the group before completing, with a coded reason",
                    programmes.withdraw_participant,
                    programmes.WithdrawParticipant,
                ),
            )
        ],
        (
            "/programmes/{group_id}",
            endpoint(
                services,
                get=Query(
                    "A programme group: its contract and provider, its participants now and before, its sessions"
                    " and who attended each",
                    lambda q, i: queries.get_programme_group(q.conn, i, q.ledger.keys),
                    models.ProgrammeGroupRecord,
                    views=("caseload",),
                    as_of=AsOf(lambda: [CaseloadView()], aggregates=lambda group_id: [group_id]),
                    etag=True,
                    tags=prog,
                ),
            ),
        ),
        (
            "/caseload",
            endpoint(
                services,
                get=Query(
                    "The caseload for a provider, caseworker, practitioner, region or contract: its counts and"
                    " the first page of each list that needs attention (GET /caseload/{list} reads on)",
                    lambda q: queries.caseload(
                        q.conn, _cut(q), q.now(), q.ledger.keys, waiting_days=_waiting_days(q), limit=_limit(q, 20)
                    ),
                    models.Caseload,
                    views=("caseload", "catalogue"),
                    as_of=AsOf(lambda: [CatalogueView(), CaseloadView()]),
                    params=(
                        *CUT,
                        WAITING_DAYS,
                        ITEMS_PER_LIST,
                    ),
                    tags=("caseload",),
                ),
            ),
        ),
        *[_list_route(services, name) for name in models.CaseloadList],
        (
            "/caseload/report.csv",
            endpoint(
                services,
                get=Query(
                    "Provider performance report: one CSV row per referral received in the period, with its timeline",
                    _report,
                    {"type": "string"},
                    views=("caseload",),
                    params=(
                        *CUT,
                        Param("from", "query", {"type": "string", "format": "date"}, "First day", True),
                        Param("to", "query", {"type": "string", "format": "date"}, "Last day", True),
                    ),
                    content_type="text/csv",
                    tags=("caseload",),
                ),
            ),
        ),
    ]
