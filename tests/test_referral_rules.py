"""A referral's rules, held by the aggregate: tested in memory, with no database (ADR 28).

A referral is built from its events' commands inside `stamping`; personal data is "sealed" by a stand-in that
records what it was given, so each test can also say that nothing is sealed about a person once a rule refuses.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from ledger.cases.outcomes import Achievement, EndReason
from ledger.cases.referrals import (
    Absence,
    AddCaseNote,
    AmendReferral,
    AppointmentKind,
    Attended,
    CancelAppointment,
    CorrectAttendance,
    DeliveryMethod,
    EndReferral,
    EndState,
    MakeReferral,
    OutcomeRating,
    PersonDetails,
    RecordAttendance,
    Referral,
    ReferralDetails,
    ReferralStatus,
    ReportEndOfService,
    RequestedBy,
    RescheduleAppointment,
    ScheduleAppointment,
    SentenceType,
    SubmitActionPlan,
)
from ledger.envelope import Actor, Envelope
from ledger.errors import InvalidCommand
from ledger.framework.categories import Complexity
from ledger.personal_data import Sealed
from ledger.procurement.call_offs import AwardType
from ledger.procurement.contracts import Contract, Eligibility, Gender
from tests.support import recording, refused

CASEWORKER = Actor(id="caseworker:kim", role="provider_caseworker", organisation_id="pennine")
MADE_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OUTCOMES = ("Obtains or sustains suitable accommodation", "Homelessness is prevented")


def at(moment: datetime) -> AbstractContextManager[Envelope]:
    return recording(CASEWORKER, moment)


class Sealing:
    """Stands in for the key ring: what the referral asked to seal, in order."""

    def __init__(self) -> None:
        self.sealed: list[object] = []

    def __call__(self, value: object) -> Sealed:
        self.sealed.append(value)
        return Sealed(subject=uuid4(), ciphertext=b"sealed")


def never_sealed(value: object) -> Sealed:
    raise AssertionError(f"sealed {value!r} although a rule refused the command")


# -- a referral to a contract -------------------------------------------------------------------------


def contract(**changes: object) -> Contract:
    fields: dict[str, object] = {
        "call_off_id": uuid4(),
        "award_type": AwardType.CONTRACT,
        "supplier_id": uuid4(),
        "commissioner_ids": (uuid4(),),
        "need": "accommodation",
        "cohort": None,
        "areas": ("durham", "northumbria"),
        "value": Decimal("240000.00"),
        "start_date": date(2026, 1, 1),
        "end_date": date(2027, 12, 31),
        "mobilisation_date": None,
        "extension_options_months": (),
        "kpis": (),
        "subcontractors": (),
        "eligibility": Eligibility(),
    }
    fields.update(changes)
    with at(MADE_AT - timedelta(days=90)):
        return Contract(**fields)  # type: ignore[arg-type]


def referral_to(contract_id: UUID, **changes: object) -> MakeReferral:
    fields: dict[str, object] = {
        "contract_id": contract_id,
        "area": "durham",
        "category": "accommodation",
        "complexity": Complexity.MEDIUM,
        "desired_outcomes": OUTCOMES,
        "max_enforceable_days": 2,
        "sentence_type": SentenceType.COMMUNITY_ORDER,
        "completion_deadline": date(2026, 9, 1),
        "crn": "X123456",
        "person": PersonDetails(
            given_name="Alex", family_name="Example", date_of_birth=date(1990, 5, 17), gender="female"
        ),
        "risk_summary": "Low risk.",
    }
    fields.update(changes)
    return MakeReferral(**fields)  # type: ignore[arg-type]


def check(command_changes: dict[str, object] | None = None, **contract_changes: object) -> None:
    made = contract(**contract_changes)
    Referral.check_may_refer(referral_to(made.id, **(command_changes or {})), made, MADE_AT.date())


@pytest.mark.parametrize(
    ("contract_changes", "command_changes", "rule", "detail"),
    [
        (
            {"end_date": date(2026, 3, 1)},
            {},
            "contract not live",
            "the contract runs 2026-01-01 to 2026-03-01",
        ),
        (
            {},
            {"category": "ete", "desired_outcomes": ()},
            "category not delivered under this contract",
            "the contract delivers accommodation, not ete",
        ),
        (
            {"need": "cognitive-and-behavioural-change"},
            {"category": "cognitive-and-behavioural-change", "complexity": Complexity.HIGH},
            "complexity level not offered",
            "Cognitive and Behavioural Change has no HIGH level",
        ),
        (
            {},
            {"area": "region-a"},
            "contract does not cover the person's area",
            "cleveland of region-a is outside durham, northumbria",
        ),
        (
            {"eligibility": Eligibility(gender=Gender.MEN)},
            {},
            "person not eligible: gender",
            "the service is for men only",
        ),
        (
            {"eligibility": Eligibility(max_age=25)},
            {},
            "person not eligible: age",
            "the person is 35; the service is for ages 0-25",
        ),
        (
            {},
            {"completion_deadline": MADE_AT.date()},
            "completion deadline in the future",
            "2026-03-02 has passed",
        ),
    ],
)
def test_a_referral_goes_only_where_the_contract_and_its_eligibility_allow(
    contract_changes: dict[str, object], command_changes: dict[str, object], rule: str, detail: str
) -> None:
    with refused(rule) as refusal:
        check(command_changes, **contract_changes)
    assert refusal.value.detail == detail


def test_a_referral_the_contract_allows_passes_every_rule() -> None:
    check()


# -- delivery ----------------------------------------------------------------------------------------------


def made() -> Referral:
    details = ReferralDetails(
        contract_id=uuid4(),
        area="durham",
        category="accommodation",
        complexity=Complexity.MEDIUM,
        desired_outcomes=OUTCOMES,
        max_enforceable_days=2,
        sentence_type=SentenceType.COMMUNITY_ORDER,
        completion_deadline=date(2026, 9, 1),
    )
    with at(MADE_AT):
        return Referral(
            reference_number="AB1234CD",
            details=details,
            subject_id=uuid4(),
            personal=Sealed(subject=uuid4(), ciphertext=b"sealed"),
            supplier_id=uuid4(),
            practitioner_id="practitioner:sam",
            region="region-a",
        )


def appointment(kind: AppointmentKind, starts_at: datetime) -> ScheduleAppointment:
    return ScheduleAppointment(kind=kind, starts_at=starts_at, delivery_method=DeliveryMethod.IN_PERSON)


def scheduled(referral: Referral, kind: AppointmentKind, starts_at: datetime) -> UUID:
    with at(MADE_AT + timedelta(days=1)):
        referral.schedule_appointment(appointment(kind, starts_at))
    return list(referral.appointments)[-1]


def attended(referral: Referral, appointment_id: UUID, **changes: object) -> None:
    starts_at = referral.appointments[appointment_id].starts_at
    with at(starts_at + timedelta(hours=2)):
        referral.record_attendance(
            RecordAttendance(appointment_id=appointment_id, attended=Attended.YES, **changes),  # type: ignore[arg-type]
            starts_at + timedelta(hours=2),
            Sealing(),
        )


def in_delivery(planned_sessions: int = 1) -> Referral:
    """Assigned, assessed, with an approved plan of `planned_sessions`."""
    referral = made()
    with at(MADE_AT):
        referral.acknowledge()
        referral.assign_caseworker("caseworker:kim")
    assessment = scheduled(referral, AppointmentKind.INITIAL_ASSESSMENT, MADE_AT + timedelta(days=3))
    attended(referral, assessment)
    with at(MADE_AT + timedelta(days=4)):
        referral.submit_action_plan(
            SubmitActionPlan(activities=("Find a flat",), number_of_sessions=planned_sessions), Sealing()
        )
        referral.approve_action_plan()
    return referral


def test_a_referral_is_acknowledged_once_and_a_caseworker_assigned_once() -> None:
    referral = made()
    with at(MADE_AT):
        referral.acknowledge()
        with refused("referral already acknowledged"):
            referral.acknowledge()
        referral.assign_caseworker("caseworker:kim")
        with refused("caseworker already assigned"):
            referral.assign_caseworker("caseworker:kim")
    assert referral.status is ReferralStatus.ASSIGNED


def test_appointments_need_a_caseworker_and_sessions_an_approved_plan() -> None:
    referral = made()
    with at(MADE_AT), refused("assign a caseworker first"):
        referral.schedule_appointment(appointment(AppointmentKind.INITIAL_ASSESSMENT, MADE_AT + timedelta(days=3)))
    with at(MADE_AT):
        referral.assign_caseworker("caseworker:kim")
        with refused("sessions need an approved action plan"):
            referral.schedule_appointment(appointment(AppointmentKind.SESSION, MADE_AT + timedelta(days=3)))
    with at(MADE_AT), refused("action plan after the initial assessment"):
        referral.submit_action_plan(SubmitActionPlan(activities=("Find a flat",), number_of_sessions=4), never_sealed)


def test_attendance_is_recorded_once_after_the_session_starts_and_takes_effect_at_its_start() -> None:
    referral = in_delivery()
    starts_at = MADE_AT + timedelta(days=7)
    session = scheduled(referral, AppointmentKind.SESSION, starts_at)
    unacceptable = RecordAttendance(
        appointment_id=session, attended=Attended.NO, absence=Absence.UNACCEPTABLE, behaviour="Did not call."
    )
    with at(starts_at - timedelta(minutes=1)), refused("attendance before the session"):
        referral.record_attendance(unacceptable, starts_at - timedelta(minutes=1), never_sealed)
    sealing = Sealing()
    recorded_at = starts_at + timedelta(days=1)
    with at(recorded_at):
        referral.record_attendance(unacceptable, recorded_at, sealing)
        with refused("attendance already recorded"):
            referral.record_attendance(unacceptable, recorded_at, never_sealed)
    event = referral.pending_events[-1]
    assert isinstance(event, Referral.AttendanceRecorded)
    assert event.attendance.notify_practitioner  # an unacceptable absence always tells the practitioner
    assert (event.envelope.effective_at, event.envelope.recorded_at) == (starts_at, recorded_at)  # type: ignore[attr-defined]
    assert len(sealing.sealed) == 1
    assert not referral.earns_session_fee(session)


def test_rar_days_never_exceed_the_days_ordered() -> None:
    referral = in_delivery(planned_sessions=3)
    sessions = [scheduled(referral, AppointmentKind.SESSION, MADE_AT + timedelta(days=7 + i)) for i in range(3)]
    attended(referral, sessions[0], counts_towards_rar=True)
    attended(referral, sessions[1], counts_towards_rar=True)
    late = MADE_AT + timedelta(days=10)
    with at(late), refused("RAR days exceed the maximum enforceable days") as refusal:
        referral.record_attendance(
            RecordAttendance(appointment_id=sessions[2], attended=Attended.YES, counts_towards_rar=True),
            late,
            never_sealed,
        )
    assert refusal.value.detail == "2 days were ordered"
    assert referral.earns_session_fee(sessions[0]) and not referral.earns_session_fee(sessions[2])


def test_a_correction_changes_the_attendance_and_is_effective_at_the_session() -> None:
    referral = in_delivery()
    starts_at = MADE_AT + timedelta(days=7)
    session = scheduled(referral, AppointmentKind.SESSION, starts_at)
    later = MADE_AT + timedelta(days=20)
    with at(later), refused("no attendance to correct"):
        referral.correct_attendance(
            CorrectAttendance(appointment_id=session, attended=Attended.NO, absence=Absence.ACCEPTABLE, reason="Ill."),
            never_sealed,
        )
    attended(referral, session)
    with at(later):
        with refused("attendance unchanged"):
            referral.correct_attendance(
                CorrectAttendance(appointment_id=session, attended=Attended.YES, reason="Same."), never_sealed
            )
        referral.correct_attendance(
            CorrectAttendance(
                appointment_id=session, attended=Attended.NO, absence=Absence.ACCEPTABLE, reason="Mistake."
            ),
            Sealing(),
        )
    assert referral.latest_envelope().effective_at == starts_at
    assert not referral.earns_session_fee(session)


def test_a_closed_appointment_does_not_move_and_nothing_is_sealed_for_a_refusal() -> None:
    referral = in_delivery()
    session = scheduled(referral, AppointmentKind.SESSION, MADE_AT + timedelta(days=7))
    with at(MADE_AT + timedelta(days=5)):
        referral.cancel_appointment(CancelAppointment(appointment_id=session, reason="Hospital visit."), Sealing())
        move = RescheduleAppointment(
            appointment_id=session,
            starts_at=MADE_AT + timedelta(days=9),
            reason="Clash.",
            requested_by=RequestedBy.PERSON_ON_PROBATION,
        )
        with refused("appointment already closed"):
            referral.reschedule_appointment(move, never_sealed)
        with refused("unknown appointment"):
            referral.cancel_appointment(CancelAppointment(appointment_id=uuid4(), reason="?"), never_sealed)


def test_an_amendment_changes_something_within_the_category() -> None:
    referral = made()
    with at(MADE_AT):
        with pytest.raises(InvalidCommand):
            referral.amend(AmendReferral(reason="Nothing."), never_sealed)
        with pytest.raises(InvalidCommand) as invalid:
            referral.amend(AmendReferral(desired_outcomes=("Gets a job",), reason="Wrong list."), never_sealed)
        assert invalid.value.errors == [("$.desired_outcomes[0]", "not a desired outcome of accommodation")]
        referral.amend(AmendReferral(complexity=Complexity.HIGH, reason="Rough sleeping."), Sealing())
    assert referral.complexity is Complexity.HIGH


def test_a_withdrawal_dated_before_the_last_session_recorded_is_refused() -> None:
    referral = in_delivery(planned_sessions=2)
    session = scheduled(referral, AppointmentKind.SESSION, MADE_AT + timedelta(days=7))
    attended(referral, session)
    today = MADE_AT + timedelta(days=30)
    with at(today):
        with refused("withdrawal not before the last session recorded"):
            referral.withdraw(EndReferral(reason_code=EndReason.MOVED, withdrawn_on=date(2026, 3, 8)), never_sealed)
        with refused("withdrawal not in the future"):
            referral.withdraw(EndReferral(reason_code=EndReason.MOVED, withdrawn_on=date(2026, 4, 2)), never_sealed)
        referral.withdraw(EndReferral(reason_code=EndReason.MOVED, withdrawn_on=date(2026, 3, 20)), Sealing())
    assert referral.latest_envelope().effective_at == datetime(2026, 3, 20, tzinfo=UTC)
    assert (referral.status, referral.end_state) == (ReferralStatus.CONCLUDED, EndState.ENDED_EARLY)
    with at(today), refused("referral concluded"):
        referral.acknowledge()


def test_a_referral_withdrawn_before_any_session_is_cancelled() -> None:
    referral = made()
    with at(MADE_AT + timedelta(days=1)):
        referral.withdraw(EndReferral(reason_code=EndReason.MADE_IN_ERROR), Sealing())
    assert referral.end_state is EndState.CANCELLED
    assert referral.latest_envelope().effective_at == MADE_AT + timedelta(days=1)


def test_the_end_of_service_report_rates_each_outcome_once_after_delivery_and_concludes() -> None:
    ratings = tuple(OutcomeRating(outcome=o, achievement=Achievement.ACHIEVED) for o in OUTCOMES)
    referral = in_delivery(planned_sessions=1)
    with at(MADE_AT + timedelta(days=6)):
        with refused("end-of-service report needs delivery"):
            referral.report_end_of_service(ReportEndOfService(outcomes=ratings, summary="Housed."), never_sealed)
        with pytest.raises(InvalidCommand) as invalid:
            referral.report_end_of_service(ReportEndOfService(outcomes=ratings[:1], summary="Housed."), never_sealed)
    assert invalid.value.errors == [
        ("$.outcomes", f"rate each desired outcome of the referral exactly once; missing: {OUTCOMES[1]}")
    ]
    attended(referral, scheduled(referral, AppointmentKind.SESSION, MADE_AT + timedelta(days=7)))
    with at(MADE_AT + timedelta(days=8)):
        referral.report_end_of_service(ReportEndOfService(outcomes=ratings, summary="Housed."), Sealing())
    assert (referral.status, referral.end_state) == (ReferralStatus.CONCLUDED, EndState.COMPLETED)


def test_a_case_note_is_sealed_whatever_the_referrals_state() -> None:
    referral = made()
    with at(MADE_AT):
        referral.withdraw(EndReferral(reason_code=EndReason.MADE_IN_ERROR), Sealing())
        sealing = Sealing()
        referral.add_case_note(AddCaseNote(subject="Call", body="Rang to explain."), sealing)
    assert [type(v).__name__ for v in sealing.sealed] == ["CaseNote"]


def test_the_events_keep_the_names_and_fields_stored_before_the_rules_moved() -> None:
    assert get_topic(Referral.AttendanceRecorded) == "ledger.cases.referrals:Referral.AttendanceRecorded"
    assert get_topic(Referral.ReferralWithdrawn) == "ledger.cases.referrals:Referral.ReferralWithdrawn"
    assert list(Referral.ReferralWithdrawn.__annotations__) == ["reason_code", "detail", "end_state"]
    assert list(Referral.AppointmentRescheduled.__annotations__) == [
        "appointment_id",
        "starts_at",
        "previous_starts_at",
        "reason",
        "requested_by",
    ]
