"""Contracts and grants concluded from awards: variations, extensions and termination.

Conclusion and variation live here, once. `conclude_contract` and `vary_contract` are the commands; what another
capability records with them, in the same transaction, it hands them (`with_contract`, `with_variation`): payments
opens the new contract's account and commits its value, or moves the commitment by the change of value
(`ledger.payments.accounts`, whose commands of the same names the API calls). Procurement imports nothing of
payments, and payments repeats no rule of the contract's.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope, stamping, taking_effect
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework import geography
from ledger.procurement.call_offs import AwardType, CallOff
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
    """A contract (or grant) concluded from an award. Its commands are the public methods: each checks the rules and
    then triggers an @event method, which only records (ADR 28)."""

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

    # -- commands: the rules, then the event -------------------------------------------------------

    def vary(
        self, new_value: Decimal | None, new_end_date: date | None, reason: str, effective_date: date | None
    ) -> None:
        """Vary the value or the end date (never to or before the start) of an active contract, effective on
        `effective_date` (not after today, not before the conclusion), else when recorded."""
        self._require_active()
        if new_end_date is not None and new_end_date <= self.start_date:
            raise RuleViolation("end after start", "the new end date must be after the start date")
        with (
            nullcontext()
            if effective_date is None
            else taking_effect(effective_date, fact="variation", field="$.effective_date", after=self._conclusion())
        ):
            self._varied(new_value=new_value, new_end_date=new_end_date, reason=reason)

    def extend(self, months: int, reason: str) -> None:
        """Extend an active contract by one of its remaining extension options (each is taken once)."""
        self._require_active()
        if months not in self.extension_options:
            raise RuleViolation(
                "extension must use an option of the contract",
                f"remaining options (months): {self.extension_options or 'none'}",
            )
        self._extended(months=months, new_end_date=add_months(self.end_date, months), reason=reason)

    def terminate(self, grounds: str, effective_date: date, now: datetime) -> None:
        """Terminate an active contract from a day within its term: a day up to today is when it took effect (not
        before the conclusion); a later one is notice given now, effective when recorded (live until that day)."""
        self._require_active()
        if effective_date > self.end_date:
            raise RuleViolation("termination within the term", f"the contract ends {self.end_date} anyway")
        with (
            nullcontext()
            if effective_date > now.date()
            else taking_effect(effective_date, fact="termination", field="$.effective_date", after=self._conclusion())
        ):
            self._terminated(grounds=grounds, effective_date=effective_date)

    def _require_active(self) -> None:
        if self.status is ContractStatus.TERMINATED:
            raise RuleViolation("contract terminated", f"the contract was terminated on {self.terminated_on}")

    def _conclusion(self) -> tuple[str, datetime]:
        """What every change to a contract follows: its conclusion (effective when recorded)."""
        return "the contract's conclusion", self.created_on

    # -- events: what was decided, recorded --------------------------------------------------------

    @event("ContractVaried")
    def _varied(self, new_value: Decimal | None, new_end_date: date | None, reason: str) -> None:
        if new_value is not None:
            self.value = new_value
        if new_end_date is not None:
            self.end_date = new_end_date

    @event("ContractExtended")
    def _extended(self, months: int, new_end_date: date, reason: str) -> None:
        self.extension_options.remove(months)
        self.end_date = new_end_date

    @event("ContractTerminated")
    def _terminated(self, grounds: str, effective_date: date) -> None:
        self.status = ContractStatus.TERMINATED
        self.terminated_on = effective_date

    # -- derived -----------------------------------------------------------------------------------

    def is_live(self, day: date) -> bool:
        if self.status is ContractStatus.TERMINATED and self.terminated_on is not None and day >= self.terminated_on:
            return False
        return self.start_date <= day <= self.end_date


# -- commands: load, gather what the aggregate cannot know, let it decide, record -----------------------


def _terms_errors(command: ConcludeContract) -> list[tuple[str, str]]:
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
    return errors


def _contract(call_off: CallOff, command: ConcludeContract) -> Contract:
    """The contract an award becomes, on the terms concluded (the draft's where the command names none)."""
    draft = call_off.draft
    assert call_off.awarded_supplier is not None
    return Contract(
        call_off_id=call_off.id,
        award_type=draft.award_type,
        supplier_id=call_off.awarded_supplier,
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
        eligibility=command.eligibility,
    )


def conclude_contract(
    ledger: Ledger,
    envelope: Envelope,
    call_off_id: UUID,
    command: ConcludeContract,
    *,
    with_contract: Callable[[Contract], Sequence[LedgerAggregate]],
) -> Recorded:
    """Conclude the awarded call-off's contract (or grant) once standstill has ended (`CallOff.conclude_contract`).

    The contract, the call-off's record of it and what `with_contract` adds for the new contract are written in one
    transaction, in that order.
    """
    errors = _terms_errors(command)
    if errors:
        raise InvalidCommand(errors)
    call_off = ledger.load(CallOff, call_off_id)

    def conclude() -> list[LedgerAggregate]:
        contract = call_off.conclude_contract(
            envelope.recorded_at, command.areas or (), lambda: _contract(call_off, command)
        )
        return [contract, call_off, *with_contract(contract)]

    return ledger.execute(envelope, conclude)


def vary_contract(
    ledger: Ledger,
    envelope: Envelope,
    contract_id: UUID,
    command: VaryContract,
    *,
    with_variation: Callable[[Contract, Decimal, date], Sequence[LedgerAggregate]],
) -> Recorded:
    """Vary a contract's value or term, with a reason (`Contract.vary`).

    `with_variation(contract, change_of_value, effective_on)` adds what another capability records with the variation,
    in the same transaction and stamped like it (effective when the variation is).
    """
    if command.new_value is None and command.new_end_date is None:
        raise InvalidCommand([("$", "give new_value, new_end_date or both")])
    if command.new_value is not None and (errors := money_errors(command.new_value, "$.new_value")):
        raise InvalidCommand(errors)
    contract = ledger.load(Contract, contract_id)
    change = (command.new_value - contract.value) if command.new_value is not None else Decimal(0)

    def vary() -> list[LedgerAggregate]:
        contract.vary(command.new_value, command.new_end_date, command.reason, command.effective_date)
        varied = contract.latest_envelope()
        with stamping(varied):
            return [contract, *with_variation(contract, change, varied.effective_at.date())]

    return ledger.execute(envelope, vary, reason=command.reason)


def extend_contract(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: ExtendContract) -> Recorded:
    contract = ledger.load(Contract, contract_id)

    def extend() -> Contract:
        contract.extend(command.months, command.reason)
        return contract

    return ledger.execute(envelope, extend, reason=command.reason)


def terminate_contract(ledger: Ledger, envelope: Envelope, contract_id: UUID, command: TerminateContract) -> Recorded:
    contract = ledger.load(Contract, contract_id)

    def terminate() -> Contract:
        contract.terminate(command.grounds, command.effective_date, envelope.recorded_at)
        return contract

    return ledger.execute(envelope, terminate, reason=command.grounds)
