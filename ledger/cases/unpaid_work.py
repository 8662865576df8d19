"""Unpaid Work (Community Payback) orders delivered by a region's innovation partner."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.cases.referrals import Identity, PersonDetails
from ledger.envelope import Envelope, effective
from ledger.errors import InvalidCommand, RuleViolation
from ledger.personal_data import Crn, Sealed
from ledger.procurement import innovation_partners
from ledger.procurement.contracts import Contract, add_months
from ledger.store import Ledger, Recorded
from ledger.types import Reason, ShortText
from ledger.working_days import add_working_days

MIN_HOURS, MAX_HOURS = 40, 300
TRAINING_SHARE = Decimal("0.20")  # up to 20% of ordered hours on employment-related training
MAX_TRAVEL_MINUTES = 90  # each way
# Hours a week: employed / unemployed. An order records the minimum it was allocated under; the caseload stores
# that and never applies these numbers itself (issue 17: one rule).
WEEKLY_MINIMUM = {True: Decimal(7), False: Decimal(28)}
START_WITHIN_WORKING_DAYS = 7
COMPLETE_WITHIN_MONTHS = 12


class WorkKind(enum.StrEnum):
    WORK = "work"
    TRAINING = "training"  # employment-related training


class OrderDetails(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An Unpaid Work order as the provider needs it: everything but the person, whose data is sealed."""

    contract_id: UUID
    hours_ordered: int
    employed: bool
    made_on: date
    opts_out_of_all_male_placements: bool = False


class AllocateOrder(OrderDetails, kw_only=True, forbid_unknown_fields=True):
    crn: Crn
    person: PersonDetails

    def details(self) -> OrderDetails:
        return OrderDetails(**{name: getattr(self, name) for name in OrderDetails.__struct_fields__})


class CompleteInduction(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The induction, effective on the day it took place (not after today, not before the allocation)."""

    on: date
    risk_and_needs_assessed: bool


class RecordWork(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A day's work, effective on the day it was done, whenever it is recorded."""

    on: date
    hours: Annotated[Decimal, msgspec.Meta(description='Hours worked, e.g. "7.5"')]
    placement: ShortText
    kind: WorkKind = WorkKind.WORK
    travel_minutes: Annotated[int, msgspec.Meta(ge=0, le=600)] = 0
    all_male_placement: bool = False


class RecordStandDown(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The person reported but no placement could take them: recorded so it can be avoided; effective that day."""

    on: date
    reason: Reason


class UnpaidWorkOrder(LedgerAggregate):
    class UnpaidWorkOrderAllocated(LedgerAggregate.Created):
        """Version 2 records the rules the order was allocated under: its weekly minimum and the day from
        which its start is late, so that the views store them and a replay never applies today's rules."""

        class_version = 2
        order: OrderDetails
        subject_id: UUID
        personal: Sealed
        supplier_id: UUID
        allocated_on: date
        complete_by: date
        weekly_minimum_hours: Decimal
        start_late_from: date

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 orders were allocated under the rules as they stood then, written out here rather than
            # read from today's constants: 7 hours a week employed, 28 unemployed; late from the eighth
            # England and Wales working day after allocation.
            state["weekly_minimum_hours"] = "7" if state["order"]["employed"] else "28"
            allocated_on = date.fromisoformat(state["allocated_on"])
            state["start_late_from"] = add_working_days(allocated_on, 8).isoformat()

    @event(UnpaidWorkOrderAllocated)
    def __init__(
        self,
        order: OrderDetails,
        subject_id: UUID,
        personal: Sealed,
        supplier_id: UUID,
        allocated_on: date,
        complete_by: date,
        weekly_minimum_hours: Decimal,
        start_late_from: date,
    ) -> None:
        self.order = order
        self.subject_id = subject_id
        self.supplier_id = supplier_id
        self.allocated_on = allocated_on
        self.complete_by = complete_by
        self.weekly_minimum_hours = weekly_minimum_hours
        self.start_late_from = start_late_from
        self.inducted_on: date | None = None
        self.worked = Decimal(0)
        self.trained = Decimal(0)
        self.completed_on: date | None = None

    @event("InductionCompleted")
    def induct(self, on: date, risk_and_needs_assessed: bool) -> None:
        self.inducted_on = on

    @event("UnpaidWorkSessionRecorded")
    def record_work(self, work: RecordWork) -> None:
        if work.kind is WorkKind.TRAINING:
            self.trained += work.hours
        self.worked += work.hours

    @event("StandDownRecorded")
    def stand_down(self, on: date, reason: Sealed) -> None:
        pass

    @event("UnpaidWorkCompleted")
    def complete(self, on: date, hours: Decimal) -> None:
        self.completed_on = on


def allocate_order(ledger: Ledger, envelope: Envelope, command: AllocateOrder) -> Recorded:
    if not MIN_HOURS <= command.hours_ordered <= MAX_HOURS:
        raise RuleViolation("unpaid work hours between 40 and 300", f"{command.hours_ordered} hours were given")
    contract = ledger.load(Contract, command.contract_id)
    today = envelope.effective_at.date()
    if not contract.is_live(today):
        raise RuleViolation("contract not live", f"the contract runs {contract.start_date} to {contract.end_date}")
    innovation_partners.check_partner(ledger, contract)
    subject = ledger.keys.subject(command.crn)
    personal = ledger.keys.seal(subject, Identity(crn=command.crn, person=command.person))
    return ledger.execute(
        envelope,
        lambda: UnpaidWorkOrder(
            order=command.details(),
            subject_id=subject,
            personal=personal,
            supplier_id=contract.supplier_id,
            allocated_on=today,
            complete_by=add_months(command.made_on, COMPLETE_WITHIN_MONTHS),
            weekly_minimum_hours=WEEKLY_MINIMUM[command.employed],
            start_late_from=late_start_from(today),
        ),
    )


def _open(order: UnpaidWorkOrder) -> None:
    if order.completed_on is not None:
        raise RuleViolation("order completed", f"all hours were worked by {order.completed_on}")


def _allocation(order: UnpaidWorkOrder) -> tuple[str, datetime]:
    """What every fact of an order follows: its allocation (effective when recorded)."""
    return "the order's allocation", order.created_on


def complete_induction(ledger: Ledger, envelope: Envelope, order_id: UUID, command: CompleteInduction) -> Recorded:
    order = ledger.load(UnpaidWorkOrder, order_id)
    _open(order)
    if order.inducted_on is not None:
        raise RuleViolation("induction already completed", f"inducted on {order.inducted_on}")
    if not command.risk_and_needs_assessed:
        raise RuleViolation("induction includes the risk and needs assessment", "assess risk and needs first")

    on_the_day = effective(envelope, command.on, fact="induction", field="$.on", after=_allocation(order))

    def induct() -> UnpaidWorkOrder:
        order.induct(on=command.on, risk_and_needs_assessed=True)
        return order

    return ledger.execute(on_the_day, induct)


def record_work(ledger: Ledger, envelope: Envelope, order_id: UUID, command: RecordWork) -> Recorded:
    if not (command.hours.is_finite() and Decimal(0) < command.hours <= Decimal(12)) or command.hours % Decimal("0.25"):
        raise InvalidCommand([("$.hours", "hours worked in a day: more than 0, at most 12, in quarter hours")])
    order = ledger.load(UnpaidWorkOrder, order_id)
    _open(order)
    if order.inducted_on is None or command.on < order.inducted_on:
        raise RuleViolation("induction before the first session", "complete the induction first")
    if command.travel_minutes > MAX_TRAVEL_MINUTES:
        raise RuleViolation("travel at most 90 minutes each way", f"{command.travel_minutes} minutes given")
    if command.all_male_placement and order.order.opts_out_of_all_male_placements:
        raise RuleViolation("women may opt out of all-male placements", "this person opted out")
    ordered = Decimal(order.order.hours_ordered)
    if command.kind is WorkKind.TRAINING and order.trained + command.hours > ordered * TRAINING_SHARE:
        raise RuleViolation(
            "employment-related training capped at 20% of ordered hours",
            f"{order.trained} of at most {ordered * TRAINING_SHARE} training hours already used",
        )
    if order.worked + command.hours > ordered:
        raise RuleViolation("hours worked exceed hours ordered", f"{ordered - order.worked} hours remain")
    # The session (and the completion it may bring) takes effect on the day worked, whenever written down.
    on_the_day = effective(envelope, command.on, fact="work session", field="$.on", after=_allocation(order))

    def work() -> UnpaidWorkOrder:
        order.record_work(work=command)
        if order.worked == ordered:
            order.complete(on=command.on, hours=order.worked)
        return order

    return ledger.execute(on_the_day, work)


def record_stand_down(ledger: Ledger, envelope: Envelope, order_id: UUID, command: RecordStandDown) -> Recorded:
    order = ledger.load(UnpaidWorkOrder, order_id)
    _open(order)
    on_the_day = effective(envelope, command.on, fact="stand-down", field="$.on", after=_allocation(order))
    reason = ledger.keys.seal(order.subject_id, command.reason)

    def stand_down() -> UnpaidWorkOrder:
        order.stand_down(on=command.on, reason=reason)
        return order

    return ledger.execute(on_the_day, stand_down)


def late_start_from(allocated_on: date) -> date:
    """The first day on which an order's start is late: one not started by then, or whose first session falls
    on or after it, started late. Work starts within 7 working days of allocation (England and Wales working
    days: weekends and bank holidays excluded)."""
    return add_working_days(allocated_on, START_WITHIN_WORKING_DAYS + 1)


def at_risk_from(complete_by: date, hours_left: Decimal, weekly_minimum_hours: Decimal) -> date | None:
    """The first day on which an order is at risk of missing its deadline: its hours left, worked at its weekly
    minimum, no longer fit before the deadline (None once no hours are left). The caseload keeps this day as a
    generated column over the minimum the order recorded (migration 0019); its tests hold the two together."""
    if hours_left <= 0:
        return None
    return complete_by - timedelta(days=math.ceil(hours_left * 7 / weekly_minimum_hours) - 1)


def weeks_below_minimum(
    first_session_on: date | None, hours_by_week: Mapping[date, Decimal], weekly_minimum_hours: Decimal, today: date
) -> int:
    """Whole weeks (Monday to Sunday) from the week of the first session to the week before `today`'s (which is
    still running) in which the hours worked, keyed by each week's Monday, fell below the weekly minimum."""
    if first_session_on is None:
        return 0
    week = first_session_on - timedelta(days=first_session_on.weekday())
    this_week = today - timedelta(days=today.weekday())
    below = 0
    while week < this_week:
        below += hours_by_week.get(week, Decimal(0)) < weekly_minimum_hours
        week += timedelta(days=7)
    return below
