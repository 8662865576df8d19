"""A national history at any scale, generated deterministically through the same commands the API runs.

`ledger demo --years N --scale S` writes N years from the framework's launch. At scale 1 a year holds what
the source documents describe: about 57,200 Unpaid Work orders and 14,700 accredited programme starts
delivered by the twelve regions' innovation partners, tens of thousands of referrals to framework
contracts, hundreds of suppliers of every size, commissioners of every type, call-offs in every stage,
and the fixed fees, charges, invoices and payments of about £280m a year. Every command goes through the
domain's rules on the batched append path (`ledger.bulk`); the same seed gives the same history.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from ledger import ids
from ledger.cases import programmes as prog
from ledger.cases import referrals as rf
from ledger.cases import unpaid_work as upw
from ledger.cases.outcomes import DESIRED_OUTCOMES, Achievement, EndReason
from ledger.envelope import Actor
from ledger.errors import LedgerError
from ledger.framework import categories, geography, reference, terms
from ledger.framework import commissioners as com
from ledger.framework import suppliers as sup
from ledger.framework.geography import AreaKind, region_code
from ledger.payments import accounts as acc
from ledger.payments import budgets as bud
from ledger.payments import money
from ledger.procurement import call_offs as co
from ledger.procurement import contracts as con
from ledger.roles import Role
from ledger.store import Ledger
from tools.demo import CORRELATION, FINANCE, _Loader

REGIONS = "ABCDEFGHIJKL"
# Share of the national caseload by region (London and the North West largest), from the regions' sizes.
REGION_WEIGHT = dict(zip(REGIONS, (6, 11, 9, 5, 10, 8, 7, 8, 9, 14, 8, 5), strict=True))
CORE_NEEDS = ("accommodation", "ete", "fbd", "dependency-and-recovery")
INNOVATION_LOTS = ("lifestyle-and-associates", "cognitive-and-behavioural-change")
OTHER_NEEDS = tuple(
    c.code
    for c in categories.SERVICE_CATEGORIES
    if c.kind is categories.CategoryKind.NEED and c.code not in CORE_NEEDS + INNOVATION_LOTS
)
COHORTS = tuple(c.code for c in categories.SERVICE_CATEGORIES if c.kind is categories.CategoryKind.COHORT)
UPW_HOURS = (40, 60, 60, 80, 80, 100, 100, 120, 150, 150, 200, 240, 300)
GIVEN = ("Alex", "Sam", "Jordan", "Chris", "Jamie", "Taylor", "Morgan", "Casey", "Robin", "Drew", "Kit", "Lee")
FAMILY = ("Smith", "Jones", "Khan", "Evans", "Okafor", "Murphy", "Patel", "Williams", "Nowak", "Brown", "Ali")
WORDS = ("Northern", "Bridge", "Pathways", "Harbour", "Beacon", "Compass", "Horizon", "Anchor", "Keystone", "Meridian")


@dataclass(frozen=True)
class Volumes:
    """What a year holds at scale 1 (each figure is multiplied by the scale, with a small floor)."""

    suppliers: int = 400  # over the framework's life, most in its first months
    call_offs_per_year: int = 120
    referrals_per_year: int = 40_000
    unpaid_work_orders_per_year: int = 57_200
    programme_starts_per_year: int = 14_700
    innovation_partner_value_per_year: Decimal = Decimal("15000000")  # each of the twelve regions
    core_contract_value_per_year: Decimal = Decimal("2300000")  # each day-one need in each region


@dataclass(frozen=True)
class GenerationReport:
    years: int
    scale: float
    seed: int
    commands: int
    events: int
    refused: int  # commands a domain rule refused (a generator that follows the rules refuses none)
    suppliers: int
    commissioners: int
    call_offs: int
    contracts: int
    referrals: int
    unpaid_work_orders: int
    programme_starts: int
    charged: Decimal
    seconds: float = 0.0


def _poisson_gaps(rng: random.Random, per_year: float) -> Iterator[timedelta]:
    """Waiting times between arrivals at `per_year` a year."""
    rate = per_year / (365.0 * 24 * 3600)
    while True:
        yield timedelta(seconds=rng.expovariate(rate))


@dataclass
class NationalHistory(_Loader):
    years: int = 1
    scale: float = 1.0
    volumes: Volumes = field(default_factory=Volumes)
    end: datetime = field(default_factory=lambda: datetime.now(UTC))
    heap: list[tuple[datetime, int, Iterator[datetime]]] = field(default_factory=list)
    sequence: int = 0
    contracts: list[UUID] = field(default_factory=list)  # framework contracts (not innovation partners)
    partners: dict[str, UUID] = field(default_factory=dict)  # region letter -> innovation partner contract
    people: int = 0
    refused: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    on_day: Callable[[int, int], None] | None = None

    def scaled(self, figure: float, floor: int = 1) -> float:
        return max(float(floor), figure * self.scale)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    # -- scheduling ---------------------------------------------------------------------------------

    def spawn(self, story: Iterator[datetime]) -> None:
        first = next(story, None)
        if first is not None and first <= self.end:
            self.sequence += 1
            heapq.heappush(self.heap, (first, self.sequence, story))

    def run(self) -> None:
        """Advance the clock story step by story step until the end; steps beyond it are left undone."""
        start, last_day = self.now, -1
        total = max(1, (self.end - start).days)
        while self.heap:
            when, seq, story = heapq.heappop(self.heap)
            if when > self.end:
                break
            self.at(when)
            day = (self.now - start).days
            if self.on_day is not None and day != last_day:
                self.on_day(day, total)
                last_day = day
            try:
                following = next(story, None)
            except LedgerError:
                self.refused += 1  # a story whose next command was refused ends there
                continue
            if following is not None and following <= self.end:
                heapq.heappush(self.heap, (following, seq, story))

    def arrivals(
        self, per_year: float, make: Callable[[], Iterator[datetime] | None], until: datetime
    ) -> Iterator[datetime]:
        """A Poisson stream of new stories."""
        if per_year <= 0:
            return
        gaps = _poisson_gaps(self.rng, per_year)
        when = self.now
        while True:
            when += next(gaps)
            if when > until:
                return
            yield when
            story = make()
            if story is not None:
                self.spawn(story)

    # -- the framework's parties --------------------------------------------------------------------

    def commissioners_of_every_type(self) -> None:
        bodies: list[tuple[str, str, str, str]] = [
            (f"probation-region-{c.lower()}", f"Probation Service, region {c}", "probation-region", region_code(c))
            for c in REGIONS
        ]
        for area in geography.AREAS:
            if area.kind is AreaKind.POLICE_AREA and area.attributes.get("policing_body") == "PCC":
                bodies.append((f"pcc-{area.code}", f"{area.name} Police and Crime Commissioner", "pcc", area.code))
        bodies += [
            ("mopac", "Mayor's Office for Policing and Crime", "mayoral-pcc", "metropolitan"),
            ("gmca", "Greater Manchester Combined Authority", "mayoral-pcc", "greater-manchester"),
            ("welsh-government", "Welsh Government", "devolved-government", "wales"),
            ("nhs-england", "NHS England Health and Justice", "health-body", "england"),
            ("prison-group-north", "Prison Group Director, North", "prison-group", "region-a"),
            ("moj-policy", "Ministry of Justice Policy Group", "government-department", "england-and-wales"),
            ("hmpps-national", "HMPPS National Commissioning", "hmpps", "england-and-wales"),
            ("leeds-city-council", "Leeds City Council", "local-authority", "west-yorkshire"),
            ("birmingham-city-council", "Birmingham City Council", "local-authority", "west-midlands"),
        ]
        for org, name, kind, area in bodies:
            if area not in geography.BY_CODE:
                continue
            cid = com.register_commissioner(
                self.ledger,
                self.env(),
                com.RegisterCommissioner(name=name, organisation_id=org, commissioner_type=kind, area=area),
            ).aggregate_id
            self.commissioners[org] = cid
            com.sign_user_agreement(
                self.ledger,
                self.env(self.commissioner_actor(org)),
                cid,
                com.SignUserAgreement(signatory=f"Director, {name}"),
            )
            self.budget_lines(org, cid, kind)
            self.count("commissioners")

    def budget_lines(self, org: str, commissioner_id: UUID, kind: str) -> None:
        """Budgets that fund what each body commissions, for every financial year of the history."""
        yearly = (Decimal("40000000") if kind == "probation-region" else Decimal("4000000")) * Decimal(
            str(self.scale)
        ) + Decimal("1000000")
        first = self.now.year - (1 if self.now.month < 4 else 0)
        for year in range(first, first + self.years + 8):  # contracts run past the history's end
            bud.set_budget_line(
                self.ledger,
                self.env(FINANCE),
                bud.SetBudgetLine(
                    commissioner_id=commissioner_id,
                    financial_year=f"{year}-{(year + 1) % 100:02d}",
                    name="Rehabilitative services",
                    amount=money.pence(yearly),
                ),
            )

    def supplier_story(
        self, n: int, lots: tuple[str, ...] | None = None, areas: tuple[str, ...] | None = None
    ) -> Iterator[datetime]:
        """A supplier registers, applies for lots with case studies, is assessed and accepts the terms."""
        rng = self.rng
        kind = rng.choices(list(sup.OrganisationType), weights=(60, 25, 5, 10))[0]
        small = rng.random() < 0.65
        if lots is None:
            pool = CORE_NEEDS * 3 + OTHER_NEEDS + COHORTS
            lots = tuple(sorted(set(rng.sample(pool, k=rng.randint(1, 3)))))
        if areas is None:
            reach = rng.random()
            if reach < 0.08:
                areas = (geography.ENGLAND_AND_WALES,)
            elif reach < 0.7:
                areas = tuple(sorted({region_code(rng.choice(REGIONS)) for _ in range(rng.randint(1, 2))}))
            else:
                police = [a.code for a in geography.AREAS if a.kind is AreaKind.POLICE_AREA]
                areas = tuple(sorted(set(rng.sample(police, k=rng.randint(1, 3)))))
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {('Trust', 'CIC', 'Ltd', 'Partnership', 'Mutual')[n % 5]} {n}"
        sid, questionnaire, bid = self.apply_to_join(f"NAT{n:06d}", name, kind, small, lots, areas)
        self.count("suppliers")
        yield self.now + timedelta(days=self.rng.randint(5, 20))
        for lot in lots:
            passed = self.rng.random() < 0.9
            sup.assess_lot(
                self.ledger,
                self.env(),
                sid,
                questionnaire,
                sup.AssessLot(
                    category=lot,
                    outcome=sup.Outcome.PASS if passed else sup.Outcome.FAIL,
                    reason="Evidence of capability meets the standard" if passed else "Case studies lack outcomes",
                ),
            )
        yield self.now + timedelta(days=self.rng.randint(1, 10))
        sup.accept_framework_terms(self.ledger, self.env(bid), sid, sup.AcceptFrameworkTerms())

    # -- competitions and contracts ------------------------------------------------------------------

    def on_contract(self, contract_id: UUID) -> None:
        contract = self.ledger.load(con.Contract, contract_id)
        self.count("contracts")
        region = next(iter(geography.probation_regions(list(contract.areas))), None)
        if contract.need in INNOVATION_LOTS and region is not None:
            self.partners[geography.BY_CODE[region].attributes["region_letter"]] = contract_id
        else:
            self.contracts.append(contract_id)
        self.spawn(self.billing(contract_id))
        self.spawn(self.extensions(contract_id))

    def competitions_at_launch(self) -> None:
        core = self.volumes.core_contract_value_per_year * Decimal(str(self.scale)) * 3
        partner = self.volumes.innovation_partner_value_per_year * Decimal(str(self.scale)) * 3
        for i, letter in enumerate(REGIONS):
            for j, need in enumerate(CORE_NEEDS):
                self.spawn(
                    self.call_off(f"probation-region-{letter.lower()}", need, None, region_code(letter), core, i + j)
                )
            self.spawn(
                self.call_off(
                    f"probation-region-{letter.lower()}", INNOVATION_LOTS[0], None, region_code(letter), partner, i + 30
                )
            )

    def call_off(
        self,
        lead: str,
        need: str | None,
        cohort: str | None,
        area: str,
        value: Decimal,
        offset: int,
        until: str = "awarded",
        close: co.CancelCallOff | None = None,
    ) -> Iterator[datetime]:
        self.count("call_offs")
        return self.competition(
            lead_org=lead,
            title=f"{(need or cohort or '').replace('-', ' ').capitalize()} services, {geography.BY_CODE[area].name}",
            need=need,
            cohort=cohort,
            geography=area,
            value=money.pence(max(value, Decimal("50000"))),
            published=self.now + timedelta(days=30 + offset),
            until=until,
            bafo=until == "bafo",
            close=close,
            # An innovation partner's block contract is paid monthly; framework services partly per referral.
            monthly_fee=value / 36 if need in INNOVATION_LOTS else None,
            on_contract=self.on_contract,
        )

    def later_call_off(self) -> Iterator[datetime] | None:
        """A call-off by any body, for any need or cohort, in its own area: most are awarded."""
        rng = self.rng
        org = rng.choice(sorted(self.commissioners))
        area = self.ledger.load(com.Commissioner, self.commissioners[org]).area
        need, cohort = rng.choice(CORE_NEEDS + OTHER_NEEDS), None
        if rng.random() < 0.25:
            cohort = rng.choice(COHORTS)
            need = None if rng.random() < 0.5 else need
        fate = rng.random()
        value = Decimal(rng.randint(150, 1500)) * 1000 * Decimal(str(max(self.scale, 0.1)))
        if fate < 0.84:
            return self.call_off(org, need, cohort, area, value, 0)
        if fate < 0.88:
            return self.call_off(org, need, cohort, area, value, 0, until="bafo")
        no_award = fate < 0.94
        return self.call_off(
            org,
            need,
            cohort,
            area,
            value,
            0,
            until="open" if no_award else "draft",
            close=co.CancelCallOff(
                reason="No compliant tender" if no_award else "Budget reallocated", no_award=no_award
            ),
        )

    def extensions(self, contract_id: UUID) -> Iterator[datetime]:
        """At each anniversary of the initial term the commissioner takes an option, funding the year."""
        contract = self.ledger.load(con.Contract, contract_id)
        for _ in range(len(contract.extension_options)):
            contract = self.ledger.load(con.Contract, contract_id)
            yield datetime.combine(contract.end_date - timedelta(days=60), datetime.min.time(), UTC) + timedelta(
                hours=10
            )
            contract = self.ledger.load(con.Contract, contract_id)
            if contract.status is not con.ContractStatus.ACTIVE or not contract.extension_options:
                return
            months = contract.extension_options[0]
            years = Decimal(max(1, (contract.end_date - contract.start_date).days)) / Decimal(365)
            annual = money.pence(contract.value / years)
            con.extend_contract(
                self.ledger,
                self.env(reason="annual review"),
                contract_id,
                con.ExtendContract(months=months, reason="Meeting KPIs; extension option taken"),
            )
            acc.vary_contract(
                self.ledger,
                self.env(FINANCE),
                contract_id,
                con.VaryContract(new_value=contract.value + annual, reason="Extension year funded"),
            )

    def billing(self, contract_id: UUID) -> Iterator[datetime]:
        """Every month: the fixed fee is earned, the provider invoices what is due, finance approves and pays."""
        contract = self.ledger.load(con.Contract, contract_id)
        provider = Actor(
            id="provider-finance", role=Role.SUPPLIER_BID_MANAGER, organisation_id=str(contract.supplier_id)
        )
        month = contract.start_date.replace(day=1)
        while True:
            contract = self.ledger.load(con.Contract, contract_id)
            if month > contract.end_date:
                return
            following = (month + timedelta(days=32)).replace(day=1)
            yield datetime.combine(following, datetime.min.time(), UTC) + timedelta(
                hours=9, minutes=self.rng.randint(0, 59)
            )
            acc.close_period(self.ledger, self.env(FINANCE), contract_id, acc.ClosePeriod(month=f"{month:%Y-%m}"))
            yield self.now + timedelta(days=self.rng.randint(2, 6))
            account = self.ledger.load(acc.ContractAccount, acc.account_id_for(contract_id))
            period_end = following - timedelta(days=1)
            due = [
                cid
                for cid, c in account.charges.items()
                if not c.reversed and c.invoice_id is None and c.earned_on <= period_end
            ]
            if due:
                amount = sum((account.charges[c].amount for c in due), Decimal(0))
                over = self.rng.random() < 0.08
                lines = [
                    acc.InvoiceLine(
                        description=f"Services delivered {month:%B %Y}", amount=amount, charge_ids=tuple(due)
                    )
                ]
                if over:
                    lines.append(acc.InvoiceLine(description="Additional travel costs", amount=Decimal("420.00")))
                invoice_id = acc.submit_invoice(
                    self.ledger,
                    self.env(provider),
                    contract_id,
                    acc.SubmitInvoice(
                        invoice_number=f"{str(contract_id)[:8].upper()}-{month:%Y%m}",
                        period_start=month,
                        period_end=period_end,
                        lines=tuple(lines),
                    ),
                ).aggregate_id
                yield self.now + timedelta(days=self.rng.randint(2, 8))
                acc.approve_invoice_line(
                    self.ledger, self.env(FINANCE), contract_id, invoice_id, acc.LineDecision(line=1)
                )
                if over:
                    acc.dispute_invoice_line(
                        self.ledger,
                        self.env(FINANCE),
                        contract_id,
                        invoice_id,
                        acc.LineDecision(line=2, reason="Travel is within the fixed fee"),
                    )
                yield self.now + timedelta(days=38 if self.rng.random() < 0.12 else self.rng.randint(7, 25))
                acc.make_payment(
                    self.ledger,
                    self.env(FINANCE),
                    contract_id,
                    invoice_id,
                    acc.MakePayment(
                        amount=amount, paid_on=self.now.date(), remittance_reference=f"BACS-{invoice_id.hex[:10]}"
                    ),
                )
            month = following

    # -- people on probation ------------------------------------------------------------------------

    def person(self, *, female: bool | None = None, young: bool = False) -> tuple[str, rf.PersonDetails]:
        rng = self.rng
        self.people += 1
        crn = f"{'ABCDEFGHJKLMNPRSTUVWXYZ'[self.people % 23]}{self.people % 1_000_000:06d}"
        today = self.now.date()
        age = rng.randint(18, 25) if young else rng.randint(18, 70)
        born = date(today.year - age - 1, rng.randint(1, 12), rng.randint(1, 28))
        if female is None:
            female = rng.random() < 0.12
        return crn, rf.PersonDetails(
            given_name=rng.choice(GIVEN),
            family_name=rng.choice(FAMILY),
            date_of_birth=born,
            gender="female" if female else "male",
        )

    def region_of(self, letter: str) -> str:
        return region_code(letter)

    def referral(self) -> Iterator[datetime] | None:
        """A practitioner refers someone to a live framework contract covering where they live."""
        today = self.now.date()
        contracts = (self.ledger.load(con.Contract, i) for i in self.contracts)
        live = [c for c in contracts if c.is_live(today)]
        if not live:
            return None
        contract = self.rng.choice(live)
        police = [
            a.code
            for a in geography.AREAS
            if a.kind is AreaKind.POLICE_AREA and any(geography.covers(x, a.code) for x in contract.areas)
        ]
        area = self.rng.choice(police)
        region = geography.probation_regions([area])[0]
        return self.referral_story_national(contract, region, area)

    def referral_story_national(self, contract: con.Contract, region: str, area: str) -> Iterator[datetime]:
        rng = self.rng
        letter = geography.BY_CODE[region].attributes["region_letter"].lower()
        practitioner = Actor(
            id=f"po-{letter}{rng.randint(0, 199)}", role=Role.PROBATION_PRACTITIONER, organisation_id=region
        )
        caseworker = Actor(
            id=f"cw-{str(contract.supplier_id)[:6]}-{rng.randint(0, 29)}",
            role=Role.PROVIDER_CASEWORKER,
            organisation_id=str(contract.supplier_id),
        )
        category = contract.need or contract.cohort or "accommodation"
        crn, person = self.person(female=True if category == "women" else None, young=category == "young-adults")
        complexity = rng.choice(categories.BY_CODE[category].complexity_levels)
        referral_id = rf.make_referral(
            self.ledger,
            self.env(practitioner),
            rf.MakeReferral(
                contract_id=contract.id,
                crn=crn,
                person=person,
                area=area,
                category=category,
                complexity=complexity,
                desired_outcomes=DESIRED_OUTCOMES[category][:2],
                max_enforceable_days=rng.randint(5, 20),
                sentence_type=rng.choice(list(rf.SentenceType)[:4]),
                risk_summary="Medium risk of serious harm to known adults.",
                completion_deadline=self.now.date() + timedelta(days=180),
            ),
        ).aggregate_id
        self.count("referrals")
        fate = rng.random()
        yield self.now + timedelta(days=rng.randint(1, 4))
        rf.acknowledge_referral(self.ledger, self.env(caseworker), referral_id)
        rf.assign_caseworker(
            self.ledger, self.env(caseworker), referral_id, rf.AssignCaseworker(caseworker_id=caseworker.id)
        )
        if fate < 0.1:
            yield self.now + timedelta(days=rng.randint(2, 10))
            rf.withdraw_referral(
                self.ledger,
                self.env(practitioner),
                referral_id,
                rf.EndReferral(reason_code=rng.choice(list(EndReason)[:-1])),
            )
            return
        assessment = self.now + timedelta(days=rng.randint(3, 9))
        self._appointment(referral_id, caseworker, assessment, rf.AppointmentKind.INITIAL_ASSESSMENT)
        yield assessment + timedelta(hours=rng.choice((2, 3, 20)))
        self._attend(referral_id, caseworker, rf.Attended.YES)
        planned = rng.randint(3, 8)
        rf.submit_action_plan(
            self.ledger,
            self.env(caseworker),
            referral_id,
            rf.SubmitActionPlan(activities=("Needs review", "Weekly one-to-one support"), number_of_sessions=planned),
        )
        yield self.now + timedelta(days=rng.randint(1, 3))
        rf.approve_action_plan(self.ledger, self.env(practitioner), referral_id)
        stop_after = rng.randint(1, planned - 1) if fate < 0.35 else planned
        for k in range(stop_after):
            when = self.now + timedelta(days=7, hours=rng.randint(0, 4))
            self._appointment(referral_id, caseworker, when, rf.AppointmentKind.SESSION)
            yield when + timedelta(hours=rng.choice((2, 2, 3, 22)))  # some recorded the next day
            roll = rng.random()
            attended = rf.Attended.YES if roll < 0.78 else rf.Attended.LATE if roll < 0.88 else rf.Attended.NO
            if fate >= 0.35 and attended is rf.Attended.NO:
                attended = rf.Attended.LATE
            absence = None
            if attended is rf.Attended.NO:
                absence = rf.Absence.UNACCEPTABLE if rng.random() < 0.5 else rf.Absence.ACCEPTABLE
            self._attend(referral_id, caseworker, attended, absence)
            if absence is rf.Absence.UNACCEPTABLE and k % 2 == 0:
                appointment = self._last_appointment(referral_id)
                rf.acknowledge_notification(
                    self.ledger,
                    self.env(practitioner),
                    referral_id,
                    rf.AcknowledgeNotification(appointment_id=appointment.id),
                )
        yield self.now + timedelta(days=rng.randint(1, 5))
        if fate < 0.35:
            rf.withdraw_referral(
                self.ledger, self.env(practitioner), referral_id, rf.EndReferral(reason_code=EndReason.NOT_ENGAGING)
            )
            return
        referral = self.ledger.load(rf.Referral, referral_id)
        rf.report_end_of_service(
            self.ledger,
            self.env(caseworker),
            referral_id,
            rf.ReportEndOfService(
                outcomes=tuple(
                    rf.OutcomeRating(
                        outcome=o,
                        achievement=rng.choices(list(Achievement), weights=(55, 30, 15))[0],
                    )
                    for o in referral.desired_outcomes
                ),
                summary="Service delivered; outcomes rated with the person and their practitioner.",
            ),
        )

    def live_partner(self) -> con.Contract | None:
        """A region's innovation partner's contract, regions weighted by their share of the caseload."""
        letter = self.rng.choices(REGIONS, weights=[REGION_WEIGHT[r] for r in REGIONS])[0]
        contract_id = self.partners.get(letter)
        if contract_id is None:
            return None
        contract = self.ledger.load(con.Contract, contract_id)
        return contract if contract.is_live(self.now.date()) else None

    def unpaid_work(self) -> Iterator[datetime] | None:
        contract = self.live_partner()
        return None if contract is None else self.unpaid_work_story_national(contract)

    def unpaid_work_story_national(self, contract: con.Contract) -> Iterator[datetime]:
        rng = self.rng
        officer = Actor(
            id=f"upw-{str(contract.supplier_id)[:6]}-{rng.randint(0, 49)}",
            role=Role.PROVIDER_CASEWORKER,
            organisation_id=str(contract.supplier_id),
        )
        crn, person = self.person()
        hours = rng.choice(UPW_HOURS)
        employed = rng.random() < 0.4
        order_id = upw.allocate_order(
            self.ledger,
            self.env(officer),
            upw.AllocateOrder(
                contract_id=contract.id,
                crn=crn,
                person=person,
                hours_ordered=hours,
                employed=employed,
                made_on=self.now.date() - timedelta(days=rng.randint(1, 5)),
                opts_out_of_all_male_placements=person.gender == "female",
            ),
        ).aggregate_id
        self.count("unpaid_work_orders")
        if rng.random() < 0.04:
            return  # allocated, never started: shows as a late start
        yield self.now + timedelta(days=rng.choice((1, 2, 3, 5, 8, 12)))
        upw.complete_induction(
            self.ledger,
            self.env(officer),
            order_id,
            upw.CompleteInduction(on=self.now.date(), risk_and_needs_assessed=True),
        )
        worked, trained = Decimal(0), Decimal(0)
        day = self.now + timedelta(days=rng.randint(1, 4))
        while worked < hours:
            yield day
            if rng.random() < 0.05:
                upw.record_stand_down(
                    self.ledger,
                    self.env(officer),
                    order_id,
                    upw.RecordStandDown(on=day.date(), reason="No supervisor available"),
                )
            else:
                chunk = min(Decimal(7), Decimal(hours) - worked)
                training = trained + chunk <= Decimal(hours) * upw.TRAINING_SHARE and rng.random() < 0.12
                upw.record_work(
                    self.ledger,
                    self.env(officer),
                    order_id,
                    upw.RecordWork(
                        on=day.date(),
                        hours=chunk,
                        placement="Employment skills course" if training else "Community garden",
                        kind=upw.WorkKind.TRAINING if training else upw.WorkKind.WORK,
                        travel_minutes=rng.randint(10, 80),
                    ),
                )
                worked += chunk
                trained += chunk if training else 0
            day += timedelta(days=rng.choice((7, 7, 14)) if employed else rng.choice((1, 2, 2, 3)))

    def programme_group(self) -> Iterator[datetime] | None:
        contract = self.live_partner()
        return None if contract is None else self.programme_story_national(contract)

    def programme_story_national(self, contract: con.Contract) -> Iterator[datetime]:
        rng = self.rng
        facilitator = Actor(
            id=f"facilitator-{str(contract.supplier_id)[:6]}",
            role=Role.PROVIDER_CASEWORKER,
            organisation_id=str(contract.supplier_id),
        )
        bbr = rng.random() < 0.2
        programme = prog.Programme.BBR if bbr else prog.Programme.TSP
        group = prog.form_group(
            self.ledger,
            self.env(facilitator),
            prog.FormGroup(
                programme=programme,
                contract_id=contract.id,
                name=f"{programme.name} group {self.sequence}",
                facilitator_id=facilitator.id,
            ),
        ).aggregate_id
        members: list[str] = []
        for _ in range(8):
            crn, person = self.person(female=False if bbr else None)
            prog.join_group(
                self.ledger,
                self.env(facilitator),
                group,
                prog.JoinGroup(crn=crn, person=person, convicted_of_intimate_partner_violence=bbr),
            )
            members.append(crn)
            self.count("programme_starts")
        rules = prog.RULES[programme]
        group_sessions = rules.group_sessions or rules.total_sessions
        day = self.now + timedelta(days=7)
        for k in range(group_sessions):
            yield day
            prog.schedule_session(
                self.ledger,
                self.env(facilitator),
                group,
                prog.ScheduleProgrammeSession(kind=prog.SessionKind.GROUP, on=day.date()),
            )
            if rules.individual_sessions and k % 4 == 3 and k // 4 < rules.individual_sessions:
                for crn in members:
                    prog.schedule_session(
                        self.ledger,
                        self.env(facilitator),
                        group,
                        prog.ScheduleProgrammeSession(
                            kind=prog.SessionKind.INDIVIDUAL, on=(day + timedelta(days=1)).date(), crn=crn
                        ),
                    )
            day += timedelta(days=3 if day.weekday() < 3 else 4)


def generate(
    ledger: Ledger,
    *,
    years: int,
    scale: float,
    seed: int = 2021,
    volumes: Volumes | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GenerationReport:
    """Write `years` of national history at `scale` into an empty ledger (see the module's docstring)."""
    import time

    from tools.demo import DemoRefused

    if ledger.head() > 0:
        raise DemoRefused(f"the ledger already holds {ledger.head()} events: generate into an empty ledger")
    started = time.monotonic()
    start = datetime(2021, 6, 1, 9, tzinfo=UTC)
    with ids.seeded(seed):
        history = NationalHistory(
            ledger=ledger,
            rng=random.Random(seed),
            now=start,
            progress=None,
            years=years,
            scale=scale,
            volumes=volumes or Volumes(),
            end=start + timedelta(days=365 * years),
            on_day=progress,
        )
        history.real_now = history.end
        reference.seed(ledger, correlation_id=CORRELATION, at=start)
        history.commissioners_of_every_type()
        v = history.volumes
        suppliers = int(history.scaled(v.suppliers, floor=30))
        # Enough suppliers at launch that every region's day-one competitions have bidders.
        n = 0
        for letter in REGIONS:
            for need in (*CORE_NEEDS, None):
                lots = (need,) if need else INNOVATION_LOTS
                for _ in range(2):
                    history.spawn(history.supplier_story(n, lots, (region_code(letter),)))
                    n += 1
        launch = int(suppliers * 0.5)
        for _ in range(max(0, launch - n)):
            history.spawn(history.supplier_story(n))
            n += 1
        later = max(0, suppliers - max(n, launch))
        term_end = datetime.combine(terms.FRAMEWORK_END, datetime.min.time(), UTC)
        counter = iter(range(n, n + later + 1_000_000))
        history.spawn(
            history.arrivals(
                later / max(1, min(history.years, 7)),
                lambda: history.supplier_story(next(counter)),
                min(history.end, term_end),
            )
        )
        history.competitions_at_launch()
        history.spawn(history.arrivals(history.scaled(v.call_offs_per_year, 4), history.later_call_off, history.end))
        history.spawn(history.arrivals(history.scaled(v.referrals_per_year, 20), history.referral, history.end))
        history.spawn(
            history.arrivals(history.scaled(v.unpaid_work_orders_per_year, 12), history.unpaid_work, history.end)
        )
        history.spawn(
            history.arrivals(history.scaled(v.programme_starts_per_year, 8) / 8, history.programme_group, history.end)
        )
        history.run()
    ledger.head()  # a bulk ledger writes what it still holds before answering
    with ledger.datastore.get_connection() as conn:
        row = conn.execute("SELECT count(*) AS n FROM ledger_events").fetchone()
    charged = sum(
        (c.amount for a in ledger.load_all(acc.ContractAccount) for c in a.charges.values() if not c.reversed),
        Decimal(0),
    )
    c = history.counts
    return GenerationReport(
        years=years,
        scale=scale,
        seed=seed,
        commands=history.commands,
        events=int(row["n"]) if row else 0,
        refused=history.refused,
        suppliers=c.get("suppliers", 0),
        commissioners=c.get("commissioners", 0),
        call_offs=c.get("call_offs", 0),
        contracts=c.get("contracts", 0),
        referrals=c.get("referrals", 0),
        unpaid_work_orders=c.get("unpaid_work_orders", 0),
        programme_starts=c.get("programme_starts", 0),
        charged=charged,
        seconds=round(time.monotonic() - started, 1),
    )
