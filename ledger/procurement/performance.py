"""A contract's performance: key performance indicators as measured values per period, each rated (issue 19,
item 6; ADR 40).

The Procurement Act 2023 (s.52) asks a contracting authority to set at least three KPIs for a public contract worth
more than £5 million, to assess performance against them at least once every twelve months, and to publish the
assessment in a contract performance notice, rating it "good", "approaching target", "requires improvement" or
"inadequate". A contract's KPIs are defined as numbers (a unit, a target, which way is better, and how far from the
target still counts as approaching it); each measurement is of one KPI over one period and is rated by the rule
here; the contract's performance answers whether it is a larger contract, whether it has its three KPIs, and whether
any KPI is due an assessment.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Annotated
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.procurement.contracts import Contract, ContractStatus, add_months
from ledger.store import Ledger, Recorded
from ledger.types import Name, Quantity, ShortText, quantity_errors

LARGER_CONTRACT = Decimal("5000000.00")  # above this, a contract needs KPIs and performance notices
KPIS_FOR_LARGER_CONTRACTS = 3
ASSESSMENT_INTERVAL = timedelta(days=366)  # at least once in every twelve months


class Rating(enum.StrEnum):
    """The contract performance notice's ratings."""

    GOOD = "good"
    APPROACHING_TARGET = "approaching target"
    REQUIRES_IMPROVEMENT = "requires improvement"
    INADEQUATE = "inadequate"


class DefineKpi(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    unit: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]  # "%", "days", "referrals"
    target: Quantity
    higher_is_better: bool = True
    tolerance: Quantity  # how far from the target still counts as approaching it, in the KPI's units


class MeasureKpi(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    kpi: Name
    period_start: date
    period_end: date
    value: Quantity
    commentary: ShortText | None = None


class PlanMilestone(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    due_on: date


class AchieveMilestone(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    achieved_on: date


class Milestone(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    due_on: date
    achieved_on: date | None = None


class KpiDefinition(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    unit: str
    target: Decimal
    higher_is_better: bool
    tolerance: Decimal


class Measurement(msgspec.Struct, frozen=True, kw_only=True):
    kpi: str
    period_start: date
    period_end: date
    value: Decimal
    rating: Rating
    commentary: str | None = None


def rate(kpi: KpiDefinition, value: Decimal) -> Rating:
    """Met or beaten: good; missed by no more than the tolerance: approaching target; by no more than twice it:
    requires improvement; further: inadequate."""
    shortfall = (kpi.target - value) if kpi.higher_is_better else (value - kpi.target)
    if shortfall <= 0:
        return Rating.GOOD
    if shortfall <= kpi.tolerance:
        return Rating.APPROACHING_TARGET
    if shortfall <= 2 * kpi.tolerance:
        return Rating.REQUIRES_IMPROVEMENT
    return Rating.INADEQUATE


def performance_id(contract_id: UUID) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"performance:{contract_id}")


class ContractPerformance(LedgerAggregate):
    """One contract's KPIs and their measurements, a stream of its own beside the contract's."""

    @staticmethod
    def create_id(contract_id: UUID) -> UUID:
        return performance_id(contract_id)

    @event("ContractPerformanceOpened")
    def __init__(self, contract_id: UUID) -> None:
        self.contract_id = contract_id
        self.kpis: dict[str, KpiDefinition] = {}
        self.measurements: list[Measurement] = []
        self.milestones: dict[str, Milestone] = {}

    def plan_milestone(self, contract: Contract, command: PlanMilestone) -> None:
        """A mobilisation milestone, due within the mobilisation period (from its start to the service's start)."""
        if contract.status is not ContractStatus.ACTIVE:
            raise RuleViolation("mobilisation of a live contract", f"the contract is {contract.status}")
        if command.name in self.milestones:
            raise RuleViolation("a milestone is planned once", f"{command.name!r} is already planned")
        start = mobilisation_start(contract)
        if not start <= command.due_on <= contract.start_date:
            raise RuleViolation(
                "a milestone falls within mobilisation",
                f"mobilisation runs from {start} to the service's start on {contract.start_date}",
            )
        self._milestone_planned(milestone=Milestone(name=command.name, due_on=command.due_on))

    @event("MobilisationMilestonePlanned")
    def _milestone_planned(self, milestone: Milestone) -> None:
        self.milestones[milestone.name] = milestone

    def achieve_milestone(self, command: AchieveMilestone, today: date) -> None:
        milestone = self.milestones.get(command.name)
        if milestone is None:
            known = ", ".join(sorted(self.milestones)) or "none yet"
            raise InvalidCommand([("$.name", f"not one of this contract's milestones ({known})")])
        if milestone.achieved_on is not None:
            raise RuleViolation("a milestone is achieved once", f"it was achieved on {milestone.achieved_on}")
        if command.achieved_on > today:
            raise RuleViolation("a milestone is achieved when it happens", f"{command.achieved_on} is to come")
        self._milestone_achieved(name=command.name, achieved_on=command.achieved_on)

    @event("MobilisationMilestoneAchieved")
    def _milestone_achieved(self, name: str, achieved_on: date) -> None:
        self.milestones[name] = msgspec.structs.replace(self.milestones[name], achieved_on=achieved_on)

    def define(self, contract: Contract, command: DefineKpi) -> None:
        if contract.status is not ContractStatus.ACTIVE:
            raise RuleViolation("KPIs of a live contract", f"the contract is {contract.status}")
        if errors := quantity_errors(command.target, "$.target") + quantity_errors(command.tolerance, "$.tolerance"):
            raise InvalidCommand(errors)
        if command.name in self.kpis:
            raise RuleViolation("a KPI is defined once", f"{command.name!r} is already one of this contract's KPIs")
        kpi = KpiDefinition(
            name=command.name,
            unit=command.unit,
            target=command.target,
            higher_is_better=command.higher_is_better,
            tolerance=command.tolerance,
        )
        self._defined(kpi=kpi)

    @event("KpiDefined")
    def _defined(self, kpi: KpiDefinition) -> None:
        self.kpis[kpi.name] = kpi

    def measure(self, contract: Contract, command: MeasureKpi, today: date) -> None:
        if errors := quantity_errors(command.value, "$.value"):
            raise InvalidCommand(errors)
        kpi = self.kpis.get(command.kpi)
        if kpi is None:
            known = ", ".join(sorted(self.kpis)) or "none yet"
            raise InvalidCommand([("$.kpi", f"not one of this contract's KPIs ({known})")])
        if command.period_end < command.period_start:
            raise InvalidCommand([("$.period_end", "must be on or after period_start")])
        if command.period_start < contract.start_date or command.period_end > contract.end_date:
            raise RuleViolation(
                "a measured period lies within the contract",
                f"the contract runs from {contract.start_date} to {contract.end_date}",
            )
        if command.period_end > today:
            raise RuleViolation("a period is measured once it has ended", f"it ends on {command.period_end}")
        for earlier in self.measurements:
            if earlier.kpi == kpi.name and not (
                command.period_end < earlier.period_start or command.period_start > earlier.period_end
            ):
                raise RuleViolation(
                    "a period is measured once",
                    f"{kpi.name} was measured for {earlier.period_start} to {earlier.period_end}",
                )
        self._measured(
            measurement=Measurement(
                kpi=kpi.name,
                period_start=command.period_start,
                period_end=command.period_end,
                value=command.value,
                rating=rate(kpi, command.value),
                commentary=command.commentary,
            )
        )

    @event("KpiMeasured")
    def _measured(self, measurement: Measurement) -> None:
        self.measurements.append(measurement)


MOBILISATION_MONTHS = 6  # seed 001: six months' mobilisation before the service starts, unless the contract says


def mobilisation_start(contract: Contract) -> date:
    return contract.mobilisation_date or add_months(contract.start_date, -MOBILISATION_MONTHS)


class MilestoneState(enum.StrEnum):
    DUE = "due"
    LATE = "late"  # past its day, not achieved
    ACHIEVED = "achieved"
    ACHIEVED_LATE = "achieved late"


class MilestoneRecord(msgspec.Struct, kw_only=True):
    name: str
    due_on: date
    achieved_on: date | None
    state: MilestoneState


def milestone_state(milestone: Milestone, today: date) -> MilestoneState:
    if milestone.achieved_on is not None:
        return MilestoneState.ACHIEVED if milestone.achieved_on <= milestone.due_on else MilestoneState.ACHIEVED_LATE
    return MilestoneState.LATE if today > milestone.due_on else MilestoneState.DUE


class Mobilisation(msgspec.Struct, kw_only=True):
    """Mobilisation from its start to the service's start, its milestones, and whether it is late (a milestone past
    its day and not achieved, or the service started with milestones still to achieve)."""

    starts_on: date
    service_starts_on: date
    late: bool
    milestones: list[MilestoneRecord]


class KpiRecord(msgspec.Struct, kw_only=True):
    name: str
    unit: str
    target: Decimal
    higher_is_better: bool
    tolerance: Decimal
    latest: Measurement | None
    assessment_due: bool  # no measurement has ended within the last twelve months
    measurements: list[Measurement]


class PerformanceRecord(msgspec.Struct, kw_only=True):
    """A contract's KPIs and their ratings; whether it is a larger contract, which needs at least three KPIs and an
    assessment at least every twelve months, published in a contract performance notice."""

    contract_id: UUID
    value: Decimal
    larger_contract: bool
    kpis_required: int
    kpis_missing: int
    assessments_due: list[str]
    kpis: list[KpiRecord]
    mobilisation: Mobilisation


def performance(ledger: Ledger, contract_id: UUID, today: date) -> PerformanceRecord:
    contract = ledger.load(Contract, contract_id)
    record_id = performance_id(contract_id)
    record = ledger.load(ContractPerformance, record_id) if ledger.exists(record_id) else None
    kpis = list(record.kpis.values()) if record else []
    measured = record.measurements if record else []
    larger = contract.value > LARGER_CONTRACT
    required = KPIS_FOR_LARGER_CONTRACTS if larger else 0
    listed = []
    for kpi in kpis:
        own = sorted((m for m in measured if m.kpi == kpi.name), key=lambda m: m.period_end)
        latest = own[-1] if own else None
        since = max(contract.start_date, (latest.period_end if latest else contract.start_date))
        due = contract.start_date + ASSESSMENT_INTERVAL <= today and today - since >= ASSESSMENT_INTERVAL
        listed.append(
            KpiRecord(
                name=kpi.name,
                unit=kpi.unit,
                target=kpi.target,
                higher_is_better=kpi.higher_is_better,
                tolerance=kpi.tolerance,
                latest=latest,
                assessment_due=due,
                measurements=own,
            )
        )
    return PerformanceRecord(
        contract_id=contract_id,
        value=contract.value,
        larger_contract=larger,
        kpis_required=required,
        kpis_missing=max(0, required - len(kpis)),
        assessments_due=[k.name for k in listed if k.assessment_due],
        kpis=listed,
        mobilisation=_mobilisation(contract, record, today),
    )


def _mobilisation(contract: Contract, record: ContractPerformance | None, today: date) -> Mobilisation:
    milestones = sorted((record.milestones.values() if record else []), key=lambda m: (m.due_on, m.name))
    listed = [
        MilestoneRecord(name=m.name, due_on=m.due_on, achieved_on=m.achieved_on, state=milestone_state(m, today))
        for m in milestones
    ]
    return Mobilisation(
        starts_on=mobilisation_start(contract),
        service_starts_on=contract.start_date,
        late=any(m.state is MilestoneState.LATE for m in listed),
        milestones=listed,
    )


def _on_record(
    ledger: Ledger, envelope: Envelope, contract_id: UUID, step: Callable[[ContractPerformance, Contract, date], None]
) -> Recorded:
    """Run one of the record's commands on the contract's performance stream (opened by its first command)."""

    def decide() -> ContractPerformance:
        contract = ledger.load(Contract, contract_id)
        record_id = performance_id(contract_id)
        if ledger.exists(record_id):
            record = ledger.load(ContractPerformance, record_id)
        else:
            record = ContractPerformance(contract_id=contract.id)
        step(record, contract, envelope.effective_at.date())
        return record

    return ledger.execute(envelope, decide)


def define_kpi(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: DefineKpi) -> Recorded:
    return _on_record(ledger, envelope, contract_id, lambda record, contract, _: record.define(contract, command))


def measure_kpi(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: MeasureKpi) -> Recorded:
    return _on_record(
        ledger, envelope, contract_id, lambda record, contract, today: record.measure(contract, command, today)
    )


def plan_milestone(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: PlanMilestone) -> Recorded:
    return _on_record(
        ledger, envelope, contract_id, lambda record, contract, _: record.plan_milestone(contract, command)
    )


def achieve_milestone(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: AchieveMilestone) -> Recorded:
    return _on_record(ledger, envelope, contract_id, lambda record, _, today: record.achieve_milestone(command, today))
