"""A small, realistic demo history, loaded through the same commands the API uses.

The history runs on a simulated clock from the framework's launch (June 2021) to today: suppliers of
every size apply and are appointed; each region's day-one Accommodation and ETE contracts are
competed, awarded and extended; and recent call-offs sit in every stage of the pipeline. Every event
it writes carries correlation id `demo-load`, so demo data is never mistaken for real records.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

import msgspec

from ledger.cases import programmes as prog
from ledger.cases import referrals as rf
from ledger.cases import unpaid_work as upw
from ledger.cases.outcomes import Achievement, EndReason
from ledger.envelope import Actor, utcnow
from ledger.errors import RuleViolation
from ledger.framework import categories, geography, reference
from ledger.framework import suppliers as sup
from ledger.framework.geography import region_code
from ledger.payments import accounts as acc
from ledger.payments import budgets as bud
from ledger.payments import money
from ledger.procurement import call_offs as co
from ledger.procurement import contracts as con
from ledger.roles import Role
from ledger.store import Ledger
from tools import scenarios as sc
from tools.scenarios import CORRELATION, REGIONS, Casework, DemoRefused, Simulation, Story

# (name, type, small?, lots, declared areas). Fictional organisations of every type and size.
SUPPLIERS: tuple[tuple[str, sup.OrganisationType, bool, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Tyne & Wear Housing Partnership", sup.OrganisationType.VOLUNTARY, True, ("accommodation",), ("region-a",)),
    ("Northern Skills Collective CIC", sup.OrganisationType.VOLUNTARY, True, ("ete", "fbd"), ("region-a", "region-c")),
    (
        "Pennine Pathways CIC",
        sup.OrganisationType.VOLUNTARY,
        True,
        ("accommodation", "emotional-wellbeing"),
        ("region-b", "region-l"),
    ),
    ("Mersey Employment Trust", sup.OrganisationType.VOLUNTARY, False, ("ete",), ("region-b", "region-l")),
    ("Yorkshire Family Links", sup.OrganisationType.VOLUNTARY, True, ("family-and-significant-others",), ("region-c",)),
    ("Humber Homes Foundation", sup.OrganisationType.VOLUNTARY, False, ("accommodation",), ("region-c", "region-f")),
    ("Cymru Resettlement Services Ltd", sup.OrganisationType.PRIVATE, True, ("accommodation", "ete"), ("wales",)),
    (
        "Midlands Recovery Mutual",
        sup.OrganisationType.MUTUAL,
        False,
        ("dependency-and-recovery", "accommodation"),
        ("region-e", "region-f"),
    ),
    ("Black Country Works", sup.OrganisationType.VOLUNTARY, True, ("ete",), ("region-e",)),
    ("East Midlands Money Advice", sup.OrganisationType.VOLUNTARY, True, ("fbd",), ("region-f",)),
    ("Severn Housing Support", sup.OrganisationType.VOLUNTARY, True, ("accommodation",), ("region-g",)),
    ("Wessex Learning & Work", sup.OrganisationType.PRIVATE, True, ("ete",), ("region-g", "region-h")),
    ("Solent Money Advice", sup.OrganisationType.VOLUNTARY, True, ("fbd",), ("region-h", "region-k")),
    ("Thames Valley Homes Trust", sup.OrganisationType.VOLUNTARY, False, ("accommodation",), ("region-h",)),
    ("Anglia Futures", sup.OrganisationType.VOLUNTARY, True, ("ete", "young-adults"), ("region-i",)),
    ("Fenland Housing Association", sup.OrganisationType.VOLUNTARY, False, ("accommodation",), ("region-i",)),
    (
        "London Women's Centre Network",
        sup.OrganisationType.VOLUNTARY,
        True,
        ("women", "emotional-wellbeing"),
        ("region-j",),
    ),
    (
        "Capital Resettlement Partnership",
        sup.OrganisationType.VOLUNTARY,
        False,
        ("accommodation", "ete"),
        ("region-j",),
    ),
    ("Kent County Council Adult Learning", sup.OrganisationType.PUBLIC, False, ("ete",), ("kent",)),
    ("Downs & Weald Housing", sup.OrganisationType.VOLUNTARY, True, ("accommodation",), ("region-k",)),
    ("Manchester Works", sup.OrganisationType.MUTUAL, False, ("ete",), ("region-l", "region-b")),
    (
        "Nationwide Rehabilitation Services plc",
        sup.OrganisationType.PRIVATE,
        False,
        ("accommodation", "ete", "fbd", "dependency-and-recovery"),
        ("england-and-wales",),
    ),
    ("Restorative Futures", sup.OrganisationType.VOLUNTARY, True, ("restorative-justice",), ("england",)),
    (
        "Lived Experience Network",
        sup.OrganisationType.VOLUNTARY,
        True,
        ("service-user-involvement",),
        ("england-and-wales",),
    ),
    ("BAME Futures Alliance", sup.OrganisationType.VOLUNTARY, True, ("bame", "ete"), ("region-e", "region-j")),
    ("Second Chance Recruitment Ltd", sup.OrganisationType.PRIVATE, True, ("ete",), ("england",)),
    (
        "North East Community Payback Partnership",
        sup.OrganisationType.PRIVATE,
        False,
        ("lifestyle-and-associates", "cognitive-and-behavioural-change"),
        ("region-a",),
    ),
    (
        "London Community Justice Partners",
        sup.OrganisationType.MUTUAL,
        False,
        ("lifestyle-and-associates", "cognitive-and-behavioural-change"),
        ("region-j",),
    ),
)
INNOVATION_PARTNER_REGIONS = "AJ"  # Unpaid Work and accredited programmes, one partner per region

COMMISSIONERS: tuple[tuple[str, str, str, str], ...] = (
    *(
        (f"probation-region-{c.lower()}", f"Probation Service, region {c}", "probation-region", region_code(c))
        for c in REGIONS
    ),
    ("kent-pcc", "Kent Police and Crime Commissioner", "pcc", "kent"),
    ("mopac", "Mayor's Office for Policing and Crime", "mayoral-pcc", "metropolitan"),
    ("gmca", "Greater Manchester Combined Authority", "mayoral-pcc", "greater-manchester"),
    ("welsh-government", "Welsh Government", "devolved-government", "wales"),
    ("leicester-city-council", "Leicester City Council", "local-authority", "leicestershire"),
)


class RecentCallOff(NamedTuple):
    """A call-off in the pipeline today: its stage, published `days_ago`, for a need or a cohort."""

    until: str
    days_ago: int
    title: str
    need: str | None
    cohort: str | None
    area: str
    lead: str
    value: Decimal = Decimal(650_000)
    close: co.CancelCallOff | None = None


# One or more in every stage, published so that each is mid-way today.
PIPELINE = (
    RecentCallOff("awarded", 80, "Women's centre services, London", None, "women", "region-j", "mopac"),
    RecentCallOff(
        "standstill",
        52,
        "Dependency and recovery, Leicestershire",
        "dependency-and-recovery",
        None,
        "leicestershire",
        "probation-region-f",
    ),
    RecentCallOff(
        "evaluated", 50, "Finance, benefits and debt, Hampshire", "fbd", None, "hampshire", "probation-region-h"
    ),
    RecentCallOff("bafo", 45, "Accommodation, Greater Manchester", "accommodation", None, "greater-manchester", "gmca"),
    RecentCallOff("evaluating", 44, "Education and employment, Kent", "ete", None, "kent", "kent-pcc"),
    RecentCallOff(
        "open", 12, "Young adults' employment, East of England", "ete", "young-adults", "region-i", "probation-region-i"
    ),
    RecentCallOff("open", 8, "Accommodation, Wales", "accommodation", None, "wales", "welsh-government"),
    RecentCallOff(
        "draft", 3, "Restorative justice, North West", "restorative-justice", None, "region-b", "probation-region-b"
    ),
    RecentCallOff(
        "draft",
        30,
        "Emotional wellbeing, Devon",
        "emotional-wellbeing",
        None,
        "devon-and-cornwall",
        "probation-region-g",
        Decimal(300_000),
        co.CancelCallOff(reason="Budget reallocated to the Regional Outcome and Innovation Fund"),
    ),
    RecentCallOff(
        "open",
        40,
        "Family services, Cleveland",
        "family-and-significant-others",
        None,
        "cleveland",
        "probation-region-a",
        Decimal(250_000),
        co.CancelCallOff(reason="No tender met the minimum quality threshold", no_award=True),
    ),
)
# How the caseload's referrals on each day-one contract stand today.
REFERRAL_ENDS = ("sent", "assigned", "in_progress", "in_progress", "completed", "completed", "ended_early", "cancelled")
ACHIEVEMENTS = (Achievement.ACHIEVED, Achievement.PARTIALLY_ACHIEVED, Achievement.NOT_ACHIEVED)


@dataclass(frozen=True)
class DemoReport:
    commands: int  # 0 when the demo was already loaded


@dataclass
class DemoHistory(Simulation):
    """The demo's stories, from the framework's launch to today (`end`)."""

    def load_framework(self) -> None:
        for org, name, kind, area in COMMISSIONERS:
            commissioner_id = sc.register_commissioner(self, org, name, kind, area)
            if kind == "probation-region":
                self.budgets(commissioner_id)
            if org != "leicester-city-council":  # one body has not signed yet
                sc.sign_user_agreement(self, org, name)
        for i, (name, kind, small, lots, areas) in enumerate(SUPPLIERS):
            self.at(self.now + timedelta(hours=6))
            applicant = sc.apply_to_join(self, f"DEMO{i:04d}", name, kind, small, lots, areas)
            self.suppliers[name] = applicant.supplier_id
            self.at(self.now + timedelta(days=2))
            for lot in lots:
                fail = i % 7 == 2 and lot == lots[-1] and len(lots) > 1
                sc.assess_lot(
                    self,
                    applicant,
                    lot,
                    failed="Case studies do not evidence outcomes" if fail else None,
                    reason="written assessment",
                )
            sc.accept_terms(self, applicant)

    def budgets(self, commissioner_id: UUID) -> None:
        for year in range(2021, 2028):
            sc.set_budget_line(self, commissioner_id, year, "Core rehabilitative services", Decimal("20000000.00"))
        sc.set_budget_line(
            self,
            commissioner_id,
            2026,
            "Regional Outcome and Innovation Fund",
            Decimal("1666666.00"),
            code=bud.ROIF,
            ring_fenced=True,
        )

    def day_one(self) -> list[Story]:
        """Each region's Accommodation and ETE contracts, and two regions' innovation partners."""
        start = datetime(2021, 7, 5, 9, tzinfo=UTC)
        return [
            sc.Competition(
                self,
                lead_org=f"probation-region-{letter.lower()}",
                title=f"Day-one {need} services, region {letter}",
                need=need,
                geography=region_code(letter),
                value=Decimal(1_800_000 + 150_000 * ((i + j) % 5)),
                published=start + timedelta(days=2 * i + j),
                until="awarded",
            ).story()
            for i, letter in enumerate(REGIONS)
            for j, need in enumerate(("accommodation", "ete"))
        ] + [
            sc.Competition(
                self,
                lead_org=f"probation-region-{letter.lower()}",
                title=f"Innovation partner: Unpaid Work and accredited programmes, region {letter}",
                need="lifestyle-and-associates",
                geography=region_code(letter),
                value=Decimal(12_000_000),
                published=start + timedelta(days=30),
                until="awarded",
                on_contract=lambda contract_id: sc.designate_partner(self, contract_id),
            ).story()
            for letter in INNOVATION_PARTNER_REGIONS
        ]

    def extend_day_one(self) -> None:
        """Both yearly extension options taken at the annual reviews of 2024 and 2025."""
        for review in (datetime(2024, 9, 2, 9, tzinfo=UTC), datetime(2025, 9, 1, 9, tzinfo=UTC)):
            self.at(review)
            for contract in self.ledger.load_all(con.Contract):
                if contract.extension_options:
                    sc.take_extension(self, contract.id, 12, reason="annual performance review")
                    # The extra year is paid for: the value grows by a year's worth, and so does the commitment.
                    years_so_far = 3 + (2 - len(contract.extension_options))
                    annual = money.pence(contract.value / years_so_far)
                    sc.fund_extension(self, contract.id, contract.value + annual)

    def pipeline(self) -> list[Story]:
        """Recent call-offs, one or more in every stage (two cancelled), published so that each is mid-way today."""
        return [
            sc.Competition(
                self,
                lead_org=c.lead,
                title=c.title,
                need=c.need,
                cohort=c.cohort,
                geography=c.area,
                value=c.value,
                published=self.end - timedelta(days=c.days_ago),
                until=c.until,
                bafo=c.until == "bafo",
                close=c.close,
            ).story()
            for c in PIPELINE
        ]

    # -- the caseload ------------------------------------------------------------------------------

    def caseload(self) -> list[Story]:
        """Referrals in every state on each region's day-one contracts, and the innovation partners' work."""
        stories: list[Story] = []
        contracts = sorted(self.ledger.load_all(con.Contract), key=lambda c: (c.areas, c.need or ""))
        for contract in contracts:
            region = contract.areas[0]
            if contract.need in ("accommodation", "ete") and region.startswith("region-"):
                for n, end in enumerate(REFERRAL_ENDS):
                    start = self.end - timedelta(days=10 + 14 * n + self.rng.randint(0, 10))
                    stories.append(self.referral_story(contract, region, end, start, n))
            elif contract.need == "lifestyle-and-associates":
                stories += [self.unpaid_work_story(contract, n) for n in range(8)]
                stories.append(self.programme_story(contract))
        return stories

    def person(self, n: int) -> tuple[str, rf.PersonDetails]:
        given = ("Alex", "Sam", "Jordan", "Chris", "Jamie", "Taylor", "Morgan", "Casey")[n % 8]
        family = ("Smith", "Jones", "Khan", "Evans", "Okafor", "Murphy", "Patel", "Williams")[self.rng.randint(0, 7)]
        crn = f"{'ABCDEFGHJKLMNPRSTUVWXYZ'[self.rng.randint(0, 22)]}{self.rng.randint(0, 999999):06d}"
        born = date(1970 + self.rng.randint(0, 33), self.rng.randint(1, 12), self.rng.randint(1, 28))
        gender = "female" if n % 5 == 0 else "male"
        return crn, rf.PersonDetails(given_name=given, family_name=family, date_of_birth=born, gender=gender)

    def referral_story(self, contract: con.Contract, region: str, end: str, start: datetime, n: int) -> Story:
        """A referral made at `start` that stands at `end` today (sent, assigned, in progress, completed,
        ended early or cancelled)."""
        letter = region.removeprefix("region-")
        case = Casework(
            self,
            practitioner=Actor(
                id=f"demo-po-{letter}{n % 3}",
                role=Role.PROBATION_PRACTITIONER,
                organisation_id=f"probation-region-{letter}",
            ),
            caseworker=Actor(
                id=f"demo-cw-{letter}{n % 2}", role=Role.PROVIDER_CASEWORKER, organisation_id=str(contract.supplier_id)
            ),
        )
        area = next(a.code for a in geography.AREAS if a.parent_code == region)
        need = contract.need or "accommodation"
        crn, person = self.person(n)
        yield start
        case.refer(
            contract,
            crn,
            person,
            area=area,
            category=need,
            complexity=categories.Complexity.MEDIUM if n % 3 else categories.Complexity.LOW,
            max_enforceable_days=10,
            sentence_type=rf.SentenceType.COMMUNITY_ORDER if n % 2 else rf.SentenceType.LICENCE,
            completion_deadline=(start + timedelta(days=180)).date(),
        )
        if end == "sent":
            return
        yield start + timedelta(days=2)
        case.take_on()
        if end == "assigned":
            return
        if end == "cancelled":
            yield start + timedelta(days=6)
            case.withdraw(EndReason.IN_CUSTODY, "Recalled to custody")
            return
        assessment = start + timedelta(days=8)
        yield start + timedelta(days=4)
        case.schedule(assessment, rf.AppointmentKind.INITIAL_ASSESSMENT)
        yield assessment + timedelta(hours=3)
        case.attend(rf.Attended.YES)
        planned = 4 + n % 3
        yield assessment + timedelta(days=1)
        case.plan(("Needs assessment follow-up", "Weekly support sessions"), planned)
        yield assessment + timedelta(days=2)
        case.approve_plan()
        yield from self.weekly_sessions(case, assessment, 2 if end == "ended_early" else planned, end == "completed")
        if end == "ended_early":
            yield self.now + timedelta(days=3)
            case.withdraw(EndReason.NOT_ENGAGING)
        elif end == "completed":
            yield self.now + timedelta(days=2)
            if self.ledger.load(rf.Referral, case.referral_id).attended_sessions() == 0:
                return
            case.report_end(lambda: ACHIEVEMENTS[self.rng.randint(0, 2)])

    def weekly_sessions(self, case: Casework, assessment: datetime, sessions: int, completes: bool) -> Story:
        """A session a week after the assessment, each booked three days ahead, some recorded the next day; an
        unacceptable absence is often acknowledged by the practitioner two days later."""
        for k in range(sessions):
            when = assessment + timedelta(days=7 * (k + 1))
            yield when - timedelta(days=3)
            case.schedule(when, rf.AppointmentKind.SESSION)
            yield when + timedelta(hours=20 if k % 3 == 0 else 2)
            attended, absence = sc.attendance(self.rng, attended=0.75, late=0.85, always=completes)
            case.attend(attended, absence)
            if absence is rf.Absence.UNACCEPTABLE and self.rng.random() < 0.6:
                yield self.now + timedelta(days=2)
                case.acknowledge_notification()

    def unpaid_work_story(self, contract: con.Contract, n: int) -> Story:
        order = sc.UnpaidWork(
            self,
            Actor(id="demo-upw-officer", role=Role.PROVIDER_CASEWORKER, organisation_id=str(contract.supplier_id)),
        )
        start = self.end - timedelta(days=20 + 30 * n)
        yield start
        crn, person = self.person(n)
        hours = (40, 60, 80, 100, 120, 150, 200, 300)[n]
        employed = n % 2 == 0
        order.allocate(contract, crn, person, hours, employed, (start - timedelta(days=3)).date())
        if n == 7:
            return  # allocated, never started: shows as a late start
        yield start + timedelta(days=3)
        order.induct()
        yield from order.work_off(
            hours,
            start + timedelta(days=5),
            stand_downs=0.08,
            stand_down_reason="Supervisor off sick",
            work=lambda day, chunk, trained: upw.RecordWork(
                on=day.date(), hours=chunk, placement="Canal towpath clearance", travel_minutes=40
            ),
            gap=lambda: self.rng.choice((2, 3, 7) if employed else (1, 2)),
        )

    def programme_story(self, contract: con.Contract) -> Story:
        facilitator = Actor(
            id="demo-facilitator", role=Role.PROVIDER_CASEWORKER, organisation_id=str(contract.supplier_id)
        )
        start = self.end - timedelta(days=40)
        yield start
        tsp, bbr = sc.ProgrammeGroup(self, facilitator), sc.ProgrammeGroup(self, facilitator)
        tsp.form(contract, prog.Programme.TSP, "Thinking Skills, Tuesday and Thursday")
        bbr.form(contract, prog.Programme.BBR, "Building Better Relationships, Monday")
        for n in range(8):
            tsp.join(*self.person(n))
        for n in range(3):  # below the minimum of four: shows in the caseload
            crn, person = self.person(n + 1)
            bbr.join(crn, msgspec.structs.replace(person, gender="male"), convicted_of_intimate_partner_violence=True)
        day = start + timedelta(days=7)
        for _ in range(10):
            yield day
            tsp.schedule(day.date())
            day += timedelta(days=2 if day.weekday() == 1 else 5)

    # -- finance -----------------------------------------------------------------------------------

    def finance(self) -> list[Story]:
        """A year of monthly fixed fees, invoices (some over-claimed and disputed), approvals and payments."""
        return [
            self.billing_story(contract)
            for contract in self.ledger.load_all(con.Contract)
            if self.ledger.exists(acc.account_id_for(contract.id))
        ]

    def billing_story(self, contract: con.Contract) -> Story:
        provider = Actor(
            id="demo-provider-finance", role=Role.SUPPLIER_BID_MANAGER, organisation_id=str(contract.supplier_id)
        )
        first = (self.end - timedelta(days=365)).date().replace(day=1)
        month = first
        while month < self.end.date().replace(day=1):
            following = sc.next_month(month)
            if contract.start_date <= month <= contract.end_date:
                yield sc.morning(following)
                with contextlib.suppress(RuleViolation):
                    sc.close_month(self, contract.id, month)
                yield self.now + timedelta(days=4)
                invoice = sc.invoice_month(self, provider, contract.id, month, period_start=first, over_claims=0.1)
                if invoice is not None:
                    yield self.now + timedelta(days=3)
                    sc.check_invoice(self, invoice, dispute="Travel is within the fixed fee; not separately payable")
                    late = self.rng.random() < 0.15
                    yield self.now + timedelta(days=38 if late else 14)
                    sc.pay_invoice(self, invoice, f"BACS-{month:%Y%m}-{str(invoice.id)[:6]}")
            month = following


def load_demo(
    ledger: Ledger, *, progress: Callable[[int, int | None], None] | None = None, seed: int = 2021
) -> DemoReport:
    """Load the demo history into an empty ledger; a re-run finds it and records nothing."""
    if ledger.exists(sup.supplier_id_for("DEMO0000")):
        return DemoReport(commands=0)
    if ledger.head() > 0:
        raise DemoRefused(
            f"the ledger already holds {ledger.head()} events: the demo's history (from 2021) loads only into an"
            " empty ledger; point DATABASE_URL or LEDGER_DATA_DIR at a fresh one"
        )
    start = datetime(2021, 6, 1, 9, tzinfo=UTC)
    reference.seed(ledger, correlation_id=CORRELATION, at=start)
    demo = DemoHistory(ledger=ledger, rng=random.Random(seed), now=start, end=utcnow(), progress=progress)
    demo.load_framework()
    demo.tell(demo.day_one())
    demo.extend_day_one()
    demo.tell(demo.pipeline() + demo.caseload() + demo.finance())
    sup.sanction(
        ledger,
        demo.env(reason="investigation"),
        demo.suppliers["Second Chance Recruitment Ltd"],
        "suspend",
        sup.AuthorityDecision(grounds="Investigation into a data breach"),
    )
    if progress is not None:
        progress(demo.commands, demo.commands)
    return DemoReport(commands=demo.commands)
