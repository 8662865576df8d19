"""Innovation Partners: one per probation region, delivering Unpaid Work and accredited programmes (seeds 000 and
003: a separate competition per region for the Innovation Partner; DOMAIN.md). Issue 19, item 5; ADR 41.

A region's Innovation Partner is a contract won by a competition for that whole region, designated by the Authority
as the region's partnership; Unpaid Work orders and programme groups are placed only under the contract that is its
region's Innovation Partner when they are placed. A later designation replaces the earlier (a re-procurement), and
the stream keeps each.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework import geography
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.procurement.call_offs import AwardType
from ledger.procurement.contracts import Contract
from ledger.store import Ledger, Recorded

RULE = "Unpaid Work and programmes under the region's Innovation Partner"


class DesignatePartner(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    region: str  # a probation region's area code, region-a ... region-l
    contract_id: UUID


class Partner(msgspec.Struct, frozen=True, kw_only=True):
    contract_id: UUID
    supplier_id: UUID
    designated_on: date


def partnership_id(region: str) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"innovation-partner:{region}")


def _regions() -> tuple[str, ...]:
    return tuple(a.code for a in geography.AREAS if a.kind is geography.AreaKind.PROBATION_REGION)


class InnovationPartnership(LedgerAggregate):
    """A probation region's Innovation Partner over time."""

    @staticmethod
    def create_id(region: str) -> UUID:
        return partnership_id(region)

    @event("InnovationPartnershipOpened")
    def __init__(self, region: str) -> None:
        self.region = region
        self.partners: list[Partner] = []

    @property
    def current(self) -> Partner | None:
        return self.partners[-1] if self.partners else None

    def designate(self, contract: Contract, today: date) -> None:
        """The contract won by the region's own competition: a contract (not a grant), live, for the whole region
        and nowhere else."""
        if contract.award_type is not AwardType.CONTRACT:
            raise RuleViolation("an Innovation Partner holds a contract", "a grant cannot make an Innovation Partner")
        if not contract.is_live(today) and contract.start_date <= today:
            raise RuleViolation("an Innovation Partner's contract is live", f"it ended on {contract.end_date}")
        outside = [a for a in contract.areas if not geography.covers(self.region, a)]
        if outside or geography.uncovered(self.region, contract.areas):
            raise RuleViolation(
                "an Innovation Partner is won by its region's own competition",
                f"the contract is for {geography.names(contract.areas)}, not the whole of"
                f" {geography.names([self.region])} alone",
            )
        if self.current is not None and self.current.contract_id == contract.id:
            raise RuleViolation("an Innovation Partner is designated once", "this contract is already the partner")
        self._designated(contract_id=contract.id, supplier_id=contract.supplier_id, designated_on=today)

    @event("InnovationPartnerDesignated")
    def _designated(self, contract_id: UUID, supplier_id: UUID, designated_on: date) -> None:
        self.partners.append(Partner(contract_id=contract_id, supplier_id=supplier_id, designated_on=designated_on))


def designate_partner(ledger: Ledger, envelope: Envelope, command: DesignatePartner) -> Recorded:
    if command.region not in _regions():
        raise InvalidCommand([("$.region", f"{command.region!r} is not a probation region (region-a ... region-l)")])
    contract = ledger.load(Contract, command.contract_id)
    today = envelope.effective_at.date()

    def decide() -> InnovationPartnership:
        region_id = partnership_id(command.region)
        if ledger.exists(region_id):
            partnership = ledger.load(InnovationPartnership, region_id)
        else:
            partnership = InnovationPartnership(region=command.region)
        partnership.designate(contract, today)
        return partnership

    return ledger.execute(envelope, decide)


def check_partner(ledger: Ledger, contract: Contract) -> None:
    """Refuse Unpaid Work or a programme group under a contract that is not its region's Innovation Partner."""
    regions = geography.probation_regions(list(contract.areas))
    for region in regions:
        region_id = partnership_id(region)
        current = ledger.load(InnovationPartnership, region_id).current if ledger.exists(region_id) else None
        if current is not None and current.contract_id == contract.id:
            return
    named = geography.names(regions) if regions else "no region"
    raise RuleViolation(RULE, f"the contract is not the Innovation Partner of {named}")


class PartnerRecord(msgspec.Struct, kw_only=True):
    region: str
    region_name: str
    contract_id: UUID | None
    supplier_id: UUID | None
    designated_on: date | None
    earlier: list[Partner]


class PartnerList(msgspec.Struct, kw_only=True):
    items: list[PartnerRecord]


def partners(ledger: Ledger) -> PartnerList:
    """Each region's Innovation Partner as designated (none yet: nulls), with the earlier ones."""
    items = []
    for region in _regions():
        region_id = partnership_id(region)
        held = ledger.load(InnovationPartnership, region_id).partners if ledger.exists(region_id) else []
        current = held[-1] if held else None
        items.append(
            PartnerRecord(
                region=region,
                region_name=geography.BY_CODE[region].name,
                contract_id=current.contract_id if current else None,
                supplier_id=current.supplier_id if current else None,
                designated_on=current.designated_on if current else None,
                earlier=list(held[:-1]),
            )
        )
    return PartnerList(items=items)
