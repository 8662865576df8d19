"""The public schema of every event type other systems receive: which fields of each event leave the ledger.

An explicit allow-list per event type, never a deny-list: a field added to an event later stays inside until
someone decides it may leave. What leaves is identifiers and business facts (dates, amounts, codes, outcomes).
What never leaves: personal data (anything sealed with a person's key, the pseudonymous `subject_id`, free text
written about a person, names of requesters, the identifiers of individual staff), sealed tender content, and
the commercial confidences of a competition before its award (who bid, who asked, scores, ranking). Consumers
who need more read it through the API with a purpose, which is logged.

Each entry names top-level fields, or `(field, (sub-fields…))` for a structure of which only part leaves. The
public data types (msgspec Structs, `<Event>V1`) are built from the event classes' own annotations, so a
published field has the type the domain gives it, and the AsyncAPI document is generated from them.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any

import msgspec

from ledger.audit.event_types import recordable

Field = str | tuple[str, tuple[str, ...]]

SCHEMA_VERSION = 1
TYPE_PREFIX = "uk.gov.justice.probation-ledger"

# Reasons given for events not published, one place each.
_COMPETITION = "who bids, asks, scores or ranks in a competition is confidential until the award"
_SEALED = "tender content is sealed (and commercially confidential after opening)"
_PERSON = "only about a person on probation: nothing of it may leave"

# What the market reads of a planned call-off (its free-text description stays inside, as a draft's specification).
_PLAN = (
    "title",
    "need",
    "cohort",
    "geography",
    "award_type",
    "estimated_value",
    "estimated_annual_volume",
    "volume_unit",
    "expected_publication",
    "initial_term_months",
)

PUBLISHED: dict[str, tuple[Field, ...]] = {
    # framework: reference data, suppliers, commissioners
    "ReferenceListOpened": ("list_name",),
    "AreaDefined": (("area", ("code", "name", "kind", "parent_code")),),
    "CommissionerTypeDefined": (("commissioner_type", ("code", "name")),),
    "ComplexityLevelDefined": (("level", ("code", "name", "rank")),),
    "ServiceCategoryDefined": (("category", ("code", "name", "kind", "complexity_levels")),),
    "SupplierRegistered": ("name", "legal_identifier", "organisation_type", "is_small"),
    "SupplierDetailsChanged": ("name", "organisation_type", "is_small"),
    "QuestionnaireSubmitted": ("questionnaire_id", "declared_areas"),
    "LotAssessed": ("questionnaire_id", "category", "outcome"),
    "FrameworkTermsAccepted": ("terms_version",),
    "SupplierAppointedToLot": ("category", "questionnaire_id"),
    "SupplierWithdrewFromLot": ("category",),
    "DeclaredAreasChanged": ("declared_areas",),
    "SupplierSuspended": (),
    "SupplierExcluded": (),
    "SupplierReinstated": (),
    "CommissionerRegistered": ("name", "organisation_id", "commissioner_type", "area"),
    "UserAgreementSigned": ("agreement_version",),
    "FrameworkTermRecorded": ("start", "end", "latest_end"),
    "FrameworkExtended": ("previous_end", "new_end", "decided_on"),
    # procurement
    "CallOffPlanned": ("lead_commissioner_id", ("plan", _PLAN)),
    "PlannedCallOffRevised": (("plan", _PLAN),),
    "PlannedCallOffWithdrawn": (),
    "PlannedCallOffFulfilled": ("call_off_id",),
    "CallOffDrafted": (
        (
            "draft",
            (
                "title",
                "lead_commissioner_id",
                "partner_commissioner_ids",
                "need",
                "cohort",
                "geography",
                "award_type",
                "estimated_value",
                "initial_term_months",
                "extension_options_months",
                "response_deadline",
            ),
        ),
    ),
    "CallOffPublished": ("rule", "as_of_position", "response_deadline", "short_window_ground"),
    "ClarificationPublished": ("question_id",),
    "TendersOpened": ("stage",),
    "AwardDecided": ("supplier_id", "standstill_ends"),
    "NoAwardDecided": ("stage",),
    "CallOffCancelled": ("stage",),
    "CallOffContractConcluded": ("contract_id",),
    "ContractConcluded": (
        "call_off_id",
        "award_type",
        "supplier_id",
        "commissioner_ids",
        "need",
        "cohort",
        "areas",
        "value",
        "start_date",
        "end_date",
        "mobilisation_date",
        "extension_options_months",
    ),
    "ContractVaried": ("new_value", "new_end_date"),
    "ContractExtended": ("months", "new_end_date"),
    "ContractTerminated": ("effective_date",),
    "FundingOpened": ("call_off_id",),
    "FundingSharesSet": ("shares", "years"),
    "InnovationPartnershipOpened": ("region",),
    "InnovationPartnerDesignated": ("contract_id", "supplier_id", "designated_on"),
    "ContractPerformanceOpened": ("contract_id",),
    "KpiDefined": (("kpi", ("name", "unit", "target", "higher_is_better", "tolerance")),),
    "KpiMeasured": (("measurement", ("kpi", "period_start", "period_end", "value", "rating")),),  # not commentary
    "MobilisationMilestonePlanned": (("milestone", ("name", "due_on")),),
    "MobilisationMilestoneAchieved": ("name", "achieved_on"),
    # cases: what happened to a referral, an order or a group, by its id, never who or why
    "ReferralMade": (
        "reference_number",
        ("details", ("contract_id", "area", "category", "complexity", "setting")),
        "supplier_id",
        "region",
    ),
    "ReferralAcknowledged": (),
    "CaseworkerAssigned": (),
    "AppointmentScheduled": (("appointment", ("id", "kind", "starts_at", "duration_minutes", "delivery_method")),),
    "AppointmentRescheduled": ("appointment_id", "starts_at", "previous_starts_at", "requested_by"),
    "AppointmentCancelled": ("appointment_id",),
    "AttendanceRecorded": (("attendance", ("appointment_id", "attended", "session_happened")), "session_starts_at"),
    "AttendanceCorrected": ("appointment_id", "attended"),
    "PractitionerNotificationAcknowledged": ("appointment_id",),
    "ActionPlanSubmitted": ("number_of_sessions",),
    "ActionPlanApproved": (),
    "ReferralAmended": ("complexity", "completion_deadline"),
    "ReferralWithdrawn": ("reason_code", "end_state"),
    "EndOfServiceReported": (),
    "ReferralConcluded": ("end_state",),
    "UnpaidWorkOrderAllocated": (
        ("order", ("contract_id", "hours_ordered", "made_on")),
        "supplier_id",
        "allocated_on",
        "complete_by",
        "weekly_minimum_hours",
    ),
    "InductionCompleted": ("on",),
    "UnpaidWorkSessionRecorded": (("work", ("on", "hours", "kind")),),
    "StandDownRecorded": ("on",),
    "UnpaidWorkCompleted": ("on", "hours"),
    "ProgrammeGroupFormed": (("group", ("programme", "contract_id", "mode")), "supplier_id"),
    "ProgrammeSessionScheduled": ("kind", "on"),
    # payments
    "ContractAccountOpened": ("contract_id", "supplier_id", "commissioner_id", "category", "regions"),
    "PriceScheduleSet": ("version", ("schedule", ("effective_from",))),
    "ChargeRecorded": ("charge_id", "clause", "schedule_version", "amount", "earned_on"),
    "ChargeRefusedByCap": ("clause", "schedule_version", "amount", "cap", "charged"),
    "ChargeReversed": ("charge_id",),
    "InvoiceSubmitted": ("invoice_id", "invoice_number", "period_start", "period_end"),
    "InvoiceLineApproved": ("invoice_id", "line", "amount", "charge_ids"),
    "InvoiceLineDisputed": ("invoice_id", "line"),
    "CreditNoteIssued": ("invoice_id", "line", "amount"),
    "PaymentMade": ("payment_id", "invoice_id", "amount", "paid_on", "remittance_reference"),
    "PaymentReversed": ("payment_id",),
    "BudgetLineSet": ("commissioner_id", "financial_year", "code", "name", "amount", "ring_fenced"),
    "BudgetOverrunApproved": ("amount",),
    "CommitmentRecorded": ("contract_id", "amount"),
    "CommitmentReleased": ("contract_id", "amount"),
    # audit: FOI requests by their case reference and dates only
    "FoiRequestReceived": ("reference", "received_on", "call_off_id", "supplier_id", "due_on"),
    "FoiClarificationSought": ("sought_on",),
    "FoiClarificationReceived": ("received_on", "due_on"),
    "FoiDeadlineExtended": ("previous_due_on", "new_due_on"),
    "FoiResponded": ("outcome", "responded_on", "due_on", "late"),
    "DisclosurePrepared": ("kind", "source_id", "position"),
}

NOT_PUBLISHED: dict[str, str] = {
    "TenderStarted": _COMPETITION,
    "TenderSubmitted": _SEALED,
    "ClarificationRequested": _COMPETITION,
    "BafoInvited": _COMPETITION,
    "ScoresRecorded": _COMPETITION,
    "ScoresModerated": _COMPETITION,
    "EvaluationCompleted": _COMPETITION,
    "CaseNoteAdded": _PERSON,
    "ParticipantJoined": "names a person on probation as a group's participant (their subject id and sealed details)",
    "ParticipantWithdrawn": "names a person on probation (subject id) and why they left",
    "ProgrammeAttendanceRecorded": "names a person on probation (subject id) and whether they attended",
    "ProgrammeCompleted": "names a person on probation (subject id)",
    "PersonalDataErased": "names the erased person's subject id; consumers see erasure when they read through the API",
    "RedactionApplied": "an FOI reviewer's working: which value of a disclosure is withheld is itself withheld",
    "RedactionWithdrawn": "an FOI reviewer's working, as RedactionApplied",
}


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class PublicType(msgspec.Struct, frozen=True, kw_only=True):
    """One published event type: its CloudEvents `type` (also the routing key) and its data's Struct."""

    event: str  # the ledger's event type, e.g. AttendanceRecorded
    aggregate: str  # e.g. Referral
    cloud_type: str  # e.g. uk.gov.justice.probation-ledger.referral.attendance-recorded.v1
    data: Any  # the msgspec Struct type of `data`
    fields: tuple[Field, ...]


def _struct(name: str, source: type, fields: tuple[Field, ...]) -> type:
    hints = typing.get_type_hints(source, include_extras=True)
    members: list[tuple[str, Any]] = []
    for spec in fields:
        if isinstance(spec, str):
            members.append((spec, hints[spec]))
        else:
            field, subfields = spec
            nested = _struct(f"{name}{field.title().replace('_', '')}", hints[field], subfields)
            members.append((field, nested))
    return msgspec.defstruct(name, members, kw_only=True, frozen=True, module=__name__)


@cache
def public_types() -> Mapping[str, PublicType]:
    """Every published event type, by the ledger's event type name."""
    found: dict[str, PublicType] = {}
    for cls in recordable().values():
        name = cls.__name__
        if name not in PUBLISHED:
            continue
        aggregate = cls.__qualname__.split(".")[0]
        found[name] = PublicType(
            event=name,
            aggregate=aggregate,
            cloud_type=f"{TYPE_PREFIX}.{_kebab(aggregate)}.{_kebab(name)}.v{SCHEMA_VERSION}",
            data=_struct(f"{name}V{SCHEMA_VERSION}", cls, PUBLISHED[name]),
            fields=PUBLISHED[name],
        )
    return found


def _pick(value: Any, struct: type, fields: tuple[Field, ...]) -> Any:
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(struct)
    for spec in fields:
        if isinstance(spec, str):
            values[spec] = getattr(value, spec)
        else:
            field, subfields = spec
            values[field] = _pick(getattr(value, field), hints[field], subfields)
    return struct(**values)


def public_data(event_type: str, event: Any) -> Any | None:
    """The public data of a domain event (an instance of its `<Event>V1` Struct), or None if it is not published."""
    public = public_types().get(event_type)
    if public is None:
        return None
    return _pick(event, public.data, public.fields)
