"""Call-off competitions through the API: invitation with its basis, sealed tenders, evaluation, award."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from tests.market import Market
from tests.support import count_events, recorded_payload


@pytest.fixture(scope="module")
def lead(market: Market) -> str:
    return market.commissioner()


def published(market: Market, lead: str, **overrides) -> str:
    call_off = market.draft(lead, **overrides)
    market.post(f"/call-offs/{call_off}/publication", role="commissioner")
    return call_off


def invitation_events(market: Market, call_off: str) -> dict:
    """What the publication event itself recorded (the invited list with its basis, rule and position): the log is
    inspected on purpose, to show the decision keeps its inputs."""
    return recorded_payload(market.url, call_off, "CallOffPublished")


def invited(market: Market, call_off: str) -> set[str]:
    """Who was invited, as the call-off's page says."""
    return {i["supplier_id"] for i in market.get(f"/call-offs/{call_off}")["invitations"] if i["invited"]}


def test_a_call_off_cannot_be_drafted_before_the_user_agreement_is_signed(market: Market) -> None:
    unsigned = market.commissioner("pcc-kent", "kent", sign=False)
    before = count_events(market.url)
    refused = market.draft(unsigned, expect=409)
    assert refused.json["rule"] == "user agreement not signed"
    assert count_events(market.url) == before


def test_criteria_weights_that_do_not_sum_to_100_are_refused(market: Market, lead: str) -> None:
    before = count_events(market.url)
    refused = market.draft(
        lead,
        expect=409,
        criteria=[
            {"name": "quality", "kind": "quality", "weight": 60},
            {"name": "price", "kind": "price", "weight": 30},
        ],
    )
    assert refused.json["rule"] == "evaluation weights must sum to 100"
    assert count_events(market.url) == before


def test_a_need_must_be_a_need_and_a_cohort_a_cohort(market: Market, lead: str) -> None:
    refused = market.draft(lead, expect=422, need="women", cohort="accommodation")
    assert {e["path"] for e in refused.json["errors"]} == {"$.need", "$.cohort"}


def test_an_excluded_supplier_vanishes_from_new_invitations_and_the_catalogue_but_keeps_its_history(
    market: Market, lead: str
) -> None:
    sid = market.supplier("Soon Excluded Homes", areas=("region-a",))
    first = published(market, lead)
    assert sid in invited(market, first)
    eligible = market.get("/catalogue/eligibility", params={"category": "accommodation", "area": "northumbria"})
    assert sid in {e["supplier_id"] for e in eligible["eligible"]}

    market.post(f"/suppliers/{sid}/exclusions", {"grounds": "Grave professional misconduct"})
    second = published(market, lead)
    assert sid not in invited(market, second)
    eligible = market.get("/catalogue/eligibility", params={"category": "accommodation", "area": "northumbria"})
    assert sid not in {e["supplier_id"] for e in eligible["eligible"]}
    assert "supplier is excluded" in next(e for e in eligible["not_eligible"] if e["supplier_id"] == sid)["reasons"]
    # History remains: still listed, lots intact, and the earlier invitation unchanged.
    supplier = market.get(f"/suppliers/{sid}")
    assert supplier["status"] == "excluded" and supplier["lots"][0]["status"] == "appointed"
    assert sid in invited(market, first)


def test_a_supplier_qualified_after_publication_is_not_invited(market: Market, lead: str) -> None:
    call_off = published(market, lead)
    latecomer = market.supplier("Latecomer Homes", areas=("region-a",))
    refused = market.tender(call_off, latecomer, expect=409)
    assert refused.json["rule"] == "supplier not invited to this call-off"


def test_the_response_window_is_at_least_28_days_to_the_second(market: Market, lead: str) -> None:
    exactly = market.draft(lead, response_deadline=(market.clock.now + timedelta(days=28)).isoformat())
    market.post(f"/call-offs/{exactly}/publication")
    short = market.draft(lead, response_deadline=(market.clock.now + timedelta(days=28, seconds=-1)).isoformat())
    before = count_events(market.url)
    refused = market.post(f"/call-offs/{short}/publication", expect=409)
    assert refused.json["rule"] == "response window of at least 28 days"
    assert "short_window_ground" in refused.json["detail"]
    assert count_events(market.url) == before


def test_a_shorter_window_needs_a_ground_and_its_justification_and_never_goes_below_10_days(
    market: Market, lead: str
) -> None:
    at = lambda days: (market.clock.now + timedelta(days=days)).isoformat()  # noqa: E731
    why = "The incumbent provider entered administration; people on licence are without a service"
    text_only = market.draft(lead, expect=422, response_deadline=at(27), short_window_justification=why)
    assert [e["path"] for e in text_only.json["errors"]] == ["$.short_window_ground"]
    ground_only = market.draft(lead, expect=422, response_deadline=at(27), short_window_ground="state_of_urgency")
    assert [e["path"] for e in ground_only.json["errors"]] == ["$.short_window_justification"]
    unknown = market.draft(
        lead, expect=422, response_deadline=at(27), short_window_ground="we are busy", short_window_justification=why
    )
    assert unknown.json["errors"][0]["path"] == "$.short_window_ground"

    grounds = {"short_window_ground": "continuity_of_service", "short_window_justification": why}
    for days in (27, 10):
        justified = market.draft(lead, response_deadline=at(days), **grounds)
        market.post(f"/call-offs/{justified}/publication")
        event = invitation_events(market, justified)
        assert (event["short_window_ground"], event["short_window_justification"]) == ("continuity_of_service", why)
    below_floor = market.draft(lead, response_deadline=at(10 - 1 / 24), **grounds)
    refused = market.post(f"/call-offs/{below_floor}/publication", expect=409)
    assert refused.json["rule"] == "a shortened response window is at least 10 days"


def test_tenders_are_sealed_until_opened_and_late_ones_are_refused(market: Market, lead: str) -> None:
    a = market.supplier("Sealed A", areas=("region-a",))
    b = market.supplier("Sealed B", areas=("region-a",))
    call_off = published(market, lead, title="Sealed bids")
    market.tender(call_off, a, "990000.00")
    market.tender(call_off, a, "950000.00")  # resubmission replaces the first
    market.tender(call_off, b, "1010000.00")

    # Those who may read tenders once opened (the lead commissioner, auditors, FOI officers) cannot before;
    # the bidders and the Authority never can.
    for role in ("commissioner", "auditor", "foi_officer"):
        headers = market.caller("GET", f"/call-offs/{call_off}/tenders", None, role, None, None)
        sealed = market.client.simulate_get(f"/call-offs/{call_off}/tenders", headers=headers)
        assert sealed.status_code == 409 and sealed.json["rule"] == "tenders are sealed until opened"
    for role, org in (("authority", "hmpps-commercial"), ("supplier_bid_manager", a)):
        refused = market.client.simulate_get(f"/call-offs/{call_off}/tenders", headers=market.headers(role, org))
        assert refused.status_code == 403
    record = market.get(f"/call-offs/{call_off}")
    receipts = {r["supplier_id"]: r for r in record["receipts"]}
    assert receipts[a]["submissions"] == 2 and receipts[b]["submissions"] == 1
    assert "950000" not in str(record) and "Our method" not in str(record)
    # A bidder sees its own invitation and receipts, never who else was invited or tendered.
    mine = market.get(f"/call-offs/{call_off}", role="supplier_bid_manager", org=a)
    assert [i["supplier_id"] for i in mine["invitations"]] == [a]
    assert [(r["supplier_id"], r["submissions"]) for r in mine["receipts"]] == [(a, 2)]

    early = market.post(f"/call-offs/{call_off}/tender-opening", expect=409)
    assert early.json["rule"] == "tenders are sealed until the deadline"
    market.clock.advance(days=31)
    late = market.tender(call_off, b, "900000.00", expect=409)
    assert late.json["rule"] == "tender after the deadline"
    market.post(f"/call-offs/{call_off}/tender-opening", role="commissioner")
    opened = market.get(f"/call-offs/{call_off}/tenders")
    prices = {t["supplier_id"]: (t["content"]["price"], t["submission"]) for t in opened["tenders"]}
    assert prices == {a: ("950000.00", 2), b: ("1010000.00", 1)}
    with psycopg.connect(market.url) as conn:
        kept = conn.execute(
            "SELECT count(*) FROM ledger_events WHERE event_type = 'TenderSubmitted' AND state::text <> ''"
            " AND originator_id IN (SELECT originator_id FROM ledger_events WHERE event_type = 'TenderStarted'"
            " AND convert_from(state, 'UTF8')::jsonb ->> 'supplier_id' = %s"
            " AND convert_from(state, 'UTF8')::jsonb ->> 'call_off_id' = %s)",
            (a, call_off),
        ).fetchone()[0]
    assert kept == 2  # both submissions are kept in the history


def test_clarifications_are_published_to_every_invited_supplier(market: Market, lead: str) -> None:
    a = market.supplier("Curious Homes", areas=("region-a",))
    b = market.supplier("Quiet Homes", areas=("region-a",))
    call_off = published(market, lead)
    for supplier, question in ((a, "Is TUPE expected to apply?"), (b, "May we subcontract Durham?")):
        market.post(
            f"/call-offs/{call_off}/clarification-requests",
            {"supplier_id": supplier, "question": question},
            role="supplier_bid_manager",
        )
    # The commissioner finds the questions to answer on the call-off's page; a supplier sees only its own.
    asked = market.get(f"/call-offs/{call_off}", role="commissioner")["questions"]
    assert [(q["supplier_id"], q["question"], q["answered_at"]) for q in asked] == [
        (a, "Is TUPE expected to apply?", None),
        (b, "May we subcontract Durham?", None),
    ]
    own = market.get(f"/call-offs/{call_off}", role="supplier_bid_manager", org=b)["questions"]
    assert [q["question"] for q in own] == ["May we subcontract Durham?"]
    market.post(
        f"/call-offs/{call_off}/clarifications",
        {
            "question": "Is TUPE expected to apply?",
            "answer": "No staff transfer is expected.",
            "question_id": asked[0]["question_id"],
        },
        role="commissioner",
    )
    for reader in (a, b):  # every invited supplier reads the published answer
        page = market.get(f"/call-offs/{call_off}", role="supplier_bid_manager", org=reader)
        assert [(c["question"], c["answer"]) for c in page["clarifications"]] == [
            ("Is TUPE expected to apply?", "No staff transfer is expected.")
        ]
    answered = market.get(f"/call-offs/{call_off}", role="commissioner")["questions"]
    assert [q["answered_at"] is not None for q in answered] == [True, False]
    with psycopg.connect(market.url) as conn:
        (payload,) = conn.execute(
            "SELECT convert_from(state, 'UTF8')::jsonb FROM ledger_events"
            " WHERE originator_id = %s AND event_type = 'ClarificationPublished'",
            (call_off,),
        ).fetchone()
    assert set(payload["recipients"]) == invited(market, call_off)
    outsider = market.supplier("Outsider Homes", areas=("region-b",))
    refused = market.post(
        f"/call-offs/{call_off}/clarification-requests",
        {"supplier_id": outsider, "question": "Can we bid?"},
        expect=409,
    )
    assert refused.json["rule"] == "supplier not invited to this call-off"


def run_to_evaluation(market: Market, lead: str, bidders: dict[str, str], **draft) -> str:
    call_off = published(market, lead, **draft)
    for supplier, price in bidders.items():
        market.tender(call_off, supplier, price)
    market.clock.advance(days=31)
    market.post(f"/call-offs/{call_off}/tender-opening", role="commissioner")
    return call_off


def test_evaluation_ranks_by_weighted_moderated_scores_and_an_award_off_the_ranking_needs_a_reason(
    market: Market, lead: str
) -> None:
    best = market.supplier("Best Value Homes", areas=("region-a",))
    second = market.supplier("Second Homes", areas=("region-a",))
    call_off = run_to_evaluation(market, lead, {best: "1000000.00", second: "900000.00"})
    market.score(call_off, best, quality=80, price=60, social=70)  # 48 + 18 + 7 = 73
    incomplete = market.post(f"/call-offs/{call_off}/evaluation", expect=409)
    assert incomplete.json["rule"] == "every tender needs moderated scores"
    missing = market.post(
        f"/call-offs/{call_off}/scores",
        {"supplier_id": second, "scores": {"quality": "70"}, "comments": "Partial"},
        expect=422,
        role="commissioner",
    )
    assert {e["path"] for e in missing.json["errors"]} == {"$.scores.price", "$.scores.social value"}
    market.score(call_off, second, quality=70, price=80, social=50)  # 42 + 24 + 5 = 71
    market.post(f"/call-offs/{call_off}/evaluation", role="commissioner")
    # The commissioner reads the ranking before deciding the award (in the call-off's decision record).
    record = market.get(f"/foi/call-offs/{call_off}/decision-record", role="commissioner")
    ranking = record["evaluation"]["ranking"]["ranked"]
    assert [(r["rank"], r["supplier_id"], r["weighted_score"]) for r in ranking] == [
        (1, best, "73.00"),
        (2, second, "71.00"),
    ]
    before = count_events(market.url)
    refused = market.post(
        f"/call-offs/{call_off}/award", {"supplier_id": second, "rationale": "Cheaper"}, expect=409, role="commissioner"
    )
    assert refused.json["rule"] == "departure from the ranking needs a reason"
    assert count_events(market.url) == before
    market.post(
        f"/call-offs/{call_off}/award",
        {
            "supplier_id": second,
            "rationale": "Strong local delivery",
            "departure_reason": "Top-ranked bidder failed the financial standing check",
        },
        role="commissioner",
    )
    record = market.get(f"/call-offs/{call_off}")
    assert record["status"] == "standstill" and record["awarded_supplier_id"] == second


def test_standstill_runs_ten_days_before_the_contract_is_concluded(market: Market, lead: str) -> None:
    winner = market.supplier("Winner Homes", areas=("region-a",))
    call_off = run_to_evaluation(market, lead, {winner: "1100000.00"})
    market.score(call_off, winner, quality=75, price=70, social=60)
    market.post(f"/call-offs/{call_off}/evaluation")
    market.post(f"/call-offs/{call_off}/award", {"supplier_id": winner, "rationale": "Only compliant tender"})
    contract = {
        "value": "1100000.00",
        "start_date": "2026-10-01",
        "end_date": "2029-09-30",
        "mobilisation_date": "2026-04-01",
        "kpis": [{"name": "Accommodation on release", "target": "85% housed on day 1"}],
        "subcontractors": [{"name": "Local Mentoring CIC", "role": "peer mentoring"}],
        "eligibility": {"gender": "any", "min_age": 18},
    }
    market.clock.advance(days=9)
    early = market.post(f"/call-offs/{call_off}/contract", contract, expect=409)
    assert early.json["rule"] == "standstill period not over"
    market.clock.advance(days=1, seconds=1)
    created = market.post(f"/call-offs/{call_off}/contract", contract, expect=201)
    contract_id = created.json["id"]
    assert created.headers["location"] == f"/contracts/{contract_id}"
    record = market.get(f"/contracts/{contract_id}", params={"as_of": "2027-01-01"})
    assert record["supplier_id"] == winner and record["value"] == "1100000.00"
    assert record["regions"] == ["region-a"] and record["areas"] == ["northumbria"] and record["live"] is True
    assert record["extension_options"] == [12, 12]
    assert market.get(f"/call-offs/{call_off}")["status"] == "awarded"
    live = market.get("/catalogue/contracts", params={"region": "region-a", "as_of": "2027-01-01"})
    assert contract_id in {c["id"] for c in live["items"]}
    assert contract_id not in {
        c["id"] for c in market.get("/catalogue/contracts", params={"region": "region-b"})["items"]
    }

    # Variations, extensions and termination, each with its reason.
    market.post(f"/contracts/{contract_id}/variations", {"new_value": "1250000.00", "reason": "Added Cumbria caseload"})
    market.post(f"/contracts/{contract_id}/extensions", {"months": 12, "reason": "Performing well"})
    wrong = market.post(f"/contracts/{contract_id}/extensions", {"months": 6, "reason": "Short"}, expect=409)
    assert wrong.json["rule"] == "extension must use an option of the contract"
    varied = market.get(f"/contracts/{contract_id}")
    assert (
        varied["value"] == "1250000.00" and varied["end_date"] == "2030-09-30" and varied["extension_options"] == [12]
    )
    market.post(
        f"/contracts/{contract_id}/termination", {"grounds": "Persistent KPI failure", "effective_date": "2028-01-01"}
    )
    assert market.get(f"/contracts/{contract_id}", params={"as_of": "2028-01-02"})["live"] is False
    assert market.get(f"/contracts/{contract_id}", params={"as_of": "2027-12-31"})["live"] is True
    ended = market.post(f"/contracts/{contract_id}/variations", {"new_value": "1.00", "reason": "x" * 5}, expect=409)
    assert ended.json["rule"] == "contract terminated"


def test_bafo_narrows_the_competition_to_named_suppliers(market: Market, lead: str) -> None:
    a = market.supplier("Bafo A", areas=("region-a",))
    b = market.supplier("Bafo B", areas=("region-a",))
    c = market.supplier("Bafo C", areas=("region-a",))
    call_off = run_to_evaluation(market, lead, {a: "1000000.00", b: "1000000.00"}, bafo_stage=True)
    not_tendered = market.post(
        f"/call-offs/{call_off}/bafo",
        {"supplier_ids": [a, c], "deadline": market.clock.now.isoformat(), "reason": "Close scores"},
        expect=409,
    )
    assert not_tendered.json["rule"] == "BAFO only for suppliers who tendered"
    too_soon = (market.clock.now + timedelta(days=10, seconds=-1)).isoformat()
    short = market.post(
        f"/call-offs/{call_off}/bafo", {"supplier_ids": [a], "deadline": too_soon, "reason": "Close scores"}, expect=409
    )
    assert short.json["rule"] == "BAFO response window of at least 10 days"
    deadline = (market.clock.now + timedelta(days=10)).isoformat()
    market.post(f"/call-offs/{call_off}/bafo", {"supplier_ids": [a], "deadline": deadline, "reason": "Close scores"})
    market.tender(call_off, a, "930000.00")
    refused = market.tender(call_off, b, "920000.00", expect=409)
    assert refused.json["rule"] == "supplier not invited to this call-off"
    sealed = market.client.simulate_get(f"/call-offs/{call_off}/tenders", headers=market.headers("auditor"))
    assert sealed.status_code == 409
    market.clock.advance(days=11)
    market.post(f"/call-offs/{call_off}/tender-opening")
    opened = market.get(f"/call-offs/{call_off}/tenders")
    assert [(t["supplier_id"], t["stage"], t["content"]["price"]) for t in opened["tenders"]] == [
        (a, "bafo", "930000.00")
    ]


def test_cancellation_and_no_award_need_reasons_and_close_the_call_off(market: Market, lead: str) -> None:
    draft = market.draft(lead)
    no_award_on_draft = market.post(
        f"/call-offs/{draft}/cancellation", {"reason": "Budget", "no_award": True}, expect=409
    )
    assert no_award_on_draft.json["rule"] == "no award only after publication"
    market.post(f"/call-offs/{draft}/cancellation", {"reason": "Budget withdrawn"})
    assert market.get(f"/call-offs/{draft}")["status"] == "cancelled"
    market.post(f"/call-offs/{draft}/cancellation", {"reason": "Again"}, expect=409)
    open_one = published(market, lead)
    market.post(f"/call-offs/{open_one}/cancellation", {"reason": "No compliant bids", "no_award": True})
    record = market.get(f"/call-offs/{open_one}")
    assert record["status"] == "no_award" and record["closed_reason"] == "No compliant bids"
    missing = market.post(f"/call-offs/{open_one}/cancellation", {}, expect=422)
    assert missing.json["errors"][0]["path"] == "$.reason"
    pipeline = market.get("/catalogue/pipeline")
    assert pipeline["counts"]["cancelled"] >= 1 and pipeline["counts"]["no_award"] >= 1
    assert market.get("/call-offs", params={"status": "cancelled"})["items"][0]["status"] == "cancelled"


def test_the_worker_opens_tenders_by_an_event_at_the_deadline(market: Market, lead: str) -> None:
    from api.scheduler import Scheduler

    bidder = market.supplier("Punctual Homes", areas=("region-a",))
    call_off = published(market, lead, title="Opened by the clock")
    market.tender(call_off, bidder, "999000.00")
    scheduler = Scheduler(market.url, market.app.services.ledger)
    try:
        market.get(f"/call-offs/{call_off}")  # the view has caught up with the tender
        scheduler()  # earlier call-offs may be due; this one is not
        sealed = market.client.simulate_get(f"/call-offs/{call_off}/tenders", headers=market.headers("auditor"))
        assert sealed.status_code == 409
        market.clock.advance(days=31)
        assert scheduler() >= 1
    finally:
        scheduler.close()
    with psycopg.connect(market.url) as conn:
        actor, reason = conn.execute(
            "SELECT actor_id, reason FROM ledger_events WHERE originator_id = %s AND event_type = 'TendersOpened'",
            (call_off,),
        ).fetchone()
    assert (actor, reason) == ("system:ledger", "the response deadline passed")
    opened = market.client.simulate_get(f"/call-offs/{call_off}/tenders", headers=market.headers("auditor"))
    assert opened.status_code == 200 and opened.json["tenders"][0]["content"]["price"] == "999000.00"


def test_joint_commissioning_needs_every_partner_to_have_signed(market: Market, lead: str) -> None:
    signed_partner = market.commissioner("pcc-northumbria", "northumbria")
    unsigned_partner = market.commissioner("durham-council", "durham", sign=False)
    refused = market.draft(lead, expect=409, partner_commissioner_ids=[signed_partner, unsigned_partner])
    assert refused.json["rule"] == "user agreement not signed"
    joint = market.draft(lead, partner_commissioner_ids=[signed_partner])
    record = market.get(f"/call-offs/{joint}")
    assert record["lead_commissioner_id"] == lead and record["partner_commissioner_ids"] == [signed_partner]
    mine = market.get("/call-offs", params={"commissioner_id": signed_partner})
    assert joint in {c["id"] for c in mine["items"]}
