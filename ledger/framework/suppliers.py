"""Supplier organisations: registration, qualification by lot, lot changes and the Authority's sanctions."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope, effective
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework import agreement, categories, geography, terms
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.ids import new_id
from ledger.store import Ledger, Recorded
from ledger.types import DocumentRef, LongText, Name, Reason, ShortText


class OrganisationType(enum.StrEnum):
    VOLUNTARY = "voluntary"
    PRIVATE = "private"
    PUBLIC = "public"
    MUTUAL = "mutual"


class SupplierStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # temporarily left out of invitations
    EXCLUDED = "excluded"  # removed from all future invitations until reinstated


class LotStatus(enum.StrEnum):
    PENDING = "pending"  # questionnaire submitted, not yet assessed
    PASSED = "passed"  # assessed pass; appointed once the framework terms are accepted
    FAILED = "failed"
    APPOINTED = "appointed"
    WITHDRAWN = "withdrawn"


class Outcome(enum.StrEnum):
    PASS = "pass"
    FAIL = "fail"


LegalIdentifier = Annotated[
    str,
    msgspec.Meta(
        min_length=2,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 /\-]*$",
        description="Companies House number, charity number or other registry identifier",
    ),
]
CategoryCode = Annotated[str, msgspec.Meta(min_length=1, max_length=60, description="A service category code")]
AreaCode = Annotated[str, msgspec.Meta(min_length=1, max_length=60, description="An area code from the geography")]


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


class CaseStudy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Backward-looking evidence of capability in one lot."""

    title: ShortText
    summary: LongText
    document_refs: tuple[DocumentRef, ...] = ()


class LotApplication(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    category: CategoryCode
    case_studies: Annotated[tuple[CaseStudy, ...], msgspec.Meta(min_length=1, max_length=10)]


class SubmitQuestionnaire(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A selection questionnaire: evidence per lot sought, and the areas the supplier declares it can serve."""

    lots: Annotated[tuple[LotApplication, ...], msgspec.Meta(min_length=1, max_length=14)]
    declared_areas: Annotated[tuple[AreaCode, ...], msgspec.Meta(min_length=1, max_length=100)]


class AssessLot(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The Authority's written pass/fail assessment of one lot of a questionnaire."""

    category: CategoryCode
    outcome: Outcome
    reason: Reason


class AcceptFrameworkTerms(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    terms_version: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] = terms.FRAMEWORK_TERMS_VERSION


class WithdrawFromLot(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    category: CategoryCode
    reason: Reason
    withdrawn_on: Annotated[
        date | None,
        msgspec.Meta(description="The day the supplier withdrew (default: now): the withdrawal is effective from then"),
    ] = None


class ChangeDeclaredAreas(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """By notice: no assessment is needed to change the areas a supplier can serve."""

    declared_areas: Annotated[tuple[AreaCode, ...], msgspec.Meta(min_length=1, max_length=100)]
    notice: Reason


class AuthorityDecision(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Suspension, exclusion or reinstatement, with its grounds."""

    grounds: Reason


@dataclass
class LotState:
    status: LotStatus
    questionnaire_id: UUID | None
    since: datetime


class SupplierStanding(msgspec.Struct, frozen=True, kw_only=True):
    """What a call-off's invitation rule reads of a supplier: its lots, standing, terms and declared areas.

    Built from the aggregate at publication and from the catalogue's rows for the eligibility answer, so
    that both ask the one rule (`ledger.procurement.invitations`) the same question.
    """

    supplier_id: UUID
    name: str
    status: SupplierStatus
    lots: dict[str, LotStatus]
    terms_accepted: bool
    declared_areas: tuple[str, ...]


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
        self.status = SupplierStatus.ACTIVE
        self.lots: dict[str, LotState] = {}
        self.declared_areas: tuple[str, ...] = ()
        self.terms_version: str | None = None
        self.questionnaires: dict[UUID, set[str]] = {}  # questionnaire -> lots awaiting assessment

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

    @event("QuestionnaireSubmitted")
    def submit_questionnaire(
        self, questionnaire_id: UUID, lots: tuple[LotApplication, ...], declared_areas: tuple[str, ...]
    ) -> None:
        self.questionnaires[questionnaire_id] = {lot.category for lot in lots}
        for lot in lots:
            self.lots[lot.category] = LotState(LotStatus.PENDING, questionnaire_id, self.event_time)
        self.declared_areas = declared_areas

    @event("LotAssessed")
    def assess_lot(
        self, questionnaire_id: UUID, category: str, outcome: Outcome, reason: str, assessor_id: str
    ) -> None:
        self.questionnaires[questionnaire_id].discard(category)
        status = LotStatus.PASSED if outcome is Outcome.PASS else LotStatus.FAILED
        self.lots[category] = LotState(status, questionnaire_id, self.event_time)

    @event("FrameworkTermsAccepted")
    def accept_terms(self, terms_version: str) -> None:
        self.terms_version = terms_version

    @event("SupplierAppointedToLot")
    def appoint(self, category: str, questionnaire_id: UUID | None) -> None:
        self.lots[category] = LotState(LotStatus.APPOINTED, questionnaire_id, self.event_time)

    @event("SupplierWithdrewFromLot")
    def withdraw(self, category: str, reason: str) -> None:
        self.lots[category] = LotState(LotStatus.WITHDRAWN, None, self.event_time)
        for awaiting in self.questionnaires.values():  # withdrawn before its assessment: no longer to be assessed
            awaiting.discard(category)

    @event("DeclaredAreasChanged")
    def change_areas(self, declared_areas: tuple[str, ...], notice: str) -> None:
        self.declared_areas = declared_areas

    @event("SupplierSuspended")
    def suspend(self, grounds: str) -> None:
        self.status = SupplierStatus.SUSPENDED

    @event("SupplierExcluded")
    def exclude(self, grounds: str) -> None:
        self.status = SupplierStatus.EXCLUDED

    @event("SupplierReinstated")
    def reinstate(self, grounds: str) -> None:
        self.status = SupplierStatus.ACTIVE

    def standing(self) -> SupplierStanding:
        return SupplierStanding(
            supplier_id=self.id,
            name=self.name,
            status=self.status,
            lots={code: lot.status for code, lot in self.lots.items()},
            terms_accepted=self.terms_version is not None,
            declared_areas=self.declared_areas,
        )

    def appoint_passed_lots(self) -> None:
        for category, lot in sorted(self.lots.items()):
            if lot.status is LotStatus.PASSED:
                self.appoint(category=category, questionnaire_id=lot.questionnaire_id)


def _check_areas(areas: tuple[str, ...]) -> tuple[str, ...]:
    unknown = [a for a in areas if a not in geography.BY_CODE]
    if unknown:
        raise InvalidCommand([("$.declared_areas", f"unknown area code(s): {', '.join(unknown)}")])
    if len(set(areas)) != len(areas):
        raise InvalidCommand([("$.declared_areas", "an area is listed twice")])
    return tuple(sorted(areas))


def _check_category(category: str, path: str) -> None:
    if category not in categories.BY_CODE:
        raise InvalidCommand([(path, f"unknown service category {category!r}")])


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


def submit_questionnaire(
    ledger: Ledger, envelope: Envelope, supplier_id: UUID, command: SubmitQuestionnaire
) -> Recorded:
    supplier = ledger.load(Supplier, supplier_id)
    for i, lot in enumerate(command.lots):
        _check_category(lot.category, f"$.lots[{i}].category")
    areas = _check_areas(command.declared_areas)
    sought = [lot.category for lot in command.lots]
    if len(set(sought)) != len(sought):
        raise InvalidCommand([("$.lots", "a lot is listed twice")])
    if supplier.status is SupplierStatus.EXCLUDED:
        raise RuleViolation("excluded supplier cannot apply", "the supplier is excluded from the framework")
    term = agreement.current_term(ledger)
    if not term.within(envelope.effective_at.date()):
        raise RuleViolation(
            "applications only during the framework term", f"the framework runs from {term.start} to {term.end}"
        )
    for category in sought:
        lot = supplier.lots.get(category)
        if lot is not None and lot.status in (LotStatus.PENDING, LotStatus.PASSED, LotStatus.APPOINTED):
            raise RuleViolation(
                "lot already held or under assessment",
                f"the supplier's {category} lot is {lot.status}: apply only for lots not held",
            )

    questionnaire_id = new_id()

    def submit() -> Supplier:
        supplier.submit_questionnaire(questionnaire_id=questionnaire_id, lots=command.lots, declared_areas=areas)
        return supplier

    return ledger.execute(envelope, submit).naming(questionnaire_id=questionnaire_id)


def assess_lot(
    ledger: Ledger, envelope: Envelope, supplier_id: UUID, questionnaire_id: UUID, command: AssessLot
) -> Recorded:
    supplier = ledger.load(Supplier, supplier_id)
    awaiting = supplier.questionnaires.get(questionnaire_id)
    if awaiting is None:
        raise RuleViolation("unknown questionnaire", f"supplier has no questionnaire {questionnaire_id}")
    if command.category not in awaiting:
        raise RuleViolation(
            "lot not awaiting assessment",
            f"the {command.category} lot of this questionnaire is not awaiting assessment",
        )

    def assess() -> Supplier:
        supplier.assess_lot(
            questionnaire_id=questionnaire_id,
            category=command.category,
            outcome=command.outcome,
            reason=command.reason,
            assessor_id=envelope.actor_id,
        )
        if command.outcome is Outcome.PASS and supplier.terms_version is not None:
            supplier.appoint_passed_lots()
        return supplier

    return ledger.execute(envelope, assess, reason=command.reason)


def accept_framework_terms(
    ledger: Ledger, envelope: Envelope, supplier_id: UUID, command: AcceptFrameworkTerms
) -> Recorded:
    supplier = ledger.load(Supplier, supplier_id)
    if command.terms_version not in terms.ACCEPTED_TERMS_VERSIONS:
        raise RuleViolation(
            "unknown framework terms", f"terms {command.terms_version!r} are not the framework's current terms"
        )
    if supplier.terms_version == command.terms_version:
        raise RuleViolation("terms already accepted", f"the supplier accepted {command.terms_version} already")

    def accept() -> Supplier:
        supplier.accept_terms(terms_version=command.terms_version)
        supplier.appoint_passed_lots()
        return supplier

    return ledger.execute(envelope, accept)


def withdraw_from_lot(ledger: Ledger, envelope: Envelope, supplier_id: UUID, command: WithdrawFromLot) -> Recorded:
    supplier = ledger.load(Supplier, supplier_id)
    lot = supplier.lots.get(command.category)
    if lot is None or lot.status not in (LotStatus.APPOINTED, LotStatus.PASSED, LotStatus.PENDING):
        raise RuleViolation("lot not held", f"the supplier holds no {command.category} lot to withdraw from")
    withdrawn = envelope
    if command.withdrawn_on is not None:
        follows = ("the lot's last change", lot.since)
        withdrawn = effective(envelope, command.withdrawn_on, fact="withdrawal", field="$.withdrawn_on", after=follows)

    def withdraw() -> Supplier:
        supplier.withdraw(category=command.category, reason=command.reason)
        return supplier

    return ledger.execute(withdrawn, withdraw, reason=command.reason)


def change_declared_areas(
    ledger: Ledger, envelope: Envelope, supplier_id: UUID, command: ChangeDeclaredAreas
) -> Recorded:
    supplier = ledger.load(Supplier, supplier_id)
    areas = _check_areas(command.declared_areas)
    if areas == supplier.declared_areas:
        raise RuleViolation("areas unchanged", "the declared areas are already exactly these")

    def change() -> Supplier:
        supplier.change_areas(declared_areas=areas, notice=command.notice)
        return supplier

    return ledger.execute(envelope, change, reason=command.notice)


Sanction = Literal["suspend", "exclude", "reinstate"]
_ALLOWED_FROM: dict[str, tuple[SupplierStatus, ...]] = {
    "suspend": (SupplierStatus.ACTIVE,),
    "exclude": (SupplierStatus.ACTIVE, SupplierStatus.SUSPENDED),
    "reinstate": (SupplierStatus.SUSPENDED, SupplierStatus.EXCLUDED),
}


def sanction(
    ledger: Ledger, envelope: Envelope, supplier_id: UUID, action: Sanction, command: AuthorityDecision
) -> Recorded:
    """Suspend, exclude or reinstate a supplier, with grounds (the Authority's decision)."""
    supplier = ledger.load(Supplier, supplier_id)
    if supplier.status not in _ALLOWED_FROM[action]:
        raise RuleViolation(
            f"cannot {action} a supplier who is {supplier.status}", f"the supplier is {supplier.status}"
        )

    def decide() -> Supplier:
        getattr(supplier, action)(grounds=command.grounds)
        return supplier

    return ledger.execute(envelope, decide, reason=command.grounds)
