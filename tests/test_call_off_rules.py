"""A call-off's rules, held by the aggregate: tested in memory, with no database (ADR 28).

Each test builds a `CallOff` from its events' commands inside `stamping` (every event needs an envelope) and
asks it to decide. A refusal names its rule and records nothing; an allowed command records exactly its event.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from ledger.envelope import Actor, Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework.commissioners import USER_AGREEMENT_VERSION, Commissioner
from ledger.framework.suppliers import LotStatus, SupplierStanding, SupplierStatus
from ledger.procurement.call_offs import (
    AwardType,
    CallOff,
    CallOffStatus,
    Criterion,
    CriterionKind,
    DraftCallOff,
    RankedTender,
    ShortWindowGround,
    Stage,
    Tender,
    TenderContent,
)
from ledger.procurement.contracts import Contract, Eligibility
from tests.support import recording, refused

COMMISSIONER = Actor(id="commissioner:ops", role="commissioner", organisation_id="pcc-durham")
PUBLISHED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEADLINE = PUBLISHED_AT + timedelta(days=30)
LEAD = uuid4()
SUPPLIER, OTHER = uuid4(), uuid4()


def at(moment: datetime) -> AbstractContextManager[Envelope]:
    return recording(COMMISSIONER, moment)


def draft(**changes: object) -> DraftCallOff:
    fields: dict[str, object] = {
        "title": "Accommodation in the North East",
        "specification": "Find and keep accommodation.",
        "lead_commissioner_id": LEAD,
        "need": "accommodation",
        "geography": "region-a",
        "award_type": AwardType.CONTRACT,
        "estimated_value": Decimal("250000.00"),
        "initial_term_months": 24,
        "criteria": (
            Criterion(name="Quality", kind=CriterionKind.QUALITY, weight=60),
            Criterion(name="Price", kind=CriterionKind.PRICE, weight=40),
        ),
        "response_deadline": DEADLINE,
        "bafo_stage": True,
    }
    fields.update(changes)
    return DraftCallOff(**fields)  # type: ignore[arg-type]


def commissioner(*, signed: bool) -> Commissioner:
    with at(PUBLISHED_AT - timedelta(days=60)):
        registered = Commissioner(
            name="Durham PCC", organisation_id=str(uuid4()), commissioner_type="pcc", area="region-a"
        )
        if signed:
            registered.sign_agreement(agreement_version=USER_AGREEMENT_VERSION, signatory="A. Signatory")
    return registered


def standing(supplier_id: UUID, *, status: SupplierStatus = SupplierStatus.ACTIVE) -> SupplierStanding:
    return SupplierStanding(
        supplier_id=supplier_id,
        name=f"Supplier {supplier_id}",
        status=status,
        lots={"accommodation": LotStatus.APPOINTED},
        terms_accepted=True,
        declared_areas=("region-a",),
    )


def drafted(**changes: object) -> CallOff:
    with at(PUBLISHED_AT - timedelta(days=1)):
        return CallOff.create(draft(**changes), [commissioner(signed=True)])


def published() -> CallOff:
    call_off = drafted()
    with at(PUBLISHED_AT):
        call_off.publish(PUBLISHED_AT, 41, [standing(SUPPLIER), standing(OTHER)])
    return call_off


def tender(supplier_id: UUID) -> Tender:
    with at(PUBLISHED_AT + timedelta(days=1)):
        submitted = Tender(call_off_id=uuid4(), supplier_id=supplier_id)
        submitted.submit(
            Stage.INITIAL,
            TenderContent(price=Decimal("200000.00"), method_statement="We will."),
            SupplierStatus.ACTIVE,
        )
    return submitted


def opened() -> CallOff:
    call_off = published()
    with at(DEADLINE):
        call_off.open_tenders(DEADLINE, [tender(SUPPLIER), tender(OTHER)])
    return call_off


SCORES = {"Quality": Decimal("70"), "Price": Decimal("80")}


def evaluated() -> CallOff:
    call_off = opened()
    with at(DEADLINE + timedelta(days=1)):
        for supplier_id, quality in ((SUPPLIER, "90"), (OTHER, "50")):
            call_off.record_scores("evaluator-1", supplier_id, SCORES, "Clear plan.", {SUPPLIER, OTHER})
            call_off.moderate_scores(supplier_id, {"Quality": Decimal(quality), "Price": Decimal("80")}, "Agreed.")
        call_off.complete_evaluation({SUPPLIER, OTHER})
    return call_off


def awarded() -> tuple[CallOff, datetime]:
    call_off = evaluated()
    decided = DEADLINE + timedelta(days=2)
    with at(decided):
        call_off.decide_award(SUPPLIER, "Highest ranked.", None, decided)
    return call_off, decided


def contract_for(call_off: CallOff) -> Contract:
    """The contract an award becomes (what `contracts.conclude_contract` hands the call-off to make)."""
    assert call_off.awarded_supplier is not None
    return Contract(
        call_off_id=call_off.id,
        award_type=call_off.draft.award_type,
        supplier_id=call_off.awarded_supplier,
        commissioner_ids=(LEAD,),
        need="accommodation",
        cohort=None,
        areas=("durham",),
        value=Decimal("240000.00"),
        start_date=DEADLINE.date() + timedelta(days=30),
        end_date=DEADLINE.date() + timedelta(days=760),
        mobilisation_date=None,
        extension_options_months=(12,),
        kpis=(),
        subcontractors=(),
        eligibility=Eligibility(),
    )


# -- drafting -----------------------------------------------------------------------------------------


def test_a_draft_whose_criteria_do_not_weigh_100_is_refused() -> None:
    criteria = (Criterion(name="Quality", kind=CriterionKind.QUALITY, weight=60),)
    with at(PUBLISHED_AT), pytest.raises(RuleViolation) as refusal:
        CallOff.create(draft(criteria=criteria), [commissioner(signed=True)])
    assert (refusal.value.rule, refusal.value.detail) == (
        "evaluation weights must sum to 100",
        "the criteria weights sum to 60",
    )


def test_a_draft_naming_an_unknown_area_is_invalid_before_any_commissioner_is_read() -> None:
    def never() -> Iterator[Commissioner]:
        raise AssertionError("the commissioners were read")
        yield

    with at(PUBLISHED_AT), pytest.raises(InvalidCommand) as invalid:
        CallOff.create(draft(geography="atlantis"), never())
    assert invalid.value.errors == [("$.geography", "unknown area 'atlantis'")]


def test_the_first_commissioner_without_the_user_agreement_is_named_and_the_rest_are_not_read() -> None:
    def commissioners() -> Iterator[Commissioner]:
        yield commissioner(signed=False)
        raise AssertionError("read past the first refusal")

    with at(PUBLISHED_AT), pytest.raises(RuleViolation) as refusal:
        CallOff.create(draft(), commissioners())
    assert refusal.value.rule == "user agreement not signed"
    assert refusal.value.detail == "Durham PCC must sign the framework user agreement before commissioning"


# -- publication --------------------------------------------------------------------------------------


def test_publication_records_the_invitation_rules_decision_on_the_standings_it_is_given() -> None:
    call_off = drafted()
    suspended = uuid4()
    with at(PUBLISHED_AT):
        call_off.publish(PUBLISHED_AT, 41, [standing(SUPPLIER), standing(suspended, status=SupplierStatus.SUSPENDED)])
    (event,) = [e for e in call_off.collect_events() if isinstance(e, CallOff.CallOffPublished)]
    assert event.invited == (SUPPLIER,)
    assert {b.supplier_id for b in event.basis} == {SUPPLIER, suspended}
    assert (event.rule, event.as_of_position, event.response_deadline) == (
        "invite-all-appointed-active-covering-v2",
        41,
        DEADLINE,
    )
    assert call_off.status is CallOffStatus.OPEN


def test_only_a_draft_is_published() -> None:
    call_off = published()
    version = call_off.version
    with at(PUBLISHED_AT), refused("only a draft can be published"):
        call_off.publish(PUBLISHED_AT, 42, [])
    assert call_off.version == version


@pytest.mark.parametrize(
    ("window", "ground", "rule"),
    [
        (timedelta(0), None, "response deadline must be in the future"),
        (timedelta(days=28) - timedelta(seconds=1), None, "response window of at least 28 days"),
        (
            timedelta(days=10) - timedelta(seconds=1),
            ShortWindowGround.STATE_OF_URGENCY,
            "a shortened response window is at least 10 days",
        ),
    ],
)
def test_publication_needs_a_deadline_ahead_and_a_window_the_rules_allow(
    window: timedelta, ground: ShortWindowGround | None, rule: str
) -> None:
    justification = "The incumbent withdrew at a week's notice." if ground else None
    call_off = drafted(
        response_deadline=PUBLISHED_AT + window, short_window_ground=ground, short_window_justification=justification
    )
    with at(PUBLISHED_AT), refused(rule):
        call_off.publish(PUBLISHED_AT, 41, [standing(SUPPLIER)])
    assert call_off.status is CallOffStatus.DRAFT
    assert len(call_off.pending_events) == 1  # only the draft


def test_a_ground_shortens_the_window_to_ten_days() -> None:
    call_off = drafted(
        response_deadline=PUBLISHED_AT + timedelta(days=10),
        short_window_ground=ShortWindowGround.CONTINUITY_OF_SERVICE,
        short_window_justification="The incumbent withdrew at a week's notice.",
    )
    with at(PUBLISHED_AT):
        call_off.publish(PUBLISHED_AT, 41, [standing(SUPPLIER)])
    assert call_off.status is CallOffStatus.OPEN


# -- tendering and questions ----------------------------------------------------------------------------


def test_only_invited_suppliers_tender_and_only_before_the_deadline() -> None:
    call_off = published()
    assert call_off.tendering_stage(SUPPLIER, DEADLINE) is Stage.INITIAL
    with refused("supplier not invited to this call-off"):
        call_off.tendering_stage(uuid4(), PUBLISHED_AT)
    with refused("tender after the deadline"):
        call_off.tendering_stage(SUPPLIER, DEADLINE + timedelta(seconds=1))
    with refused("call-off not open for tenders"):
        drafted().tendering_stage(SUPPLIER, PUBLISHED_AT)


def test_an_inactive_supplier_cannot_tender() -> None:
    with at(PUBLISHED_AT):
        started = Tender(call_off_id=uuid4(), supplier_id=SUPPLIER)
        with pytest.raises(RuleViolation) as refusal:
            started.submit(
                Stage.INITIAL, TenderContent(price=Decimal("1.00"), method_statement="x"), SupplierStatus.SUSPENDED
            )
    assert (refusal.value.rule, refusal.value.detail) == ("supplier not active", "the supplier is suspended")
    assert started.version == 1


def test_a_resubmission_is_numbered_and_replaces_the_earlier_one() -> None:
    resubmitted = tender(SUPPLIER)
    with at(PUBLISHED_AT + timedelta(days=2)):
        resubmitted.submit(
            Stage.INITIAL, TenderContent(price=Decimal("190000.00"), method_statement="Better."), SupplierStatus.ACTIVE
        )
    last = resubmitted.pending_events[-1]
    assert isinstance(last, Tender.TenderSubmitted)
    assert (last.submission, last.replaces_earlier) == (2, True)


def test_questions_need_a_clarification_stage() -> None:
    call_off = drafted(clarification_stage=False)
    with at(PUBLISHED_AT):
        call_off.publish(PUBLISHED_AT, 41, [standing(SUPPLIER)])
        with refused("no clarification stage"):
            call_off.request_clarification(SUPPLIER, "May we subcontract?", PUBLISHED_AT)


def test_answers_are_published_to_every_invited_supplier_while_open() -> None:
    call_off = published()
    with at(PUBLISHED_AT + timedelta(days=1)):
        call_off.publish_clarification(None, "May we subcontract?", "Yes, named.", PUBLISHED_AT + timedelta(days=1))
    assert set(call_off.pending_events[-1].recipients) == {SUPPLIER, OTHER}  # type: ignore[attr-defined]
    with at(DEADLINE + timedelta(seconds=1)), refused("clarifications only while open"):
        call_off.publish_clarification(None, "Late?", "No.", DEADLINE + timedelta(seconds=1))


# -- opening, BAFO, evaluation ----------------------------------------------------------------------------


def test_tenders_stay_sealed_until_the_deadline() -> None:
    call_off = published()
    with at(DEADLINE - timedelta(seconds=1)), pytest.raises(RuleViolation) as refusal:
        call_off.open_tenders(DEADLINE - timedelta(seconds=1), [tender(SUPPLIER)])
    assert refusal.value.rule == "tenders are sealed until the deadline"
    assert call_off.is_sealed()


def test_bafo_is_for_suppliers_who_tendered_with_at_least_ten_days() -> None:
    call_off = opened()
    now = DEADLINE + timedelta(days=1)
    with at(now):
        with refused("BAFO only for suppliers who tendered"):
            call_off.invite_bafo([uuid4()], now + timedelta(days=10), "Close scores.", now, {SUPPLIER, OTHER})
        with refused("BAFO response window of at least 10 days"):
            call_off.invite_bafo([SUPPLIER], now + timedelta(days=10, seconds=-1), "Close scores.", now, {SUPPLIER})
        call_off.invite_bafo([SUPPLIER, SUPPLIER], now + timedelta(days=10), "Close scores.", now, {SUPPLIER, OTHER})
    assert (call_off.status, call_off.bafo_suppliers) == (CallOffStatus.BAFO, (SUPPLIER,))


def test_scores_cover_every_criterion_and_only_opened_tenders() -> None:
    call_off = opened()
    with at(DEADLINE):
        with pytest.raises(InvalidCommand) as invalid:
            call_off.record_scores("evaluator-1", SUPPLIER, {"Quality": Decimal("70")}, "Partial.", {SUPPLIER})
        assert invalid.value.errors == [("$.scores.Price", "missing: score every criterion")]
        with refused("no opened tender from this supplier"):
            call_off.record_scores("evaluator-1", uuid4(), SCORES, "Who?", {SUPPLIER})
        with refused("moderation needs evaluators' scores"):
            call_off.moderate_scores(SUPPLIER, SCORES, "Agreed.")


def test_evaluation_needs_every_opened_tender_moderated_and_ranks_them() -> None:
    call_off = opened()
    with at(DEADLINE):
        call_off.record_scores("evaluator-1", SUPPLIER, SCORES, "Clear plan.", {SUPPLIER, OTHER})
        call_off.moderate_scores(SUPPLIER, SCORES, "Agreed.")
        with pytest.raises(RuleViolation) as refusal:
            call_off.complete_evaluation({SUPPLIER, OTHER})
        assert refusal.value.detail == "1 tender(s) not moderated"
    assert [r.supplier_id for r in evaluated().ranking] == [SUPPLIER, OTHER]
    assert evaluated().ranking[0] == RankedTender(
        rank=1,
        supplier_id=SUPPLIER,
        weighted_score=Decimal("86.00"),
        scores={"Quality": Decimal("90"), "Price": SCORES["Price"]},
    )


# -- award, contract, closing -------------------------------------------------------------------------------


def test_an_award_departing_from_the_ranking_needs_a_reason() -> None:
    call_off = evaluated()
    with at(DEADLINE + timedelta(days=2)):
        with refused("departure from the ranking needs a reason"):
            call_off.decide_award(OTHER, "Local presence.", None, DEADLINE + timedelta(days=2))
        call_off.decide_award(OTHER, "Local presence.", "Only bidder with premises.", DEADLINE + timedelta(days=2))
    assert call_off.standstill_ends == DEADLINE + timedelta(days=12)


def test_a_contract_is_concluded_only_after_standstill_and_within_the_geography() -> None:
    call_off, decided = awarded()

    def too_soon() -> Contract:
        raise AssertionError("the contract was made before the rules allowed it")

    with at(decided + timedelta(days=9)), refused("standstill period not over"):
        call_off.conclude_contract(decided + timedelta(days=9), (), too_soon)
    after = decided + timedelta(days=10)
    with at(after), pytest.raises(RuleViolation) as refusal:
        call_off.conclude_contract(after, ("region-a", "wales"), too_soon)
    assert refusal.value.detail == "wales is outside region-a"
    with at(after):
        contract = call_off.conclude_contract(after, ("durham",), lambda: contract_for(call_off))
    assert (call_off.status, call_off.contract_id) == (CallOffStatus.AWARDED, contract.id)
    assert contract.supplier_id == SUPPLIER


def test_a_closed_call_off_stays_closed_and_a_draft_is_cancelled_not_closed_without_award() -> None:
    draft_only = drafted()
    with at(PUBLISHED_AT):
        with refused("no award only after publication"):
            draft_only.close("No longer needed.", no_award=True)
        draft_only.close("No longer needed.", no_award=False)
        with refused("call-off already closed"):
            draft_only.close("Again.", no_award=False)
    assert isinstance(draft_only.pending_events[-1], CallOff.CallOffCancelled)
    assert draft_only.pending_events[-1].stage is CallOffStatus.DRAFT  # type: ignore[attr-defined]


def test_the_events_keep_the_names_and_fields_stored_before_the_rules_moved() -> None:
    """The @event name makes the class, not the method: what the log holds still names these classes."""
    assert get_topic(CallOff.CallOffPublished) == "ledger.procurement.call_offs:CallOff.CallOffPublished"
    assert (
        get_topic(CallOff.CallOffContractConcluded) == "ledger.procurement.call_offs:CallOff.CallOffContractConcluded"
    )
    assert get_topic(Tender.TenderSubmitted) == "ledger.procurement.call_offs:Tender.TenderSubmitted"
    assert list(CallOff.CallOffPublished.__annotations__) == [
        "invited",
        "basis",
        "rule",
        "as_of_position",
        "response_deadline",
        "short_window_justification",
        "short_window_ground",
    ]
