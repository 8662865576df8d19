"""A small, realistic demo history, loaded through the same commands the API uses.

The history runs on a simulated clock from the framework's launch (June 2021) to today: suppliers of
every size apply and are appointed; each region's day-one Accommodation and ETE contracts are
competed, awarded and extended; and recent call-offs sit in every stage of the pipeline. Every event
it writes carries correlation id `demo-load`, so demo data is never mistaken for real records.
"""

from __future__ import annotations

import contextlib
import heapq
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from ledger.cases import programmes as prog
from ledger.cases import referrals as rf
from ledger.cases import unpaid_work as upw
from ledger.cases.outcomes import DESIRED_OUTCOMES, Achievement, EndReason
from ledger.envelope import Actor, make_envelope, utcnow
from ledger.errors import RuleViolation
from ledger.framework import categories, geography, reference
from ledger.framework import commissioners as com
from ledger.framework import suppliers as sup
from ledger.framework.geography import region_code
from ledger.payments import accounts as acc
from ledger.payments import budgets as bud
from ledger.payments import money
from ledger.procurement import call_offs as co
from ledger.procurement import contracts as con
from ledger.roles import Role
from ledger.store import Ledger

CORRELATION = "demo-load"
AUTHORITY = Actor(id="demo-assessor", role=Role.AUTHORITY, organisation_id="hmpps-commercial")
FINANCE = Actor(id="demo-finance-officer", role=Role.FINANCE_OFFICER, organisation_id="hmpps-finance")
REGIONS = "ABCDEFGHIJKL"

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

CRITERIA = (
    co.Criterion(name="quality", kind=co.CriterionKind.QUALITY, weight=60),
    co.Criterion(name="price", kind=co.CriterionKind.PRICE, weight=30),
    co.Criterion(name="social value", kind=co.CriterionKind.SOCIAL_VALUE, weight=10),
)


@dataclass(frozen=True)
class DemoReport:
    commands: int  # 0 when the demo was already loaded


@dataclass
class _Loader:
    ledger: Ledger
    rng: random.Random
    now: datetime
    progress: Callable[[int, int | None], None] | None
    suppliers: dict[str, UUID] = field(default_factory=dict)
    commissioners: dict[str, UUID] = field(default_factory=dict)
    commands: int = 0

    def env(self, actor: Actor = AUTHORITY, reason: str | None = None) -> Any:
        self.commands += 1
        if self.progress is not None and self.commands % 25 == 0:
            self.progress(self.commands, None)
        return make_envelope(actor, correlation_id=CORRELATION, reason=reason, recorded_at=self.now)

    def at(self, when: datetime) -> None:
        # The simulated clock never runs backwards: recorded time follows log order.
        self.now = max(self.now, when)

    def commissioner_actor(self, org: str) -> Actor:
        return Actor(id=f"demo-{org}-officer", role=Role.COMMISSIONER, organisation_id=org)

    def load_framework(self) -> None:
        for org, name, kind, area in COMMISSIONERS:
            recorded = com.register_commissioner(
                self.ledger,
                self.env(),
                com.RegisterCommissioner(name=name, organisation_id=org, commissioner_type=kind, area=area),
            )
            self.commissioners[org] = recorded.aggregate_id
            if kind == "probation-region":
                self.budgets(recorded.aggregate_id)
            if org != "leicester-city-council":  # one body has not signed yet
                com.sign_user_agreement(
                    self.ledger,
                    self.env(self.commissioner_actor(org)),
                    recorded.aggregate_id,
                    com.SignUserAgreement(signatory=f"Director, {name}"),
                )
        for i, (name, kind, small, lots, areas) in enumerate(SUPPLIERS):
            self.at(self.now + timedelta(hours=6))
            sid, qid, bid = self.apply_to_join(f"DEMO{i:04d}", name, kind, small, lots, areas)
            self.suppliers[name] = sid
            self.at(self.now + timedelta(days=2))
            for lot in lots:
                fail = i % 7 == 2 and lot == lots[-1] and len(lots) > 1
                sup.assess_lot(
                    self.ledger,
                    self.env(reason="written assessment"),
                    sid,
                    qid,
                    sup.AssessLot(
                        category=lot,
                        outcome=sup.Outcome.FAIL if fail else sup.Outcome.PASS,
                        reason="Case studies do not evidence outcomes"
                        if fail
                        else "Evidence of capability meets the standard",
                    ),
                )
            sup.accept_framework_terms(self.ledger, self.env(bid), sid, sup.AcceptFrameworkTerms())

    def apply_to_join(
        self,
        legal_id: str,
        name: str,
        kind: sup.OrganisationType,
        small: bool,
        lots: tuple[str, ...],
        areas: tuple[str, ...],
    ) -> tuple[UUID, UUID, Actor]:
        """A supplier registers and submits its questionnaire (a case study per lot, the areas it declares);
        returns the supplier, the questionnaire and the supplier's bid manager."""
        sid = sup.register_supplier(
            self.ledger,
            self.env(),
            sup.RegisterSupplier(name=name, legal_identifier=legal_id, organisation_type=kind, is_small=small),
        ).aggregate_id
        bid = Actor(id=f"bid-{legal_id.lower()}", role=Role.SUPPLIER_BID_MANAGER, organisation_id=str(sid))
        sup.submit_questionnaire(
            self.ledger,
            self.env(bid),
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
        return sid, next(iter(self.ledger.load(sup.Supplier, sid).questionnaires)), bid

    def competition(
        self,
        *,
        lead_org: str,
        title: str,
        need: str | None,
        geography: str,
        value: Decimal,
        published: datetime,
        until: str,
        cohort: str | None = None,
        bafo: bool = False,
        close: co.CancelCallOff | None = None,
        fee_scale: Decimal = Decimal(1),
        monthly_fee: Decimal | None = None,
        on_contract: Callable[[UUID], None] | None = None,
    ) -> Iterator[datetime]:
        """Run a call-off from draft to the stage named by `until`: a generator that yields the simulated
        time of its next step, so that many competitions interleave in time order (see `_run`).

        An awarded one ends with a contract and its price schedule (fees times `fee_scale`), which is
        handed to `on_contract`."""
        lead = self.commissioner_actor(lead_org)
        published = max(published, self.now + timedelta(days=7))
        yield published - timedelta(days=7)
        call_off = co.draft_call_off(
            self.ledger,
            self.env(lead),
            co.DraftCallOff(
                title=title,
                specification=f"{title}: services for people on probation, delivered to the framework's standards.",
                lead_commissioner_id=self.commissioners[lead_org],
                need=need,
                cohort=cohort,
                geography=geography,
                award_type=co.AwardType.CONTRACT,
                estimated_value=value,
                initial_term_months=36,
                extension_options_months=(12, 12),
                criteria=CRITERIA,
                response_deadline=published + timedelta(days=35),
                bafo_stage=bafo,
            ),
        ).aggregate_id
        if until == "draft":
            if close is not None:
                co.cancel_call_off(self.ledger, self.env(lead), call_off, close)
            return
        yield published
        co.publish_call_off(self.ledger, self.env(lead), call_off)
        invited = list(self.ledger.load(co.CallOff, call_off).invited)
        bidders = invited[: max(1, min(3, len(invited)))]
        yield published + timedelta(days=5)
        for supplier_id in bidders:
            price = (value * Decimal(self.rng.randint(85, 100)) / 100).quantize(Decimal("1000"))
            co.submit_tender(
                self.ledger,
                self.env(Actor(id="demo-bidder", role=Role.SUPPLIER_BID_MANAGER, organisation_id=str(supplier_id))),
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
        if until == "open" or not bidders:
            if close is not None:
                co.cancel_call_off(self.ledger, self.env(lead), call_off, close)
            return
        yield published + timedelta(days=35)
        co.open_tenders(self.ledger, self.env(lead), call_off)
        if bafo and until == "bafo":
            yield self.now + timedelta(days=5)
            co.invite_bafo(
                self.ledger,
                self.env(lead),
                call_off,
                co.InviteBafo(
                    supplier_ids=tuple(bidders[:2]), deadline=self.now + timedelta(days=14), reason="Scores within 2%"
                ),
            )
            return
        yield self.now + timedelta(days=7)
        for supplier_id in bidders:
            scores = {c.name: Decimal(self.rng.randint(55, 90)) for c in CRITERIA}
            for evaluator in ("demo-evaluator-1", "demo-evaluator-2"):
                co.record_scores(
                    self.ledger,
                    self.env(Actor(id=evaluator, role=Role.COMMISSIONER, organisation_id=lead_org)),
                    call_off,
                    co.RecordScores(supplier_id=supplier_id, scores=scores, comments="Credible delivery model."),
                )
            if until != "evaluating":
                co.moderate_scores(
                    self.ledger,
                    self.env(lead),
                    call_off,
                    co.ModerateScores(supplier_id=supplier_id, scores=scores, rationale="Consensus at moderation."),
                )
        if until == "evaluating":
            return
        yield self.now + timedelta(days=3)
        co.complete_evaluation(self.ledger, self.env(lead), call_off)
        if until == "evaluated":
            return
        winner = self.ledger.load(co.CallOff, call_off).ranking[0].supplier_id
        yield self.now + timedelta(days=2)
        co.decide_award(
            self.ledger,
            self.env(lead, reason="highest-ranked tender"),
            call_off,
            co.DecideAward(supplier_id=winner, rationale="Highest-ranked tender; strong local partnerships."),
        )
        if until == "standstill":
            return
        yield self.now + timedelta(days=10, minutes=1)
        start = (self.now + timedelta(days=120)).date().replace(day=1)
        contract_id = acc.conclude_contract(
            self.ledger,
            self.env(lead),
            call_off,
            con.ConcludeContract(
                value=value,
                start_date=start,
                end_date=con.add_months(start, 36) - timedelta(days=1),
                mobilisation_date=self.now.date() + timedelta(days=14),
                kpis=(con.Kpi(name="Outcome achieved", target="70% of completed referrals"),),
            ),
        ).aggregate_id
        acc.set_price_schedule(
            self.ledger,
            self.env(FINANCE),
            contract_id,
            acc.SetPriceSchedule(
                effective_from=start,
                fixed_fee_per_month=money.pence(monthly_fee or value * Decimal("0.5") / 60),
                referral_fee={
                    level: money.pence(Decimal(fee) * fee_scale)
                    for level, fee in (
                        (categories.Complexity.LOW, "150.00"),
                        (categories.Complexity.MEDIUM, "250.00"),
                        (categories.Complexity.HIGH, "400.00"),
                    )
                },
                session_fee=money.pence(Decimal("75.00") * fee_scale),
                outcome_payment=money.pence(Decimal("300.00") * fee_scale),
            ),
        )
        if on_contract is not None:
            on_contract(contract_id)

    def _run(self, competitions: list[Iterator[datetime]]) -> None:
        """Interleave competitions by the time of their next step; the clock only moves forward."""
        heap: list[tuple[datetime, int, Iterator[datetime]]] = []
        for i, steps in enumerate(competitions):
            first = next(steps, None)
            if first is not None:
                heapq.heappush(heap, (first, i, steps))
        while heap:
            when, i, steps = heapq.heappop(heap)
            if when > self.real_now:
                continue  # that step lies in the future: the competition stays where it is today
            self.at(when)
            following = next(steps, None)
            if following is not None:
                heapq.heappush(heap, (following, i, steps))

    def load_day_one(self) -> None:
        start = datetime(2021, 7, 5, 9, tzinfo=UTC)
        self._run(
            [
                self.competition(
                    lead_org=f"probation-region-{letter.lower()}",
                    title=f"Day-one {need} services, region {letter}",
                    need=need,
                    geography=region_code(letter),
                    value=Decimal(1_800_000 + 150_000 * ((i + j) % 5)),
                    published=start + timedelta(days=2 * i + j),
                    until="awarded",
                )
                for i, letter in enumerate(REGIONS)
                for j, need in enumerate(("accommodation", "ete"))
            ]
            + [
                self.competition(
                    lead_org=f"probation-region-{letter.lower()}",
                    title=f"Innovation partner: Unpaid Work and accredited programmes, region {letter}",
                    need="lifestyle-and-associates",
                    geography=region_code(letter),
                    value=Decimal(12_000_000),
                    published=start + timedelta(days=30),
                    until="awarded",
                )
                for letter in INNOVATION_PARTNER_REGIONS
            ]
        )

    def extend_day_one(self) -> None:
        """Both yearly extension options taken at the annual reviews of 2024 and 2025."""
        for review in (datetime(2024, 9, 2, 9, tzinfo=UTC), datetime(2025, 9, 1, 9, tzinfo=UTC)):
            self.at(review)
            for contract in self.ledger.load_all(con.Contract):
                if contract.extension_options:
                    con.extend_contract(
                        self.ledger,
                        self.env(reason="annual performance review"),
                        contract.id,
                        con.ExtendContract(months=12, reason="Meeting KPIs; extension option taken"),
                    )
                    # The extra year is paid for: the value grows by a year's worth, and so does the commitment.
                    years_so_far = 3 + (2 - len(contract.extension_options))
                    annual = money.pence(contract.value / years_so_far)
                    acc.vary_contract(
                        self.ledger,
                        self.env(FINANCE),
                        contract.id,
                        con.VaryContract(new_value=contract.value + annual, reason="Extension year funded"),
                    )

    def pipeline(self) -> list[Iterator[datetime]]:
        """Recent call-offs, one or more in every stage, published so that each is mid-way today."""
        now = self.real_now
        stages = (
            ("awarded", 80, "Women's centre services, London", None, "women", "region-j", "mopac"),
            (
                "standstill",
                52,
                "Dependency and recovery, Leicestershire",
                "dependency-and-recovery",
                None,
                "leicestershire",
                "probation-region-f",
            ),
            ("evaluated", 50, "Finance, benefits and debt, Hampshire", "fbd", None, "hampshire", "probation-region-h"),
            ("bafo", 45, "Accommodation, Greater Manchester", "accommodation", None, "greater-manchester", "gmca"),
            ("evaluating", 44, "Education and employment, Kent", "ete", None, "kent", "kent-pcc"),
            (
                "open",
                12,
                "Young adults' employment, East of England",
                "ete",
                "young-adults",
                "region-i",
                "probation-region-i",
            ),
            ("open", 8, "Accommodation, Wales", "accommodation", None, "wales", "welsh-government"),
            (
                "draft",
                3,
                "Restorative justice, North West",
                "restorative-justice",
                None,
                "region-b",
                "probation-region-b",
            ),
        )
        competitions = [
            self.competition(
                lead_org=org,
                title=title,
                need=need,
                cohort=cohort,
                geography=area,
                value=Decimal(650_000),
                published=now - timedelta(days=days_ago),
                until=until,
                bafo=until == "bafo",
            )
            for until, days_ago, title, need, cohort, area, org in stages
        ]
        competitions.append(
            self.competition(
                lead_org="probation-region-g",
                title="Emotional wellbeing, Devon",
                need="emotional-wellbeing",
                geography="devon-and-cornwall",
                value=Decimal(300_000),
                published=now - timedelta(days=30),
                until="draft",
                close=co.CancelCallOff(reason="Budget reallocated to the Regional Outcome and Innovation Fund"),
            )
        )
        competitions.append(
            self.competition(
                lead_org="probation-region-a",
                title="Family services, Cleveland",
                need="family-and-significant-others",
                geography="cleveland",
                value=Decimal(250_000),
                published=now - timedelta(days=40),
                until="open",
                close=co.CancelCallOff(reason="No tender met the minimum quality threshold", no_award=True),
            )
        )
        return competitions

    # -- the caseload ------------------------------------------------------------------------------

    def caseload(self) -> list[Iterator[datetime]]:
        """Referrals in every state on each region's day-one contracts, and the innovation partners' work."""
        stories: list[Iterator[datetime]] = []
        ends = ("sent", "assigned", "in_progress", "in_progress", "completed", "completed", "ended_early", "cancelled")
        contracts = sorted(self.ledger.load_all(con.Contract), key=lambda c: (c.areas, c.need or ""))
        for contract in contracts:
            region = contract.areas[0]
            if contract.need in ("accommodation", "ete") and region.startswith("region-"):
                for n, end in enumerate(ends):
                    start = self.real_now - timedelta(days=10 + 14 * n + self.rng.randint(0, 10))
                    stories.append(self.referral_story(contract, region, end, start, n))
            elif contract.need == "lifestyle-and-associates":
                for n in range(8):
                    stories.append(self.unpaid_work_story(contract, n))
                stories.append(self.programme_story(contract))
        return stories

    def budgets(self, commissioner_id: UUID) -> None:
        for year in range(2021, 2028):
            bud.set_budget_line(
                self.ledger,
                self.env(FINANCE),
                bud.SetBudgetLine(
                    commissioner_id=commissioner_id,
                    financial_year=f"{year}-{(year + 1) % 100:02d}",
                    name="Core rehabilitative services",
                    amount=Decimal("20000000.00"),
                ),
            )
        bud.set_budget_line(
            self.ledger,
            self.env(FINANCE),
            bud.SetBudgetLine(
                commissioner_id=commissioner_id,
                financial_year="2026-27",
                code=bud.ROIF,
                name="Regional Outcome and Innovation Fund",
                amount=Decimal("1666666.00"),
                ring_fenced=True,
            ),
        )

    def finance(self) -> list[Iterator[datetime]]:
        """A year of monthly fixed fees, invoices (some over-claimed and disputed), approvals and payments."""
        return [
            self.billing_story(contract)
            for contract in self.ledger.load_all(con.Contract)
            if self.ledger.exists(acc.account_id_for(contract.id))
        ]

    def billing_story(self, contract: con.Contract) -> Iterator[datetime]:
        provider = Actor(
            id="demo-provider-finance", role=Role.SUPPLIER_BID_MANAGER, organisation_id=str(contract.supplier_id)
        )
        first = (self.real_now - timedelta(days=365)).date().replace(day=1)
        month = first
        while month < self.real_now.date().replace(day=1):
            following = (month + timedelta(days=32)).replace(day=1)
            period_end = following - timedelta(days=1)
            if not contract.start_date <= month <= contract.end_date:
                month = following
                continue
            yield datetime.combine(following, datetime.min.time(), UTC) + timedelta(hours=9)
            with contextlib.suppress(RuleViolation):
                acc.close_period(self.ledger, self.env(FINANCE), contract.id, acc.ClosePeriod(month=f"{month:%Y-%m}"))
            yield self.now + timedelta(days=4)
            account = self.ledger.load(acc.ContractAccount, acc.account_id_for(contract.id))
            due = [
                cid
                for cid, c in account.charges.items()
                if not c.reversed and c.invoice_id is None and c.earned_on <= period_end
            ]
            if not due:
                month = following
                continue
            amount = sum((account.charges[c].amount for c in due), Decimal(0))
            over = self.rng.random() < 0.1
            lines = [
                acc.InvoiceLine(description=f"Services delivered {month:%B %Y}", amount=amount, charge_ids=tuple(due))
            ]
            if over:
                lines.append(acc.InvoiceLine(description="Additional travel costs", amount=Decimal("420.00")))
            invoice_id = acc.submit_invoice(
                self.ledger,
                self.env(provider),
                contract.id,
                acc.SubmitInvoice(
                    invoice_number=f"{str(contract.id)[:8].upper()}-{month:%Y%m}",
                    period_start=first,
                    period_end=period_end,
                    lines=tuple(lines),
                ),
            ).aggregate_id
            yield self.now + timedelta(days=3)
            acc.approve_invoice_line(self.ledger, self.env(FINANCE), contract.id, invoice_id, acc.LineDecision(line=1))
            if over:
                acc.dispute_invoice_line(
                    self.ledger,
                    self.env(FINANCE),
                    contract.id,
                    invoice_id,
                    acc.LineDecision(line=2, reason="Travel is within the fixed fee; not separately payable"),
                )
            late = self.rng.random() < 0.15
            yield self.now + timedelta(days=38 if late else 14)
            acc.make_payment(
                self.ledger,
                self.env(FINANCE),
                contract.id,
                invoice_id,
                acc.MakePayment(
                    amount=amount,
                    paid_on=self.now.date(),
                    remittance_reference=f"BACS-{month:%Y%m}-{str(invoice_id)[:6]}",
                ),
            )
            month = following

    def _person(self, n: int) -> tuple[str, rf.PersonDetails]:
        given = ("Alex", "Sam", "Jordan", "Chris", "Jamie", "Taylor", "Morgan", "Casey")[n % 8]
        family = ("Smith", "Jones", "Khan", "Evans", "Okafor", "Murphy", "Patel", "Williams")[self.rng.randint(0, 7)]
        crn = f"{'ABCDEFGHJKLMNPRSTUVWXYZ'[self.rng.randint(0, 22)]}{self.rng.randint(0, 999999):06d}"
        born = date(1970 + self.rng.randint(0, 33), self.rng.randint(1, 12), self.rng.randint(1, 28))
        gender = "female" if n % 5 == 0 else "male"
        return crn, rf.PersonDetails(given_name=given, family_name=family, date_of_birth=born, gender=gender)

    def referral_story(
        self, contract: con.Contract, region: str, end: str, start: datetime, n: int
    ) -> Iterator[datetime]:
        letter = region.removeprefix("region-").upper()
        practitioner = Actor(
            id=f"demo-po-{letter.lower()}{n % 3}",
            role=Role.PROBATION_PRACTITIONER,
            organisation_id=f"probation-region-{letter.lower()}",
        )
        caseworker = Actor(
            id=f"demo-cw-{letter.lower()}{n % 2}",
            role=Role.PROVIDER_CASEWORKER,
            organisation_id=str(contract.supplier_id),
        )
        area = next(a.code for a in geography.AREAS if a.parent_code == region)
        need = contract.need or "accommodation"
        crn, person = self._person(n)
        yield start
        referral_id = rf.make_referral(
            self.ledger,
            self.env(practitioner),
            rf.MakeReferral(
                contract_id=contract.id,
                crn=crn,
                person=person,
                area=area,
                category=need,
                complexity=categories.Complexity.MEDIUM if n % 3 else categories.Complexity.LOW,
                desired_outcomes=DESIRED_OUTCOMES[need][:2],
                max_enforceable_days=10,
                sentence_type=rf.SentenceType.COMMUNITY_ORDER if n % 2 else rf.SentenceType.LICENCE,
                risk_summary="Medium risk of serious harm to known adults.",
                completion_deadline=(start + timedelta(days=180)).date(),
            ),
        ).aggregate_id
        if end == "sent":
            return
        yield start + timedelta(days=2)
        rf.acknowledge_referral(self.ledger, self.env(caseworker), referral_id)
        rf.assign_caseworker(
            self.ledger, self.env(caseworker), referral_id, rf.AssignCaseworker(caseworker_id=caseworker.id)
        )
        if end == "assigned":
            return
        if end == "cancelled":
            yield start + timedelta(days=6)
            rf.withdraw_referral(
                self.ledger,
                self.env(practitioner),
                referral_id,
                rf.EndReferral(reason_code=EndReason.IN_CUSTODY, detail="Recalled to custody"),
            )
            return
        assessment = start + timedelta(days=8)
        yield start + timedelta(days=4)
        self._appointment(referral_id, caseworker, assessment, rf.AppointmentKind.INITIAL_ASSESSMENT)
        yield assessment + timedelta(hours=3)
        self._attend(referral_id, caseworker, rf.Attended.YES)
        planned = 4 + n % 3
        yield assessment + timedelta(days=1)
        rf.submit_action_plan(
            self.ledger,
            self.env(caseworker),
            referral_id,
            rf.SubmitActionPlan(
                activities=("Needs assessment follow-up", "Weekly support sessions"), number_of_sessions=planned
            ),
        )
        yield assessment + timedelta(days=2)
        rf.approve_action_plan(self.ledger, self.env(practitioner), referral_id)
        delivered = planned if end == "completed" else 2 if end == "ended_early" else planned
        for k in range(delivered):
            when = assessment + timedelta(days=7 * (k + 1))
            yield when - timedelta(days=3)
            self._appointment(referral_id, caseworker, when, rf.AppointmentKind.SESSION)
            yield when + timedelta(hours=20 if k % 3 == 0 else 2)  # some recorded the next day
            outcome = self.rng.random()
            attended = rf.Attended.YES if outcome < 0.75 else rf.Attended.LATE if outcome < 0.85 else rf.Attended.NO
            if end == "completed" and attended is rf.Attended.NO:
                attended = rf.Attended.LATE  # a completed story delivers every planned session
            absence = None
            if attended is rf.Attended.NO:
                absence = rf.Absence.UNACCEPTABLE if self.rng.random() < 0.5 else rf.Absence.ACCEPTABLE
            self._attend(referral_id, caseworker, attended, absence)
            if absence is rf.Absence.UNACCEPTABLE and self.rng.random() < 0.6:
                yield self.now + timedelta(days=2)
                appointment = self._last_appointment(referral_id)
                rf.acknowledge_notification(
                    self.ledger,
                    self.env(practitioner),
                    referral_id,
                    rf.AcknowledgeNotification(appointment_id=appointment.id),
                )
        if end == "ended_early":
            yield self.now + timedelta(days=3)
            rf.withdraw_referral(
                self.ledger, self.env(practitioner), referral_id, rf.EndReferral(reason_code=EndReason.NOT_ENGAGING)
            )
        elif end == "completed":
            yield self.now + timedelta(days=2)
            referral = self.ledger.load(rf.Referral, referral_id)
            if referral.attended_sessions() == 0:
                return
            rf.report_end_of_service(
                self.ledger,
                self.env(caseworker),
                referral_id,
                rf.ReportEndOfService(
                    outcomes=tuple(
                        rf.OutcomeRating(
                            outcome=o,
                            achievement=(
                                Achievement.ACHIEVED,
                                Achievement.PARTIALLY_ACHIEVED,
                                Achievement.NOT_ACHIEVED,
                            )[self.rng.randint(0, 2)],
                        )
                        for o in referral.desired_outcomes
                    ),
                    summary="Service delivered; outcomes rated with the person and their practitioner.",
                ),
            )

    def _appointment(self, referral_id: UUID, caseworker: Actor, when: datetime, kind: rf.AppointmentKind) -> None:
        rf.schedule_appointment(
            self.ledger,
            self.env(caseworker),
            referral_id,
            rf.ScheduleAppointment(
                kind=kind,
                starts_at=when,
                delivery_method=rf.DeliveryMethod.IN_PERSON if self.rng.random() < 0.7 else rf.DeliveryMethod.VIDEO,
            ),
        )

    def _last_appointment(self, referral_id: UUID) -> rf.Appointment:
        referral = self.ledger.load(rf.Referral, referral_id)
        return max(referral.appointments.values(), key=lambda a: a.starts_at)

    def _attend(
        self, referral_id: UUID, caseworker: Actor, attended: rf.Attended, absence: rf.Absence | None = None
    ) -> None:
        appointment = self._last_appointment(referral_id)
        rf.record_attendance(
            self.ledger,
            self.env(caseworker),
            referral_id,
            rf.RecordAttendance(
                appointment_id=appointment.id,
                attended=attended,
                absence=absence,
                counts_towards_rar=attended is not rf.Attended.NO
                and appointment.kind is rf.AppointmentKind.SESSION
                and self.rng.random() < 0.3,
                concerns="Did not attend and did not answer calls" if absence is rf.Absence.UNACCEPTABLE else None,
            ),
        )

    def unpaid_work_story(self, contract: con.Contract, n: int) -> Iterator[datetime]:
        officer = Actor(id="demo-upw-officer", role=Role.PROVIDER_CASEWORKER, organisation_id=str(contract.supplier_id))
        start = self.real_now - timedelta(days=20 + 30 * n)
        yield start
        crn, person = self._person(n)
        hours = (40, 60, 80, 100, 120, 150, 200, 300)[n]
        employed = n % 2 == 0
        order_id = upw.allocate_order(
            self.ledger,
            self.env(officer),
            upw.AllocateOrder(
                contract_id=contract.id,
                crn=crn,
                person=person,
                hours_ordered=hours,
                employed=employed,
                made_on=(start - timedelta(days=3)).date(),
                opts_out_of_all_male_placements=person.gender == "female",
            ),
        ).aggregate_id
        if n == 7:
            return  # allocated, never started: shows as a late start
        yield start + timedelta(days=3)
        upw.complete_induction(
            self.ledger,
            self.env(officer),
            order_id,
            upw.CompleteInduction(on=self.now.date(), risk_and_needs_assessed=True),
        )
        worked, day = Decimal(0), start + timedelta(days=5)
        while worked < hours:
            yield day
            if self.rng.random() < 0.08:
                upw.record_stand_down(
                    self.ledger,
                    self.env(officer),
                    order_id,
                    upw.RecordStandDown(on=day.date(), reason="Supervisor off sick"),
                )
            else:
                chunk = min(Decimal(7), Decimal(hours) - worked)
                upw.record_work(
                    self.ledger,
                    self.env(officer),
                    order_id,
                    upw.RecordWork(on=day.date(), hours=chunk, placement="Canal towpath clearance", travel_minutes=40),
                )
                worked += chunk
            day += timedelta(days=self.rng.choice((2, 3, 7) if employed else (1, 2)))

    def programme_story(self, contract: con.Contract) -> Iterator[datetime]:
        facilitator = Actor(
            id="demo-facilitator", role=Role.PROVIDER_CASEWORKER, organisation_id=str(contract.supplier_id)
        )
        start = self.real_now - timedelta(days=40)
        yield start
        tsp = prog.form_group(
            self.ledger,
            self.env(facilitator),
            prog.FormGroup(
                programme=prog.Programme.TSP,
                contract_id=contract.id,
                name="Thinking Skills, Tuesday and Thursday",
                facilitator_id=facilitator.id,
            ),
        ).aggregate_id
        bbr = prog.form_group(
            self.ledger,
            self.env(facilitator),
            prog.FormGroup(
                programme=prog.Programme.BBR,
                contract_id=contract.id,
                name="Building Better Relationships, Monday",
                facilitator_id=facilitator.id,
            ),
        ).aggregate_id
        for n in range(8):
            crn, person = self._person(n)
            prog.join_group(self.ledger, self.env(facilitator), tsp, prog.JoinGroup(crn=crn, person=person))
        for n in range(3):  # below the minimum of four: shows in the caseload
            crn, person = self._person(n + 1)
            person = msgspec.structs.replace(person, gender="male")
            prog.join_group(
                self.ledger,
                self.env(facilitator),
                bbr,
                prog.JoinGroup(crn=crn, person=person, convicted_of_intimate_partner_violence=True),
            )
        day = start + timedelta(days=7)
        for _ in range(10):
            yield day
            prog.schedule_session(
                self.ledger,
                self.env(facilitator),
                tsp,
                prog.ScheduleProgrammeSession(kind=prog.SessionKind.GROUP, on=day.date()),
            )
            day += timedelta(days=2 if day.weekday() == 1 else 5)

    real_now: datetime = field(default_factory=utcnow)


class DemoRefused(Exception):
    """The demo's history starts in 2021: it loads only into an empty ledger, so recorded time follows log order."""


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
    loader = _Loader(ledger=ledger, rng=random.Random(seed), now=start, progress=progress)
    loader.load_framework()
    loader.load_day_one()
    loader.extend_day_one()
    loader._run(loader.pipeline() + loader.caseload() + loader.finance())
    sup.sanction(
        ledger,
        loader.env(reason="investigation"),
        loader.suppliers["Second Chance Recruitment Ltd"],
        "suspend",
        sup.AuthorityDecision(grounds="Investigation into a data breach"),
    )
    if progress is not None:
        progress(loader.commands, loader.commands)
    return DemoReport(commands=loader.commands)
