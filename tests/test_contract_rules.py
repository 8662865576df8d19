"""A contract's rules, held by the aggregate: tested in memory, with no database (ADR 28)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

from ledger.envelope import Actor, Envelope
from ledger.procurement.call_offs import AwardType
from ledger.procurement.contracts import Contract, ContractStatus, Eligibility
from tests.support import recording, refused

COMMISSIONER = Actor(id="commissioner:ops", role="commissioner", organisation_id="pcc-durham")
CONCLUDED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TODAY = CONCLUDED_AT + timedelta(days=40)


def at(moment: datetime) -> AbstractContextManager[Envelope]:
    return recording(COMMISSIONER, moment)


def concluded() -> Contract:
    with at(CONCLUDED_AT):
        return Contract(
            call_off_id=uuid4(),
            award_type=AwardType.CONTRACT,
            supplier_id=uuid4(),
            commissioner_ids=(uuid4(),),
            need="accommodation",
            cohort=None,
            areas=("durham",),
            value=Decimal("240000.00"),
            start_date=date(2026, 4, 1),
            end_date=date(2028, 3, 31),
            mobilisation_date=None,
            extension_options_months=(12, 6),
            kpis=(),
            subcontractors=(),
            eligibility=Eligibility(),
        )


def test_a_variation_never_ends_the_contract_before_it_starts() -> None:
    contract = concluded()
    with at(TODAY), refused("end after start"):
        contract.vary(None, date(2026, 4, 1), "Shorter.", None)
    assert contract.end_date == date(2028, 3, 31)


def test_a_dated_variation_takes_effect_that_day_and_not_before_the_conclusion() -> None:
    contract = concluded()
    with at(TODAY):
        with refused("variation not before the contract's conclusion"):
            contract.vary(Decimal("260000.00"), None, "More places.", date(2026, 3, 1))
        with refused("variation not in the future"):
            contract.vary(Decimal("260000.00"), None, "More places.", TODAY.date() + timedelta(days=1))
        contract.vary(Decimal("260000.00"), None, "More places.", date(2026, 4, 1))
    assert contract.latest_envelope().effective_at == datetime(2026, 4, 1, tzinfo=UTC)
    assert contract.latest_envelope().recorded_at == TODAY
    assert contract.value == Decimal("260000.00")


def test_an_extension_takes_one_of_the_remaining_options_once() -> None:
    contract = concluded()
    with at(TODAY):
        contract.extend(12, "Meeting KPIs.")
        with refused("extension must use an option of the contract") as refusal:
            contract.extend(12, "Again.")
    assert refusal.value.detail == "remaining options (months): [6]"
    assert contract.end_date == date(2029, 3, 31)


def test_a_later_termination_is_notice_given_now_and_a_terminated_contract_takes_no_change() -> None:
    contract = concluded()
    with at(TODAY):
        with refused("termination within the term"):
            contract.terminate("Breach.", date(2028, 4, 1), TODAY)
        contract.terminate("Breach.", date(2026, 12, 31), TODAY)
        assert contract.latest_envelope().effective_at == TODAY  # notice: effective when given
        with refused("contract terminated"):
            contract.vary(Decimal("1.00"), None, "Too late.", None)
    assert contract.status is ContractStatus.TERMINATED
    assert contract.is_live(date(2026, 12, 30)) and not contract.is_live(date(2026, 12, 31))


def test_a_termination_dated_today_or_earlier_takes_effect_that_day() -> None:
    contract = concluded()
    with at(TODAY):
        contract.terminate("Insolvency.", date(2026, 4, 2), TODAY)
    assert contract.latest_envelope().effective_at == datetime(2026, 4, 2, tzinfo=UTC)
