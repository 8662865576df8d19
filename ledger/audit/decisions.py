"""Decision records for FOI: a call-off's competition and a supplier's qualification, rebuilt from their events.

Only events are read (the call-off's stream, its tenders' and its contract's; the supplier's), and only those
within the horizon. Nothing is recomputed: who was eligible and why is the basis `CallOffPublished` recorded,
names are the names recorded then, the ranking is the one `EvaluationCompleted` recorded. Each decision names
the event that made it, and the record names the highest position it read and the signed checkpoint that
covers it, so a reader can check every event against the Merkle log.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import StoredEvent

from ledger import history
from ledger.audit import log
from ledger.errors import NotFound
from ledger.framework.suppliers import Supplier
from ledger.procurement.call_offs import CallOff, Criterion, Stage, TenderContent, tender_id_for
from ledger.procurement.invitations import InvitationBasis
from ledger.store import Ledger

Progress = Callable[[int, int], None]  # (streams read, streams to read)


class EventRef(msgspec.Struct, kw_only=True):
    """The event that made a decision: where it sits in the log, on both clocks, and who acted."""

    position: int
    recorded_at: datetime
    effective_at: datetime
    actor_id: str
    actor_role: str


class TimelineEntry(msgspec.Struct, kw_only=True):
    position: int
    recorded_at: datetime
    effective_at: datetime
    type: str
    stream: str  # call_off, tender, contract, supplier or foi_request
    aggregate_id: UUID
    actor_id: str
    actor_role: str
    reason: str | None  # the envelope's reason, else the reason the decision itself recorded


class Party(msgspec.Struct, kw_only=True):
    """An organisation, named as the ledger had it recorded at the time."""

    id: UUID
    name: str | None


# -- call-off records -----------------------------------------------------------------------------


class CallOffDetails(msgspec.Struct, kw_only=True):
    title: str
    specification: str
    lots: list[str]
    need: str | None
    cohort: str | None
    geography: str
    award_type: str
    estimated_value: Decimal
    initial_term_months: int
    extension_options_months: list[int]
    criteria: list[Criterion]
    response_deadline: datetime
    short_window_ground: str | None
    short_window_justification: str | None
    clarification_stage: bool
    bafo_stage: bool
    standstill_days: int
    lead_commissioner: Party  # named as registered when the call-off was drafted
    partner_commissioners: list[Party]
    drafted: EventRef


class Eligibility(msgspec.Struct, kw_only=True):
    """Who was considered at publication, invited or not, and why: the basis exactly as recorded."""

    rule: str
    as_of_position: int
    considered: list[InvitationBasis]
    invited: list[Party]
    response_deadline: datetime
    short_window_ground: str | None
    short_window_justification: str | None
    published: EventRef


class Clarification(msgspec.Struct, kw_only=True):
    question: str
    answer: str
    recipients: int
    published: EventRef


class Submission(msgspec.Struct, kw_only=True):
    number: int
    position: int
    recorded_at: datetime
    effective_at: datetime


class TenderReceipt(msgspec.Struct, kw_only=True):
    supplier_id: UUID
    supplier_name: str | None
    submissions: list[Submission]
    resubmissions: int
    content: TenderContent | None  # the submission that counted, once its stage was opened; never before


class StageTenders(msgspec.Struct, kw_only=True):
    stage: str
    deadline: datetime
    received: int
    receipts: list[TenderReceipt]
    opened: EventRef | None


class BafoInvitation(msgspec.Struct, kw_only=True):
    suppliers: list[Party]
    deadline: datetime
    reason: str
    invited: EventRef


class EvaluatorScores(msgspec.Struct, kw_only=True):
    stage: str
    evaluator_id: str
    supplier_id: UUID
    supplier_name: str | None
    scores: dict[str, Decimal]
    comments: str
    recorded: EventRef


class ModeratedScores(msgspec.Struct, kw_only=True):
    stage: str
    supplier_id: UUID
    supplier_name: str | None
    scores: dict[str, Decimal]
    rationale: str
    recorded: EventRef


class Ranked(msgspec.Struct, kw_only=True):
    rank: int
    supplier_id: UUID
    supplier_name: str | None
    weighted_score: Decimal
    scores: dict[str, Decimal]


class Ranking(msgspec.Struct, kw_only=True):
    rule: str
    weights: dict[str, int]
    ranked: list[Ranked]
    completed: EventRef


class Evaluation(msgspec.Struct, kw_only=True):
    scores: list[EvaluatorScores]
    moderated: list[ModeratedScores]
    ranking: Ranking | None


class Award(msgspec.Struct, kw_only=True):
    supplier: Party
    rationale: str
    departure_reason: str | None
    top_ranked: Party
    departed_from_ranking: bool
    standstill_ends: datetime
    decided: EventRef


class ContractChange(msgspec.Struct, kw_only=True):
    type: str
    reason: str
    new_value: Decimal | None = None
    new_end_date: date | None = None
    extension_months: int | None = None
    effective_date: date | None = None
    recorded: EventRef


class ContractRecord(msgspec.Struct, kw_only=True):
    contract_id: UUID
    award_type: str
    supplier: Party
    value: Decimal
    start_date: date
    end_date: date
    mobilisation_date: date | None
    areas: list[str]
    concluded: EventRef
    changes: list[ContractChange]


class Closure(msgspec.Struct, kw_only=True):
    outcome: str  # cancelled or no_award
    reason: str
    stage: str  # the call-off's status when it closed
    closed: EventRef


class CallOffRecord(msgspec.Struct, kw_only=True):
    """A call-off's decisions as known at the horizon."""

    call_off_id: UUID
    horizon: history.Horizon
    read_up_to: int  # the highest log position this record read
    checkpoint: log.Checkpoint | None  # the latest signed checkpoint covering `read_up_to`, if any yet
    status: str
    call_off: CallOffDetails
    eligibility: Eligibility | None
    clarifications: list[Clarification]
    tenders: list[StageTenders]
    bafo: BafoInvitation | None
    evaluation: Evaluation
    award: Award | None
    contract: ContractRecord | None
    closure: Closure | None
    timeline: list[TimelineEntry]


# -- qualification records ------------------------------------------------------------------------


class Registration(msgspec.Struct, kw_only=True):
    name: str
    legal_identifier: str
    organisation_type: str
    is_small: bool
    registered: EventRef


class DetailsChange(msgspec.Struct, kw_only=True):
    name: str | None
    organisation_type: str | None
    is_small: bool | None
    changed: EventRef


class LotSought(msgspec.Struct, kw_only=True):
    category: str
    case_studies: list[str]  # titles only: the evidence itself stays with the supplier's submission


class QuestionnaireSubmission(msgspec.Struct, kw_only=True):
    questionnaire_id: UUID
    lots: list[LotSought]
    declared_areas: list[str]
    submitted: EventRef


class LotAssessment(msgspec.Struct, kw_only=True):
    questionnaire_id: UUID
    category: str
    outcome: str
    reason: str
    assessor_id: str
    assessed: EventRef


class TermsAcceptance(msgspec.Struct, kw_only=True):
    terms_version: str
    accepted: EventRef


class Appointment(msgspec.Struct, kw_only=True):
    category: str
    questionnaire_id: UUID | None
    appointed: EventRef


class Withdrawal(msgspec.Struct, kw_only=True):
    category: str
    reason: str
    withdrawn: EventRef


class AreaChange(msgspec.Struct, kw_only=True):
    declared_areas: list[str]
    notice: str
    changed: EventRef


class Sanction(msgspec.Struct, kw_only=True):
    kind: str  # suspension, exclusion or reinstatement
    grounds: str
    decided: EventRef


class LotStanding(msgspec.Struct, kw_only=True):
    category: str
    status: str
    since: datetime


class QualificationRecord(msgspec.Struct, kw_only=True):
    """A supplier's qualification decisions as known at the horizon."""

    supplier_id: UUID
    horizon: history.Horizon
    read_up_to: int
    checkpoint: log.Checkpoint | None
    name: str  # as recorded by the horizon
    status: str
    lots: list[LotStanding]
    declared_areas: list[str]
    registration: Registration
    details_changes: list[DetailsChange]
    questionnaires: list[QuestionnaireSubmission]
    assessments: list[LotAssessment]
    terms_acceptances: list[TermsAcceptance]
    appointments: list[Appointment]
    withdrawals: list[Withdrawal]
    area_changes: list[AreaChange]
    sanctions: list[Sanction]
    timeline: list[TimelineEntry]


def as_document(record: msgspec.Struct) -> dict[str, Any]:
    """A record exactly as its JSON reads (objects, arrays, strings, numbers): what disclosures point into."""
    document: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(record))
    return document


# -- reading --------------------------------------------------------------------------------------

Decoded = list[tuple[history.EventRecord, Any]]  # events in log order, each with its domain event


def _decoded(ledger: Ledger, records: list[history.EventRecord]) -> Decoded:
    return [
        (
            record,
            ledger.mapper.to_domain_event(
                StoredEvent(
                    originator_id=record.aggregate_id,
                    originator_version=record.version,
                    topic=record.topic,
                    state=bytes(record.payload),
                )
            ),
        )
        for record in records
    ]


def read_stream(
    ledger: Ledger, conn: psycopg.Connection[Any], aggregate_id: UUID, horizon: history.Horizon = history.NOW
) -> Decoded:
    """One aggregate's events within the horizon, each with its decoded domain event."""
    return _decoded(ledger, history.aggregate_events(conn, aggregate_id, horizon))


def _ref(record: history.EventRecord) -> EventRef:
    return EventRef(
        position=record.position,
        recorded_at=record.recorded_at,
        effective_at=record.effective_at,
        actor_id=record.actor_id,
        actor_role=record.actor_role,
    )


_STATED_REASONS = ("reason", "rationale", "grounds", "notice")


def timeline(stream: str, events: Decoded) -> list[TimelineEntry]:
    entries = []
    for record, event in events:
        stated = next((getattr(event, name) for name in _STATED_REASONS if getattr(event, name, None)), None)
        entries.append(
            TimelineEntry(
                position=record.position,
                recorded_at=record.recorded_at,
                effective_at=record.effective_at,
                type=record.type,
                stream=stream,
                aggregate_id=record.aggregate_id,
                actor_id=record.actor_id,
                actor_role=record.actor_role,
                reason=record.reason or stated,
            )
        )
    return entries


def _pinned(ledger: Ledger, horizon: history.Horizon) -> history.Horizon:
    """One record reads several streams: an open horizon is pinned to the log's head when reading starts, so
    that events recorded meanwhile (a tender opened between two reads) cannot make the record inconsistent."""
    if horizon.position is not None:
        return horizon
    return msgspec.structs.replace(horizon, position=ledger.head())


def _commissioner(ledger: Ledger, conn: psycopg.Connection[Any], commissioner_id: UUID, position: int) -> Party:
    registered = read_stream(ledger, conn, commissioner_id, history.Horizon(position=position))
    name = next((e.name for r, e in registered if r.type == "CommissionerRegistered"), None)
    return Party(id=commissioner_id, name=name)


def call_off_record(
    ledger: Ledger,
    conn: psycopg.Connection[Any],
    call_off_id: UUID,
    horizon: history.Horizon = history.NOW,
    *,
    checkpoint_at_most: int | None = None,
    progress: Progress | None = None,
) -> CallOffRecord:
    """The call-off's decision record as known at the horizon; NotFound if it had not been drafted by then.

    `checkpoint_at_most` names a checkpoint no larger than that tree size (a disclosure pins the one it named).
    """
    within = _pinned(ledger, horizon)
    rebuilt = history.reconstruct(ledger, conn, call_off_id, within)
    if not isinstance(rebuilt.aggregate, CallOff):
        raise NotFound("call-off", f"{call_off_id} (within the horizon)")
    events = _decoded(ledger, rebuilt.applied)
    read = [r.position for r, _ in events]
    entries = timeline("call_off", events)
    first_record, drafted = events[0]
    draft = drafted.draft
    names: dict[UUID, str] = {}
    eligibility: Eligibility | None = None
    clarifications: list[Clarification] = []
    opened: dict[str, EventRef] = {}
    bafo: BafoInvitation | None = None
    scores: list[EvaluatorScores] = []
    moderated: list[ModeratedScores] = []
    ranking: Ranking | None = None
    award: Award | None = None
    contract_id: UUID | None = None
    closure: Closure | None = None
    stage = Stage.INITIAL

    def party(supplier_id: UUID) -> Party:
        return Party(id=supplier_id, name=names.get(supplier_id))

    for record, event in events[1:]:
        ref = _ref(record)
        kind = record.type
        if kind == "CallOffPublished":
            names = {b.supplier_id: b.supplier_name for b in event.basis}
            eligibility = Eligibility(
                rule=event.rule,
                as_of_position=event.as_of_position,
                considered=list(event.basis),
                invited=[party(s) for s in event.invited],
                response_deadline=event.response_deadline,
                short_window_ground=event.short_window_ground,
                short_window_justification=event.short_window_justification,
                published=ref,
            )
        elif kind == "ClarificationPublished":
            clarifications.append(
                Clarification(
                    question=event.question, answer=event.answer, recipients=len(event.recipients), published=ref
                )
            )
        elif kind == "TendersOpened":
            opened[event.stage] = ref
        elif kind == "BafoInvited":
            stage = Stage.BAFO
            bafo = BafoInvitation(
                suppliers=[party(s) for s in event.supplier_ids],
                deadline=event.deadline,
                reason=event.reason,
                invited=ref,
            )
        elif kind == "ScoresRecorded":
            scores.append(
                EvaluatorScores(
                    stage=stage,
                    evaluator_id=event.evaluator_id,
                    supplier_id=event.supplier_id,
                    supplier_name=names.get(event.supplier_id),
                    scores=event.scores,
                    comments=event.comments,
                    recorded=ref,
                )
            )
        elif kind == "ScoresModerated":
            moderated.append(
                ModeratedScores(
                    stage=stage,
                    supplier_id=event.supplier_id,
                    supplier_name=names.get(event.supplier_id),
                    scores=event.scores,
                    rationale=event.rationale,
                    recorded=ref,
                )
            )
        elif kind == "EvaluationCompleted":
            ranking = Ranking(
                rule=event.rule,
                weights=event.weights,
                ranked=[
                    Ranked(
                        rank=r.rank,
                        supplier_id=r.supplier_id,
                        supplier_name=names.get(r.supplier_id),
                        weighted_score=r.weighted_score,
                        scores=r.scores,
                    )
                    for r in event.ranking
                ],
                completed=ref,
            )
        elif kind == "AwardDecided":
            award = Award(
                supplier=party(event.supplier_id),
                rationale=event.rationale,
                departure_reason=event.departure_reason,
                top_ranked=party(event.top_ranked_supplier_id),
                departed_from_ranking=event.supplier_id != event.top_ranked_supplier_id,
                standstill_ends=event.standstill_ends,
                decided=ref,
            )
        elif kind == "CallOffContractConcluded":
            contract_id = event.contract_id
        elif kind in ("CallOffCancelled", "NoAwardDecided"):
            closure = Closure(
                outcome="cancelled" if kind == "CallOffCancelled" else "no_award",
                reason=event.reason,
                stage=event.stage,
                closed=ref,
            )

    invited = [p.id for p in eligibility.invited] if eligibility else []
    streams = len(invited) + (1 if contract_id else 0)
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, streams)

    tenders: list[StageTenders] = []
    receipts: dict[str, list[TenderReceipt]] = {Stage.INITIAL: [], Stage.BAFO: []}
    for supplier_id in invited:
        tender_events = read_stream(ledger, conn, tender_id_for(call_off_id, supplier_id), within)
        step()
        read += [r.position for r, _ in tender_events]
        entries += timeline("tender", tender_events)
        submitted: dict[str, list[tuple[history.EventRecord, Any]]] = {}
        for record, event in tender_events:
            if record.type == "TenderSubmitted":
                submitted.setdefault(event.stage, []).append((record, event))
        for tender_stage, made in submitted.items():
            receipts[tender_stage].append(
                TenderReceipt(
                    supplier_id=supplier_id,
                    supplier_name=names.get(supplier_id),
                    submissions=[
                        Submission(
                            number=e.submission,
                            position=r.position,
                            recorded_at=r.recorded_at,
                            effective_at=r.effective_at,
                        )
                        for r, e in made
                    ],
                    resubmissions=len(made) - 1,
                    content=made[-1][1].content if tender_stage in opened else None,
                )
            )
    if eligibility is not None:
        deadlines = {Stage.INITIAL: eligibility.response_deadline}
        if bafo is not None:
            deadlines[Stage.BAFO] = bafo.deadline
        for tender_stage, deadline in deadlines.items():
            arrived = sorted(receipts[tender_stage], key=lambda t: t.submissions[0].position)
            tenders.append(
                StageTenders(
                    stage=tender_stage,
                    deadline=deadline,
                    received=len(arrived),
                    receipts=arrived,
                    opened=opened.get(tender_stage),
                )
            )

    contract: ContractRecord | None = None
    if contract_id is not None:
        contract_events = read_stream(ledger, conn, contract_id, within)
        step()
        read += [r.position for r, _ in contract_events]
        entries += timeline("contract", contract_events)
        contract = _contract(contract_id, contract_events, party)

    top = max(read)
    return CallOffRecord(
        call_off_id=call_off_id,
        horizon=horizon,
        read_up_to=top,
        checkpoint=log.checkpoint_covering(conn, top, at_most=checkpoint_at_most),
        status=rebuilt.aggregate.status,
        call_off=CallOffDetails(
            title=draft.title,
            specification=draft.specification,
            lots=[code for code in (draft.need, draft.cohort) if code],
            need=draft.need,
            cohort=draft.cohort,
            geography=draft.geography,
            award_type=draft.award_type,
            estimated_value=draft.estimated_value,
            initial_term_months=draft.initial_term_months,
            extension_options_months=list(draft.extension_options_months),
            criteria=list(draft.criteria),
            response_deadline=draft.response_deadline,
            short_window_ground=draft.short_window_ground,
            short_window_justification=draft.short_window_justification,
            clarification_stage=draft.clarification_stage,
            bafo_stage=draft.bafo_stage,
            standstill_days=draft.standstill_days,
            lead_commissioner=_commissioner(ledger, conn, draft.lead_commissioner_id, first_record.position),
            partner_commissioners=[
                _commissioner(ledger, conn, c, first_record.position) for c in draft.partner_commissioner_ids
            ],
            drafted=_ref(first_record),
        ),
        eligibility=eligibility,
        clarifications=clarifications,
        tenders=tenders,
        bafo=bafo,
        evaluation=Evaluation(scores=scores, moderated=moderated, ranking=ranking),
        award=award,
        contract=contract,
        closure=closure,
        timeline=sorted(entries, key=lambda e: e.position),
    )


def _contract(contract_id: UUID, events: Decoded, party: Callable[[UUID], Party]) -> ContractRecord:
    # The contract is created in the transaction that records CallOffContractConcluded, before it in the log.
    record, concluded = events[0]
    changes = []
    for r, e in events[1:]:
        ref = _ref(r)
        if r.type == "ContractVaried":
            changes.append(
                ContractChange(
                    type=r.type, reason=e.reason, new_value=e.new_value, new_end_date=e.new_end_date, recorded=ref
                )
            )
        elif r.type == "ContractExtended":
            changes.append(
                ContractChange(
                    type=r.type,
                    reason=e.reason,
                    new_end_date=e.new_end_date,
                    extension_months=e.months,
                    recorded=ref,
                )
            )
        elif r.type == "ContractTerminated":
            changes.append(ContractChange(type=r.type, reason=e.grounds, effective_date=e.effective_date, recorded=ref))
    return ContractRecord(
        contract_id=contract_id,
        award_type=concluded.award_type,
        supplier=party(concluded.supplier_id),
        value=concluded.value,
        start_date=concluded.start_date,
        end_date=concluded.end_date,
        mobilisation_date=concluded.mobilisation_date,
        areas=list(concluded.areas),
        concluded=_ref(record),
        changes=changes,
    )


_SANCTIONS = {
    "SupplierSuspended": "suspension",
    "SupplierExcluded": "exclusion",
    "SupplierReinstated": "reinstatement",
}


def qualification_record(
    ledger: Ledger,
    conn: psycopg.Connection[Any],
    supplier_id: UUID,
    horizon: history.Horizon = history.NOW,
    *,
    checkpoint_at_most: int | None = None,
) -> QualificationRecord:
    """The supplier's qualification record as known at the horizon; NotFound if not registered by then."""
    rebuilt = history.reconstruct(ledger, conn, supplier_id, horizon)
    supplier = rebuilt.aggregate
    if not isinstance(supplier, Supplier):
        raise NotFound("supplier", f"{supplier_id} (within the horizon)")
    events = _decoded(ledger, rebuilt.applied)
    first_record, registered = events[0]
    details: list[DetailsChange] = []
    questionnaires: list[QuestionnaireSubmission] = []
    assessments: list[LotAssessment] = []
    terms: list[TermsAcceptance] = []
    appointments: list[Appointment] = []
    withdrawals: list[Withdrawal] = []
    areas: list[AreaChange] = []
    sanctions: list[Sanction] = []
    for record, event in events[1:]:
        ref = _ref(record)
        kind = record.type
        if kind == "SupplierDetailsChanged":
            details.append(
                DetailsChange(
                    name=event.name, organisation_type=event.organisation_type, is_small=event.is_small, changed=ref
                )
            )
        elif kind == "QuestionnaireSubmitted":
            questionnaires.append(
                QuestionnaireSubmission(
                    questionnaire_id=event.questionnaire_id,
                    lots=[
                        LotSought(category=lot.category, case_studies=[c.title for c in lot.case_studies])
                        for lot in event.lots
                    ],
                    declared_areas=list(event.declared_areas),
                    submitted=ref,
                )
            )
        elif kind == "LotAssessed":
            assessments.append(
                LotAssessment(
                    questionnaire_id=event.questionnaire_id,
                    category=event.category,
                    outcome=event.outcome,
                    reason=event.reason,
                    assessor_id=event.assessor_id,
                    assessed=ref,
                )
            )
        elif kind == "FrameworkTermsAccepted":
            terms.append(TermsAcceptance(terms_version=event.terms_version, accepted=ref))
        elif kind == "SupplierAppointedToLot":
            appointments.append(
                Appointment(category=event.category, questionnaire_id=event.questionnaire_id, appointed=ref)
            )
        elif kind == "SupplierWithdrewFromLot":
            withdrawals.append(Withdrawal(category=event.category, reason=event.reason, withdrawn=ref))
        elif kind == "DeclaredAreasChanged":
            areas.append(AreaChange(declared_areas=list(event.declared_areas), notice=event.notice, changed=ref))
        elif kind in _SANCTIONS:
            sanctions.append(Sanction(kind=_SANCTIONS[kind], grounds=event.grounds, decided=ref))
    top = max(r.position for r, _ in events)
    return QualificationRecord(
        supplier_id=supplier_id,
        horizon=horizon,
        read_up_to=top,
        checkpoint=log.checkpoint_covering(conn, top, at_most=checkpoint_at_most),
        name=supplier.name,
        status=supplier.status,
        lots=[
            LotStanding(category=category, status=lot.status, since=lot.since)
            for category, lot in sorted(supplier.lots.items())
        ],
        declared_areas=list(supplier.declared_areas),
        registration=Registration(
            name=registered.name,
            legal_identifier=registered.legal_identifier,
            organisation_type=registered.organisation_type,
            is_small=registered.is_small,
            registered=_ref(first_record),
        ),
        details_changes=details,
        questionnaires=questionnaires,
        assessments=assessments,
        terms_acceptances=terms,
        appointments=appointments,
        withdrawals=withdrawals,
        area_changes=areas,
        sanctions=sanctions,
        timeline=timeline("supplier", events),
    )
