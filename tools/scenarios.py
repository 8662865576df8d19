"""Scenario builders shared by the demo and the national history, told through the commands the API runs.

A `Simulation` is a history being written into a ledger on a simulated clock: stories (generators that yield
the time of their next step) interleave in time order, and every command is recorded at the step's time.
The builders tell the framework's stories once: a supplier joins, a commissioner signs up, a call-off is
competed to any stage, a referral is worked (`Casework`), an Unpaid Work order is worked off, a programme
group meets, a contract's months are billed and paid. Each history decides only its own pace and chances.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from ledger.cases import programmes as prog
from ledger.cases import referrals as rf
from ledger.cases import unpaid_work as upw
from ledger.cases.outcomes import DESIRED_OUTCOMES, Achievement, EndReason
from ledger.envelope import Actor, Envelope, make_envelope
from ledger.errors import LedgerError
from ledger.framework import categories
from ledger.framework import commissioners as com
from ledger.framework import suppliers as sup
from ledger.payments import accounts as acc
from ledger.payments import budgets as bud
from ledger.payments import money
from ledger.procurement import call_offs as co
from ledger.procurement import contracts as con
from ledger.procurement import innovation_partners as ip
from ledger.roles import Role
from ledger.store import Ledger

CORRELATION = "demo-load"  # every generated event carries it, so generated data is never taken for real records
AUTHORITY = Actor(id="demo-assessor", role=Role.AUTHORITY, organisation_id="hmpps-commercial")
FINANCE = Actor(id="demo-finance-officer", role=Role.FINANCE_OFFICER, organisation_id="hmpps-finance")
CRITERIA = (
    co.Criterion(name="quality", kind=co.CriterionKind.QUALITY, weight=60),
    co.Criterion(name="price", kind=co.CriterionKind.PRICE, weight=30),
    co.Criterion(name="social value", kind=co.CriterionKind.SOCIAL_VALUE, weight=10),
)
PASSED = "Evidence of capability meets the standard"
REGIONS = "ABCDEFGHIJKL"  # the twelve probation regions, by letter

Story = Iterator[datetime]  # yields the simulated time of its next step


class DemoRefused(Exception):
    """A generated history starts in 2021: it loads only into an empty ledger, so recorded time follows log order."""


@dataclass
class Simulation:
    """A history written into `ledger` on a simulated clock that runs from `now` to `end`."""

    ledger: Ledger
    rng: random.Random
    now: datetime
    end: datetime  # steps after it are left undone
    progress: Callable[[int, int | None], None] | None = None  # every 25 commands
    on_day: Callable[[int, int], None] | None = None  # each simulated day: days done, days in all
    suppliers: dict[str, UUID] = field(default_factory=dict)
    commissioners: dict[str, UUID] = field(default_factory=dict)
    commands: int = 0
    refused: int = 0  # commands a domain rule refused, where refusals end a story (see `run`)
    heap: list[tuple[datetime, int, Story]] = field(default_factory=list)
    sequence: int = 0

    def env(self, actor: Actor = AUTHORITY, reason: str | None = None) -> Envelope:
        self.commands += 1
        if self.progress is not None and self.commands % 25 == 0:
            self.progress(self.commands, None)
        return make_envelope(actor, correlation_id=CORRELATION, reason=reason, recorded_at=self.now)

    def at(self, when: datetime) -> None:
        # The simulated clock never runs backwards: recorded time follows log order.
        self.now = max(self.now, when)

    def commissioner_actor(self, org: str) -> Actor:
        return Actor(id=f"demo-{org}-officer", role=Role.COMMISSIONER, organisation_id=org)

    def spawn(self, story: Story) -> None:
        """Run a story's first step now; its next waits in time order with every other story's."""
        first = next(story, None)
        if first is not None and first <= self.end:
            self.sequence += 1
            heapq.heappush(self.heap, (first, self.sequence, story))

    def tell(self, stories: list[Story]) -> None:
        """Start each story in turn, then run the clock."""
        for story in stories:
            self.spawn(story)
        self.run()

    def run(self, *, refusals_end_stories: bool = False) -> None:
        """Advance the clock story step by story step until the end; steps beyond it are left undone.

        A refused command raises, unless `refusals_end_stories`: then it is counted and its story ends there."""
        start, last_day = self.now, -1
        total = max(1, (self.end - start).days)
        while self.heap:
            when, seq, story = heapq.heappop(self.heap)
            if when > self.end:
                self.heap.clear()
                break
            self.at(when)
            day = (self.now - start).days
            if self.on_day is not None and day != last_day:
                self.on_day(day, total)
                last_day = day
            try:
                following = next(story, None)
            except LedgerError:
                if not refusals_end_stories:
                    raise
                self.refused += 1
                continue
            if following is not None and following <= self.end:
                heapq.heappush(self.heap, (following, seq, story))


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def morning(day: date) -> datetime:
    """Nine o'clock (UTC) on `day`."""
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)


# -- the framework's parties ------------------------------------------------------------------------


def register_commissioner(sim: Simulation, org: str, name: str, kind: str, area: str) -> UUID:
    commissioner_id = com.register_commissioner(
        sim.ledger,
        sim.env(),
        com.RegisterCommissioner(name=name, organisation_id=org, commissioner_type=kind, area=area),
    ).aggregate_id
    sim.commissioners[org] = commissioner_id
    return commissioner_id


def sign_user_agreement(sim: Simulation, org: str, name: str) -> None:
    com.sign_user_agreement(
        sim.ledger,
        sim.env(sim.commissioner_actor(org)),
        sim.commissioners[org],
        com.SignUserAgreement(signatory=f"Director, {name}"),
    )


def set_budget_line(
    sim: Simulation,
    commissioner_id: UUID,
    year: int,
    name: str,
    amount: Decimal,
    *,
    code: str = bud.CORE,
    ring_fenced: bool = False,
) -> None:
    """A commissioner's budget line for the financial year that starts in April of `year`."""
    bud.set_budget_line(
        sim.ledger,
        sim.env(FINANCE),
        bud.SetBudgetLine(
            commissioner_id=commissioner_id,
            financial_year=f"{year}-{(year + 1) % 100:02d}",
            code=code,
            name=name,
            amount=amount,
            ring_fenced=ring_fenced,
        ),
    )


@dataclass(frozen=True)
class Applicant:
    """A supplier that has registered and submitted its selection questionnaire, and its bid manager."""

    supplier_id: UUID
    questionnaire_id: UUID
    bid_manager: Actor


def apply_to_join(
    sim: Simulation,
    legal_id: str,
    name: str,
    kind: sup.OrganisationType,
    small: bool,
    lots: tuple[str, ...],
    areas: tuple[str, ...],
) -> Applicant:
    """A supplier registers and submits its questionnaire (a case study per lot, the areas it declares)."""
    sid = sup.register_supplier(
        sim.ledger,
        sim.env(),
        sup.RegisterSupplier(name=name, legal_identifier=legal_id, organisation_type=kind, is_small=small),
    ).aggregate_id
    bid = Actor(id=f"bid-{legal_id.lower()}", role=Role.SUPPLIER_BID_MANAGER, organisation_id=str(sid))
    sup.submit_questionnaire(
        sim.ledger,
        sim.env(bid),
        sid,
        sup.SubmitQuestionnaire(
            lots=tuple(
                sup.LotApplication(
                    category=lot,
                    case_studies=(
                        sup.CaseStudy(
                            title=f"{name}: {lot} service",
                            summary="Delivered to people on probation with measured outcomes.",
                            document_refs=(f"docs://sq/{legal_id}/{lot}.pdf",),
                        ),
                    ),
                )
                for lot in lots
            ),
            declared_areas=areas,
        ),
    )
    return Applicant(sid, next(iter(sim.ledger.load(sup.Supplier, sid).questionnaires)), bid)


def assess_lot(
    sim: Simulation, applicant: Applicant, lot: str, *, failed: str | None = None, reason: str | None = None
) -> None:
    """The Authority passes the lot, or fails it for the reason `failed` gives; `reason` goes in the envelope."""
    sup.assess_lot(
        sim.ledger,
        sim.env(reason=reason),
        applicant.supplier_id,
        applicant.questionnaire_id,
        sup.AssessLot(category=lot, outcome=sup.Outcome.FAIL if failed else sup.Outcome.PASS, reason=failed or PASSED),
    )


def accept_terms(sim: Simulation, applicant: Applicant) -> None:
    sup.accept_framework_terms(
        sim.ledger, sim.env(applicant.bid_manager), applicant.supplier_id, sup.AcceptFrameworkTerms()
    )


# -- a competition ----------------------------------------------------------------------------------


@dataclass
class Competition:
    """A call-off run from draft to the stage named by `until` (draft, open, bafo, evaluating, evaluated,
    standstill, awarded) as `story()` tells it; `close` cancels one left at draft or open, or with no tenders.
    An awarded one ends with a contract and its price schedule, handed to `on_contract`."""

    sim: Simulation
    lead_org: str
    title: str
    need: str | None
    geography: str
    value: Decimal
    published: datetime
    until: str
    cohort: str | None = None
    bafo: bool = False
    close: co.CancelCallOff | None = None
    monthly_fee: Decimal | None = None  # half the value over its five years, unless given
    on_contract: Callable[[UUID], None] | None = None

    def story(self) -> Story:
        sim, until = self.sim, self.until
        lead = sim.commissioner_actor(self.lead_org)
        self.published = max(self.published, sim.now + timedelta(days=7))
        yield self.published - timedelta(days=7)
        call_off = self.draft(lead)
        if until == "draft":
            self.cancel(lead, call_off)
            return
        yield self.published
        bidders = yield from self.tenders(lead, call_off)
        if until == "open" or not bidders:
            self.cancel(lead, call_off)
            return
        yield self.published + timedelta(days=35)
        co.open_tenders(sim.ledger, sim.env(lead), call_off)
        if self.bafo and until == "bafo":
            yield sim.now + timedelta(days=5)
            deadline = sim.now + timedelta(days=14)
            co.invite_bafo(
                sim.ledger,
                sim.env(lead),
                call_off,
                co.InviteBafo(supplier_ids=tuple(bidders[:2]), deadline=deadline, reason="Scores within 2%"),
            )
            return
        yield sim.now + timedelta(days=7)
        self.score(lead, call_off, bidders, moderated=until != "evaluating")
        if until == "evaluating":
            return
        yield sim.now + timedelta(days=3)
        co.complete_evaluation(sim.ledger, sim.env(lead), call_off)
        if until == "evaluated":
            return
        winner = sim.ledger.load(co.CallOff, call_off).ranking[0].supplier_id
        yield sim.now + timedelta(days=2)
        co.decide_award(
            sim.ledger,
            sim.env(lead, reason="highest-ranked tender"),
            call_off,
            co.DecideAward(supplier_id=winner, rationale="Highest-ranked tender; strong local partnerships."),
        )
        if until == "standstill":
            return
        yield sim.now + timedelta(days=10, minutes=1)
        contract_id = self.conclude(lead, call_off)
        if self.on_contract is not None:
            self.on_contract(contract_id)

    def draft(self, lead: Actor) -> UUID:
        title = self.title
        return co.draft_call_off(
            self.sim.ledger,
            self.sim.env(lead),
            co.DraftCallOff(
                title=title,
                specification=f"{title}: services for people on probation, delivered to the framework's standards.",
                lead_commissioner_id=self.sim.commissioners[self.lead_org],
                need=self.need,
                cohort=self.cohort,
                geography=self.geography,
                award_type=co.AwardType.CONTRACT,
                estimated_value=self.value,
                initial_term_months=36,
                extension_options_months=(12, 12),
                criteria=CRITERIA,
                response_deadline=self.published + timedelta(days=35),
                bafo_stage=self.bafo,
            ),
        ).aggregate_id

    def cancel(self, lead: Actor, call_off: UUID) -> None:
        if self.close is not None:
            co.cancel_call_off(self.sim.ledger, self.sim.env(lead), call_off, self.close)

    def tenders(self, lead: Actor, call_off: UUID) -> Generator[datetime, None, list[UUID]]:
        """Publish; up to three of the invited tender five days later. Returns the bidders."""
        sim = self.sim
        co.publish_call_off(sim.ledger, sim.env(lead), call_off)
        invited = list(sim.ledger.load(co.CallOff, call_off).invited)
        bidders = invited[: max(1, min(3, len(invited)))]
        yield self.published + timedelta(days=5)
        for supplier_id in bidders:
            price = (self.value * Decimal(sim.rng.randint(85, 100)) / 100).quantize(Decimal("1000"))
            co.submit_tender(
                sim.ledger,
                sim.env(Actor(id="demo-bidder", role=Role.SUPPLIER_BID_MANAGER, organisation_id=str(supplier_id))),
                call_off,
                co.SubmitTender(
                    supplier_id=supplier_id,
                    content=co.TenderContent(
                        price=price,
                        method_statement="Caseworkers co-located with probation; housing-first model.",
                        social_value="Apprenticeships for people with convictions.",
                    ),
                ),
            )
        return bidders

    def score(self, lead: Actor, call_off: UUID, bidders: list[UUID], *, moderated: bool) -> None:
        """Two evaluators score each tender alike; moderation agrees with them, if it has been reached."""
        sim = self.sim
        for supplier_id in bidders:
            scores = {c.name: Decimal(sim.rng.randint(55, 90)) for c in CRITERIA}
            for evaluator in ("demo-evaluator-1", "demo-evaluator-2"):
                co.record_scores(
                    sim.ledger,
                    sim.env(Actor(id=evaluator, role=Role.COMMISSIONER, organisation_id=self.lead_org)),
                    call_off,
                    co.RecordScores(supplier_id=supplier_id, scores=scores, comments="Credible delivery model."),
                )
            if moderated:
                co.moderate_scores(
                    sim.ledger,
                    sim.env(lead),
                    call_off,
                    co.ModerateScores(supplier_id=supplier_id, scores=scores, rationale="Consensus at moderation."),
                )

    def conclude(self, lead: Actor, call_off: UUID) -> UUID:
        """The contract (three years from the first of the month four months on) and its price schedule."""
        sim = self.sim
        start = (sim.now + timedelta(days=120)).date().replace(day=1)
        contract_id = acc.conclude_contract(
            sim.ledger,
            sim.env(lead),
            call_off,
            con.ConcludeContract(
                value=self.value,
                start_date=start,
                end_date=con.add_months(start, 36) - timedelta(days=1),
                mobilisation_date=sim.now.date() + timedelta(days=14),
                kpis=(con.Kpi(name="Outcome achieved", target="70% of completed referrals"),),
            ),
        ).aggregate_id
        acc.set_price_schedule(
            sim.ledger,
            sim.env(FINANCE),
            contract_id,
            acc.SetPriceSchedule(
                effective_from=start,
                fixed_fee_per_month=money.pence(self.monthly_fee or self.value * Decimal("0.5") / 60),
                referral_fee={
                    categories.Complexity.LOW: Decimal("150.00"),
                    categories.Complexity.MEDIUM: Decimal("250.00"),
                    categories.Complexity.HIGH: Decimal("400.00"),
                },
                session_fee=Decimal("75.00"),
                outcome_payment=Decimal("300.00"),
            ),
        )
        return contract_id


def take_extension(sim: Simulation, contract_id: UUID, months: int, *, reason: str) -> None:
    """The commissioner takes an extension option (`reason` goes in the envelope)."""
    con.extend_contract(
        sim.ledger,
        sim.env(reason=reason),
        contract_id,
        con.ExtendContract(months=months, reason="Meeting KPIs; extension option taken"),
    )


def fund_extension(sim: Simulation, contract_id: UUID, new_value: Decimal) -> None:
    acc.vary_contract(
        sim.ledger,
        sim.env(FINANCE),
        contract_id,
        con.VaryContract(new_value=new_value, reason="Extension year funded"),
    )


# -- a referral's life ------------------------------------------------------------------------------


@dataclass
class Casework:
    """One referral as its probation practitioner and its provider's caseworker work it: a command a step."""

    sim: Simulation
    practitioner: Actor
    caseworker: Actor
    referral_id: UUID = field(init=False)

    def refer(
        self,
        contract: con.Contract,
        crn: str,
        person: rf.PersonDetails,
        *,
        area: str,
        category: str,
        complexity: categories.Complexity,
        max_enforceable_days: int,
        sentence_type: rf.SentenceType,
        completion_deadline: date,
    ) -> None:
        self.referral_id = rf.make_referral(
            self.sim.ledger,
            self.sim.env(self.practitioner),
            rf.MakeReferral(
                contract_id=contract.id,
                crn=crn,
                person=person,
                area=area,
                category=category,
                complexity=complexity,
                desired_outcomes=DESIRED_OUTCOMES[category][:2],
                max_enforceable_days=max_enforceable_days,
                sentence_type=sentence_type,
                risk_summary="Medium risk of serious harm to known adults.",
                completion_deadline=completion_deadline,
            ),
        ).aggregate_id

    def take_on(self) -> None:
        """The provider acknowledges the referral and assigns its caseworker."""
        sim, caseworker = self.sim, self.caseworker
        rf.acknowledge_referral(sim.ledger, sim.env(caseworker), self.referral_id)
        rf.assign_caseworker(
            sim.ledger, sim.env(caseworker), self.referral_id, rf.AssignCaseworker(caseworker_id=caseworker.id)
        )

    def withdraw(self, reason_code: EndReason, detail: str | None = None) -> None:
        rf.withdraw_referral(
            self.sim.ledger,
            self.sim.env(self.practitioner),
            self.referral_id,
            rf.EndReferral(reason_code=reason_code, detail=detail),
        )

    def schedule(self, when: datetime, kind: rf.AppointmentKind) -> None:
        rf.schedule_appointment(
            self.sim.ledger,
            self.sim.env(self.caseworker),
            self.referral_id,
            rf.ScheduleAppointment(
                kind=kind,
                starts_at=when,
                delivery_method=rf.DeliveryMethod.IN_PERSON if self.sim.rng.random() < 0.7 else rf.DeliveryMethod.VIDEO,
            ),
        )

    def last_appointment(self) -> rf.Appointment:
        referral = self.sim.ledger.load(rf.Referral, self.referral_id)
        return max(referral.appointments.values(), key=lambda a: a.starts_at)

    def attend(self, attended: rf.Attended, absence: rf.Absence | None = None) -> None:
        """Attendance at the latest appointment (some attended sessions count towards RAR days, never more of them
        than the practitioner ordered)."""
        referral = self.sim.ledger.load(rf.Referral, self.referral_id)
        appointment = max(referral.appointments.values(), key=lambda a: a.starts_at)
        days_left = referral.rar_days() < referral.details.max_enforceable_days
        rf.record_attendance(
            self.sim.ledger,
            self.sim.env(self.caseworker),
            self.referral_id,
            rf.RecordAttendance(
                appointment_id=appointment.id,
                attended=attended,
                absence=absence,
                counts_towards_rar=attended is not rf.Attended.NO
                and appointment.kind is rf.AppointmentKind.SESSION
                and self.sim.rng.random() < 0.3
                and days_left,
                concerns="Did not attend and did not answer calls" if absence is rf.Absence.UNACCEPTABLE else None,
            ),
        )

    def acknowledge_notification(self) -> None:
        """The practitioner acknowledges the notification of the latest appointment."""
        rf.acknowledge_notification(
            self.sim.ledger,
            self.sim.env(self.practitioner),
            self.referral_id,
            rf.AcknowledgeNotification(appointment_id=self.last_appointment().id),
        )

    def plan(self, activities: tuple[str, ...], sessions: int) -> None:
        rf.submit_action_plan(
            self.sim.ledger,
            self.sim.env(self.caseworker),
            self.referral_id,
            rf.SubmitActionPlan(activities=activities, number_of_sessions=sessions),
        )

    def approve_plan(self) -> None:
        rf.approve_action_plan(self.sim.ledger, self.sim.env(self.practitioner), self.referral_id)

    def report_end(self, achievement: Callable[[], Achievement]) -> None:
        """The end-of-service report: each desired outcome rated as `achievement` draws it."""
        referral = self.sim.ledger.load(rf.Referral, self.referral_id)
        rf.report_end_of_service(
            self.sim.ledger,
            self.sim.env(self.caseworker),
            self.referral_id,
            rf.ReportEndOfService(
                outcomes=tuple(
                    rf.OutcomeRating(outcome=o, achievement=achievement()) for o in referral.desired_outcomes
                ),
                summary="Service delivered; outcomes rated with the person and their practitioner.",
            ),
        )


def attendance(
    rng: random.Random, *, attended: float, late: float, always: bool
) -> tuple[rf.Attended, rf.Absence | None]:
    """How a session went: attended (below `attended`), late (below `late`) or missed, half the time without an
    acceptable reason; someone who completes (`always`) comes late rather than miss one."""
    roll = rng.random()
    went = rf.Attended.YES if roll < attended else rf.Attended.LATE if roll < late else rf.Attended.NO
    if always and went is rf.Attended.NO:
        went = rf.Attended.LATE
    if went is not rf.Attended.NO:
        return went, None
    return went, rf.Absence.UNACCEPTABLE if rng.random() < 0.5 else rf.Absence.ACCEPTABLE


# -- an Unpaid Work order ---------------------------------------------------------------------------


@dataclass
class UnpaidWork:
    """One Unpaid Work order as its provider's officer works it."""

    sim: Simulation
    officer: Actor
    order_id: UUID = field(init=False)

    def allocate(
        self, contract: con.Contract, crn: str, person: rf.PersonDetails, hours: int, employed: bool, made_on: date
    ) -> None:
        self.order_id = upw.allocate_order(
            self.sim.ledger,
            self.sim.env(self.officer),
            upw.AllocateOrder(
                contract_id=contract.id,
                crn=crn,
                person=person,
                hours_ordered=hours,
                employed=employed,
                made_on=made_on,
                opts_out_of_all_male_placements=person.gender == "female",
            ),
        ).aggregate_id

    def induct(self) -> None:
        upw.complete_induction(
            self.sim.ledger,
            self.sim.env(self.officer),
            self.order_id,
            upw.CompleteInduction(on=self.sim.now.date(), risk_and_needs_assessed=True),
        )

    def work_off(
        self,
        hours: int,
        day: datetime,
        *,
        stand_downs: float,
        stand_down_reason: str,
        work: Callable[[datetime, Decimal, Decimal], upw.RecordWork],
        gap: Callable[[], int],
    ) -> Story:
        """Days of work from `day` until the hours are done, up to seven a day: `work` says what was done with
        the day's hours and the training hours so far; a share `stand_downs` of days no placement takes them;
        `gap` draws the days to the next."""
        worked, trained = Decimal(0), Decimal(0)
        while worked < hours:
            yield day
            if self.sim.rng.random() < stand_downs:
                upw.record_stand_down(
                    self.sim.ledger,
                    self.sim.env(self.officer),
                    self.order_id,
                    upw.RecordStandDown(on=day.date(), reason=stand_down_reason),
                )
            else:
                done = work(day, min(Decimal(7), Decimal(hours) - worked), trained)
                upw.record_work(self.sim.ledger, self.sim.env(self.officer), self.order_id, done)
                worked += done.hours
                trained += done.hours if done.kind is upw.WorkKind.TRAINING else 0
            day += timedelta(days=gap())


# -- a programme group ------------------------------------------------------------------------------


@dataclass
class ProgrammeGroup:
    """An accredited programme's group as its facilitator runs it."""

    sim: Simulation
    facilitator: Actor
    group_id: UUID = field(init=False)

    def form(self, contract: con.Contract, programme: prog.Programme, name: str) -> None:
        self.group_id = prog.form_group(
            self.sim.ledger,
            self.sim.env(self.facilitator),
            prog.FormGroup(programme=programme, contract_id=contract.id, name=name, facilitator_id=self.facilitator.id),
        ).aggregate_id

    def join(self, crn: str, person: rf.PersonDetails, *, convicted_of_intimate_partner_violence: bool = False) -> None:
        prog.join_group(
            self.sim.ledger,
            self.sim.env(self.facilitator),
            self.group_id,
            prog.JoinGroup(
                crn=crn, person=person, convicted_of_intimate_partner_violence=convicted_of_intimate_partner_violence
            ),
        )

    def schedule(self, on: date, crn: str | None = None) -> None:
        """A group session, or with `crn` an individual one."""
        prog.schedule_session(
            self.sim.ledger,
            self.sim.env(self.facilitator),
            self.group_id,
            prog.ScheduleProgrammeSession(
                kind=prog.SessionKind.GROUP if crn is None else prog.SessionKind.INDIVIDUAL, on=on, crn=crn
            ),
        )


# -- a contract's months ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Invoice:
    contract_id: UUID
    id: UUID
    amount: Decimal
    over_claimed: bool  # a second line claims travel, which the fixed fee covers


def close_month(sim: Simulation, contract_id: UUID, month: date) -> None:
    """The month has elapsed: its fixed fee is earned."""
    acc.close_period(sim.ledger, sim.env(FINANCE), contract_id, acc.ClosePeriod(month=f"{month:%Y-%m}"))


def invoice_month(
    sim: Simulation, provider: Actor, contract_id: UUID, month: date, *, period_start: date, over_claims: float
) -> Invoice | None:
    """The provider invoices every charge earned by the month's end and not yet invoiced (none: no invoice);
    a share `over_claims` of invoices also claim travel."""
    account = sim.ledger.load(acc.ContractAccount, acc.account_id_for(contract_id))
    period_end = next_month(month) - timedelta(days=1)
    due = [
        cid
        for cid, c in account.charges.items()
        if not c.reversed and c.invoice_id is None and c.earned_on <= period_end
    ]
    if not due:
        return None
    amount = sum((account.charges[c].amount for c in due), Decimal(0))
    over = sim.rng.random() < over_claims
    lines = [acc.InvoiceLine(description=f"Services delivered {month:%B %Y}", amount=amount, charge_ids=tuple(due))]
    if over:
        lines.append(acc.InvoiceLine(description="Additional travel costs", amount=Decimal("420.00")))
    invoice_id = acc.submit_invoice(
        sim.ledger,
        sim.env(provider),
        contract_id,
        acc.SubmitInvoice(
            invoice_number=f"{str(contract_id)[:8].upper()}-{month:%Y%m}",
            period_start=period_start,
            period_end=period_end,
            lines=tuple(lines),
        ),
    ).aggregate_id
    return Invoice(contract_id, invoice_id, amount, over)


def check_invoice(sim: Simulation, invoice: Invoice, *, dispute: str) -> None:
    """Finance approves the services delivered and disputes any travel claimed, saying why."""
    acc.approve_invoice_line(sim.ledger, sim.env(FINANCE), invoice.contract_id, invoice.id, acc.LineDecision(line=1))
    if invoice.over_claimed:
        acc.dispute_invoice_line(
            sim.ledger, sim.env(FINANCE), invoice.contract_id, invoice.id, acc.LineDecision(line=2, reason=dispute)
        )


def pay_invoice(sim: Simulation, invoice: Invoice, remittance_reference: str) -> None:
    """Finance pays what was approved, today."""
    acc.make_payment(
        sim.ledger,
        sim.env(FINANCE),
        invoice.contract_id,
        invoice.id,
        acc.MakePayment(amount=invoice.amount, paid_on=sim.now.date(), remittance_reference=remittance_reference),
    )


def designate_partner(sim: Simulation, contract_id: UUID) -> None:
    """The Authority designates a region-wide contract its region's Innovation Partner (Unpaid Work, programmes)."""
    contract = sim.ledger.load(con.Contract, contract_id)
    (region,) = contract.areas
    ip.designate_partner(sim.ledger, sim.env(AUTHORITY), ip.DesignatePartner(region=region, contract_id=contract_id))
