"""Accredited programmes: Thinking Skills Programme and Building Better Relationships groups."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.audit.keys import Sealed
from ledger.cases.referrals import Crn, Identity, PersonDetails
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.procurement.contracts import Contract
from ledger.store import Ledger, Recorded
from ledger.types import Name


class Programme(enum.StrEnum):
    TSP = "thinking_skills_programme"
    BBR = "building_better_relationships"


class GroupMode(enum.StrEnum):
    FIXED = "fixed"
    ROLLING = "rolling"


class SessionKind(enum.StrEnum):
    GROUP = "group"
    INDIVIDUAL = "individual"


@dataclass(frozen=True)
class ProgrammeRules:
    """One programme's shape: sessions by kind (None = any mix up to the total) and group sizes."""

    total_sessions: int
    group_sessions: int | None
    individual_sessions: int | None
    min_group: int = 4
    max_group: int = 12
    max_per_week: int = 4
    max_per_day: int = 1


RULES = {
    # 19 sessions: 15 group (2-2.5 h) and 4 individual (about 1 h); groups of 4-12, optimum 8.
    Programme.TSP: ProgrammeRules(total_sessions=19, group_sessions=15, individual_sessions=4),
    # 29 group and individual sessions, for men convicted of intimate partner violence.
    Programme.BBR: ProgrammeRules(total_sessions=29, group_sessions=None, individual_sessions=None),
}


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
    """A group session (every participant) or an individual session (one participant)."""

    kind: SessionKind
    on: date
    crn: Crn | None = None


class ProgrammeGroup(LedgerAggregate):
    @event("ProgrammeGroupFormed")
    def __init__(self, group: FormGroup, supplier_id: UUID) -> None:
        self.group = group
        self.supplier_id = supplier_id
        self.participants: list[UUID] = []  # subject ids: the group's record names nobody in the clear
        self.sessions: dict[UUID, list[tuple[date, SessionKind]]] = {}

    @event("ParticipantJoined")
    def join(self, subject_id: UUID, personal: Sealed, convicted_of_intimate_partner_violence: bool) -> None:
        self.participants.append(subject_id)
        self.sessions.setdefault(subject_id, [])

    @event("ProgrammeSessionScheduled")
    def schedule(self, kind: SessionKind, on: date, participants: tuple[UUID, ...]) -> None:
        for subject in participants:
            self.sessions[subject].append((on, kind))

    @property
    def rules(self) -> ProgrammeRules:
        return RULES[self.group.programme]


def form_group(ledger: Ledger, envelope: Envelope, command: FormGroup) -> Recorded:
    contract = ledger.load(Contract, command.contract_id)
    if not contract.is_live(envelope.effective_at.date()):
        raise RuleViolation("contract not live", f"the contract runs {contract.start_date} to {contract.end_date}")
    return ledger.execute(envelope, lambda: ProgrammeGroup(group=command, supplier_id=contract.supplier_id))


def join_group(ledger: Ledger, envelope: Envelope, group_id: UUID, command: JoinGroup) -> Recorded:
    group = ledger.load(ProgrammeGroup, group_id)
    if ledger.keys.find_subject(command.crn) in group.participants:
        raise RuleViolation("already in the group", f"{command.crn} is already a participant")
    if len(group.participants) >= group.rules.max_group:
        raise RuleViolation("groups of at most 12", "the group is full")
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


def _week(day: date) -> tuple[int, int]:
    iso = day.isocalendar()
    return iso.year, iso.week


def _check_person(group: ProgrammeGroup, subject: UUID, who: str, kind: SessionKind, on: date) -> None:
    """`who` names the participant in refusals: their CRN when the caller gave it, else "a participant"."""
    rules, held = group.rules, group.sessions[subject]
    if sum(1 for d, _ in held if d == on) >= rules.max_per_day:
        raise RuleViolation("at most one session a day", f"{who} already has a session on {on}")
    if sum(1 for d, _ in held if _week(d) == _week(on)) >= rules.max_per_week:
        raise RuleViolation("at most four sessions a week", f"{who} already has four sessions that week")
    if len(held) >= rules.total_sessions:
        raise RuleViolation(
            f"{group.group.programme.name} has {rules.total_sessions} sessions", f"{who} has all of them scheduled"
        )
    limit = rules.group_sessions if kind is SessionKind.GROUP else rules.individual_sessions
    if limit is not None and sum(1 for _, k in held if k is kind) >= limit:
        raise RuleViolation(
            f"{group.group.programme.name} has {limit} {kind} sessions", f"{who} has all {limit} scheduled"
        )


def schedule_session(ledger: Ledger, envelope: Envelope, group_id: UUID, command: ScheduleProgrammeSession) -> Recorded:
    group = ledger.load(ProgrammeGroup, group_id)
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
        if len(group.participants) < group.rules.min_group:
            raise RuleViolation(
                "a group session needs at least 4 participants", f"the group has {len(group.participants)}"
            )
        participants = tuple(group.participants)
    for subject in participants:
        _check_person(group, subject, command.crn or "a participant", command.kind, command.on)

    def schedule() -> ProgrammeGroup:
        group.schedule(kind=command.kind, on=command.on, participants=participants)
        return group

    return ledger.execute(envelope, schedule)
