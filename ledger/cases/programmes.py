"""Accredited programmes: Thinking Skills Programme and Building Better Relationships groups."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from uuid import UUID

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.cases.outcomes import EndReason
from ledger.cases.referrals import Absence, Attended, Identity, PersonDetails
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.personal_data import Crn, Sealed
from ledger.procurement import innovation_partners
from ledger.procurement.contracts import Contract
from ledger.store import Ledger, Recorded
from ledger.types import Name, ShortText


class Programme(enum.StrEnum):
    TSP = "thinking_skills_programme"
    BBR = "building_better_relationships"


class GroupMode(enum.StrEnum):
    FIXED = "fixed"  # everyone starts together: nobody joins once the first session is scheduled
    ROLLING = "rolling"  # people join as places free up


class SessionKind(enum.StrEnum):
    GROUP = "group"
    INDIVIDUAL = "individual"


@dataclass(frozen=True)
class ProgrammeRules:
    """One programme's shape, as its source document states it (ADR 24).

    `group_sessions` and `individual_sessions` are the most of each kind a participant has (None: any number up
    to the total). The pace is the programme's own: `max_per_day` and `max_per_week` are None where the
    documents set no limit, and `every_week` asks for at least one session in every week (Monday to Sunday)
    from a participant's first session to their last.
    """

    total_sessions: int
    group_sessions: int | None
    individual_sessions: int | None
    min_group: int = 4
    max_group: int = 12
    max_per_day: int | None = None
    max_per_week: int | None = None
    every_week: bool = False

    def most(self, kind: SessionKind) -> int | None:
        return self.group_sessions if kind is SessionKind.GROUP else self.individual_sessions


RULES = {
    # HMPPS, Accredited Programmes (market engagement): "TSP is 19 sessions long - 15 group and 4 individual
    # sessions"; groups of at least 4 and at most 12 (8 the optimum); "Sessions must be delivered at a rate of 1-4
    # sessions per week, with no more than one session per day"; fixed or rolling groups.
    Programme.TSP: ProgrammeRules(
        total_sessions=19, group_sessions=15, individual_sessions=4, max_per_day=1, max_per_week=4, every_week=True
    ),
    # "BBR is made up of 29 group and individual sessions": "three core modules preceded by a Foundation Module
    # and two preparatory one to one sessions", so at most 27 of them in the group; groups of 4 to 12; fixed or
    # rolling groups. The documents set BBR no pace: no limit a day or a week, and no weekly minimum.
    Programme.BBR: ProgrammeRules(total_sessions=29, group_sessions=27, individual_sessions=None),
}

_SPELLED = {1: "one", 2: "two", 3: "three", 4: "four"}


def _spelled(n: int) -> str:
    return _SPELLED.get(n, str(n))


class FormGroup(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    programme: Programme
    contract_id: UUID
    name: Name
    mode: GroupMode = GroupMode.ROLLING
    facilitator_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


class JoinGroup(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    crn: Crn
    person: PersonDetails
    convicted_of_intimate_partner_violence: bool = False


class ScheduleProgrammeSession(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A group session (every participant who still needs one) or an individual session (one participant)."""

    kind: SessionKind
    on: date
    crn: Crn | None = None


class RegisterEntry(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    crn: Crn
    attended: Attended
    absence: Absence | None = None


class RecordProgrammeAttendance(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The register of one session: who attended, was late or did not attend (and why not). It may be recorded
    later, and takes effect on the session's day."""

    session: Annotated[int, msgspec.Meta(ge=1, description="The session's number in its group (GET /programmes/{id})")]
    register: Annotated[tuple[RegisterEntry, ...], msgspec.Meta(min_length=1, max_length=12)]


class WithdrawParticipant(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A participant leaves the programme before completing it, with a coded reason."""

    crn: Crn
    reason_code: EndReason
    detail: ShortText | None = None


class ProgrammeSession(msgspec.Struct, frozen=True, kw_only=True):
    """A scheduled session: numbered in the order the group's sessions were scheduled, from 1."""

    number: int
    kind: SessionKind
    on: date
    participants: tuple[UUID, ...]


class Departure(enum.StrEnum):
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"


class ProgrammeGroup(LedgerAggregate):
    @event("ProgrammeGroupFormed")
    def __init__(self, group: FormGroup, supplier_id: UUID) -> None:
        self.group = group
        self.supplier_id = supplier_id
        self.participants: list[UUID] = []  # current, by subject id: the group's record names nobody in the clear
        self.left: dict[UUID, tuple[Departure, date]] = {}  # who left, how and when
        self.schedule: list[ProgrammeSession] = []
        self.booked: dict[UUID, list[int]] = {}  # each participant's sessions, by number
        self.attendance: dict[tuple[int, UUID], Attended] = {}

    @event("ParticipantJoined")
    def join(self, subject_id: UUID, personal: Sealed, convicted_of_intimate_partner_violence: bool) -> None:
        self.participants.append(subject_id)
        self.booked.setdefault(subject_id, [])

    @event("ProgrammeSessionScheduled")
    def schedule_session(self, kind: SessionKind, on: date, participants: tuple[UUID, ...]) -> None:
        number = len(self.schedule) + 1
        self.schedule.append(ProgrammeSession(number=number, kind=kind, on=on, participants=participants))
        for subject in participants:
            self.booked[subject].append(number)

    @event("ProgrammeAttendanceRecorded")
    def record_attendance(self, session: int, subject_id: UUID, attended: Attended, absence: Absence | None) -> None:
        self.attendance[(session, subject_id)] = attended

    @event("ProgrammeCompleted")
    def complete(self, subject_id: UUID, on: date, sessions_attended: int) -> None:
        self.participants.remove(subject_id)
        self.left[subject_id] = (Departure.COMPLETED, on)

    @event("ParticipantWithdrawn")
    def withdraw(self, subject_id: UUID, on: date, reason_code: EndReason, detail: Sealed | None) -> None:
        self.participants.remove(subject_id)
        self.left[subject_id] = (Departure.WITHDRAWN, on)

    @property
    def rules(self) -> ProgrammeRules:
        return RULES[self.group.programme]

    def sessions_of(self, subject: UUID) -> list[ProgrammeSession]:
        return [self.schedule[number - 1] for number in self.booked.get(subject, ())]

    def attended(self, subject: UUID) -> int:
        """Sessions the participant attended (on time or late)."""
        return sum(
            self.attendance.get((s.number, subject)) in (Attended.YES, Attended.LATE) for s in self.sessions_of(subject)
        )

    def counted(self, subject: UUID, kind: SessionKind | None = None) -> int:
        """Sessions that count towards the participant's programme: attended, or not yet recorded. One they did
        not attend does not count, so a catch-up session may be scheduled in its place."""
        return sum(
            self.attendance.get((s.number, subject)) is not Attended.NO
            for s in self.sessions_of(subject)
            if kind is None or s.kind is kind
        )

    def needs(self, subject: UUID, kind: SessionKind) -> bool:
        """Whether the participant still has a session of this kind to have."""
        most = self.rules.most(kind)
        return self.counted(subject) < self.rules.total_sessions and (
            most is None or self.counted(subject, kind) < most
        )


def form_group(ledger: Ledger, envelope: Envelope, command: FormGroup) -> Recorded:
    contract = ledger.load(Contract, command.contract_id)
    if not contract.is_live(envelope.effective_at.date()):
        raise RuleViolation("contract not live", f"the contract runs {contract.start_date} to {contract.end_date}")
    innovation_partners.check_partner(ledger, contract)
    return ledger.execute(envelope, lambda: ProgrammeGroup(group=command, supplier_id=contract.supplier_id))


def join_group(ledger: Ledger, envelope: Envelope, group_id: UUID, command: JoinGroup) -> Recorded:
    group = ledger.load(ProgrammeGroup, group_id)
    known = ledger.keys.find_subject(command.crn)
    if known in group.participants:
        raise RuleViolation("already in the group", f"{command.crn} is already a participant")
    if known in group.left:
        how, on = group.left[known]
        raise RuleViolation("already left the group", f"{command.crn} {how} in this group on {on}")
    if group.group.mode is GroupMode.FIXED and group.schedule:
        raise RuleViolation(
            "a fixed group takes nobody new once it has started", f"its first session is on {group.schedule[0].on}"
        )
    if len(group.participants) >= group.rules.max_group:
        raise RuleViolation(f"groups of at most {group.rules.max_group}", "the group is full")
    if group.group.programme is Programme.BBR and not (
        command.person.gender == "male" and command.convicted_of_intimate_partner_violence
    ):
        raise RuleViolation(
            "BBR is for men convicted of intimate partner violence", "the person does not meet the eligibility"
        )

    subject = ledger.keys.subject(command.crn)
    personal = ledger.keys.seal(subject, Identity(crn=command.crn, person=command.person))

    def join() -> ProgrammeGroup:
        group.join(
            subject_id=subject,
            personal=personal,
            convicted_of_intimate_partner_violence=command.convicted_of_intimate_partner_violence,
        )
        return group

    return ledger.execute(envelope, join)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _weeks_without_a_session(days: Iterable[date]) -> int:
    """Weeks (Monday to Sunday) with no session between the week of the first day and the week of the last."""
    mondays = {_monday(day) for day in days}
    if not mondays:
        return 0
    return (max(mondays) - min(mondays)).days // 7 + 1 - len(mondays)


def _check_person(group: ProgrammeGroup, subject: UUID, who: str, kind: SessionKind, on: date) -> None:
    """`who` names the participant in refusals: their CRN when the caller gave it, else "a participant"."""
    rules, programme = group.rules, group.group.programme.name
    days = [s.on for s in group.sessions_of(subject)]
    if rules.max_per_day is not None and days.count(on) >= rules.max_per_day:
        raise RuleViolation(
            f"at most {_spelled(rules.max_per_day)} session{'s' if rules.max_per_day > 1 else ''} a day",
            f"{who} already has a session on {on}",
        )
    if rules.max_per_week is not None and sum(_monday(d) == _monday(on) for d in days) >= rules.max_per_week:
        raise RuleViolation(
            f"at most {_spelled(rules.max_per_week)} sessions a week",
            f"{who} already has {_spelled(rules.max_per_week)} sessions that week",
        )
    if rules.every_week and _weeks_without_a_session([*days, on]) > _weeks_without_a_session(days):
        raise RuleViolation(
            "at least one session a week",
            f"a session on {on} would leave a week without one for {who}, whose sessions are on"
            f" {', '.join(str(d) for d in sorted(days))}",
        )
    if group.counted(subject) >= rules.total_sessions:
        raise RuleViolation(
            f"{programme} has {rules.total_sessions} sessions", f"{who} has all of them scheduled or attended"
        )
    most = rules.most(kind)
    if most is not None and group.counted(subject, kind) >= most:
        raise RuleViolation(f"{programme} has {most} {kind} sessions", f"{who} has all {most} scheduled or attended")


def schedule_session(ledger: Ledger, envelope: Envelope, group_id: UUID, command: ScheduleProgrammeSession) -> Recorded:
    group = ledger.load(ProgrammeGroup, group_id)
    rules = group.rules
    if command.kind is SessionKind.INDIVIDUAL:
        if command.crn is None:
            raise InvalidCommand([("$.crn", "an individual session names its participant")])
        subject = ledger.keys.find_subject(command.crn)
        if subject is None or subject not in group.participants:
            raise RuleViolation("not in the group", f"{command.crn} is not a participant")
        participants: tuple[UUID, ...] = (subject,)
    else:
        if command.crn is not None:
            raise InvalidCommand([("$.crn", "a group session is for every participant: leave crn out")])
        # The participants who still need a group session: in a rolling group, those who have had all of theirs
        # (or have left) are not in it, and do not stop it.
        participants = tuple(s for s in group.participants if group.needs(s, SessionKind.GROUP))
        if group.participants and not participants:
            raise RuleViolation(
                f"{group.group.programme.name} has {rules.group_sessions} group sessions",
                "every participant has all of them scheduled or attended",
            )
        if len(participants) < rules.min_group:
            raise RuleViolation(
                f"a group session needs at least {rules.min_group} participants",
                f"{len(participants)} participants need a group session",
            )
    for subject in participants:
        _check_person(group, subject, command.crn or "a participant", command.kind, command.on)

    def schedule() -> ProgrammeGroup:
        group.schedule_session(kind=command.kind, on=command.on, participants=participants)
        return group

    return ledger.execute(envelope, schedule)


def record_attendance(
    ledger: Ledger, envelope: Envelope, group_id: UUID, command: RecordProgrammeAttendance
) -> Recorded:
    """Record a session's register; a participant whose attended sessions reach the programme's total has
    completed it, and leaves the group (their place is free for someone new in a rolling group)."""
    errors = []
    for i, entry in enumerate(command.register):
        if entry.attended is Attended.NO and entry.absence is None:
            errors.append(
                (f"$.register[{i}].absence", "say whether the absence was acceptable, unacceptable or logistics")
            )
        if any(other.crn == entry.crn for other in command.register[:i]):
            errors.append((f"$.register[{i}].crn", "each participant once in a register"))
    if errors:
        raise InvalidCommand(errors)
    group = ledger.load(ProgrammeGroup, group_id)
    if command.session > len(group.schedule):
        raise RuleViolation("unknown session", f"the group has {len(group.schedule)} sessions")
    session = group.schedule[command.session - 1]
    if envelope.recorded_at.date() < session.on:
        raise RuleViolation("attendance before the session", f"session {session.number} is on {session.on}")
    register: list[tuple[UUID, RegisterEntry]] = []
    for entry in command.register:
        subject = ledger.keys.find_subject(entry.crn)
        if subject is None or subject not in session.participants:
            raise RuleViolation("not in the session", f"{entry.crn} was not booked on session {session.number}")
        if (session.number, subject) in group.attendance:
            raise RuleViolation("attendance already recorded", f"{entry.crn} at session {session.number}")
        how, left_on = group.left.get(subject, (None, session.on))
        if session.on > left_on:
            raise RuleViolation("left the group", f"{entry.crn} {how} on {left_on}, before session {session.number}")
        register.append((subject, entry))
    # The register takes effect on the session's day, whenever it is written down.
    on_the_day = msgspec.structs.replace(envelope, effective_at=datetime.combine(session.on, time(), UTC))

    def record() -> ProgrammeGroup:
        for subject, entry in register:
            group.record_attendance(
                session=session.number, subject_id=subject, attended=entry.attended, absence=entry.absence
            )
            attended = group.attended(subject)
            if subject in group.participants and attended >= group.rules.total_sessions:
                group.complete(subject_id=subject, on=session.on, sessions_attended=attended)
        return group

    return ledger.execute(on_the_day, record)


def withdraw_participant(ledger: Ledger, envelope: Envelope, group_id: UUID, command: WithdrawParticipant) -> Recorded:
    if command.reason_code is EndReason.OTHER and not command.detail:
        raise InvalidCommand([("$.detail", "required when the reason is OTH (other)")])
    group = ledger.load(ProgrammeGroup, group_id)
    subject = ledger.keys.find_subject(command.crn)
    if subject is None or subject not in group.participants:
        raise RuleViolation("not in the group", f"{command.crn} is not a participant")
    detail = None if command.detail is None else ledger.keys.seal(subject, command.detail)

    def withdraw() -> ProgrammeGroup:
        group.withdraw(
            subject_id=subject, on=envelope.effective_at.date(), reason_code=command.reason_code, detail=detail
        )
        return group

    return ledger.execute(envelope, withdraw)
