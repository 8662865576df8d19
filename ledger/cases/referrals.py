"""Referrals: a practitioner refers a person to a live contract's service; the provider delivers and reports."""

from __future__ import annotations

import enum
import random
import string
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from typing import Annotated
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.cases.outcomes import DESIRED_OUTCOMES, Achievement, EndReason
from ledger.envelope import Envelope, stamping, taking_effect
from ledger.errors import ConcurrencyConflict, InvalidCommand, RuleViolation
from ledger.framework import categories, geography
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.ids import chooser, new_id
from ledger.payments import accounts
from ledger.payments.accounts import ContractAccount
from ledger.personal_data import Crn, Sealed
from ledger.procurement.contracts import Contract, Gender
from ledger.store import Ledger, Recorded
from ledger.types import LongText, Name, Reason, ShortText, UtcDateTime


class SentenceType(enum.StrEnum):
    COMMUNITY_ORDER = "community_order"
    SUSPENDED_SENTENCE_ORDER = "suspended_sentence_order"
    LICENCE = "licence"
    POST_SENTENCE_SUPERVISION = "post_sentence_supervision"
    PRE_RELEASE_CUSTODY = "pre_release_custody"


class Setting(enum.StrEnum):
    COMMUNITY = "community"
    CUSTODY = "custody"


class DeliveryMethod(enum.StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"


class SessionType(enum.StrEnum):
    ONE_TO_ONE = "one_to_one"
    GROUP = "group"


class AppointmentKind(enum.StrEnum):
    INITIAL_ASSESSMENT = "initial_assessment"
    SESSION = "session"


class Attended(enum.StrEnum):
    YES = "yes"
    LATE = "late"
    NO = "no"


class Absence(enum.StrEnum):
    ACCEPTABLE = "acceptable"
    UNACCEPTABLE = "unacceptable"
    LOGISTICS = "logistics"  # the session did not happen for a reason on the provider's side


class RequestedBy(enum.StrEnum):
    PROVIDER = "provider"
    PERSON_ON_PROBATION = "person_on_probation"
    PRACTITIONER = "practitioner"


class ReferralStatus(enum.StrEnum):
    SENT = "sent"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"  # action plan approved, sessions under way
    CONCLUDED = "concluded"


class EndState(enum.StrEnum):
    CANCELLED = "cancelled"  # ended before any session was delivered
    ENDED_EARLY = "ended_early"  # ended after some delivery
    COMPLETED = "completed"  # every planned session delivered and the end-of-service report made


class PersonDetails(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Personal data of the person on probation: kept together so that it can be encrypted per person."""

    given_name: Name
    family_name: Name
    date_of_birth: date
    gender: Annotated[str, msgspec.Meta(pattern=r"^(female|male|other)$")]
    address: ShortText | None = None
    diverse_needs: ShortText | None = None


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    """Sealed with the person's key: who they are (their CRN and details)."""

    crn: str
    person: PersonDetails


class ReferralDetails(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What a referral asks for: everything but the person, whose data is sealed separately."""

    contract_id: UUID
    area: Annotated[str, msgspec.Meta(description="Where the person lives or will be released to (area code)")]
    category: str
    complexity: categories.Complexity
    desired_outcomes: Annotated[tuple[str, ...], msgspec.Meta(min_length=1)]
    max_enforceable_days: Annotated[int, msgspec.Meta(ge=1, le=365)]
    sentence_type: SentenceType
    setting: Setting = Setting.COMMUNITY
    expected_release_date: date | None = None
    completion_deadline: date


class MakeReferral(ReferralDetails, kw_only=True, forbid_unknown_fields=True):
    """A practitioner refers a person on probation to a live contract's service."""

    crn: Crn
    person: PersonDetails
    needs_and_accessibility: ShortText | None = None
    risk_summary: LongText

    def details(self) -> ReferralDetails:
        return ReferralDetails(**{name: getattr(self, name) for name in ReferralDetails.__struct_fields__})


class ReferralPersonalData(msgspec.Struct, frozen=True, kw_only=True):
    """Sealed with the person's key: who they are and what the provider must know about them."""

    crn: str
    person: PersonDetails
    needs_and_accessibility: str | None = None
    risk_summary: str


class AssignCaseworker(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    caseworker_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class ScheduleAppointment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kind: AppointmentKind = AppointmentKind.SESSION
    starts_at: UtcDateTime
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=480)] = 60
    delivery_method: DeliveryMethod
    session_type: SessionType = SessionType.ONE_TO_ONE
    location: ShortText | None = None


class RescheduleAppointment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    appointment_id: UUID
    starts_at: UtcDateTime
    reason: Reason
    requested_by: RequestedBy


class CancelAppointment(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    appointment_id: UUID
    reason: Reason


class AttendanceFacts(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What happened at a session, without the notes about the person."""

    appointment_id: UUID
    attended: Attended
    session_happened: bool = True
    absence: Absence | None = None
    notify_practitioner: bool = False
    counts_towards_rar: bool = False


class RecordAttendance(AttendanceFacts, kw_only=True, forbid_unknown_fields=True):
    """What happened at a session; may be recorded later, and takes effect at the session's time."""

    behaviour: ShortText | None = None
    concerns: ShortText | None = None

    def facts(self) -> AttendanceFacts:
        return AttendanceFacts(**{name: getattr(self, name) for name in AttendanceFacts.__struct_fields__})


class AttendanceNotes(msgspec.Struct, frozen=True, kw_only=True):
    """Sealed with the person's key: how they behaved and any concerns."""

    behaviour: str | None = None
    concerns: str | None = None


class CorrectAttendance(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Correct what was recorded for a session (e.g. recorded as attended by mistake), with a reason."""

    appointment_id: UUID
    attended: Attended
    absence: Absence | None = None
    reason: Reason


class SubmitActionPlan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    activities: Annotated[tuple[ShortText, ...], msgspec.Meta(min_length=1, max_length=30)]
    number_of_sessions: Annotated[int, msgspec.Meta(ge=1, le=100)]


class AmendReferral(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    complexity: categories.Complexity | None = None
    desired_outcomes: tuple[str, ...] | None = None
    completion_deadline: date | None = None
    practitioner_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    reason: Reason


class AddCaseNote(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    subject: ShortText
    body: LongText


class EndReferral(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason_code: EndReason
    detail: ShortText | None = None
    withdrawn_on: Annotated[
        date | None,
        msgspec.Meta(description="The day it was withdrawn (default: now): the withdrawal is effective from then"),
    ] = None


class OutcomeAchievement(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    outcome: str
    achievement: Achievement


class OutcomeRating(OutcomeAchievement, frozen=True, kw_only=True, forbid_unknown_fields=True):
    notes: ShortText | None = None


class CaseNote(msgspec.Struct, frozen=True, kw_only=True):
    """Sealed with the person's key."""

    subject: str
    body: str


class EndOfServiceNarrative(msgspec.Struct, frozen=True, kw_only=True):
    """Sealed with the person's key: the report's summary and the notes on each outcome."""

    summary: str
    notes: dict[str, str]


class ReportEndOfService(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    outcomes: Annotated[tuple[OutcomeRating, ...], msgspec.Meta(min_length=1)]
    summary: LongText


class AcknowledgeNotification(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    appointment_id: UUID


class Appointment(msgspec.Struct, kw_only=True):
    id: UUID
    kind: AppointmentKind
    starts_at: datetime
    duration_minutes: int
    delivery_method: DeliveryMethod
    session_type: SessionType
    cancelled: bool = False
    attended: Attended | None = None
    rar: bool = False
    notify: bool = False
    acknowledged: bool = False


_REFERENCE_ALPHABET = "".join(c for c in string.ascii_uppercase if c not in "IO")


def new_reference_number(rng: random.Random | None = None) -> str:
    """Two letters, four digits, two letters: readable over the phone (no I or O)."""
    r = rng or chooser()
    letters = lambda n: "".join(r.choice(_REFERENCE_ALPHABET) for _ in range(n))  # noqa: E731
    return f"{letters(2)}{r.randint(0, 9999):04d}{letters(2)}"


def referral_id_for(reference_number: str) -> UUID:
    """A reference number names one referral: the id derives from it, so a clash fails the insert."""
    return uuid5(LEDGER_NAMESPACE, f"referral:{reference_number}")


Seal = Callable[[object], Sealed]  # seals a value with the person's key (refused once their data is erased)


class Referral(LedgerAggregate):
    """A referral and its delivery. Its commands are the public methods: each checks the rules and then triggers an
    @event method, which only records (ADR 28). What the person said or is said about them is sealed by the `seal`
    the command is given, after the rules allow it: sealing is refused once the person's data is erased."""

    @staticmethod
    def create_id(reference_number: str) -> UUID:
        return referral_id_for(reference_number)

    @event("ReferralMade")
    def __init__(
        self,
        reference_number: str,
        details: ReferralDetails,
        subject_id: UUID,
        personal: Sealed,
        supplier_id: UUID,
        practitioner_id: str,
        region: str | None,
    ) -> None:
        self.reference_number = reference_number
        self.details = details
        self.subject_id = subject_id
        self.contract_id = details.contract_id
        self.supplier_id = supplier_id
        self.practitioner_id = practitioner_id
        self.region = region
        self.complexity = details.complexity
        self.desired_outcomes = details.desired_outcomes
        self.completion_deadline = details.completion_deadline
        self.status = ReferralStatus.SENT
        self.acknowledged = False
        self.caseworker_id: str | None = None
        self.appointments: dict[UUID, Appointment] = {}
        self.planned_sessions: int | None = None
        self.action_plan_approved = False
        self.end_state: EndState | None = None
        self.ended_with: EndReason | None = None
        self.outcomes_reported = False

    # -- commands: the rules, then the event -------------------------------------------------------

    @staticmethod
    def check_may_refer(command: MakeReferral, contract: Contract, today: date) -> None:
        """A referral goes to a contract live today that delivers its category at its complexity level and covers the
        person's area, for a person the contract's eligibility admits, with its completion deadline still ahead.

        Checked before the referral exists, and before the person's data is sealed (sealing keeps a key for them),
        with the plain values of the command (ADR 16).
        """
        category = categories.BY_CODE[command.category]
        if not contract.is_live(today):
            raise RuleViolation(
                "contract not live",
                f"the contract runs {contract.start_date} to {contract.end_date}"
                + (f", terminated {contract.terminated_on}" if contract.terminated_on else ""),
            )
        if command.category not in (contract.need, contract.cohort):
            raise RuleViolation(
                "category not delivered under this contract",
                f"the contract delivers {contract.need or contract.cohort}, not {command.category}",
            )
        if command.complexity not in category.complexity_levels:
            raise RuleViolation("complexity level not offered", f"{category.name} has no {command.complexity} level")
        outside = geography.uncovered(command.area, contract.areas)
        if outside:
            raise RuleViolation(
                "contract does not cover the person's area",
                f"{', '.join(outside)}{'' if outside == (command.area,) else f' of {command.area}'}"
                f" is outside {', '.join(contract.areas)}",
            )
        rules = contract.eligibility
        if rules.gender is Gender.WOMEN and command.person.gender != "female":
            raise RuleViolation("person not eligible: gender", "the service is for women only")
        if rules.gender is Gender.MEN and command.person.gender != "male":
            raise RuleViolation("person not eligible: gender", "the service is for men only")
        age = _age_on(command.person.date_of_birth, today)
        if (rules.min_age is not None and age < rules.min_age) or (rules.max_age is not None and age > rules.max_age):
            raise RuleViolation(
                "person not eligible: age",
                f"the person is {age}; the service is for ages {rules.min_age or 0}-{rules.max_age or 'any'}",
            )
        if command.completion_deadline <= today:
            raise RuleViolation("completion deadline in the future", f"{command.completion_deadline} has passed")

    def acknowledge(self) -> None:
        """The provider accepts the referral, once."""
        self._require_open()
        if self.acknowledged:
            raise RuleViolation("referral already acknowledged", "the provider acknowledged it already")
        self._acknowledged()

    def assign_caseworker(self, caseworker_id: str) -> None:
        """A caseworker (another than the one holding it) takes the referral."""
        self._require_open()
        if self.caseworker_id == caseworker_id:
            raise RuleViolation("caseworker already assigned", f"{caseworker_id} already holds this referral")
        self._caseworker_assigned(caseworker_id=caseworker_id, previous_caseworker_id=self.caseworker_id)

    def schedule_appointment(self, command: ScheduleAppointment) -> None:
        """The assigned caseworker books an appointment; sessions once the action plan is approved."""
        self._require_open()
        if self.caseworker_id is None:
            raise RuleViolation("assign a caseworker first", "appointments are made by the assigned caseworker")
        if command.kind is AppointmentKind.SESSION and not self.action_plan_approved:
            raise RuleViolation("sessions need an approved action plan", "schedule the initial assessment first")
        self._appointment_scheduled(
            appointment=Appointment(
                id=new_id(),
                kind=command.kind,
                starts_at=command.starts_at,
                duration_minutes=command.duration_minutes,
                delivery_method=command.delivery_method,
                session_type=command.session_type,
            )
        )

    def reschedule_appointment(self, command: RescheduleAppointment, seal: Seal) -> None:
        """Move an appointment that is neither cancelled nor recorded, with a reason (about the person: sealed)."""
        appointment = self._still_open(command.appointment_id, "a cancelled or recorded appointment cannot move")
        self._appointment_rescheduled(
            appointment_id=appointment.id,
            starts_at=command.starts_at,
            previous_starts_at=appointment.starts_at,
            reason=seal(command.reason),
            requested_by=command.requested_by,
        )

    def cancel_appointment(self, command: CancelAppointment, seal: Seal) -> None:
        """Cancel an appointment that is neither cancelled nor recorded, with a reason (sealed)."""
        appointment = self._still_open(
            command.appointment_id, "a cancelled or recorded appointment cannot be cancelled"
        )
        self._appointment_cancelled(appointment_id=appointment.id, reason=seal(command.reason))

    def record_attendance(self, command: RecordAttendance, now: datetime, seal: Seal) -> None:
        """What happened at a session, once, not before it starts and not beyond the RAR days ordered; effective when
        the session started, whenever it is recorded. An unacceptable absence always notifies the practitioner."""
        self._require_open()
        appointment = self._appointment(command.appointment_id)
        if appointment.cancelled:
            raise RuleViolation("appointment cancelled", "attendance cannot be recorded for a cancelled appointment")
        if appointment.attended is not None:
            raise RuleViolation("attendance already recorded", "correct it instead of recording it twice")
        if now < appointment.starts_at:
            raise RuleViolation("attendance before the session", f"the session starts {appointment.starts_at}")
        if command.counts_towards_rar and self.rar_days() + 1 > self.details.max_enforceable_days:
            raise RuleViolation(
                "RAR days exceed the maximum enforceable days", f"{self.details.max_enforceable_days} days were ordered"
            )
        notify = command.notify_practitioner or command.absence is Absence.UNACCEPTABLE
        attendance = msgspec.structs.replace(command.facts(), notify_practitioner=notify)
        notes = (
            seal(AttendanceNotes(behaviour=command.behaviour, concerns=command.concerns))
            if command.behaviour or command.concerns
            else None
        )
        with _at_session(appointment):
            self._attendance_recorded(attendance=attendance, notes=notes, session_starts_at=appointment.starts_at)

    def correct_attendance(self, command: CorrectAttendance, seal: Seal) -> None:
        """Correct a recorded attendance, with a reason (about the person: sealed, not copied into the envelope);
        effective when the session started."""
        self._require_open()
        appointment = self._appointment(command.appointment_id)
        if appointment.attended is None:
            raise RuleViolation("no attendance to correct", "record the attendance first")
        if appointment.attended is command.attended:
            raise RuleViolation("attendance unchanged", f"the attendance is already {command.attended}")
        with _at_session(appointment):
            self._attendance_corrected(
                appointment_id=appointment.id,
                attended=command.attended,
                absence=command.absence,
                reason=seal(command.reason),
            )

    def acknowledge_notification(self, appointment_id: UUID) -> None:
        """The practitioner acknowledges a notification waiting for them."""
        appointment = self._appointment(appointment_id)
        if not appointment.notify or appointment.acknowledged:
            raise RuleViolation("no notification to acknowledge", "nothing is waiting for the practitioner here")
        self._notification_acknowledged(appointment_id=appointment.id)

    def submit_action_plan(self, command: SubmitActionPlan, seal: Seal) -> None:
        """The provider's plan (its activities sealed), once the initial assessment was attended."""
        self._require_open()
        if not any(
            a.kind is AppointmentKind.INITIAL_ASSESSMENT and a.attended in (Attended.YES, Attended.LATE)
            for a in self.appointments.values()
        ):
            raise RuleViolation("action plan after the initial assessment", "record the initial assessment first")
        self._action_plan_submitted(activities=seal(command.activities), number_of_sessions=command.number_of_sessions)

    def approve_action_plan(self) -> None:
        """The practitioner approves the plan awaiting approval."""
        self._require_open()
        if self.planned_sessions is None or self.action_plan_approved:
            raise RuleViolation("no action plan awaiting approval", "the provider must submit one first")
        self._action_plan_approved()

    def amend(self, command: AmendReferral, seal: Seal) -> None:
        """Amend what the referral asks for, within its category; the reason is sealed."""
        self._require_open()
        if (command.complexity, command.desired_outcomes, command.completion_deadline, command.practitioner_id) == (
            None,
            None,
            None,
            None,
        ):
            raise InvalidCommand(
                [("$", "amend at least one of complexity, desired_outcomes, completion_deadline, practitioner_id")]
            )
        category = self.details.category
        if command.desired_outcomes is not None and (
            errors := _check_outcomes(category, command.desired_outcomes, "$.desired_outcomes")
        ):
            raise InvalidCommand(errors)
        if command.complexity is not None and command.complexity not in categories.BY_CODE[category].complexity_levels:
            raise RuleViolation("complexity level not offered", f"{category} has no {command.complexity} level")
        self._amended(
            complexity=command.complexity,
            desired_outcomes=command.desired_outcomes,
            completion_deadline=command.completion_deadline,
            practitioner_id=command.practitioner_id,
            reason=seal(command.reason),
        )

    def add_case_note(self, command: AddCaseNote, seal: Seal) -> None:
        """A note about the person (sealed), whatever the referral's state."""
        self._case_note_added(note=seal(CaseNote(subject=command.subject, body=command.body)))

    def withdraw(self, command: EndReferral, seal: Seal) -> None:
        """End the referral: cancelled if no session was attended, else ended early. Withdrawn as of `withdrawn_on`,
        it takes effect that day: not in the future, and not before the referral was made nor before the last
        session recorded for it (which it ends)."""
        self._require_open()
        with self._taking_effect_when_withdrawn(command.withdrawn_on):
            end_state = EndState.CANCELLED if self.attended_sessions() == 0 else EndState.ENDED_EARLY
            detail = None if command.detail is None else seal(command.detail)
            self._withdrawn(reason_code=command.reason_code, detail=detail, end_state=end_state)

    def report_end_of_service(self, command: ReportEndOfService, seal: Seal) -> None:
        """Rate every desired outcome once, after some delivery (the summary and notes sealed); the referral
        concludes, completed if every planned session was attended."""
        self._require_open()
        rated = [r.outcome for r in command.outcomes]
        missing = [o for o in self.desired_outcomes if o not in rated]
        extra = [o for o in rated if o not in self.desired_outcomes]
        if missing or extra or len(set(rated)) != len(rated):
            detail = "rate each desired outcome of the referral exactly once"
            raise InvalidCommand([("$.outcomes", detail + (f"; missing: {'; '.join(missing)}" if missing else ""))])
        if self.attended_sessions() == 0:
            raise RuleViolation(
                "end-of-service report needs delivery", "no session has been attended; withdraw instead"
            )
        narrative = seal(
            EndOfServiceNarrative(
                summary=command.summary, notes={r.outcome: r.notes for r in command.outcomes if r.notes}
            )
        )
        ratings = tuple(OutcomeAchievement(outcome=r.outcome, achievement=r.achievement) for r in command.outcomes)
        self._end_of_service_reported(outcomes=ratings, narrative=narrative)
        self._concluded(end_state=self.derived_end_state())

    def _require_open(self) -> None:
        if self.status is ReferralStatus.CONCLUDED:
            raise RuleViolation("referral concluded", f"the referral ended {self.end_state}")

    def _appointment(self, appointment_id: UUID) -> Appointment:
        appointment = self.appointments.get(appointment_id)
        if appointment is None:
            raise RuleViolation("unknown appointment", f"the referral has no appointment {appointment_id}")
        return appointment

    def _still_open(self, appointment_id: UUID, refusal: str) -> Appointment:
        """An appointment of an open referral that is neither cancelled nor recorded (`refusal` says what cannot be)."""
        self._require_open()
        appointment = self._appointment(appointment_id)
        if appointment.cancelled or appointment.attended is not None:
            raise RuleViolation("appointment already closed", refusal)
        return appointment

    def _taking_effect_when_withdrawn(self, withdrawn_on: date | None) -> AbstractContextManager[object]:
        if withdrawn_on is None:
            return nullcontext()
        recorded = [a.starts_at for a in self.appointments.values() if a.attended is not None]
        follows = ("the referral was made", self.created_on)
        if recorded and max(recorded) > follows[1]:
            follows = ("the last session recorded", max(recorded))
        return taking_effect(withdrawn_on, fact="withdrawal", field="$.withdrawn_on", after=follows)

    # -- events: what was decided, recorded --------------------------------------------------------

    @event("ReferralAcknowledged")
    def _acknowledged(self) -> None:
        self.acknowledged = True

    @event("CaseworkerAssigned")
    def _caseworker_assigned(self, caseworker_id: str, previous_caseworker_id: str | None) -> None:
        self.caseworker_id = caseworker_id
        if self.status is ReferralStatus.SENT:
            self.status = ReferralStatus.ASSIGNED

    @event("AppointmentScheduled")
    def _appointment_scheduled(self, appointment: Appointment) -> None:
        # A copy: the aggregate's state changes later, the event's payload never does.
        self.appointments[appointment.id] = msgspec.structs.replace(appointment)

    @event("AppointmentRescheduled")
    def _appointment_rescheduled(
        self,
        appointment_id: UUID,
        starts_at: datetime,
        previous_starts_at: datetime,
        reason: Sealed,
        requested_by: RequestedBy,
    ) -> None:
        self.appointments[appointment_id].starts_at = starts_at

    @event("AppointmentCancelled")
    def _appointment_cancelled(self, appointment_id: UUID, reason: Sealed) -> None:
        self.appointments[appointment_id].cancelled = True

    @event("AttendanceRecorded")
    def _attendance_recorded(
        self, attendance: AttendanceFacts, notes: Sealed | None, session_starts_at: datetime
    ) -> None:
        appointment = self.appointments[attendance.appointment_id]
        appointment.attended = attendance.attended
        appointment.rar = attendance.counts_towards_rar
        appointment.notify = attendance.notify_practitioner

    @event("AttendanceCorrected")
    def _attendance_corrected(
        self, appointment_id: UUID, attended: Attended, absence: Absence | None, reason: Sealed
    ) -> None:
        self.appointments[appointment_id].attended = attended
        if attended is Attended.NO:
            self.appointments[appointment_id].rar = False

    @event("PractitionerNotificationAcknowledged")
    def _notification_acknowledged(self, appointment_id: UUID) -> None:
        self.appointments[appointment_id].acknowledged = True

    @event("ActionPlanSubmitted")
    def _action_plan_submitted(self, activities: Sealed, number_of_sessions: int) -> None:
        self.planned_sessions = number_of_sessions
        self.action_plan_approved = False

    @event("ActionPlanApproved")
    def _action_plan_approved(self) -> None:
        self.action_plan_approved = True
        self.status = ReferralStatus.IN_PROGRESS

    @event("ReferralAmended")
    def _amended(
        self,
        complexity: categories.Complexity | None,
        desired_outcomes: tuple[str, ...] | None,
        completion_deadline: date | None,
        practitioner_id: str | None,
        reason: Sealed,
    ) -> None:
        if complexity is not None:
            self.complexity = complexity
        if desired_outcomes is not None:
            self.desired_outcomes = desired_outcomes
        if completion_deadline is not None:
            self.completion_deadline = completion_deadline
        if practitioner_id is not None:
            self.practitioner_id = practitioner_id

    @event("CaseNoteAdded")
    def _case_note_added(self, note: Sealed) -> None:
        pass

    @event("ReferralWithdrawn")
    def _withdrawn(self, reason_code: EndReason, detail: Sealed | None, end_state: EndState) -> None:
        self.ended_with = reason_code
        self.end_state = end_state
        self.status = ReferralStatus.CONCLUDED

    @event("EndOfServiceReported")
    def _end_of_service_reported(self, outcomes: tuple[OutcomeAchievement, ...], narrative: Sealed) -> None:
        self.outcomes_reported = True

    @event("ReferralConcluded")
    def _concluded(self, end_state: EndState) -> None:
        self.end_state = end_state
        self.status = ReferralStatus.CONCLUDED

    # -- derived -----------------------------------------------------------------------------------

    def attended_sessions(self) -> int:
        return sum(
            1
            for a in self.appointments.values()
            if a.kind is AppointmentKind.SESSION and a.attended in (Attended.YES, Attended.LATE)
        )

    def earns_session_fee(self, appointment_id: UUID) -> bool:
        """Whether the appointment is a session attended (in time or late): what the session fee is earned by."""
        appointment = self.appointments.get(appointment_id)
        return (
            appointment is not None
            and appointment.kind is AppointmentKind.SESSION
            and appointment.attended in (Attended.YES, Attended.LATE)
        )

    def rar_days(self) -> int:
        return sum(1 for a in self.appointments.values() if a.rar)

    def derived_end_state(self) -> EndState:
        if self.attended_sessions() == 0:
            return EndState.CANCELLED
        if self.planned_sessions is not None and self.attended_sessions() >= self.planned_sessions:
            return EndState.COMPLETED
        return EndState.ENDED_EARLY


def _at_session(appointment: Appointment) -> AbstractContextManager[Envelope]:
    """Attendance, and its correction, are facts of the session: effective when it started."""
    return taking_effect(appointment.starts_at, fact="attendance", field="the session's starts_at")


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _check_outcomes(category: str, outcomes: tuple[str, ...], path: str) -> list[tuple[str, str]]:
    allowed = DESIRED_OUTCOMES.get(category, ())
    return [
        (f"{path}[{i}]", f"not a desired outcome of {category}") for i, o in enumerate(outcomes) if o not in allowed
    ]


# -- commands: load, gather what the aggregate cannot know, let it decide, record -----------------------


def _request_errors(command: MakeReferral) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if command.category not in categories.BY_CODE:
        errors.append(("$.category", f"unknown service category {command.category!r}"))
    else:
        errors += _check_outcomes(command.category, command.desired_outcomes, "$.desired_outcomes")
    if command.area not in geography.BY_CODE:
        errors.append(("$.area", f"unknown area {command.area!r}"))
    if command.setting is Setting.CUSTODY and command.expected_release_date is None:
        errors.append(("$.expected_release_date", "required for a person in custody"))
    return errors


def make_referral(ledger: Ledger, envelope: Envelope, command: MakeReferral) -> Recorded:
    errors = _request_errors(command)
    if errors:
        raise InvalidCommand(errors)
    contract = ledger.load(Contract, command.contract_id)
    Referral.check_may_refer(command, contract, envelope.effective_at.date())
    regions = [
        a for a in geography.ancestors(command.area) if geography.BY_CODE[a].kind is geography.AreaKind.PROBATION_REGION
    ]
    subject = ledger.keys.subject(command.crn)
    personal = ledger.keys.seal(
        subject,
        ReferralPersonalData(
            crn=command.crn,
            person=command.person,
            needs_and_accessibility=command.needs_and_accessibility,
            risk_summary=command.risk_summary,
        ),
    )
    for _ in range(5):  # a reference number clash (vanishingly rare) just draws another
        reference = new_reference_number()
        if ledger.exists(referral_id_for(reference)):
            continue
        try:
            return ledger.execute(
                envelope,
                lambda reference=reference: Referral(
                    reference_number=reference,
                    details=command.details(),
                    subject_id=subject,
                    personal=personal,
                    supplier_id=contract.supplier_id,
                    practitioner_id=envelope.actor_id,
                    region=regions[0] if regions else None,
                ),
            )
        except ConcurrencyConflict:
            continue
    raise ConcurrencyConflict("could not draw a free reference number; try again")


def _sealer(ledger: Ledger, referral: Referral) -> Seal:
    """Free text about the person is sealed with their key, like everything else that identifies them."""
    return lambda value: ledger.keys.seal(referral.subject_id, value)


def _run(
    ledger: Ledger,
    envelope: Envelope,
    referral: Referral,
    change: Callable[[], object],
    money: Callable[[], ContractAccount | None] | None = None,
) -> Recorded:
    """Record `change` on the referral, with whatever the fact earns (or reverses) on the contract's account in the
    same transaction, stamped as the fact was (a session's charge takes effect when the session did)."""

    def command() -> list[LedgerAggregate]:
        change()
        if money is None:
            return [referral]
        with stamping(referral.latest_envelope()):
            account = money()
        return [referral] if account is None else [referral, account]

    return ledger.execute(envelope, command)


def acknowledge_referral(ledger: Ledger, envelope: Envelope, referral_id: UUID) -> Recorded:
    """The provider accepts the referral: this earns the referral fee where the schedule has one."""

    def attempt() -> Recorded:
        referral = ledger.load(Referral, referral_id)
        fact = accounts.Billable(
            contract_id=referral.contract_id,
            basis=accounts.Basis(kind="referral_accepted", referral_id=referral.id),
            earned_on=envelope.effective_at.date(),
            complexity=referral.complexity,
        )
        return _run(ledger, envelope, referral, referral.acknowledge, lambda: accounts.charge(ledger, fact))

    return accounts.with_retries(attempt)


def assign_caseworker(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: AssignCaseworker) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.assign_caseworker(command.caseworker_id))


def schedule_appointment(
    ledger: Ledger, envelope: Envelope, referral_id: UUID, command: ScheduleAppointment
) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.schedule_appointment(command))


def reschedule_appointment(
    ledger: Ledger, envelope: Envelope, referral_id: UUID, command: RescheduleAppointment
) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.reschedule_appointment(command, _sealer(ledger, referral)))


def cancel_appointment(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: CancelAppointment) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.cancel_appointment(command, _sealer(ledger, referral)))


def record_attendance(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: RecordAttendance) -> Recorded:
    if command.attended is Attended.NO and command.absence is None:
        raise InvalidCommand([("$.absence", "say whether the absence was acceptable, unacceptable or logistics")])
    if not command.session_happened and command.attended is not Attended.NO:
        raise InvalidCommand([("$.attended", "a session that did not happen was not attended")])
    if command.counts_towards_rar and command.attended is Attended.NO:
        raise InvalidCommand([("$.counts_towards_rar", "only an attended session counts towards RAR days")])
    return accounts.with_retries(lambda: _record_attendance(ledger, envelope, referral_id, command))


def _session_fact(referral: Referral, appointment_id: UUID) -> accounts.Billable:
    appointment = referral.appointments[appointment_id]
    return accounts.Billable(
        contract_id=referral.contract_id,
        basis=accounts.Basis(kind="session_attended", referral_id=referral.id, appointment_id=appointment.id),
        earned_on=appointment.starts_at.date(),
    )


def _record_attendance(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: RecordAttendance) -> Recorded:
    referral = ledger.load(Referral, referral_id)

    def session_fee() -> ContractAccount | None:
        if not referral.earns_session_fee(command.appointment_id):
            return None
        return accounts.charge(ledger, _session_fact(referral, command.appointment_id))

    return _run(
        ledger,
        envelope,
        referral,
        lambda: referral.record_attendance(command, envelope.recorded_at, _sealer(ledger, referral)),
        session_fee,
    )


def correct_attendance(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: CorrectAttendance) -> Recorded:
    """Correct a recorded attendance; charges follow by reversal or a new charge, never by an edit."""
    if command.attended is Attended.NO and command.absence is None:
        raise InvalidCommand([("$.absence", "say whether the absence was acceptable, unacceptable or logistics")])

    def attempt() -> Recorded:
        referral = ledger.load(Referral, referral_id)
        earned = referral.earns_session_fee(command.appointment_id)

        def session_fee() -> ContractAccount | None:
            earns = referral.earns_session_fee(command.appointment_id)
            fact = _session_fact(referral, command.appointment_id)
            if earned and not earns:
                return accounts.reverse_charges(ledger, referral.contract_id, fact.basis, command.reason)
            if earns and not earned:
                return accounts.charge(ledger, fact)
            return None

        return _run(
            ledger,
            envelope,
            referral,
            lambda: referral.correct_attendance(command, _sealer(ledger, referral)),
            session_fee,
        )

    return accounts.with_retries(attempt)


def acknowledge_notification(
    ledger: Ledger, envelope: Envelope, referral_id: UUID, command: AcknowledgeNotification
) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.acknowledge_notification(command.appointment_id))


def submit_action_plan(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: SubmitActionPlan) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.submit_action_plan(command, _sealer(ledger, referral)))


def approve_action_plan(ledger: Ledger, envelope: Envelope, referral_id: UUID) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, referral.approve_action_plan)


def amend_referral(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: AmendReferral) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.amend(command, _sealer(ledger, referral)))


def add_case_note(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: AddCaseNote) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.add_case_note(command, _sealer(ledger, referral)))


def withdraw_referral(ledger: Ledger, envelope: Envelope, referral_id: UUID, command: EndReferral) -> Recorded:
    if command.reason_code is EndReason.OTHER and not command.detail:
        raise InvalidCommand([("$.detail", "required when the reason is OTH (other)")])
    referral = ledger.load(Referral, referral_id)
    return _run(ledger, envelope, referral, lambda: referral.withdraw(command, _sealer(ledger, referral)))


def report_end_of_service(
    ledger: Ledger, envelope: Envelope, referral_id: UUID, command: ReportEndOfService
) -> Recorded:
    """Rate every desired outcome; the referral concludes, and achieved outcomes earn outcome payments."""
    return accounts.with_retries(lambda: _report_end_of_service(ledger, envelope, referral_id, command))


def _report_end_of_service(
    ledger: Ledger, envelope: Envelope, referral_id: UUID, command: ReportEndOfService
) -> Recorded:
    referral = ledger.load(Referral, referral_id)
    achieved = sum(1 for r in command.outcomes if r.achievement is Achievement.ACHIEVED)
    fact = accounts.Billable(
        contract_id=referral.contract_id,
        basis=accounts.Basis(kind="outcome_achieved", referral_id=referral.id),
        earned_on=envelope.effective_at.date(),
        count=achieved,
    )
    return _run(
        ledger,
        envelope,
        referral,
        lambda: referral.report_end_of_service(command, _sealer(ledger, referral)),
        (lambda: accounts.charge(ledger, fact)) if achieved else None,
    )
