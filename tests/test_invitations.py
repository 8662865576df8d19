"""Who a call-off invites: one rule, by the union of declared areas, with every near miss and its reason."""

from __future__ import annotations

from uuid import uuid4

import pytest

from ledger.framework import geography
from ledger.framework.suppliers import LotStatus, SupplierStanding, SupplierStatus
from ledger.procurement import invitations
from tests.market import Market
from tests.support import recorded_payload

LOT = "family-and-significant-others"  # no other test of this module's market holds it


def published_basis(market: Market, call_off: str) -> dict:
    return recorded_payload(market.url, call_off, "CallOffPublished")


def publish_for_the_north_east(market: Market) -> str:
    call_off = market.draft(market.commissioner(), need=LOT, geography="region-a", title="Families, North East")
    market.post(f"/call-offs/{call_off}/publication")
    return call_off


@pytest.fixture(scope="module")
def field(market: Market) -> dict[str, str]:
    """Suppliers of the lot, each standing differently towards a call-off for the whole North East."""
    suppliers = {
        "regional": market.supplier("Regional Families", lots=(LOT,), areas=("region-a",)),
        "national": market.supplier("National Families", lots=(LOT,), areas=("england-and-wales",)),
        "union": market.supplier("Three Forces Families", lots=(LOT,), areas=("cleveland", "durham", "northumbria")),
        "partial": market.supplier("Two Forces Families", lots=(LOT,), areas=("durham", "northumbria", "cumbria")),
        "elsewhere": market.supplier("Mersey Families", lots=(LOT,), areas=("region-b",)),
        "suspended": market.supplier("Paused Families", lots=(LOT,), areas=("region-a",)),
        "no_terms": market.supplier("Unsigned Families", lots=(LOT,), areas=("region-a",), accept_terms=False),
        "other_lot": market.supplier("Jobs North East", lots=("ete",), areas=("region-a",)),
    }
    market.post(f"/suppliers/{suppliers['suspended']}/suspensions", {"grounds": "Investigation"})
    failed = market.post(
        "/suppliers",
        {"name": "Failed Families", "legal_identifier": "FAIL0001", "organisation_type": "private", "is_small": False},
        expect=201,
    ).json["id"]
    qid = market.questionnaire(failed, (LOT,), ("region-a",))
    market.assess(failed, qid, LOT, "fail")
    suppliers["failed"] = failed
    return suppliers


def test_publication_invites_exactly_those_appointed_active_and_covering_the_geography_by_union(
    market: Market, field: dict[str, str]
) -> None:
    call_off = publish_for_the_north_east(market)
    payload = published_basis(market, call_off)

    assert set(payload["invited"]) == {field["regional"], field["national"], field["union"]}
    basis = {b["supplier_id"]: b for b in payload["basis"]}
    near_misses = {name for name, sid in field.items() if sid in basis and not basis[sid]["invited"]}
    assert near_misses == {"partial", "elsewhere", "suspended", "no_terms"}
    assert field["other_lot"] not in basis and field["failed"] not in basis  # never candidates
    assert payload["rule"] == "invite-all-appointed-active-covering-v2"

    assert basis[field["union"]]["reasons"] == [
        f"appointed to the {LOT} lot",
        "declared areas cleveland, durham, northumbria together cover region-a",
    ]
    partial = basis[field["partial"]]
    assert partial["uncovered"] == ["cleveland"]
    assert (
        "declared areas leave cleveland of region-a uncovered (declared: cumbria, durham, northumbria)"
        in (partial["reasons"])
    )
    assert "no declared area covers region-a (declared: region-b)" in basis[field["elsewhere"]]["reasons"]
    assert "supplier is suspended" in basis[field["suspended"]]["reasons"]
    assert basis[field["no_terms"]]["reasons"] == [
        f"passed the {LOT} lot but has not accepted the framework terms",
        "declared area region-a covers region-a",
    ]

    record = market.get(f"/call-offs/{call_off}")  # what the call-off's page shows
    assert record["status"] == "open" and record["invited_count"] == 3
    shown = {i["supplier_id"]: (i["invited"], i["uncovered"]) for i in record["invitations"]}
    assert shown == {b["supplier_id"]: (b["invited"], b["uncovered"]) for b in payload["basis"]}
    assert shown[field["partial"]] == (False, ["cleveland"])


def test_the_catalogue_answers_eligibility_with_the_same_decision_as_publication(
    market: Market, field: dict[str, str]
) -> None:
    call_off = publish_for_the_north_east(market)
    recorded = {b["supplier_id"]: b for b in published_basis(market, call_off)["basis"]}

    answer = market.get("/catalogue/eligibility", params={"category": LOT, "area": "region-a"})
    answered = {e["supplier_id"]: e for e in answer["eligible"] + answer["not_eligible"]}
    assert set(answered) == set(recorded)
    for sid, entry in answered.items():
        assert entry["eligible"] == recorded[sid]["invited"]
        assert entry["reasons"] == recorded[sid]["reasons"]
        assert entry["uncovered"] == recorded[sid]["uncovered"]
    assert {e["supplier_id"] for e in answer["eligible"]} == {field["regional"], field["national"], field["union"]}


def test_eligibility_for_an_unknown_area_or_lot_is_refused_naming_the_parameter(market: Market) -> None:
    for params, name in (
        ({"category": LOT, "area": "atlantis"}, "area"),
        ({"category": "knitting", "area": "kent"}, "category"),
    ):
        result = market.client.simulate_get("/catalogue/eligibility", params=params, headers=market.headers())
        assert result.status_code == 422 and name in {e["path"] for e in result.json["errors"]}


def test_a_referral_is_covered_by_the_union_of_the_contract_areas(market: Market) -> None:
    whole, _ = market.contract(need="accommodation", geography="region-a", areas=("cleveland", "durham", "northumbria"))
    market.referral(whole, area="region-a")
    two, _ = market.contract(need="accommodation", geography="region-a", areas=("durham", "northumbria"))
    refused = market.referral(two, area="region-a", expect=409)
    assert refused.json["rule"] == "contract does not cover the person's area"
    assert refused.json["detail"].startswith("cleveland of region-a is outside")


def standing(*areas: str, lot: LotStatus = LotStatus.APPOINTED) -> SupplierStanding:
    return SupplierStanding(
        supplier_id=uuid4(),
        name="S",
        status=SupplierStatus.ACTIVE,
        lots={"accommodation": lot},
        terms_accepted=True,
        declared_areas=areas,
    )


def test_uncovered_parts_are_named_as_high_up_the_tree_as_they_are_wholly_uncovered() -> None:
    assert geography.uncovered("region-a", ["cleveland", "durham", "northumbria"]) == ()
    assert geography.uncovered("region-a", ["durham"]) == ("cleveland", "northumbria")
    north = [a.code for a in geography.AREAS if a.parent_code == "england" and a.code != "region-g"]
    assert geography.uncovered("england-and-wales", north) == ("region-g", "wales")
    assert geography.uncovered("kent", ["region-k"]) == () and geography.uncovered("kent", ["surrey"]) == ("kent",)


@pytest.mark.parametrize(
    ("areas", "invited"),
    [
        (("region-j",), True),
        (("metropolitan", "city-of-london"), True),
        (("metropolitan",), False),
        (("england",), True),
        (("kent", "surrey", "sussex"), False),
    ],
)
def test_the_rule_covers_london_by_its_parts_or_a_container(areas: tuple[str, ...], invited: bool) -> None:
    basis = invitations.decide(standing(*areas), ("accommodation",), "region-j")
    assert basis is not None and basis.invited is invited


def test_a_supplier_holding_the_lot_neither_appointed_nor_passed_is_not_a_candidate() -> None:
    for lot in (LotStatus.PENDING, LotStatus.FAILED, LotStatus.WITHDRAWN):
        assert invitations.decide(standing("region-j", lot=lot), ("accommodation",), "region-j") is None
