"""Call-off competitions: draft, publication with the invitation list and its basis, clarification,
sealed tenders, opening, BAFO, evaluation, award, standstill, cancellation."""

from __future__ import annotations

import enum
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, TypeVar
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import InvalidCommand, RuleViolation
from ledger.framework import categories, geography
from ledger.framework.commissioners import Commissioner
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.framework.suppliers import Supplier, SupplierStanding, SupplierStatus
from ledger.ids import new_id
from ledger.procurement import invitations
from ledger.procurement.invitations import InvitationBasis
from ledger.store import Ledger, Recorded
from ledger.types import (
    DocumentRef,
    LongText,
    Money,
    Name,
    Reason,
    Score,
    ShortText,
    UtcDateTime,
    money_errors,
    score_errors,
)

# The sector asked for at least four weeks to respond (DOMAIN.md); a shorter window needs a ground from
# SHORT_WINDOW_GROUNDS and an explanation, and is never shorter than the floor. A BAFO round (a refinement
# by suppliers who have tendered already) has its own minimum. ADR 0026 says where each number comes from.
MIN_RESPONSE_WINDOW = timedelta(days=28)
SHORTENED_WINDOW_FLOOR = timedelta(days=10)
MIN_BAFO_WINDOW = timedelta(days=10)
DEFAULT_STANDSTILL_DAYS = 10
RANKING_RULE = "weighted-moderated-scores-v1"

A = TypeVar("A", bound=LedgerAggregate)


class ShortWindowGround(enum.StrEnum):
    """Why a call-off may give suppliers less than 28 days to respond."""

    STATE_OF_URGENCY = "state_of_urgency"  # events the commissioner could not foresee make 28 days impractical
    CONTINUITY_OF_SERVICE = "continuity_of_service"  # an incumbent's failure leaves people without the service
    PLANNED_PROCUREMENT_NOTICE = "planned_procurement_notice"  # suppliers were told of it well in advance
    RERUN_OF_CANCELLED_COMPETITION = "rerun_of_cancelled_competition"  # the same requirement, tendered again


class AwardType(enum.StrEnum):
    CONTRACT = "contract"
    GRANT = "grant"


class CriterionKind(enum.StrEnum):
    QUALITY = "quality"
    PRICE = "price"
    SOCIAL_VALUE = "social_value"


class CallOffStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # published, taking tenders
    EVALUATING = "evaluating"  # tenders opened
    BAFO = "bafo"  # best and final offers invited from named suppliers
    EVALUATED = "evaluated"  # ranking recorded
    STANDSTILL = "standstill"  # award decided, standstill running
    AWARDED = "awarded"  # contract concluded
    NO_AWARD = "no_award"
    CANCELLED = "cancelled"


class Stage(enum.StrEnum):
    INITIAL = "initial"
    BAFO = "bafo"


class Criterion(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"\S")]
    kind: CriterionKind
    weight: Annotated[int, msgspec.Meta(ge=1, le=100)]


class DraftCallOff(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A call-off for one category (a need, a cohort, or a need for a cohort) and one geography."""

    title: Name
    specification: LongText
    lead_commissioner_id: UUID
    partner_commissioner_ids: tuple[UUID, ...] = ()
    need: str | None = None
    cohort: str | None = None
    geography: str
    award_type: AwardType
    estimated_value: Money
    initial_term_months: Annotated[int, msgspec.Meta(ge=1, le=120)]
    extension_options_months: tuple[Annotated[int, msgspec.Meta(ge=1, le=60)], ...] = ()
    criteria: Annotated[tuple[Criterion, ...], msgspec.Meta(min_length=1, max_length=20)]
    response_deadline: UtcDateTime
    short_window_ground: ShortWindowGround | None = None
    short_window_justification: Reason | None = None
    clarification_stage: bool = True
    bafo_stage: bool = False
    standstill_days: Annotated[int, msgspec.Meta(ge=0, le=60)] = DEFAULT_STANDSTILL_DAYS


class TenderContent(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    price: Money
    method_statement: LongText
    social_value: LongText | None = None
    document_refs: tuple[DocumentRef, ...] = ()


class SubmitTender(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    supplier_id: UUID
    content: TenderContent


class AskClarification(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    supplier_id: UUID
    question: ShortText


class PublishClarification(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A question (anonymised) and its answer, published to every invited supplier."""

    question: ShortText
    answer: LongText
    question_id: UUID | None = None


class InviteBafo(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    supplier_ids: Annotated[tuple[UUID, ...], msgspec.Meta(min_length=1)]
    deadline: UtcDateTime
    reason: Reason


class RecordScores(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One evaluator's scores for one tender: every criterion, 0-100, with comments."""

    supplier_id: UUID
    scores: dict[str, Score]
    comments: LongText


class ModerateScores(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    supplier_id: UUID
    scores: dict[str, Score]
    rationale: Reason


class DecideAward(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    supplier_id: UUID
    rationale: Reason
    departure_reason: Reason | None = None


class CancelCallOff(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason
    no_award: bool = False


class RankedTender(msgspec.Struct, frozen=True, kw_only=True):
    rank: int
    supplier_id: UUID
    weighted_score: Decimal
    scores: dict[str, Decimal]


class CallOff(LedgerAggregate):
    """A call-off competition, from draft to award. Its commands are the public methods: each checks the rules and
    then triggers an @event method, which only records (ADR 28)."""

    @classmethod
    def create(cls, draft: DraftCallOff, commissioners: Iterable[Commissioner]) -> CallOff:
        """Draft a call-off: a well-formed draft whose criteria weigh 100 in all, for commissioners who have each
        signed the user agreement (taken one by one: the first who has not is named)."""
        errors = _draft_errors(draft)
        if errors:
            raise InvalidCommand(errors)
        total = sum(c.weight for c in draft.criteria)
        if total != 100:
            raise RuleViolation("evaluation weights must sum to 100", f"the criteria weights sum to {total}")
        for commissioner in commissioners:
            if not commissioner.may_commission:
                raise RuleViolation(
                    "user agreement not signed",
                    f"{commissioner.name} must sign the framework user agreement before commissioning",
                )
        return cls(draft=draft)

    @event("CallOffDrafted")
    def __init__(self, draft: DraftCallOff) -> None:
        self.draft = draft
        self.status = CallOffStatus.DRAFT
        self.invited: tuple[UUID, ...] = ()
        self.published_at: datetime | None = None
        self.bafo_suppliers: tuple[UUID, ...] = ()
        self.bafo_deadline: datetime | None = None
        self.opened: dict[str, int] = {}  # stage -> number of tenders opened
        self.opened_at: dict[str, datetime] = {}
        self.clarifications: list[tuple[str, str]] = []
        self.evaluator_scores: dict[tuple[UUID, str], dict[str, Decimal]] = {}
        self.moderated: dict[UUID, dict[str, Decimal]] = {}
        self.ranking: tuple[RankedTender, ...] = ()
        self.awarded_supplier: UUID | None = None
        self.standstill_ends: datetime | None = None
        self.contract_id: UUID | None = None

    # -- commands: the rules, then the event -------------------------------------------------------

    def publish(self, now: datetime, as_of_position: int, standings: Iterable[SupplierStanding]) -> None:
        """Publish the draft with its invitation list: the invitation rule decides from the suppliers' standings as
        they stood at `as_of_position`. Only a draft, only with its deadline ahead and a window the rules allow."""
        if self.status is not CallOffStatus.DRAFT:
            raise RuleViolation("only a draft can be published", f"the call-off is {self.status}")
        deadline = self.draft.response_deadline
        if deadline <= now:
            raise RuleViolation("response deadline must be in the future", f"the deadline {deadline} has passed")
        check_response_window(deadline - now, self.draft.short_window_ground)
        basis = invitations.invitation_basis(standings, self.lots, self.draft.geography)
        self._published(
            invited=tuple(b.supplier_id for b in basis if b.invited),
            basis=basis,
            rule=invitations.INVITATION_RULE,
            as_of_position=as_of_position,
            response_deadline=deadline,
            short_window_justification=self.draft.short_window_justification,
            short_window_ground=self.draft.short_window_ground,
        )

    def tendering_stage(self, supplier_id: UUID, now: datetime) -> Stage:
        """The stage a supplier's tender (or question) goes into now: refused unless the call-off takes tenders, the
        supplier may tender at this stage, and the stage's deadline has not passed."""
        if self.status not in (CallOffStatus.OPEN, CallOffStatus.BAFO):
            raise RuleViolation("call-off not open for tenders", f"the call-off is {self.status}")
        if not self.may_tender(supplier_id):
            raise RuleViolation("supplier not invited to this call-off", f"supplier {supplier_id} was not invited")
        if now > self.deadline():
            raise RuleViolation("tender after the deadline", f"the deadline was {self.deadline()}")
        return self.stage

    def request_clarification(self, supplier_id: UUID, question: str, now: datetime) -> None:
        """An invited supplier asks a question while it may still tender, if the call-off has a clarification stage."""
        if not self.draft.clarification_stage:
            raise RuleViolation("no clarification stage", "this call-off was published without a clarification stage")
        self.tendering_stage(supplier_id, now)
        self._clarification_requested(question_id=new_id(), supplier_id=supplier_id, question=question)

    def publish_clarification(self, question_id: UUID | None, question: str, answer: str, now: datetime) -> None:
        """A question and its answer go to every invited supplier, while the call-off is open."""
        if self.status is not CallOffStatus.OPEN or now > self.draft.response_deadline:
            raise RuleViolation("clarifications only while open", f"the call-off is {self.status}")
        self._clarification_published(
            question_id=question_id, question=question, answer=answer, recipients=self.invited
        )

    def open_tenders(self, now: datetime, tenders: Sequence[Tender]) -> None:
        """Unseal the current stage's `tenders`: only while they are sealed, and only at or after its deadline."""
        if self.status not in (CallOffStatus.OPEN, CallOffStatus.BAFO) or not self.is_sealed():
            raise RuleViolation("no sealed tenders to open", f"the call-off is {self.status}")
        if now < self.deadline():
            raise RuleViolation("tenders are sealed until the deadline", f"the deadline is {self.deadline()}")
        self._tenders_opened(
            stage=self.stage, tenders=tuple(t.id for t in tenders), suppliers=tuple(t.supplier_id for t in tenders)
        )

    def invite_bafo(
        self, supplier_ids: Sequence[UUID], deadline: datetime, reason: str, now: datetime, tendered: Collection[UUID]
    ) -> None:
        """Narrow the competition to named suppliers among those who `tendered` at the initial stage, once its
        tenders are opened, with a deadline at least MIN_BAFO_WINDOW away; only where the draft has a BAFO stage."""
        if not self.draft.bafo_stage:
            raise RuleViolation("no BAFO stage", "this call-off was published without a best-and-final-offer stage")
        if self.status is not CallOffStatus.EVALUATING or self.stage is Stage.BAFO:
            raise RuleViolation("BAFO only after the initial tenders are opened", f"the call-off is {self.status}")
        outsiders = [s for s in supplier_ids if s not in tendered]
        if outsiders:
            raise RuleViolation("BAFO only for suppliers who tendered", f"{outsiders[0]} did not tender")
        if deadline <= now:
            raise RuleViolation("response deadline must be in the future", f"the BAFO deadline {deadline} has passed")
        if deadline - now < MIN_BAFO_WINDOW:
            raise RuleViolation(
                "BAFO response window of at least 10 days",
                f"the window is {_days(deadline - now)}; suppliers get 10 days to refine a bid",
            )
        self._bafo_invited(supplier_ids=tuple(dict.fromkeys(supplier_ids)), deadline=deadline, reason=reason)

    def record_scores(
        self, evaluator_id: str, supplier_id: UUID, scores: dict[str, Decimal], comments: str, opened: Collection[UUID]
    ) -> None:
        """One evaluator's scores for a tender of the stage being evaluated (`opened`: the suppliers whose tenders
        were opened): every criterion, 0-100."""
        self._check_scores(scores)
        if supplier_id not in opened:
            raise RuleViolation("no opened tender from this supplier", f"{supplier_id} has no opened tender")
        self._scores_recorded(evaluator_id=evaluator_id, supplier_id=supplier_id, scores=scores, comments=comments)

    def moderate_scores(self, supplier_id: UUID, scores: dict[str, Decimal], rationale: str) -> None:
        """The moderated scores of a tender that evaluators have scored."""
        self._check_scores(scores)
        if not any(supplier == supplier_id for supplier, _ in self.evaluator_scores):
            raise RuleViolation("moderation needs evaluators' scores", "no evaluator has scored this tender yet")
        self._scores_moderated(supplier_id=supplier_id, scores=scores, rationale=rationale)

    def complete_evaluation(self, opened: Collection[UUID]) -> None:
        """Rank the tenders once every opened one (`opened`: their suppliers) has moderated scores."""
        if self.status is not CallOffStatus.EVALUATING:
            raise RuleViolation("evaluation only of opened tenders", f"the call-off is {self.status}")
        if not opened:
            raise RuleViolation("nothing to evaluate", "no tender was received; record no award instead")
        unmoderated = set(opened) - set(self.moderated)
        if unmoderated:
            raise RuleViolation("every tender needs moderated scores", f"{len(unmoderated)} tender(s) not moderated")
        self._evaluation_completed(
            ranking=rank(self), rule=RANKING_RULE, weights={c.name: c.weight for c in self.draft.criteria}
        )

    def decide_award(self, supplier_id: UUID, rationale: str, departure_reason: str | None, now: datetime) -> None:
        """Award to a ranked tender (any but the top-ranked one needs a departure reason); standstill starts now."""
        if self.status is not CallOffStatus.EVALUATED:
            raise RuleViolation("award only after evaluation", f"the call-off is {self.status}")
        if supplier_id not in {r.supplier_id for r in self.ranking}:
            raise RuleViolation("award only to an evaluated tender", f"{supplier_id} was not ranked")
        top = self.ranking[0].supplier_id
        if supplier_id != top and not departure_reason:
            raise RuleViolation(
                "departure from the ranking needs a reason",
                "the award does not go to the top-ranked tender: say why in departure_reason",
            )
        self._award_decided(
            supplier_id=supplier_id,
            rationale=rationale,
            departure_reason=departure_reason,
            top_ranked_supplier_id=top,
            standstill_ends=now + timedelta(days=self.draft.standstill_days),
        )

    def conclude_contract(self, now: datetime, areas: Iterable[str], contract: Callable[[], A]) -> A:
        """The award becomes a contract: only from an award, once standstill has ended, for areas within the call-off's
        geography. `contract` makes it (procurement's `Contract`, which this module cannot import); the call-off
        records which."""
        if self.status is not CallOffStatus.STANDSTILL or self.awarded_supplier is None:
            raise RuleViolation("contract only from an award", f"the call-off is {self.status}")
        assert self.standstill_ends is not None
        if now < self.standstill_ends:
            raise RuleViolation("standstill period not over", f"standstill ends {self.standstill_ends}")
        outside = [a for a in areas if not geography.covers(self.draft.geography, a)]
        if outside:
            raise RuleViolation(
                "contract areas within the call-off geography", f"{outside[0]} is outside {self.draft.geography}"
            )
        concluded = contract()
        self._contract_concluded(contract_id=concluded.id)
        return concluded

    def close(self, reason: str, no_award: bool) -> None:
        """Cancel the call-off, or close it without award once published; never once closed."""
        if self.status in (CallOffStatus.AWARDED, CallOffStatus.CANCELLED, CallOffStatus.NO_AWARD):
            raise RuleViolation("call-off already closed", f"the call-off is {self.status}")
        if no_award and self.status is CallOffStatus.DRAFT:
            raise RuleViolation("no award only after publication", "a draft is cancelled, not closed without award")
        if no_award:
            self._no_award_decided(reason=reason, stage=self.status)
        else:
            self._cancelled(reason=reason, stage=self.status)

    def _check_scores(self, scores: dict[str, Decimal]) -> None:
        criteria = {c.name for c in self.draft.criteria}
        errors = [(f"$.scores.{name}", "not a criterion of this call-off") for name in scores if name not in criteria]
        errors += [(f"$.scores.{name}", "missing: score every criterion") for name in sorted(criteria - set(scores))]
        for name, value in scores.items():
            errors += score_errors(value, f"$.scores.{name}")
        if errors:
            raise InvalidCommand(errors)
        if self.status is not CallOffStatus.EVALUATING:
            raise RuleViolation("scores only while evaluating opened tenders", f"the call-off is {self.status}")

    # -- events: what was decided, recorded (replayed as they are, never checked again) ------------

    @event("CallOffPublished")
    def _published(
        self,
        invited: tuple[UUID, ...],
        basis: tuple[InvitationBasis, ...],
        rule: str,
        as_of_position: int,
        response_deadline: datetime,
        short_window_justification: str | None,
        short_window_ground: ShortWindowGround | None = None,
    ) -> None:
        self.invited = invited
        self.status = CallOffStatus.OPEN
        self.published_at = self.event_time

    @event("ClarificationRequested")
    def _clarification_requested(self, question_id: UUID, supplier_id: UUID, question: str) -> None:
        pass

    @event("ClarificationPublished")
    def _clarification_published(
        self, question_id: UUID | None, question: str, answer: str, recipients: tuple[UUID, ...]
    ) -> None:
        self.clarifications.append((question, answer))

    @event("TendersOpened")
    def _tenders_opened(self, stage: Stage, tenders: tuple[UUID, ...], suppliers: tuple[UUID, ...]) -> None:
        self.opened[stage] = len(tenders)
        self.opened_at[stage] = self.event_time
        self.status = CallOffStatus.EVALUATING

    @event("BafoInvited")
    def _bafo_invited(self, supplier_ids: tuple[UUID, ...], deadline: datetime, reason: str) -> None:
        self.bafo_suppliers = supplier_ids
        self.bafo_deadline = deadline
        self.status = CallOffStatus.BAFO
        self.evaluator_scores.clear()
        self.moderated.clear()

    @event("ScoresRecorded")
    def _scores_recorded(self, evaluator_id: str, supplier_id: UUID, scores: dict[str, Decimal], comments: str) -> None:
        self.evaluator_scores[(supplier_id, evaluator_id)] = scores

    @event("ScoresModerated")
    def _scores_moderated(self, supplier_id: UUID, scores: dict[str, Decimal], rationale: str) -> None:
        self.moderated[supplier_id] = scores

    @event("EvaluationCompleted")
    def _evaluation_completed(self, ranking: tuple[RankedTender, ...], rule: str, weights: dict[str, int]) -> None:
        self.ranking = ranking
        self.status = CallOffStatus.EVALUATED

    @event("AwardDecided")
    def _award_decided(
        self,
        supplier_id: UUID,
        rationale: str,
        departure_reason: str | None,
        top_ranked_supplier_id: UUID,
        standstill_ends: datetime,
    ) -> None:
        self.awarded_supplier = supplier_id
        self.standstill_ends = standstill_ends
        self.status = CallOffStatus.STANDSTILL

    @event("CallOffContractConcluded")
    def _contract_concluded(self, contract_id: UUID) -> None:
        self.contract_id = contract_id
        self.status = CallOffStatus.AWARDED

    @event("CallOffCancelled")
    def _cancelled(self, reason: str, stage: CallOffStatus) -> None:
        self.status = CallOffStatus.CANCELLED

    @event("NoAwardDecided")
    def _no_award_decided(self, reason: str, stage: CallOffStatus) -> None:
        self.status = CallOffStatus.NO_AWARD

    # -- derived facts ---------------------------------------------------------------------------

    @property
    def lots(self) -> tuple[str, ...]:
        return tuple(code for code in (self.draft.need, self.draft.cohort) if code)

    @property
    def stage(self) -> Stage:
        return Stage.BAFO if self.bafo_suppliers else Stage.INITIAL

    def deadline(self) -> datetime:
        return self.bafo_deadline if self.stage is Stage.BAFO and self.bafo_deadline else self.draft.response_deadline

    def may_tender(self, supplier_id: UUID) -> bool:
        return supplier_id in (self.bafo_suppliers if self.stage is Stage.BAFO else self.invited)

    def is_sealed(self) -> bool:
        return self.stage not in self.opened


def tender_id_for(call_off_id: UUID, supplier_id: UUID) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"tender:{call_off_id}:{supplier_id}")


class Tender(LedgerAggregate):
    """One supplier's response to one call-off; each submission is kept, the latest of a stage counts."""

    @staticmethod
    def create_id(call_off_id: UUID, supplier_id: UUID) -> UUID:
        return tender_id_for(call_off_id, supplier_id)

    @event("TenderStarted")
    def __init__(self, call_off_id: UUID, supplier_id: UUID) -> None:
        self.call_off_id = call_off_id
        self.supplier_id = supplier_id
        self.submissions: dict[str, TenderContent] = {}
        self.submission_count: dict[str, int] = {}

    def submit(self, stage: Stage, content: TenderContent, supplier_status: SupplierStatus) -> None:
        """Submit (or resubmit) into the stage the call-off gave (`CallOff.tendering_stage`), while the supplier is
        active; a resubmission replaces the earlier one, which is kept."""
        if supplier_status is not SupplierStatus.ACTIVE:
            raise RuleViolation("supplier not active", f"the supplier is {supplier_status}")
        count = self.submission_count.get(stage, 0)
        self._submitted(stage=stage, submission=count + 1, content=content, replaces_earlier=count > 0)

    @event("TenderSubmitted")
    def _submitted(self, stage: Stage, submission: int, content: TenderContent, replaces_earlier: bool) -> None:
        self.submissions[stage] = content
        self.submission_count[stage] = submission


# -- commands: load, gather what the aggregate cannot know, let it decide, record -----------------------


def lot_and_area_errors(
    need: str | None, cohort: str | None, area: str, estimated_value: Decimal, at: str = "$"
) -> list[tuple[str, str]]:
    """What is wrong with what a call-off (or a plan of one) is for: a need, a cohort or both, of the right kinds, a
    known area, and an estimated value that is money; each problem at its field under `at`."""
    errors: list[tuple[str, str]] = []
    if need is None and cohort is None:
        errors.append((f"{at}.need", "name a need, a cohort, or both"))
    for field, code, kind in (
        ("need", need, categories.CategoryKind.NEED),
        ("cohort", cohort, categories.CategoryKind.COHORT),
    ):
        if code is None:
            continue
        category = categories.BY_CODE.get(code)
        if category is None:
            errors.append((f"{at}.{field}", f"unknown service category {code!r}"))
        elif category.kind is not kind:
            errors.append((f"{at}.{field}", f"{code} is a {category.kind}, not a {kind}"))
    if area not in geography.BY_CODE:
        errors.append((f"{at}.geography", f"unknown area {area!r}"))
    return errors + money_errors(estimated_value, f"{at}.estimated_value")


def _draft_errors(draft: DraftCallOff) -> list[tuple[str, str]]:
    errors = lot_and_area_errors(draft.need, draft.cohort, draft.geography, draft.estimated_value)
    names = [c.name for c in draft.criteria]
    if len(set(names)) != len(names):
        errors.append(("$.criteria", "criterion names must be unique"))
    if draft.lead_commissioner_id in draft.partner_commissioner_ids:
        errors.append(("$.partner_commissioner_ids", "the lead commissioner is not also a partner"))
    if draft.short_window_ground and not draft.short_window_justification:
        errors.append(("$.short_window_justification", "explain how the ground applies to this call-off"))
    if draft.short_window_justification and not draft.short_window_ground:
        errors.append(("$.short_window_ground", f"name the ground: one of {', '.join(ShortWindowGround)}"))
    return errors


def draft_call_off(ledger: Ledger, envelope: Envelope, command: DraftCallOff) -> Recorded:
    commissioners = (
        ledger.load(Commissioner, commissioner_id)
        for commissioner_id in (command.lead_commissioner_id, *command.partner_commissioner_ids)
    )
    return ledger.execute(envelope, lambda: CallOff.create(command, commissioners))


def _days(window: timedelta) -> str:
    days = window / timedelta(days=1)
    return f"{days:.0f} days" if days == int(days) else f"{days:.1f} days"


def check_response_window(window: timedelta, ground: ShortWindowGround | None) -> None:
    """28 days at least; shorter only on a recorded ground, and never below the floor."""
    if window >= MIN_RESPONSE_WINDOW:
        return
    if ground is None:
        raise RuleViolation(
            "response window of at least 28 days",
            f"the window is {_days(window)}; a shorter one needs a short_window_ground and its justification",
        )
    if window < SHORTENED_WINDOW_FLOOR:
        raise RuleViolation(
            "a shortened response window is at least 10 days",
            f"the window is {_days(window)}: even on the ground {ground}, suppliers get 10 days to respond",
        )


def publish_call_off(ledger: Ledger, envelope: Envelope, call_off_id: UUID) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)
    as_of = ledger.head()
    standings = [supplier.standing() for supplier in ledger.load_all(Supplier, up_to=as_of)]

    def publish() -> CallOff:
        call_off.publish(envelope.recorded_at, as_of, standings)
        return call_off

    ground, justification = call_off.draft.short_window_ground, call_off.draft.short_window_justification
    return ledger.execute(envelope, publish, reason=f"{ground}: {justification}" if ground else None)


def submit_tender(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: SubmitTender) -> Recorded:
    errors = money_errors(command.content.price, "$.content.price")
    if errors:
        raise InvalidCommand(errors)
    call_off = ledger.load(CallOff, call_off_id)
    stage = call_off.tendering_stage(command.supplier_id, envelope.recorded_at)
    supplier = ledger.load(Supplier, command.supplier_id)
    tender_id = tender_id_for(call_off_id, command.supplier_id)
    existing = ledger.load(Tender, tender_id) if ledger.exists(tender_id) else None

    def submit() -> Tender:
        tender = existing or Tender(call_off_id=call_off_id, supplier_id=command.supplier_id)
        tender.submit(stage, command.content, supplier.status)
        return tender

    return ledger.execute(envelope, submit)


def request_clarification(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: AskClarification) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)

    def ask() -> CallOff:
        call_off.request_clarification(command.supplier_id, command.question, envelope.recorded_at)
        return call_off

    return ledger.execute(envelope, ask)


def publish_clarification(
    ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: PublishClarification
) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)

    def answer() -> CallOff:
        call_off.publish_clarification(command.question_id, command.question, command.answer, envelope.recorded_at)
        return call_off

    return ledger.execute(envelope, answer)


def _tenders_for(ledger: Ledger, call_off: CallOff, stage: Stage) -> list[Tender]:
    candidates = call_off.bafo_suppliers if stage is Stage.BAFO else call_off.invited
    tenders = []
    for supplier_id in candidates:
        tender_id = tender_id_for(call_off.id, supplier_id)
        if ledger.exists(tender_id):
            tender = ledger.load(Tender, tender_id)
            if stage in tender.submissions:
                tenders.append(tender)
    return tenders


def open_tenders(ledger: Ledger, envelope: Envelope, call_off_id: UUID) -> Recorded:
    """Unseal the tenders of the current stage: only at or after its deadline."""
    call_off = ledger.load(CallOff, call_off_id)
    tenders = _tenders_for(ledger, call_off, call_off.stage)

    def unseal() -> CallOff:
        call_off.open_tenders(envelope.recorded_at, tenders)
        return call_off

    return ledger.execute(envelope, unseal)


def sealed_stages(ledger: Ledger, tender_id: UUID) -> frozenset[Stage]:
    """The stages whose content is still sealed for this tender (its call-off has not opened them)."""
    tender = ledger.load(Tender, tender_id)
    call_off = ledger.load(CallOff, tender.call_off_id)
    return frozenset(stage for stage in Stage if stage not in call_off.opened)


def opened_tenders(ledger: Ledger, call_off_id: UUID) -> tuple[Stage, list[Tender]]:
    """The tenders of the latest opened stage; refused while sealed (for everyone, the Authority included)."""
    call_off = ledger.load(CallOff, call_off_id)
    if call_off.is_sealed():
        raise RuleViolation("tenders are sealed until opened", "no tender content is readable before opening")
    return call_off.stage, _tenders_for(ledger, call_off, call_off.stage)


def _opened_suppliers(ledger: Ledger, call_off: CallOff, stage: Stage) -> set[UUID]:
    return {t.supplier_id for t in _tenders_for(ledger, call_off, stage)}


def invite_bafo(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: InviteBafo) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)
    tendered = _opened_suppliers(ledger, call_off, Stage.INITIAL)

    def invite() -> CallOff:
        call_off.invite_bafo(command.supplier_ids, command.deadline, command.reason, envelope.recorded_at, tendered)
        return call_off

    return ledger.execute(envelope, invite, reason=command.reason)


def record_scores(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: RecordScores) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)
    opened = _opened_suppliers(ledger, call_off, call_off.stage)

    def score() -> CallOff:
        call_off.record_scores(envelope.actor_id, command.supplier_id, command.scores, command.comments, opened)
        return call_off

    return ledger.execute(envelope, score)


def moderate_scores(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: ModerateScores) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)

    def moderate() -> CallOff:
        call_off.moderate_scores(command.supplier_id, command.scores, command.rationale)
        return call_off

    return ledger.execute(envelope, moderate, reason=command.rationale)


def rank(call_off: CallOff) -> tuple[RankedTender, ...]:
    """Weighted sum of moderated scores (weights /100), highest first; ties keep supplier-id order."""
    weights = {c.name: Decimal(c.weight) for c in call_off.draft.criteria}
    scored = []
    for supplier_id, scores in call_off.moderated.items():
        total = sum((weights[name] * value for name, value in scores.items()), Decimal(0)) / Decimal(100)
        scored.append((total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), supplier_id, scores))
    scored.sort(key=lambda item: (-item[0], str(item[1])))
    return tuple(
        RankedTender(rank=i, supplier_id=supplier_id, weighted_score=total, scores=dict(scores))
        for i, (total, supplier_id, scores) in enumerate(scored, start=1)
    )


def complete_evaluation(ledger: Ledger, envelope: Envelope, call_off_id: UUID) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)
    opened = _opened_suppliers(ledger, call_off, call_off.stage)

    def complete() -> CallOff:
        call_off.complete_evaluation(opened)
        return call_off

    return ledger.execute(envelope, complete)


def decide_award(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: DecideAward) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)

    def award() -> CallOff:
        call_off.decide_award(command.supplier_id, command.rationale, command.departure_reason, envelope.recorded_at)
        return call_off

    reason = command.rationale
    if command.departure_reason:
        reason += f" (departs from the ranking: {command.departure_reason})"
    return ledger.execute(envelope, award, reason=reason)


def cancel_call_off(ledger: Ledger, envelope: Envelope, call_off_id: UUID, command: CancelCallOff) -> Recorded:
    call_off = ledger.load(CallOff, call_off_id)

    def close() -> CallOff:
        call_off.close(command.reason, command.no_award)
        return call_off

    return ledger.execute(envelope, close, reason=command.reason)
