"""Accredited programmes: groups formed on a contract, their participants, sessions, registers and withdrawals."""

from __future__ import annotations

from api.routes.common import Step, steps
from api.specs import AsOf, Command, Query, Route, route
from ledger.cases import programmes
from projections.caseload import models, queries
from projections.caseload.handlers import CaseloadView

TAGS = ("programmes",)
GROUP = "/programmes/{group_id}"
GROUP_STEPS: tuple[Step, ...] = (
    (
        "participants",
        "join_group",
        "Add a participant (BBR: men convicted of intimate partner violence)",
        programmes.join_group,
        programmes.JoinGroup,
    ),
    (
        "sessions",
        "schedule_session",
        "Schedule a group session (for every participant who still needs one) or an individual session",
        programmes.schedule_session,
        programmes.ScheduleProgrammeSession,
    ),
    (
        "attendance",
        "record_attendance",
        "Record a session's register (effective on the session's day); a participant who has attended"
        " all their sessions completes the programme and leaves the group",
        programmes.record_attendance,
        programmes.RecordProgrammeAttendance,
    ),
    (
        "withdrawals",
        "withdraw_participant",
        "A participant leaves the group before completing, with a coded reason",
        programmes.withdraw_participant,
        programmes.WithdrawParticipant,
    ),
)


def routes() -> list[Route]:
    return [
        route(
            "/programmes",
            post=Command(
                "programmes.form_group",
                "Form a Thinking Skills Programme or Building Better Relationships group",
                programmes.form_group,
                programmes.FormGroup,
                status=201,
                location="programmes.get",
                tags=TAGS,
            ),
        ),
        *steps(GROUP, "programmes", TAGS, *GROUP_STEPS),
        route(
            GROUP,
            get=Query(
                "programmes.get",
                "A programme group: its contract and provider, its participants now and before, its sessions"
                " and who attended each",
                lambda q, i: queries.get_programme_group(q.conn, i, q.ledger.keys),
                models.ProgrammeGroupRecord,
                views=("caseload",),
                as_of=AsOf(lambda: [CaseloadView()], aggregates=lambda group_id: [group_id]),
                etag=True,
                tags=TAGS,
            ),
        ),
    ]
