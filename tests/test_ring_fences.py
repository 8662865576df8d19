"""Ring-fenced funds (issue 19, item 2): the Regional Outcome and Innovation Fund's terms, as data, enforced when a
line is set, when a contract's value is committed against it and when its overrun is approved; refused by name,
writing nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from ledger.errors import RuleViolation
from ledger.payments import ring_fences
from ledger.payments.money import financial_year
from ledger.procurement.call_offs import AwardType
from ledger.roles import Role
from tests.market import Market
from tests.support import count_events, unique_legal_id


def _line(market: Market, commissioner: str, code: str, *, ring_fenced: bool, expect: int = 201) -> object:
    year = financial_year((market.clock.now + timedelta(days=42)).date())  # the year market.contract() starts in
    body = {
        "commissioner_id": commissioner,
        "financial_year": year,
        "code": code,
        "name": "Regional Outcome and Innovation Fund" if code == "roif" else "Core",
        "amount": "5000000.00",
        "ring_fenced": ring_fenced,
    }
    return market.post("/budgets", body, expect=expect, role="finance_officer")


def _refused(answer: object, rule: str) -> str:
    assert answer.status_code == 409, answer.text  # type: ignore[attr-defined]
    assert answer.json["rule"] == rule  # type: ignore[attr-defined]
    return answer.json["detail"]  # type: ignore[attr-defined]


def test_only_a_probation_region_or_hmpps_holds_the_fund_and_its_lines_are_always_ring_fenced(market: Market) -> None:
    pcc = market.post(
        "/commissioners",
        {
            "name": "Police and Crime Commissioner",
            "organisation_id": f"pcc-{unique_legal_id().lower()}",
            "commissioner_type": "pcc",
            "area": "northumbria",
        },
        expect=201,
    ).json["id"]
    region = market.commissioner()
    before = count_events(market.url)
    detail = _refused(_line(market, pcc, "roif", ring_fenced=True, expect=409), "ring-fenced fund terms")
    assert "held by hmpps, probation-region commissioners, not pcc" in detail
    assert "its lines are ring-fenced" in _refused(
        _line(market, region, "roif", ring_fenced=False, expect=409), "ring-fenced fund terms"
    )
    assert "no ring-fenced fund has the code 'lottery'" in _refused(
        _line(market, region, "lottery", ring_fenced=True, expect=409), "ring-fenced fund terms"
    )
    assert count_events(market.url) == before  # nothing written for a refused line
    _line(market, region, "roif", ring_fenced=True)


def test_the_fund_pays_for_services_in_its_holders_region_only(market: Market) -> None:
    lead = market.commissioner("region-a", "region-a")
    roif = _line(market, lead, "roif", ring_fenced=True).json["id"]  # type: ignore[attr-defined]
    with pytest.raises(AssertionError, match=r"ring-fenced fund terms.*does not fund services in North West"):
        market.contract(lead=lead, geography="region-b", budget_line="roif")
    committed = {b["line_id"]: b["committed"] for b in market.get("/budgets", role="finance_officer")["items"]}
    assert Decimal(committed[roif]) == 0  # the refused conclusion committed nothing
    contract, _ = market.contract(lead=lead, geography="northumbria", budget_line="roif")
    committed = {b["line_id"]: b["committed"] for b in market.get("/budgets", role="finance_officer")["items"]}
    assert Decimal(committed[roif]) > 0
    assert market.get(f"/contracts/{contract}")["status"] == "active"


def test_an_overrun_of_the_fund_is_the_authoritys_to_approve_and_a_core_lines_finances(market: Market) -> None:
    lead = market.commissioner()
    roif = _line(market, lead, "roif", ring_fenced=True).json["id"]  # type: ignore[attr-defined]
    core = _line(market, lead, "core", ring_fenced=False).json["id"]  # type: ignore[attr-defined]
    body = {"amount": "100000.00", "reason": "Proof of concept extended"}
    before = count_events(market.url)
    refused = market.post(f"/budgets/{roif}/overruns", body, expect=409, role="finance_officer")
    assert "approved by a authority, not a finance_officer" in _refused(refused, "overrun approval")
    refused = market.post(f"/budgets/{core}/overruns", body, expect=409, role="authority")
    assert "approved by a finance_officer, not a authority" in _refused(refused, "overrun approval")
    assert count_events(market.url) == before
    market.post(f"/budgets/{roif}/overruns", body, role="authority")
    market.post(f"/budgets/{core}/overruns", body, role="finance_officer")


# -- the terms, without the ledger -------------------------------------------------------------------


def _funded(**overrides: object) -> ring_fences.Funded:
    fields: dict = {"contract_id": uuid4(), "award_type": "grant", "lots": ("accommodation",), "areas": ("durham",)}
    return ring_fences.Funded(**{**fields, **overrides})


def test_each_term_of_a_fund_refuses_by_name() -> None:
    fence = ring_fences.RingFence(
        code="test",
        name="Test Fund",
        source="a test",
        holders=frozenset({"probation-region"}),
        categories=frozenset({"accommodation"}),
        award_types=frozenset({AwardType.GRANT}),
        within_holder_area=True,
        overrun_approver=Role.AUTHORITY,
    )
    ring_fences.check_commitment(fence, _funded(), "region-a")
    for funded, words in (
        (_funded(award_type="contract"), "funds a grant, not a contract"),
        (_funded(lots=("ete",)), "does not fund ete"),
        (_funded(lots=()), "does not fund a contract with no lot"),
        (_funded(areas=("durham", "merseyside")), "does not fund services in Merseyside"),
    ):
        with pytest.raises(RuleViolation, match=words) as refused:
            ring_fences.check_commitment(fence, funded, "region-a")
        assert refused.value.rule == "ring-fenced fund terms"


def test_the_regional_outcome_and_innovation_funds_terms_are_the_seed_documents() -> None:
    roif = ring_fences.RING_FENCES["roif"]
    assert roif.name == "Regional Outcome and Innovation Fund"
    assert roif.award_types == {AwardType.GRANT, AwardType.CONTRACT}  # grants, co-commissioning, proof of concept
    assert roif.holders == {"probation-region", "hmpps"} and roif.within_holder_area
    assert roif.overrun_approver is Role.AUTHORITY
