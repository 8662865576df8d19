"""Supplier organisations: registration and the details they keep up to date."""

from __future__ import annotations

import enum
import re
from typing import Annotated
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.store import Ledger, Recorded


class OrganisationType(enum.StrEnum):
    VOLUNTARY = "voluntary"
    PRIVATE = "private"
    PUBLIC = "public"
    MUTUAL = "mutual"


Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
LegalIdentifier = Annotated[
    str,
    msgspec.Meta(
        min_length=2,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 /\-]*$",
        description="Companies House number, charity number or other registry identifier",
    ),
]


class RegisterSupplier(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Register a supplier organisation so that it can apply to join the framework."""

    name: Name
    legal_identifier: LegalIdentifier
    organisation_type: OrganisationType
    is_small: bool


class ChangeSupplierDetails(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a supplier's name, type or size; the legal identifier never changes."""

    name: Name | None = None
    organisation_type: OrganisationType | None = None
    is_small: bool | None = None


def normalise_legal_identifier(value: str) -> str:
    return re.sub(r"[\s\-/]", "", value).upper()


def supplier_id_for(legal_identifier: str) -> UUID:
    """One supplier per legal identifier: the id is derived from it, so duplicates clash on insert."""
    return uuid5(LEDGER_NAMESPACE, f"supplier:{normalise_legal_identifier(legal_identifier)}")


class Supplier(LedgerAggregate):
    @staticmethod
    def create_id(legal_identifier: str) -> UUID:
        return supplier_id_for(legal_identifier)

    @event("SupplierRegistered")
    def __init__(self, name: str, legal_identifier: str, organisation_type: OrganisationType, is_small: bool) -> None:
        self.name = name
        self.legal_identifier = legal_identifier
        self.organisation_type = organisation_type
        self.is_small = is_small

    @event("SupplierDetailsChanged")
    def change_details(
        self, name: str | None, organisation_type: OrganisationType | None, is_small: bool | None
    ) -> None:
        if name is not None:
            self.name = name
        if organisation_type is not None:
            self.organisation_type = organisation_type
        if is_small is not None:
            self.is_small = is_small


def register_supplier(ledger: Ledger, envelope: Envelope, command: RegisterSupplier) -> Recorded:
    legal_identifier = normalise_legal_identifier(command.legal_identifier)
    if ledger.exists(supplier_id_for(legal_identifier)):
        raise RuleViolation(
            "supplier already registered",
            f"a supplier with legal identifier {legal_identifier} is already registered",
        )
    return ledger.execute(
        envelope,
        lambda: Supplier(
            name=command.name.strip(),
            legal_identifier=legal_identifier,
            organisation_type=command.organisation_type,
            is_small=command.is_small,
        ),
    )


def change_supplier_details(
    ledger: Ledger,
    envelope: Envelope,
    supplier_id: UUID,
    command: ChangeSupplierDetails,
    *,
    expected_version: int | None = None,
) -> Recorded:
    supplier = ledger.load(Supplier, supplier_id)
    if command.name is None and command.organisation_type is None and command.is_small is None:
        raise InvalidCommand([("$", "give at least one of name, organisation_type, is_small")])

    def change() -> Supplier:
        supplier.change_details(
            name=command.name.strip() if command.name is not None else None,
            organisation_type=command.organisation_type,
            is_small=command.is_small,
        )
        return supplier

    return ledger.execute(
        envelope, change, expected=(supplier, expected_version) if expected_version is not None else None
    )
