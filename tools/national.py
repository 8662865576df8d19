"""A national history at any scale, generated deterministically through the same commands the API runs.

`ledger demo --years N --scale S` writes N years from the framework's launch. At scale 1 a year holds what
the source documents describe: about 57,200 Unpaid Work orders and 14,700 accredited programme starts
delivered by the twelve regions' innovation partners, tens of thousands of referrals to framework
contracts, hundreds of suppliers of every size, commissioners of every type, call-offs in every stage,
and the fixed fees, charges, invoices and payments of about £280m a year. Every command goes through the
domain's rules on the batched append path (`ledger.bulk`); the same seed gives the same history.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from ledger import ids
from ledger.cases import programmes as prog
from ledger.cases import referrals as rf
from ledger.cases import unpaid_work as upw
from ledger.cases.outcomes import Achievement, EndReason
from ledger.envelope import Actor
from ledger.framework import categories, geography, reference, terms
from ledger.framework import commissioners as com
from ledger.framework import suppliers as sup
from ledger.framework.geography import AreaKind, region_code
from ledger.payments import accounts as acc
from ledger.payments import money
from ledger.procurement import call_offs as co
from ledger.procurement import contracts as con
from ledger.roles import Role
from ledger.store import Ledger
from tools import scenarios as sc
from tools.scenarios import CORRELATION, REGIONS, Casework, DemoRefused, Simulation, Story

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
class NationalHistory(Simulation):
    """The national history's stories: `years` from the framework's launch at `scale` times national volumes."""

    years: int = 1
    scale: float = 1.0
    volumes: Volumes = field(default_factory=Volumes)
    contracts: list[UUID] = field(default_factory=list)  # framework contracts (not innovation partners)
    partners: dict[str, UUID] = field(default_factory=dict)  # region letter -> innovation partner contract
    people: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    def scaled(self, figure: float, floor: int = 1) -> float:
        return max(float(floor), figure * self.scale)

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def arrivals(self, per_year: float, make: Callable[[], Story | None], until: datetime) -> Story:
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
            commissioner_id = sc.register_commissioner(self, org, name, kind, area)
            sc.sign_user_agreement(self, org, name)
            self.budget_lines(commissioner_id, kind)
            self.count("commissioners")

    def budget_lines(self, commissioner_id: UUID, kind: str) -> None:
        """Budgets that fund what each body commissions, for every financial year of the history."""
        yearly = (Decimal("40000000") if kind == "probation-region" else Decimal("4000000")) * Decimal(
            str(self.scale)
        ) + Decimal("1000000")
        first = self.now.year - (1 if self.now.month < 4 else 0)
        for year in range(first, first + self.years + 8):  # contracts run past the history's end
            sc.set_budget_line(self, commissioner_id, year, "Rehabilitative services", money.pence(yearly))

    def suppliers_at_launch(self) -> int:
        """Two for each region's day-one need and innovation partnership, so that every competition has bidders,
        then others up to half of all suppliers; returns how many."""
        n = 0
        for letter in REGIONS:
            for need in (*CORE_NEEDS, None):
                lots = (need,) if need else INNOVATION_LOTS
                for _ in range(2):
                    self.spawn(self.supplier_story(n, lots, (region_code(letter),)))
                    n += 1
        for _ in range(max(0, int(self.suppliers_in_all() * 0.5) - n)):
            self.spawn(self.supplier_story(n))
            n += 1
        return n

    def suppliers_in_all(self) -> int:
        return int(self.scaled(self.volumes.suppliers, floor=30))

    def suppliers_joining_later(self, launched: int) -> None:
        """The rest arrive as a Poisson stream over the history's years (seven at most) until the framework ends."""
        suppliers = self.suppliers_in_all()
        later = max(0, suppliers - max(launched, int(suppliers * 0.5)))
        term_end = datetime.combine(terms.FRAMEWORK_END, datetime.min.time(), UTC)
        counter = iter(range(launched, launched + later + 1_000_000))
        self.spawn(
            self.arrivals(
                later / max(1, min(self.years, 7)),
                lambda: self.supplier_story(next(counter)),
                min(self.end, term_end),
            )
        )

    def supplier_story(
        self, n: int, lots: tuple[str, ...] | None = None, areas: tuple[str, ...] | None = None
    ) -> Story:
        """A supplier registers, applies for lots with case studies, is assessed and accepts the terms."""
        rng = self.rng
        kind = rng.choices(list(sup.OrganisationType), weights=(60, 25, 5, 10))[0]
        small = rng.random() < 0.65
        if lots is None:
            pool = CORE_NEEDS * 3 + OTHER_NEEDS + COHORTS
            lots = tuple(sorted(set(rng.sample(pool, k=rng.randint(1, 3)))))
        if areas is None:
            areas = self.reach()
        name = f"{rng.choice(WORDS)} {rng.choice(WORDS)} {('Trust', 'CIC', 'Ltd', 'Partnership', 'Mutual')[n % 5]} {n}"
        applicant = sc.apply_to_join(self, f"NAT{n:06d}", name, kind, small, lots, areas)
        self.count("suppliers")
        yield self.now + timedelta(days=self.rng.randint(5, 20))
        for lot in lots:
            sc.assess_lot(
                self, applicant, lot, failed=None if self.rng.random() < 0.9 else "Case studies lack outcomes"
            )
        yield self.now + timedelta(days=self.rng.randint(1, 10))
        sc.accept_terms(self, applicant)

    def reach(self) -> tuple[str, ...]:
        """Where a supplier declares it works: England and Wales, a region or two, or a few police areas."""
        rng = self.rng
        reach = rng.random()
        if reach < 0.08:
            return (geography.ENGLAND_AND_WALES,)
        if reach < 0.7:
            return tuple(sorted({region_code(rng.choice(REGIONS)) for _ in range(rng.randint(1, 2))}))
        police = [a.code for a in geography.AREAS if a.kind is AreaKind.POLICE_AREA]
        return tuple(sorted(set(rng.sample(police, k=rng.randint(1, 3)))))

    # -- competitions and contracts ------------------------------------------------------------------

    def on_contract(self, contract_id: UUID) -> None:
        contract = self.ledger.load(con.Contract, contract_id)
        self.count("contracts")
        region = next(iter(geography.probation_regions(list(contract.areas))), None)
        if contract.need in INNOVATION_LOTS and region is not None:
            self.partners[geography.BY_CODE[region].attributes["region_letter"]] = contract_id
            sc.designate_partner(self, contract_id)
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
    ) -> Story:
        self.count("call_offs")
        return sc.Competition(
            self,
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
        ).story()

    def later_call_off(self) -> Story | None:
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

    def extensions(self, contract_id: UUID) -> Story:
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
            years = Decimal(max(1, (contract.end_date - contract.start_date).days)) / Decimal(365)
            annual = money.pence(contract.value / years)
            sc.take_extension(self, contract_id, contract.extension_options[0], reason="annual review")
            sc.fund_extension(self, contract_id, contract.value + annual)

    def billing(self, contract_id: UUID) -> Story:
        """Every month: the fixed fee is earned, the provider invoices what is due, finance approves and pays."""
        contract = self.ledger.load(con.Contract, contract_id)
        provider = Actor(
            id="provider-finance", role=Role.SUPPLIER_BID_MANAGER, organisation_id=str(contract.supplier_id)
        )
        month = contract.start_date.replace(day=1)
        while month <= self.ledger.load(con.Contract, contract_id).end_date:
            yield sc.morning(sc.next_month(month)) + timedelta(minutes=self.rng.randint(0, 59))
            sc.close_month(self, contract_id, month)
            yield self.now + timedelta(days=self.rng.randint(2, 6))
            invoice = sc.invoice_month(self, provider, contract_id, month, period_start=month, over_claims=0.08)
            if invoice is not None:
                yield self.now + timedelta(days=self.rng.randint(2, 8))
                sc.check_invoice(self, invoice, dispute="Travel is within the fixed fee")
                yield self.now + timedelta(days=38 if self.rng.random() < 0.12 else self.rng.randint(7, 25))
                sc.pay_invoice(self, invoice, f"BACS-{invoice.id.hex[:10]}")
            month = sc.next_month(month)

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

    def referral(self) -> Story | None:
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
        return self.referral_story(contract, region, area)

    def referral_story(self, contract: con.Contract, region: str, area: str) -> Story:
        """A referral's life by chance: a tenth withdrawn at once, a quarter ending early, the rest completed."""
        rng = self.rng
        letter = geography.BY_CODE[region].attributes["region_letter"].lower()
        case = Casework(
            self,
            practitioner=Actor(
                id=f"po-{letter}{rng.randint(0, 199)}", role=Role.PROBATION_PRACTITIONER, organisation_id=region
            ),
            caseworker=Actor(
                id=f"cw-{str(contract.supplier_id)[:6]}-{rng.randint(0, 29)}",
                role=Role.PROVIDER_CASEWORKER,
                organisation_id=str(contract.supplier_id),
            ),
        )
        category = contract.need or contract.cohort or "accommodation"
        crn, person = self.person(female=True if category == "women" else None, young=category == "young-adults")
        case.refer(
            contract,
            crn,
            person,
            area=area,
            category=category,
            complexity=rng.choice(categories.BY_CODE[category].complexity_levels),
            max_enforceable_days=rng.randint(5, 20),
            sentence_type=rng.choice(list(rf.SentenceType)[:4]),
            completion_deadline=self.now.date() + timedelta(days=180),
        )
        self.count("referrals")
        fate = rng.random()
        yield self.now + timedelta(days=rng.randint(1, 4))
        case.take_on()
        if fate < 0.1:
            yield self.now + timedelta(days=rng.randint(2, 10))
            case.withdraw(rng.choice(list(EndReason)[:-1]))
            return
        assessment = self.now + timedelta(days=rng.randint(3, 9))
        case.schedule(assessment, rf.AppointmentKind.INITIAL_ASSESSMENT)
        yield assessment + timedelta(hours=rng.choice((2, 3, 20)))
        case.attend(rf.Attended.YES)
        planned = rng.randint(3, 8)
        case.plan(("Needs review", "Weekly one-to-one support"), planned)
        yield self.now + timedelta(days=rng.randint(1, 3))
        case.approve_plan()
        yield from self.sessions(case, rng.randint(1, planned - 1) if fate < 0.35 else planned, fate >= 0.35)
        yield self.now + timedelta(days=rng.randint(1, 5))
        if fate < 0.35:
            case.withdraw(EndReason.NOT_ENGAGING)
            return
        case.report_end(lambda: rng.choices(list(Achievement), weights=(55, 30, 15))[0])

    def sessions(self, case: Casework, sessions: int, completes: bool) -> Story:
        """A session about a week after the last, some recorded the next day; every other unacceptable absence is
        acknowledged by the practitioner at once."""
        rng = self.rng
        for k in range(sessions):
            when = self.now + timedelta(days=7, hours=rng.randint(0, 4))
            case.schedule(when, rf.AppointmentKind.SESSION)
            yield when + timedelta(hours=rng.choice((2, 2, 3, 22)))
            attended, absence = sc.attendance(rng, attended=0.78, late=0.88, always=completes)
            case.attend(attended, absence)
            if absence is rf.Absence.UNACCEPTABLE and k % 2 == 0:
                case.acknowledge_notification()

    def live_partner(self) -> con.Contract | None:
        """A region's innovation partner's contract, regions weighted by their share of the caseload."""
        letter = self.rng.choices(REGIONS, weights=[REGION_WEIGHT[r] for r in REGIONS])[0]
        contract_id = self.partners.get(letter)
        if contract_id is None:
            return None
        contract = self.ledger.load(con.Contract, contract_id)
        return contract if contract.is_live(self.now.date()) else None

    def unpaid_work(self) -> Story | None:
        contract = self.live_partner()
        return None if contract is None else self.unpaid_work_story(contract)

    def unpaid_work_story(self, contract: con.Contract) -> Story:
        rng = self.rng
        order = sc.UnpaidWork(
            self,
            Actor(
                id=f"upw-{str(contract.supplier_id)[:6]}-{rng.randint(0, 49)}",
                role=Role.PROVIDER_CASEWORKER,
                organisation_id=str(contract.supplier_id),
            ),
        )
        crn, person = self.person()
        hours = rng.choice(UPW_HOURS)
        employed = rng.random() < 0.4
        order.allocate(contract, crn, person, hours, employed, self.now.date() - timedelta(days=rng.randint(1, 5)))
        self.count("unpaid_work_orders")
        if rng.random() < 0.04:
            return  # allocated, never started: shows as a late start
        yield self.now + timedelta(days=rng.choice((1, 2, 3, 5, 8, 12)))
        order.induct()

        def work(day: datetime, hours_today: Decimal, trained: Decimal) -> upw.RecordWork:
            # Training counts towards the hours up to a share of the order.
            training = trained + hours_today <= Decimal(hours) * upw.TRAINING_SHARE and rng.random() < 0.12
            return upw.RecordWork(
                on=day.date(),
                hours=hours_today,
                placement="Employment skills course" if training else "Community garden",
                kind=upw.WorkKind.TRAINING if training else upw.WorkKind.WORK,
                travel_minutes=rng.randint(10, 80),
            )

        yield from order.work_off(
            hours,
            self.now + timedelta(days=rng.randint(1, 4)),
            stand_downs=0.05,
            stand_down_reason="No supervisor available",
            work=work,
            gap=lambda: rng.choice((7, 7, 14)) if employed else rng.choice((1, 2, 2, 3)),
        )

    def programme_group(self) -> Story | None:
        contract = self.live_partner()
        return None if contract is None else self.programme_story(contract)

    def programme_story(self, contract: con.Contract) -> Story:
        """Eight join a group (a fifth are Building Better Relationships groups) and meet twice a week; a
        programme with individual sessions gives each member one after every fourth group session."""
        rng = self.rng
        facilitator = Actor(
            id=f"facilitator-{str(contract.supplier_id)[:6]}",
            role=Role.PROVIDER_CASEWORKER,
            organisation_id=str(contract.supplier_id),
        )
        bbr = rng.random() < 0.2
        programme = prog.Programme.BBR if bbr else prog.Programme.TSP
        group = sc.ProgrammeGroup(self, facilitator)
        group.form(contract, programme, f"{programme.name} group {self.sequence}")
        members: list[str] = []
        for _ in range(8):
            crn, person = self.person(female=False if bbr else None)
            group.join(crn, person, convicted_of_intimate_partner_violence=bbr)
            members.append(crn)
            self.count("programme_starts")
        rules = prog.RULES[programme]
        day = self.now + timedelta(days=7)
        for k in range(rules.group_sessions or rules.total_sessions):
            yield day
            group.schedule(day.date())
            if rules.individual_sessions and k % 4 == 3 and k // 4 < rules.individual_sessions:
                for crn in members:
                    group.schedule((day + timedelta(days=1)).date(), crn)
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
    if ledger.head() > 0:
        raise DemoRefused(f"the ledger already holds {ledger.head()} events: generate into an empty ledger")
    started = time.monotonic()
    start = datetime(2021, 6, 1, 9, tzinfo=UTC)
    with ids.seeded(seed):
        history = NationalHistory(
            ledger=ledger,
            rng=random.Random(seed),
            now=start,
            end=start + timedelta(days=365 * years),
            on_day=progress,
            years=years,
            scale=scale,
            volumes=volumes or Volumes(),
        )
        reference.seed(ledger, correlation_id=CORRELATION, at=start)
        history.commissioners_of_every_type()
        history.suppliers_joining_later(history.suppliers_at_launch())
        history.competitions_at_launch()
        v = history.volumes
        history.spawn(history.arrivals(history.scaled(v.call_offs_per_year, 4), history.later_call_off, history.end))
        history.spawn(history.arrivals(history.scaled(v.referrals_per_year, 20), history.referral, history.end))
        history.spawn(
            history.arrivals(history.scaled(v.unpaid_work_orders_per_year, 12), history.unpaid_work, history.end)
        )
        history.spawn(
            history.arrivals(history.scaled(v.programme_starts_per_year, 8) / 8, history.programme_group, history.end)
        )
        history.run(refusals_end_stories=True)
    return _report(ledger, history, seed, started)


def _report(ledger: Ledger, history: NationalHistory, seed: int, started: float) -> GenerationReport:
    ledger.head()  # a bulk ledger writes what it still holds before answering
    with ledger.datastore.get_connection() as conn:
        row = conn.execute("SELECT count(*) AS n FROM ledger_events").fetchone()
    charged = sum(
        (c.amount for a in ledger.load_all(acc.ContractAccount) for c in a.charges.values() if not c.reversed),
        Decimal(0),
    )
    c = history.counts
    return GenerationReport(
        years=history.years,
        scale=history.scale,
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
