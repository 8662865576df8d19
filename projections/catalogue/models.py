"""The catalogue's answers: suppliers and their questionnaires, eligibility, commissioners, call-offs, contracts."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

import msgspec

from ledger.framework.suppliers import LotStatus, OrganisationType, SupplierStatus
from ledger.procurement.call_offs import CallOffStatus


class QuestionnaireState(enum.StrEnum):
    AWAITING_ASSESSMENT = "awaiting-assessment"  # a lot still awaits the Authority's assessment
    ASSESSED = "assessed"  # every lot sought was assessed (or withdrawn before its assessment)
    WITHDRAWN = "withdrawn"  # every lot sought was withdrawn before its assessment


class LotRecord(msgspec.Struct, kw_only=True):
    category: str
    status: LotStatus
    since: datetime
    reason: str | None = None


class SupplierRecord(msgspec.Struct, kw_only=True):
    """A supplier as the catalogue shows it: lots, declared areas and standing."""

    id: UUID
    name: str
    legal_identifier: str
    organisation_type: OrganisationType
    is_small: bool
    registered_at: datetime
    status: SupplierStatus
    status_grounds: str | None = None
    terms_version: str | None = None
    lots: list[LotRecord] = []
    declared_areas: list[str] = []
    version: int
    # Its selection questionnaires, the first submitted first: shown to the supplier itself and to those who
    # assess or audit them (null for everyone else).
    questionnaires: list[QuestionnaireRecord] | None = None


class SupplierPage(msgspec.Struct, kw_only=True):
    items: list[SupplierRecord]
    next_after: str | None = None


class EligibleSupplier(msgspec.Struct, kw_only=True):
    supplier_id: UUID
    name: str
    eligible: bool
    reasons: list[str]
    uncovered: list[str] = []  # the parts of the area its declared areas leave out


class EligibilityReport(msgspec.Struct, kw_only=True):
    """Who could be invited today to a call-off for these lots in this area, and why (or why not)."""

    categories: list[str]
    area: str
    eligible: list[EligibleSupplier]
    not_eligible: list[EligibleSupplier]


class CommissionerRecord(msgspec.Struct, kw_only=True):
    id: UUID
    name: str
    organisation_id: str
    commissioner_type: str
    area_code: str
    agreement_version: str | None = None
    agreement_signed_at: datetime | None = None
    version: int


class CommissionerList(msgspec.Struct, kw_only=True):
    items: list[CommissionerRecord]


class Invitation(msgspec.Struct, kw_only=True):
    supplier_id: UUID
    supplier_name: str
    invited: bool
    reasons: list[str]
    uncovered: list[str]  # the parts of the geography a near miss's declared areas leave out


class ClarificationQuestion(msgspec.Struct, kw_only=True):
    """A question an invited supplier asked (seen by the commissioners, and by the supplier who asked it)."""

    question_id: UUID
    supplier_id: UUID
    question: str
    asked_at: datetime
    answered_at: datetime | None


class PublishedClarification(msgspec.Struct, kw_only=True):
    """A question (anonymised) and its answer, as published to every invited supplier."""

    question: str
    answer: str
    published_at: datetime


class TenderReceipt(msgspec.Struct, kw_only=True):
    """That a tender arrived, and when: never its content."""

    supplier_id: UUID
    stage: str
    submissions: int
    first_at: datetime
    last_at: datetime


class CallOffRecord(msgspec.Struct, kw_only=True):
    id: UUID
    title: str
    status: CallOffStatus
    need: str | None
    cohort: str | None
    geography: str
    award_type: str
    estimated_value: Decimal
    lead_commissioner_id: UUID
    partner_commissioner_ids: list[UUID]
    drafted_at: datetime
    published_at: datetime | None
    response_deadline: datetime
    invited_count: int | None
    tenders_received: int
    tenders_opened_at: datetime | None
    awarded_supplier_id: UUID | None
    standstill_ends: datetime | None
    contract_id: UUID | None
    closed_reason: str | None
    version: int
    invitations: list[Invitation] = []
    receipts: list[TenderReceipt] = []
    clarifications: list[PublishedClarification] = []
    questions: list[ClarificationQuestion] = []


class Pipeline(msgspec.Struct, kw_only=True):
    """The call-off pipeline: counts by status, and the call-offs matching the filters."""

    counts: dict[str, int]
    items: list[CallOffRecord]


class ContractRecord(msgspec.Struct, kw_only=True):
    id: UUID
    call_off_id: UUID
    award_type: str
    supplier_id: UUID
    supplier_name: str | None
    commissioner_ids: list[UUID]
    need: str | None
    cohort: str | None
    areas: list[str]
    regions: list[str]
    value: Decimal
    start_date: date
    end_date: date
    mobilisation_date: date | None
    extension_options: list[int]
    status: str
    terminated_on: date | None
    live: bool
    version: int


class ContractList(msgspec.Struct, kw_only=True):
    as_of: date
    count: int
    total_value: Decimal
    items: list[ContractRecord]


class QuestionnaireLot(msgspec.Struct, kw_only=True):
    """A lot a questionnaire sought: pending until assessed passed or failed (with the reason), or withdrawn by
    the supplier before its assessment."""

    category: str
    status: LotStatus
    reason: str | None = None
    assessed_at: datetime | None = None
    withdrawn_at: datetime | None = None


class QuestionnaireRecord(msgspec.Struct, kw_only=True):
    """A selection questionnaire: the lots it sought and their state; `awaiting` names the lots still to be
    assessed. `settled_at` is when the last of them stopped waiting."""

    id: UUID
    supplier_id: UUID
    supplier_name: str
    submitted_at: datetime
    declared_areas: list[str]
    state: QuestionnaireState
    settled_at: datetime | None = None
    awaiting: list[str]
    lots: list[QuestionnaireLot]


class QuestionnairePage(msgspec.Struct, kw_only=True):
    """A page of questionnaires, the longest waiting first: `total` in the whole list; `next_after`, passed as
    `after`, reads the next page (null on the last)."""

    total: int
    items: list[QuestionnaireRecord]
    next_after: str | None = None


class SizeAndType(msgspec.Struct, kw_only=True):
    """An amount (and how many contracts or suppliers make it) split by supplier size and by supplier type."""

    count: int = 0
    value: Decimal = Decimal("0.00")
    small: Decimal = Decimal("0.00")
    large: Decimal = Decimal("0.00")
    small_share: Decimal | None = None  # percent of the value that went to small suppliers
    voluntary: Decimal = Decimal("0.00")
    mutual: Decimal = Decimal("0.00")
    public: Decimal = Decimal("0.00")
    private: Decimal = Decimal("0.00")


class MarketConcentration(msgspec.Struct, kw_only=True):
    suppliers: int
    top_supplier_share: Decimal | None = None
    hhi: Decimal | None = None
    level: str | None = None


class MarketCell(msgspec.Struct, kw_only=True):
    """One probation region and one lot in a financial year."""

    region: str
    region_name: str
    category: str
    category_name: str
    suppliers_qualified: int  # the invitation rule would invite them to a region-wide call-off for the lot
    suppliers_qualified_in_part: int  # appointed and active, declared areas covering only part of the region
    small_suppliers_qualified: int
    suppliers_active: int  # holding a contract for the lot in the region live at some time in the year
    call_offs_published: int
    call_offs_opened: int
    bids_per_call_off: Decimal | None  # mean tenders received by the call-offs whose tenders were opened
    awards: SizeAndType  # contracts concluded in the year: their count and value
    spend: SizeAndType  # paid in the year on the lot's contracts in the region
    concentration: MarketConcentration  # of the year's spend among suppliers


class MarketGap(msgspec.Struct, kw_only=True):
    """A lot in a police area the market serves thinly: too few suppliers qualified, or no live contract."""

    category: str
    category_name: str
    area: str
    area_name: str
    region: str
    region_name: str
    suppliers_qualified: int
    live_contracts: int
    reasons: list[str]


class MarketHealth(msgspec.Struct, kw_only=True):
    """The market's health in a financial year, per region and lot, with its gaps.

    Spend and awards of a contract serving several regions count in each region's cell; the `totals` count each
    contract once. Qualification and gaps are the invitation rule's answers on the catalogue as it stands."""

    financial_year: str
    minimum_qualified: int
    cells: list[MarketCell]
    gaps: list[MarketGap]
    totals_awards: SizeAndType
    totals_spend: SizeAndType
    totals_concentration: MarketConcentration


class PlannedCallOffRecord(msgspec.Struct, kw_only=True):
    """A call-off a commissioner plans to run, as the market reads it ahead of its publication."""

    id: UUID
    lead_commissioner_id: UUID
    lead_commissioner_name: str | None
    title: str
    description: str
    need: str | None
    cohort: str | None
    geography: str
    award_type: str
    estimated_value: Decimal
    estimated_annual_volume: int | None
    volume_unit: str
    expected_publication: str  # a month, "2027-01"
    initial_term_months: int | None
    status: str  # planned, fulfilled (its call-off drafted), withdrawn
    call_off_id: UUID | None
    planned_at: datetime
    revised_at: datetime | None
    revision_reason: str | None
    version: int


class ForwardPipeline(msgspec.Struct, kw_only=True):
    """Planned call-offs by expected month of publication; a supplier sees those for its lots and areas."""

    count: int
    total_estimated_value: Decimal
    items: list[PlannedCallOffRecord]
