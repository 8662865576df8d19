"""The forward pipeline (issue 19, item 4): commissioners plan call-offs ahead, revise, withdraw or fulfil them;
every qualified supplier sees the plans for its lots and areas, through the API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.market import Market
from tests.support import count_events


def _plan(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Accommodation services, North East",
        "description": "Help people on probation find and keep suitable accommodation, from April 2027.",
        "need": "accommodation",
        "geography": "region-a",
        "estimated_value": "1200000.00",
        "estimated_annual_volume": 400,
        "volume_unit": "referrals",
        "expected_publication": "2026-09",
        "initial_term_months": 36,
        **overrides,
    }


@pytest.fixture(scope="module")
def world(market: Market) -> dict[str, str]:
    lead = market.commissioner("region-a", "region-a")
    other = market.commissioner("region-b", "region-b")
    return {
        "lead": lead,
        "other": other,
        "accommodation_a": market.supplier("Homes North East", lots=("accommodation",), areas=("northumbria",)),
        "ete_a": market.supplier("Jobs North East", lots=("ete",), areas=("region-a",)),
        "accommodation_b": market.supplier("Homes North West", lots=("accommodation",), areas=("region-b",)),
        "unsigned": market.supplier(
            "Homes Everywhere", lots=("accommodation",), areas=("england",), accept_terms=False
        ),
    }


def _post_plan(market: Market, lead: str, expect: int = 201, **overrides: Any) -> Any:
    body = {"lead_commissioner_id": lead, "plan": _plan(**overrides)}
    return market.post("/planned-call-offs", body, expect=expect, role="commissioner")


def _seen_by(market: Market, supplier: str, **params: str) -> list[str]:
    answer = market.get("/catalogue/forward-pipeline", params=params or None, role="supplier_bid_manager", org=supplier)
    return [p["title"] for p in answer["items"]]


def test_a_plan_is_read_by_the_suppliers_of_its_lots_and_areas(market: Market, world: dict[str, str]) -> None:
    made = _post_plan(market, world["lead"])
    plan_id = made.json["plan_id"] if "plan_id" in made.json else made.json["id"]
    assert made.headers["location"].endswith(f"/planned-call-offs/{plan_id}")
    read = market.get(f"/planned-call-offs/{plan_id}", role="supplier_bid_manager", org=world["ete_a"])
    assert (read["status"], read["estimated_value"], read["expected_publication"]) == (
        "planned",
        "1200000.00",
        "2026-09",
    )
    assert read["lead_commissioner_name"] == "Commissioner region-a"
    title = _plan()["title"]
    assert title in _seen_by(market, world["accommodation_a"])  # Northumbria lies in the North East
    assert title in _seen_by(market, world["unsigned"])  # passed, yet to accept the terms: it prepares too
    assert title not in _seen_by(market, world["ete_a"])  # another lot
    assert title not in _seen_by(market, world["accommodation_b"])  # another region
    everything = market.get("/catalogue/forward-pipeline", role="commissioner", org=market.orgs[world["other"]])
    assert title in [p["title"] for p in everything["items"]]
    assert title in _seen_by(market, world["accommodation_a"], category="accommodation", area="durham")
    assert title not in _seen_by(market, world["accommodation_a"], area="region-b")


def test_a_plan_is_revised_withdrawn_and_then_changes_no_more(market: Market, world: dict[str, str]) -> None:
    plan_id = _post_plan(
        market, world["lead"], title="Women's services, Durham", need=None, cohort="women", geography="durham"
    ).json["id"]
    revised = _plan(
        title="Women's services, Durham",
        need=None,
        cohort="women",
        geography="durham",
        estimated_value="1500000.00",
        expected_publication="2026-11",
    )
    market.post(
        f"/planned-call-offs/{plan_id}/revisions",
        {"plan": revised, "reason": "Second year funded"},
        role="commissioner",
    )
    read = market.get(f"/planned-call-offs/{plan_id}")
    assert (read["estimated_value"], read["expected_publication"], read["revision_reason"]) == (
        "1500000.00",
        "2026-11",
        "Second year funded",
    )
    market.post(f"/planned-call-offs/{plan_id}/withdrawal", {"reason": "Funding withdrawn"}, role="commissioner")
    listed = market.get("/catalogue/forward-pipeline", role="authority")
    assert plan_id not in [p["id"] for p in listed["items"]]
    closed = market.get("/catalogue/forward-pipeline", params={"include_closed": "true"}, role="authority")
    assert {p["id"]: p["status"] for p in closed["items"]}[plan_id] == "withdrawn"
    before = count_events(market.url)
    again = market.post(
        f"/planned-call-offs/{plan_id}/withdrawal", {"reason": "Twice"}, expect=409, role="commissioner"
    )
    assert again.json["rule"] == "only a planned call-off changes"
    assert count_events(market.url) == before


def test_a_plan_is_fulfilled_by_its_own_call_off_only(market: Market, world: dict[str, str]) -> None:
    plan_id = _post_plan(market, world["lead"], title="Accommodation, Northumbria", geography="northumbria").json["id"]
    elsewhere = market.draft(world["lead"], geography="durham")
    refused = market.post(
        f"/planned-call-offs/{plan_id}/fulfilment", {"call_off_id": elsewhere}, expect=409, role="commissioner"
    )
    assert refused.json["rule"] == "a plan is fulfilled by its own call-off"
    call_off = market.draft(world["lead"], geography="northumbria")
    market.post(f"/planned-call-offs/{plan_id}/fulfilment", {"call_off_id": call_off}, role="commissioner")
    read = market.get(f"/planned-call-offs/{plan_id}")
    assert (read["status"], read["call_off_id"]) == ("fulfilled", call_off)


def test_plans_look_ahead_name_their_lots_and_belong_to_their_lead(market: Market, world: dict[str, str]) -> None:
    before = count_events(market.url)
    past = _post_plan(market, world["lead"], expect=409, expected_publication="2025-12")
    assert past.json["rule"] == "a plan looks ahead"
    bad = _post_plan(market, world["lead"], expect=422, expected_publication="2026-13")
    assert [e["path"] for e in bad.json["errors"]] == ["$.plan.expected_publication"]
    unknown = _post_plan(market, world["lead"], expect=422, need="gardening", geography="atlantis")
    assert {e["path"] for e in unknown.json["errors"]} == {"$.plan.need", "$.plan.geography"}
    someone_elses = market.post(
        "/planned-call-offs",
        {"lead_commissioner_id": world["lead"], "plan": _plan()},
        expect=403,
        role="commissioner",
        org=market.orgs[world["other"]],
    )
    assert someone_elses.json["detail"].endswith("lead_commissioner_id is not yours")
    assert count_events(market.url) == before
    plan_id = _post_plan(market, world["lead"], title="Another").json["id"]
    market.post(
        f"/planned-call-offs/{plan_id}/withdrawal",
        {"reason": "Not mine"},
        expect=404,
        role="commissioner",
        org=market.orgs[world["other"]],
    )
    assert market.get(f"/planned-call-offs/{plan_id}")["status"] == "planned"
