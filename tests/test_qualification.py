"""Joining the framework: questionnaires by lot, written assessment, terms, lot changes, sanctions."""

from __future__ import annotations

import psycopg

from tests.market import Market
from tests.support import count_events, unique_legal_id


def lots_of(market: Market, sid: str) -> dict[str, str]:
    return {lot["category"]: lot["status"] for lot in market.get(f"/suppliers/{sid}")["lots"]}


def test_passing_a_lot_appoints_the_supplier_only_once_the_terms_are_accepted(market: Market) -> None:
    sid = market.supplier("Tyneside Homes", lots=("accommodation", "ete"), accept_terms=False)
    assert lots_of(market, sid) == {"accommodation": "passed", "ete": "passed"}
    market.post(f"/suppliers/{sid}/terms-acceptances", {}, role="supplier_bid_manager", org=sid)
    supplier = market.get(f"/suppliers/{sid}")
    assert {lot["category"]: lot["status"] for lot in supplier["lots"]} == {
        "accommodation": "appointed",
        "ete": "appointed",
    }
    assert supplier["terms_version"] == "PSDF-2021-1"
    assert supplier["declared_areas"] == ["region-a"]


def test_each_lot_is_assessed_pass_or_fail_with_a_reason_and_a_named_assessor(market: Market) -> None:
    sid = market.post(
        "/suppliers",
        {
            "name": "Two Lots Trust",
            "legal_identifier": unique_legal_id(),
            "organisation_type": "private",
            "is_small": False,
        },
        expect=201,
    ).json["id"]
    qid = market.questionnaire(sid, ("fbd", "women"), ("england",))
    market.post(f"/suppliers/{sid}/terms-acceptances", {}, role="supplier_bid_manager", org=sid)
    market.assess(sid, qid, "fbd", "pass")
    market.assess(sid, qid, "women", "fail")
    assert lots_of(market, sid) == {"fbd": "appointed", "women": "failed"}
    with psycopg.connect(market.url) as conn:
        assessor, payload = conn.execute(
            "SELECT actor_id, convert_from(state, 'UTF8')::jsonb FROM ledger_events"
            " WHERE originator_id = %s AND event_type = 'LotAssessed' ORDER BY notification_id",
            (sid,),
        ).fetchall()[-1]
    assert assessor == "assessor-jane"
    assert payload["assessor_id"] == "assessor-jane" and payload["outcome"] == "fail" and payload["reason"]


def test_an_assessment_without_a_reason_is_refused_and_writes_nothing(market: Market) -> None:
    sid = market.post(
        "/suppliers",
        {
            "name": "No Reason Ltd",
            "legal_identifier": unique_legal_id(),
            "organisation_type": "private",
            "is_small": True,
        },
        expect=201,
    ).json["id"]
    qid = market.questionnaire(sid, ("ete",), ("region-b",))
    before = count_events(market.url)
    result = market.post(
        f"/suppliers/{sid}/questionnaires/{qid}/assessments", {"category": "ete", "outcome": "pass"}, expect=422
    )
    assert [e["path"] for e in result.json["errors"]] == ["$.reason"]
    wrong_lot = market.assess(sid, qid, "fbd", "pass", expect=409)
    assert wrong_lot.json["rule"] == "lot not awaiting assessment"
    assert count_events(market.url) == before


def test_a_questionnaire_needs_evidence_for_each_lot_and_known_areas(market: Market) -> None:
    sid = market.post(
        "/suppliers",
        {
            "name": "Thin Evidence CIC",
            "legal_identifier": unique_legal_id(),
            "organisation_type": "voluntary",
            "is_small": True,
        },
        expect=201,
    ).json["id"]
    result = market.post(
        f"/suppliers/{sid}/questionnaires",
        {"lots": [{"category": "ete", "case_studies": []}], "declared_areas": ["atlantis"]},
        expect=422,
        role="supplier_bid_manager",
    )
    assert "$.lots[0].case_studies" in {e["path"] for e in result.json["errors"]}
    unknown_area = market.post(
        f"/suppliers/{sid}/questionnaires",
        {
            "lots": [{"category": "ete", "case_studies": [{"title": "t", "summary": "s"}]}],
            "declared_areas": ["atlantis"],
        },
        expect=422,
    )
    assert unknown_area.json["errors"][0]["path"] == "$.declared_areas"


def test_adding_a_lot_needs_a_new_questionnaire_and_a_held_lot_cannot_be_applied_for_again(market: Market) -> None:
    sid = market.supplier("Growing Trust", lots=("accommodation",))
    market.questionnaire(sid, ("accommodation",), ("region-a",), expect=409)
    qid = market.questionnaire(sid, ("ete",), ("region-a", "region-b"))
    assert lots_of(market, sid) == {"accommodation": "appointed", "ete": "pending"}
    market.assess(sid, qid, "ete", "pass")
    assert lots_of(market, sid) == {"accommodation": "appointed", "ete": "appointed"}


def test_withdrawing_from_a_lot_and_changing_areas_by_notice(market: Market) -> None:
    sid = market.supplier("Shrinking Trust", lots=("accommodation", "ete"), areas=("region-a",))
    market.post(
        f"/suppliers/{sid}/lot-withdrawals",
        {"category": "ete", "reason": "Service closing"},
        role="supplier_bid_manager",
    )
    market.post(
        f"/suppliers/{sid}/declared-areas",
        {"declared_areas": ["region-a", "region-c"], "notice": "Opened a Leeds office"},
        method="PUT",
        role="supplier_bid_manager",
    )
    supplier = market.get(f"/suppliers/{sid}")
    assert {lot["category"]: lot["status"] for lot in supplier["lots"]} == {
        "accommodation": "appointed",
        "ete": "withdrawn",
    }
    assert supplier["declared_areas"] == ["region-a", "region-c"]
    again = market.post(f"/suppliers/{sid}/lot-withdrawals", {"category": "ete", "reason": "Again"}, expect=409)
    assert again.json["rule"] == "lot not held"


def test_suspension_exclusion_and_reinstatement_each_need_grounds_and_a_valid_transition(market: Market) -> None:
    sid = market.supplier("Troubled Trust")
    market.post(f"/suppliers/{sid}/suspensions", {"grounds": "Safeguarding investigation opened"})
    assert market.get(f"/suppliers/{sid}")["status"] == "suspended"
    refused = market.post(f"/suppliers/{sid}/suspensions", {"grounds": "Again"}, expect=409)
    assert refused.json["rule"] == "cannot suspend a supplier who is suspended"
    market.post(f"/suppliers/{sid}/exclusions", {"grounds": "Mandatory exclusion: fraud conviction"})
    excluded = market.get(f"/suppliers/{sid}")
    assert excluded["status"] == "excluded" and excluded["status_grounds"].startswith("Mandatory")
    market.questionnaire(sid, ("ete",), ("region-a",), expect=409)
    market.post(f"/suppliers/{sid}/reinstatements", {"grounds": "Conviction quashed on appeal"})
    assert market.get(f"/suppliers/{sid}")["status"] == "active"
    no_grounds = market.post(f"/suppliers/{sid}/suspensions", {}, expect=422)
    assert no_grounds.json["errors"][0]["path"] == "$.grounds"


def test_a_supplier_can_apply_at_any_time_during_the_framework_term_but_not_after_it(market: Market) -> None:
    sid = market.post(
        "/suppliers",
        {
            "name": "Late Applicant",
            "legal_identifier": unique_legal_id(),
            "organisation_type": "private",
            "is_small": True,
        },
        expect=201,
    ).json["id"]
    market.clock.advance(days=365 * 2 + 120)  # June 2028: the seven-year term has ended
    refused = market.post(
        f"/suppliers/{sid}/questionnaires",
        {
            "lots": [{"category": "ete", "case_studies": [{"title": "t", "summary": "s"}]}],
            "declared_areas": ["region-a"],
        },
        expect=409,
    )
    assert refused.json["rule"] == "applications only during the framework term"
