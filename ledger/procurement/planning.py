"""The forward pipeline: call-offs commissioners plan to run, published to the market ahead of time.

Seed 001 asks the Authority to "publish estimated volumes and budgets for each lot" and to share specifications and
criteria "as far in advance as possible", so that providers, small ones above all, can prepare (issue 19, item 4;
ADR 38). A planned call-off names its lot(s), its geography, its estimated value and volume and the month it is
expected to be published; it may be revised (with a reason), withdrawn (with a reason), or fulfilled by the call-off
that was drafted for it. Every qualified supplier sees the plans for its lots and areas.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework import geography
from ledger.framework.commissioners import Commissioner
from ledger.procurement.call_offs import AwardType, CallOff, CallOffStatus, lot_and_area_errors
from ledger.store import Ledger, Recorded
from ledger.types import LongText, Money, Name, Reason

Month = Annotated[str, msgspec.Meta(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$", description='e.g. "2027-01"')]
Volume = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class PlanStatus(enum.StrEnum):
    PLANNED = "planned"
    FULFILLED = "fulfilled"  # its call-off was drafted
    WITHDRAWN = "withdrawn"


class Plan(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What is planned: the market reads it to prepare."""

    title: Name
    description: LongText
    need: str | None = None
    cohort: str | None = None
    geography: str
    award_type: AwardType = AwardType.CONTRACT
    estimated_value: Money  # over the whole term
    estimated_annual_volume: Volume | None = None  # e.g. referrals a year
    volume_unit: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = "referrals"
    expected_publication: Month
    initial_term_months: Annotated[int, msgspec.Meta(ge=1, le=120)] | None = None


class PlanCallOff(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    lead_commissioner_id: UUID
    plan: Plan


class RevisePlan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    plan: Plan
    reason: Reason


class WithdrawPlan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason


class FulfilPlan(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    call_off_id: UUID


def lots_of(plan: Plan) -> tuple[str, ...]:
    return tuple(code for code in (plan.need, plan.cohort) if code)


def _plan_errors(plan: Plan) -> list[tuple[str, str]]:
    return lot_and_area_errors(plan.need, plan.cohort, plan.geography, plan.estimated_value, "$.plan")


def _check_month(plan: Plan, today: date) -> None:
    if plan.expected_publication < f"{today:%Y-%m}":
        raise RuleViolation(
            "a plan looks ahead",
            f"publication expected in {plan.expected_publication} is already past ({today:%Y-%m} now)",
        )


class PlannedCallOff(LedgerAggregate):
    """A call-off a commissioner plans to run; its rules decided here, its events recorded by the @event methods."""

    @classmethod
    def create(cls, lead: Commissioner, plan: Plan, today: date) -> PlannedCallOff:
        if errors := _plan_errors(plan):
            raise InvalidCommand(errors)
        if not lead.may_commission:
            raise RuleViolation(
                "user agreement not signed", f"{lead.name} must sign the framework user agreement before commissioning"
            )
        _check_month(plan, today)
        return cls(lead_commissioner_id=lead.id, plan=plan)

    @event("CallOffPlanned")
    def __init__(self, lead_commissioner_id: UUID, plan: Plan) -> None:
        self.lead_commissioner_id = lead_commissioner_id
        self.plan = plan
        self.status = PlanStatus.PLANNED
        self.call_off_id: UUID | None = None

    def _open(self) -> None:
        if self.status is not PlanStatus.PLANNED:
            raise RuleViolation("only a planned call-off changes", f"this plan is {self.status}")

    def revise(self, plan: Plan, reason: str, today: date) -> None:
        self._open()
        if errors := _plan_errors(plan):
            raise InvalidCommand(errors)
        _check_month(plan, today)
        self._revised(plan=plan, reason=reason)

    @event("PlannedCallOffRevised")
    def _revised(self, plan: Plan, reason: str) -> None:
        self.plan = plan

    def withdraw(self, reason: str) -> None:
        self._open()
        self._withdrawn(reason=reason)

    @event("PlannedCallOffWithdrawn")
    def _withdrawn(self, reason: str) -> None:
        self.status = PlanStatus.WITHDRAWN

    def fulfil(self, call_off: CallOff) -> None:
        """The call-off drafted for this plan: the lead's own, for the plan's lots and geography, not cancelled."""
        self._open()
        draft = call_off.draft
        if draft.lead_commissioner_id != self.lead_commissioner_id:
            raise RuleViolation("a plan is fulfilled by its own call-off", "the call-off has another lead commissioner")
        if (draft.need, draft.cohort, draft.geography) != (self.plan.need, self.plan.cohort, self.plan.geography):
            raise RuleViolation(
                "a plan is fulfilled by its own call-off",
                "the call-off's lots and geography differ from the plan's: revise the plan first",
            )
        if call_off.status is CallOffStatus.CANCELLED:
            raise RuleViolation("a plan is fulfilled by its own call-off", "the call-off was cancelled")
        self._fulfilled(call_off_id=call_off.id)

    @event("PlannedCallOffFulfilled")
    def _fulfilled(self, call_off_id: UUID) -> None:
        self.status = PlanStatus.FULFILLED
        self.call_off_id = call_off_id


# -- commands ------------------------------------------------------------------------------------------------


def plan_call_off(ledger: Ledger, envelope: Envelope, command: PlanCallOff) -> Recorded:
    lead = ledger.load(Commissioner, command.lead_commissioner_id)
    return ledger.execute(envelope, lambda: PlannedCallOff.create(lead, command.plan, envelope.effective_at.date()))


def _change(ledger: Ledger, envelope: Envelope, plan_id: UUID, change: object, reason: str | None = None) -> Recorded:
    planned = ledger.load(PlannedCallOff, plan_id)

    def run() -> PlannedCallOff:
        change(planned)  # type: ignore[operator]
        return planned

    return ledger.execute(envelope, run, reason=reason)


def revise_plan(ledger: Ledger, envelope: Envelope, plan_id: UUID, command: RevisePlan) -> Recorded:
    today = envelope.effective_at.date()
    return _change(ledger, envelope, plan_id, lambda p: p.revise(command.plan, command.reason, today), command.reason)


def withdraw_plan(ledger: Ledger, envelope: Envelope, plan_id: UUID, command: WithdrawPlan) -> Recorded:
    return _change(ledger, envelope, plan_id, lambda p: p.withdraw(command.reason), command.reason)


def fulfil_plan(ledger: Ledger, envelope: Envelope, plan_id: UUID, command: FulfilPlan) -> Recorded:
    call_off = ledger.load(CallOff, command.call_off_id)
    return _change(ledger, envelope, plan_id, lambda p: p.fulfil(call_off))


def serves(lots: Iterable[str], areas: Iterable[str], plan_lots: tuple[str, ...], target: str) -> bool:
    """Whether a supplier holding `lots` and declaring `areas` is one the plan concerns: it holds a lot of the plan,
    and one of its areas overlaps the plan's geography (containing it or lying within it)."""
    held = set(lots)
    return any(lot in held for lot in plan_lots) and any(overlaps(area, target) for area in areas)


def overlaps(area: str, other: str) -> bool:
    """One area contains the other (or they are the same)."""
    return geography.covers(area, other) or geography.covers(other, area)
