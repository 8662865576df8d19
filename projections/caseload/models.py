"""The caseload's answers: the cut asked about, its lists and pages, a referral, an Unpaid Work order, a group."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from ledger.cases.referrals import PersonDetails


class CaseloadFilter(msgspec.Struct, kw_only=True):
    """Which part of the caseload: a provider, caseworker, practitioner, region or contract (any of them)."""

    supplier_id: UUID | None = None
    caseworker_id: str | None = None
    practitioner_id: str | None = None
    region: str | None = None
    contract_id: UUID | None = None


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


class CaseloadList(enum.StrEnum):
    """The lists of a caseload that need someone's attention, each read a page at a time."""

    UNASSIGNED = "unassigned"
    WAITING_FOR_FIRST_APPOINTMENT = "waiting-for-first-appointment"
    NOTIFICATIONS_PENDING = "notifications-pending"
    UNPAID_WORK_AT_RISK = "unpaid-work-at-risk"
    UNPAID_WORK_STARTED_LATE = "unpaid-work-started-late"


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


class UnpaidWorkOrderRecord(UnpaidWorkLine, kw_only=True):
    """One Unpaid Work order: whose it is (contract, provider), its hours and deadline, and how it is going."""

    contract_id: UUID
    supplier_id: UUID
    employed: bool
    inducted_on: date | None
    first_session_on: date | None
    version: int
