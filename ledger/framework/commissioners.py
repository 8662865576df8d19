"""Commissioning bodies: registration and the user agreement they sign before any call-off."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework import commissioner_types, geography
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.store import Ledger, Recorded
from ledger.types import Name

USER_AGREEMENT_VERSION = "PSDF-UA-2021-1"

OrganisationCode = Annotated[
    str,
    msgspec.Meta(
        min_length=2,
        max_length=60,
        pattern=r"^[a-z0-9][a-z0-9\-]*$",
        description="The organisation id its staff's tokens carry in `org`",
    ),
]


class RegisterCommissioner(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    organisation_id: OrganisationCode
    commissioner_type: Annotated[str, msgspec.Meta(min_length=1, max_length=60)]
    area: Annotated[str, msgspec.Meta(min_length=1, max_length=60, description="The area it commissions for")]


class SignUserAgreement(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agreement_version: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = USER_AGREEMENT_VERSION
    signatory: Name


def commissioner_id_for(organisation_id: str) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"commissioner:{organisation_id}")


class Commissioner(LedgerAggregate):
    @staticmethod
    def create_id(organisation_id: str) -> UUID:
        return commissioner_id_for(organisation_id)

    @event("CommissionerRegistered")
    def __init__(self, name: str, organisation_id: str, commissioner_type: str, area: str) -> None:
        self.name = name
        self.organisation_id = organisation_id
        self.commissioner_type = commissioner_type
        self.area = area
        self.agreement_version: str | None = None

    @event("UserAgreementSigned")
    def sign_agreement(self, agreement_version: str, signatory: str) -> None:
        self.agreement_version = agreement_version

    @property
    def may_commission(self) -> bool:
        return self.agreement_version == USER_AGREEMENT_VERSION


def register_commissioner(ledger: Ledger, envelope: Envelope, command: RegisterCommissioner) -> Recorded:
    errors = []
    if command.commissioner_type not in commissioner_types.BY_CODE:
        errors.append(("$.commissioner_type", f"unknown commissioner type {command.commissioner_type!r}"))
    if command.area not in geography.BY_CODE:
        errors.append(("$.area", f"unknown area {command.area!r}"))
    if errors:
        raise InvalidCommand(errors)
    if ledger.exists(commissioner_id_for(command.organisation_id)):
        raise RuleViolation(
            "commissioner already registered", f"organisation {command.organisation_id} is already registered"
        )
    return ledger.execute(
        envelope,
        lambda: Commissioner(
            name=command.name.strip(),
            organisation_id=command.organisation_id,
            commissioner_type=command.commissioner_type,
            area=command.area,
        ),
    )


def sign_user_agreement(
    ledger: Ledger, envelope: Envelope, commissioner_id: UUID, command: SignUserAgreement
) -> Recorded:
    commissioner = ledger.load(Commissioner, commissioner_id)
    if command.agreement_version != USER_AGREEMENT_VERSION:
        raise RuleViolation("unknown user agreement", f"the current user agreement is {USER_AGREEMENT_VERSION}")
    if commissioner.agreement_version == command.agreement_version:
        raise RuleViolation("user agreement already signed", f"{commissioner.name} signed it already")

    def sign() -> Commissioner:
        commissioner.sign_agreement(agreement_version=command.agreement_version, signatory=command.signatory)
        return commissioner

    return ledger.execute(envelope, sign)
