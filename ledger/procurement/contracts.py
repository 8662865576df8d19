"""Contracts and grants concluded from awards: variations, extensions and termination."""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope, effective
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework import geography
from ledger.procurement.call_offs import AwardType, CallOff, CallOffStatus
from ledger.store import Ledger, Recorded
from ledger.types import Money, Name, Reason, ShortText, money_errors


class Gender(enum.StrEnum):
    ANY = "any"
    WOMEN = "women"
    MEN = "men"


class Eligibility(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Who the service is for: referrals outside it are refused."""

    gender: Gender = Gender.ANY
    min_age: Annotated[int, msgspec.Meta(ge=10, le=120)] | None = None
    max_age: Annotated[int, msgspec.Meta(ge=10, le=120)] | None = None


class Kpi(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    target: ShortText


class Subcontractor(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Name
    supplier_id: UUID | None = None
    role: ShortText


class ConcludeContract(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Conclude the awarded call-off's contract (or grant) once standstill has ended."""

    value: Money
    start_date: date
    end_date: date
    mobilisation_date: date | None = None
    extension_options_months: tuple[Annotated[int, msgspec.Meta(ge=1, le=60)], ...] | None = None
    kpis: tuple[Kpi, ...] = ()
    subcontractors: tuple[Subcontractor, ...] = ()
    areas: tuple[str, ...] | None = None
    eligibility: Eligibility = Eligibility()
    budget_line: Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9\-]*$", max_length=40)] = "core"


class VaryContract(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    new_value: Money | None = None
    new_end_date: date | None = None
    reason: Reason
    effective_date: Annotated[
        date | None,
        msgspec.Meta(description="The day the variation took effect (default: now); not after today"),
    ] = None


class ExtendContract(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    months: Annotated[int, msgspec.Meta(ge=1, le=60)]
    reason: Reason


class TerminateContract(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Termination from `effective_date`: a past or present day is when it took effect; a later one is notice
    given now, effective when recorded (the contract stays live until that day)."""

    grounds: Reason
    effective_date: date


class ContractStatus(enum.StrEnum):
    ACTIVE = "active"
    TERMINATED = "terminated"


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, candidate)
        except ValueError:
            continue
    raise ValueError(day)


class Contract(LedgerAggregate):
    @event("ContractConcluded")
    def __init__(
        self,
        call_off_id: UUID,
        award_type: AwardType,
        supplier_id: UUID,
        commissioner_ids: tuple[UUID, ...],
        need: str | None,
        cohort: str | None,
        areas: tuple[str, ...],
        value: Decimal,
        start_date: date,
        end_date: date,
        mobilisation_date: date | None,
        extension_options_months: tuple[int, ...],
        kpis: tuple[Kpi, ...],
        subcontractors: tuple[Subcontractor, ...],
        eligibility: Eligibility,
    ) -> None:
        self.call_off_id = call_off_id
        self.award_type = award_type
        self.supplier_id = supplier_id
        self.commissioner_ids = commissioner_ids
        self.need, self.cohort = need, cohort
        self.areas = areas
        self.value = value
        self.start_date, self.end_date, self.mobilisation_date = start_date, end_date, mobilisation_date
        self.extension_options = list(extension_options_months)
        self.kpis, self.subcontractors, self.eligibility = kpis, subcontractors, eligibility
        self.status = ContractStatus.ACTIVE
        self.terminated_on: date | None = None
        self.price_schedule_id: UUID | None = None  # the payments capability attaches one

    @event("ContractVaried")
    def vary(self, new_value: Decimal | None, new_end_date: date | None, reason: str) -> None:
        if new_value is not None:
            self.value = new_value
        if new_end_date is not None:
            self.end_date = new_end_date

    @event("ContractExtended")
    def extend(self, months: int, new_end_date: date, reason: str) -> None:
        self.extension_options.remove(months)
        self.end_date = new_end_date

    @event("ContractTerminated")
    def terminate(self, grounds: str, effective_date: date) -> None:
        self.status = ContractStatus.TERMINATED
        self.terminated_on = effective_date

    def is_live(self, day: date) -> bool:
        if self.status is ContractStatus.TERMINATED and self.terminated_on is not None and day >= self.terminated_on:
            return False
        return self.start_date <= day <= self.end_date


def conclude_contract(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: ConcludeContract) -> Recorded:
    return ledger.execute(envelope, contract_builder(ledger, envelope, call_off_id, command))


def contract_builder(
    ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: ConcludeContract
) -> Callable[[], list[LedgerAggregate]]:
    """Check that the award may become a contract now; return the command that creates it.

    The command returns [contract, call-off]; callers may add aggregates of their own (the payments
    capability opens the contract's account and commits its value) to the same transaction.
    """
    errors = money_errors(command.value, "$.value")
    if command.end_date <= command.start_date:
        errors.append(("$.end_date", "must be after start_date"))
    if command.mobilisation_date is not None and command.mobilisation_date > command.start_date:
        errors.append(("$.mobilisation_date", "must be on or before start_date"))
    unknown = [a for a in command.areas or () if a not in geography.BY_CODE]
    if unknown:
        errors.append(("$.areas", f"unknown area(s): {', '.join(unknown)}"))
    eligibility = command.eligibility
    if eligibility.min_age and eligibility.max_age and eligibility.min_age > eligibility.max_age:
        errors.append(("$.eligibility.min_age", "must not exceed max_age"))
    if errors:
        raise InvalidCommand(errors)
    call_off = ledger.load(CallOff, call_off_id)
    if call_off.status is not CallOffStatus.STANDSTILL or call_off.awarded_supplier is None:
        raise RuleViolation("contract only from an award", f"the call-off is {call_off.status}")
    assert call_off.standstill_ends is not None
    if envelope.recorded_at < call_off.standstill_ends:
        raise RuleViolation("standstill period not over", f"standstill ends {call_off.standstill_ends}")
    draft = call_off.draft
    outside = [a for a in command.areas or () if not geography.covers(draft.geography, a)]
    if outside:
        raise RuleViolation(
            "contract areas within the call-off geography", f"{outside[0]} is outside {draft.geography}"
        )
    supplier_id = call_off.awarded_supplier

    def conclude() -> list[LedgerAggregate]:
        contract = Contract(
            call_off_id=call_off_id,
            award_type=draft.award_type,
            supplier_id=supplier_id,
            commissioner_ids=(draft.lead_commissioner_id, *draft.partner_commissioner_ids),
            need=draft.need,
            cohort=draft.cohort,
            areas=tuple(command.areas or (draft.geography,)),
            value=command.value,
            start_date=command.start_date,
            end_date=command.end_date,
            mobilisation_date=command.mobilisation_date,
            extension_options_months=(
                command.extension_options_months
                if command.extension_options_months is not None
                else draft.extension_options_months
            ),
            kpis=command.kpis,
            subcontractors=command.subcontractors,
            eligibility=eligibility,
        )
        call_off.record_contract(contract_id=contract.id)
        return [contract, call_off]

    return conclude


def _require_active(contract: Contract) -> None:
    if contract.status is ContractStatus.TERMINATED:
        raise RuleViolation("contract terminated", f"the contract was terminated on {contract.terminated_on}")


def _conclusion(contract: Contract) -> tuple[str, datetime]:
    """What every change to a contract follows: its conclusion (effective when recorded)."""
    return "the contract's conclusion", contract.created_on


def variation(
    ledger: Ledger, envelope: Envelope, contract_id: UUID, command: VaryContract
) -> tuple[Envelope, Callable[[], Contract]]:
    """Check the variation; return the envelope it takes effect in (on its `effective_date`, else now) and the
    command that records it (payments adds the commitment change)."""
    contract = ledger.load(Contract, contract_id)
    _require_active(contract)
    if command.new_end_date is not None and command.new_end_date <= contract.start_date:
        raise RuleViolation("end after start", "the new end date must be after the start date")
    varied = envelope
    if command.effective_date is not None:
        varied = effective(
            envelope, command.effective_date, fact="variation", field="$.effective_date", after=_conclusion(contract)
        )

    def vary() -> Contract:
        contract.vary(new_value=command.new_value, new_end_date=command.new_end_date, reason=command.reason)
        return contract

    return varied, vary


def extend_contract(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: ExtendContract) -> Recorded:
    contract = ledger.load(Contract, contract_id)
    _require_active(contract)
    if command.months not in contract.extension_options:
        raise RuleViolation(
            "extension must use an option of the contract",
            f"remaining options (months): {contract.extension_options or 'none'}",
        )

    def extend() -> Contract:
        contract.extend(
            months=command.months, new_end_date=add_months(contract.end_date, command.months), reason=command.reason
        )
        return contract

    return ledger.execute(envelope, extend, reason=command.reason)


def terminate_contract(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: TerminateContract) -> Recorded:
    contract = ledger.load(Contract, contract_id)
    _require_active(contract)
    if command.effective_date > contract.end_date:
        raise RuleViolation("termination within the term", f"the contract ends {contract.end_date} anyway")
    terminated = envelope  # notice of a termination to come is effective when given
    if command.effective_date <= envelope.recorded_at.date():
        terminated = effective(
            envelope, command.effective_date, fact="termination", field="$.effective_date", after=_conclusion(contract)
        )

    def terminate() -> Contract:
        contract.terminate(grounds=command.grounds, effective_date=command.effective_date)
        return contract

    return ledger.execute(terminated, terminate, reason=command.grounds)
