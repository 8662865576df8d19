"""Innovation Partners (issue 19, item 5): one per probation region, won by the region's own competition and
designated by the Authority; Unpaid Work orders and programme groups are placed only under it."""

from __future__ import annotations

from typing import Any

from tests.market import Market
from tests.support import count_events


def _order(market: Market, contract: str, expect: int = 201) -> Any:
    body = {
        "contract_id": contract,
        "crn": "P123456",
        "person": {"given_name": "Pat", "family_name": "Lee", "date_of_birth": "1990-01-01", "gender": "male"},
        "hours_ordered": 80,
        "employed": True,
        "made_on": market.clock.now.date().isoformat(),
    }
    return market.post("/unpaid-work", body, expect=expect, role="probation_practitioner")


def _group(market: Market, contract: str, expect: int = 201) -> Any:
    body = {"programme": "thinking_skills_programme", "contract_id": contract, "name": "TSP", "facilitator_id": "f-1"}
    return market.post("/programmes", body, expect=expect, role="provider_caseworker")


def test_unpaid_work_and_programmes_go_only_to_the_regions_innovation_partner(market: Market) -> None:
    ordinary, _ = market.contract(need="lifestyle-and-associates", geography="region-a")
    before = count_events(market.url)
    assert (
        _order(market, ordinary, expect=409).json["rule"] == "Unpaid Work and programmes under the region's"
        " Innovation Partner"
    )
    assert (
        _group(market, ordinary, expect=409).json["detail"]
        == "the contract is not the Innovation Partner of North East"
    )
    assert count_events(market.url) == before
    partner, supplier = market.innovation_partner("region-a")
    _order(market, partner)
    _group(market, partner)
    listed = {p["region"]: p for p in market.get("/innovation-partners", role="supplier_bid_manager")["items"]}
    assert (listed["region-a"]["contract_id"], listed["region-a"]["supplier_id"]) == (partner, supplier)
    assert listed["region-b"]["contract_id"] is None
    # A re-procurement: the new contract is the partner; the old one takes no new orders.
    newer, _ = market.innovation_partner("region-a")
    _order(market, newer)
    assert _order(market, partner, expect=409).status_code == 409
    listed = {p["region"]: p for p in market.get("/innovation-partners")["items"]}
    assert listed["region-a"]["contract_id"] == newer
    assert [p["contract_id"] for p in listed["region-a"]["earlier"]] == [partner]


def test_a_partner_is_won_by_its_regions_own_region_wide_competition(market: Market) -> None:
    part, _ = market.contract(need="lifestyle-and-associates", geography="region-b", areas=("merseyside",))
    elsewhere, _ = market.contract(need="lifestyle-and-associates", geography="region-c")
    before = count_events(market.url)
    refused = market.post("/innovation-partners", {"region": "region-b", "contract_id": part}, expect=409)
    assert refused.json["rule"] == "an Innovation Partner is won by its region's own competition"
    refused = market.post("/innovation-partners", {"region": "region-b", "contract_id": elsewhere}, expect=409)
    assert refused.json["rule"] == "an Innovation Partner is won by its region's own competition"
    unknown = market.post("/innovation-partners", {"region": "merseyside", "contract_id": elsewhere}, expect=422)
    assert unknown.json["errors"][0]["path"] == "$.region"
    market.post(
        "/innovation-partners", {"region": "region-c", "contract_id": elsewhere}, expect=403, role="commissioner"
    )
    assert count_events(market.url) == before
