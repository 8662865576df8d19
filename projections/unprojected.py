"""Event types no view projects, each on purpose and with the reason: a new event type must either get a handler
in a view or be listed here (`tests/test_every_event_is_projected.py` fails otherwise)."""

from __future__ import annotations

from ledger.audit.foi import FoiRequest
from ledger.cases.referrals import Referral
from ledger.framework.agreement import FrameworkAgreement
from ledger.framework.reference import ReferenceList
from ledger.payments.funding import Funding
from ledger.procurement.call_offs import CallOff
from ledger.procurement.innovation_partners import InnovationPartnership
from ledger.procurement.performance import ContractPerformance

_FOI_REGISTER = (
    "FOI requests are few and read whole from their own streams (ledger.audit.foi.list_requests), where the"
    " 20-working-day clock is computed as of the day asked about; a view would hold a clock frozen at projection"
)

_AGREEMENT = (
    "the framework agreement is one stream of a few decisions, read whole (ledger.framework.agreement.current_term)"
    " by the rules that need its term and by GET /framework"
)

_PERFORMANCE = (
    "a contract's KPIs, their measurements and its mobilisation milestones are one short stream per contract, read"
    " whole (ledger.procurement.performance.performance) by GET /contracts/{id}/performance"
)

_PARTNERS = (
    "twelve short streams, one per region, read whole (ledger.procurement.innovation_partners) by the rules that place"
    " Unpaid Work and programme groups and by GET /innovation-partners"
)

_FUNDING = (
    "a call-off's funding shares are read whole from its own short stream when its contract's value is committed;"
    " the commitments they split are what the payments view projects"
)

UNPROJECTED: dict[type, str] = {
    Funding.FundingOpened: _FUNDING,
    Funding.FundingSharesSet: _FUNDING,
    InnovationPartnership.InnovationPartnershipOpened: _PARTNERS,
    InnovationPartnership.InnovationPartnerDesignated: _PARTNERS,
    ContractPerformance.ContractPerformanceOpened: _PERFORMANCE,
    ContractPerformance.KpiDefined: _PERFORMANCE,
    ContractPerformance.KpiMeasured: _PERFORMANCE,
    ContractPerformance.MobilisationMilestonePlanned: _PERFORMANCE,
    ContractPerformance.MobilisationMilestoneAchieved: _PERFORMANCE,
    FoiRequest.FoiRequestReceived: _FOI_REGISTER,
    FoiRequest.FoiClarificationSought: _FOI_REGISTER,
    FoiRequest.FoiClarificationReceived: _FOI_REGISTER,
    FoiRequest.FoiDeadlineExtended: _FOI_REGISTER,
    FoiRequest.DisclosurePrepared: _FOI_REGISTER,
    FoiRequest.RedactionApplied: _FOI_REGISTER,
    FoiRequest.RedactionWithdrawn: _FOI_REGISTER,
    FoiRequest.FoiResponded: _FOI_REGISTER,
    Referral.CaseNoteAdded: (
        "a case note is sealed free text about a person, read only from the referral's own stream with a purpose;"
        " no list or count needs it"
    ),
    FrameworkAgreement.FrameworkTermRecorded: _AGREEMENT,
    FrameworkAgreement.FrameworkExtended: _AGREEMENT,
    ReferenceList.ReferenceListOpened: (
        "a reference list's stream starts with it; the reference view projects the entries the list defines"
    ),
    CallOff.ScoresRecorded: (
        "evaluators' scores are read only from the call-off's stream, in its decision record: an unsuccessful"
        " bidder's scores are never copied into a view"
    ),
    CallOff.ScoresModerated: (
        "moderated scores are read only from the call-off's stream; the ranking they produce is projected from"
        " EvaluationCompleted"
    ),
}
