"""FOI decision records through the API: a call-off's and a supplier's decisions, as known at a horizon."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import psycopg
import pytest

from ledger import json_pointer
from ledger.audit import decisions
from ledger.envelope import Actor, make_envelope
from ledger.procurement.call_offs import SubmitTender, TenderContent, submit_tender
from tests.market import Market

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def competition(market: Market) -> dict:
    """A whole competition: who was and was not invited, a clarification, a resubmission, two evaluators,
    moderation, an award, standstill, a contract and a variation; one bidder's name is markup."""
    lead = market.commissioner()
    partner = market.commissioner("pcc-northumbria", "northumbria")
    winner = market.supplier("Tyne Housing Trust", areas=("region-a",))
    loser = market.supplier(SCRIPT, areas=("region-a",))
    elsewhere = market.supplier("Mersey Homes", areas=("region-b",))
    paused = market.supplier("Paused Homes", areas=("region-a",))
    market.post(f"/suppliers/{paused}/suspensions", {"grounds": "Investigation into safeguarding"})
    call_off = market.draft(lead, partner_commissioner_ids=[partner], title="Accommodation, Tyneside")
    published = market.post(f"/call-offs/{call_off}/publication").json["position"]
    latecomer = market.supplier("Latecomer Homes", areas=("region-a",))
    market.post(f"/suppliers/{winner}", {"name": "Tyne Housing Group"}, method="PATCH")
    market.post(
        f"/call-offs/{call_off}/clarification-requests",
        {"supplier_id": loser, "question": "Is TUPE expected to apply?"},
        role="supplier_bid_manager",
    )
    market.post(
        f"/call-offs/{call_off}/clarifications",
        {"question": "Is TUPE expected to apply?", "answer": "No staff transfer is expected."},
    )
    market.tender(call_off, winner, "990000.00")
    market.tender(call_off, winner, "950000.00")
    market.tender(call_off, loser, "1010000.00")
    market.clock.advance(days=31)
    opened = market.post(f"/call-offs/{call_off}/tender-opening", sub="opener-1").json["position"]
    market.score(call_off, winner, quality=80, price=60, social=70)  # 48 + 18 + 7 = 73
    market.score(call_off, loser, quality=60, price=80, social=50)  # 36 + 24 + 5 = 65
    market.post(f"/call-offs/{call_off}/evaluation")
    awarded = market.post(
        f"/call-offs/{call_off}/award", {"supplier_id": winner, "rationale": "Highest weighted score"}
    ).json["position"]
    market.clock.advance(days=10, seconds=1)
    contract = market.post(
        f"/call-offs/{call_off}/contract",
        {"value": "900000.00", "start_date": "2026-10-01", "end_date": "2029-09-30"},
        expect=201,
    ).json["id"]
    market.post(f"/contracts/{contract}/variations", {"new_value": "950000.00", "reason": "Added Durham caseload"})
    return {
        "call_off": call_off,
        "winner": winner,
        "loser": loser,
        "elsewhere": elsewhere,
        "paused": paused,
        "latecomer": latecomer,
        "contract": contract,
        "published": published,
        "opened": opened,
        "awarded": awarded,
    }


def answer(market: Market, path: str, *, expect: int = 200, **params: object) -> dict:
    """The JSON a GET answers: the document, or the problem (problem+json)."""
    found = market.get(path, params=params, expect=expect)
    return found if isinstance(found, dict) else json.loads(found)


def record(market: Market, call_off: str, *, expect: int = 200, **horizon: object) -> dict:
    return answer(market, f"/foi/call-offs/{call_off}/decision-record", expect=expect, **horizon)


def test_eligibility_is_the_basis_recorded_at_publication_with_names_as_they_were_then(
    market: Market, competition: dict
) -> None:
    found = record(market, competition["call_off"])
    eligibility = found["eligibility"]
    assert eligibility["rule"] == "invite-all-appointed-active-covering-v2"
    assert eligibility["published"]["position"] == competition["published"]
    assert eligibility["as_of_position"] < competition["published"]
    considered = {c["supplier_id"]: c for c in eligibility["considered"]}
    winner, elsewhere, paused = (considered[competition[k]] for k in ("winner", "elsewhere", "paused"))
    # Renamed after publication: the record keeps the name the ledger had then.
    assert (winner["supplier_name"], winner["invited"]) == ("Tyne Housing Trust", True)
    assert winner["reasons"] == ["appointed to the accommodation lot", "declared area region-a covers northumbria"]
    assert elsewhere["invited"] is False
    assert "no declared area covers northumbria (declared: region-b)" in elsewhere["reasons"]
    assert paused["invited"] is False and "supplier is suspended" in paused["reasons"]
    assert competition["latecomer"] not in considered  # appointed after publication: never considered
    invited = {p["id"]: p["name"] for p in eligibility["invited"]}
    assert invited[competition["winner"]] == "Tyne Housing Trust" and invited[competition["loser"]] == SCRIPT
    assert competition["paused"] not in invited and competition["elsewhere"] not in invited

    details = found["call_off"]
    assert details["title"] == "Accommodation, Tyneside" and details["lots"] == ["accommodation"]
    assert details["geography"] == "northumbria" and details["estimated_value"] == "1200000.00"
    assert [(c["name"], c["weight"]) for c in details["criteria"]] == [
        ("quality", 60),
        ("price", 30),
        ("social value", 10),
    ]
    assert details["lead_commissioner"]["name"] == "Commissioner region-a"
    assert [p["name"] for p in details["partner_commissioners"]] == ["Commissioner pcc-northumbria"]
    assert found["clarifications"][0]["question"] == "Is TUPE expected to apply?"
    assert found["clarifications"][0]["answer"] == "No staff transfer is expected."


def test_tenders_evaluation_award_and_contract_each_name_the_event_that_made_them(
    market: Market, competition: dict
) -> None:
    found = record(market, competition["call_off"])
    assert found["status"] == "awarded"
    (initial,) = found["tenders"]
    assert (initial["stage"], initial["received"]) == ("initial", 2)
    assert initial["opened"]["position"] == competition["opened"] and initial["opened"]["actor_id"] == "opener-1"
    receipts = {r["supplier_id"]: r for r in initial["receipts"]}
    winner, loser = receipts[competition["winner"]], receipts[competition["loser"]]
    assert [s["number"] for s in winner["submissions"]] == [1, 2] and winner["resubmissions"] == 1
    assert winner["content"]["price"] == "950000.00"  # the submission that counted
    assert loser["content"]["method_statement"] == "Our method (1010000.00)" and loser["resubmissions"] == 0
    assert all(s["position"] < competition["opened"] for r in initial["receipts"] for s in r["submissions"])

    evaluation = found["evaluation"]
    assert sorted((s["evaluator_id"], s["supplier_name"]) for s in evaluation["scores"]) == sorted(
        (e, n) for e in ("evaluator-1", "evaluator-2") for n in ("Tyne Housing Trust", SCRIPT)
    )
    assert {s["comments"] for s in evaluation["scores"]} == {"Clear and credible."}
    assert {m["rationale"] for m in evaluation["moderated"]} == {"Evaluators agreed."}
    ranking = evaluation["ranking"]
    assert ranking["rule"] == "weighted-moderated-scores-v1"
    assert ranking["weights"] == {"quality": 60, "price": 30, "social value": 10}
    assert [(r["rank"], r["supplier_id"], r["weighted_score"]) for r in ranking["ranked"]] == [
        (1, competition["winner"], "73.00"),
        (2, competition["loser"], "65.00"),
    ]

    award = found["award"]
    assert award["supplier"] == {"id": competition["winner"], "name": "Tyne Housing Trust"}
    assert award["rationale"] == "Highest weighted score" and award["departure_reason"] is None
    assert award["departed_from_ranking"] is False and award["top_ranked"]["id"] == competition["winner"]
    assert award["decided"]["position"] == competition["awarded"]
    decided_at = datetime.fromisoformat(award["decided"]["recorded_at"])
    assert datetime.fromisoformat(award["standstill_ends"]) == decided_at + timedelta(days=10)

    contract = found["contract"]
    assert contract["contract_id"] == competition["contract"] and contract["value"] == "900000.00"
    assert (contract["start_date"], contract["end_date"]) == ("2026-10-01", "2029-09-30")
    assert [(c["type"], c["new_value"], c["reason"]) for c in contract["changes"]] == [
        ("ContractVaried", "950000.00", "Added Durham caseload")
    ]
    assert found["closure"] is None

    timeline = found["timeline"]
    positions = [e["position"] for e in timeline]
    assert positions == sorted(positions) and positions[-1] == found["read_up_to"]
    assert {e["stream"] for e in timeline} == {"call_off", "tender", "contract"}
    submitted = [e for e in timeline if e["type"] == "TenderSubmitted"]
    assert len(submitted) == 3 and {e["actor_role"] for e in submitted} == {"supplier_bid_manager"}
    award_entry = next(e for e in timeline if e["type"] == "AwardDecided")
    assert award_entry["reason"] == "Highest weighted score" and award_entry["actor_role"] == "commissioner"


def test_before_opening_the_record_holds_receipts_but_never_tender_content(market: Market, competition: dict) -> None:
    before = record(market, competition["call_off"], at_position=competition["opened"] - 1)
    assert before["status"] == "open" and before["horizon"]["position"] == competition["opened"] - 1
    (initial,) = before["tenders"]
    assert initial["received"] == 2 and initial["opened"] is None
    assert [r["content"] for r in initial["receipts"]] == [None, None]
    assert before["evaluation"] == {"scores": [], "moderated": [], "ranking": None}
    assert before["award"] is None and before["contract"] is None
    text = json.dumps(before)
    assert "950000.00" not in text and "Our method" not in text

    draft = record(market, competition["call_off"], at_position=competition["published"] - 1)
    assert draft["status"] == "draft" and draft["eligibility"] is None and draft["tenders"] == []
    drafted = draft["call_off"]["drafted"]["position"]
    assert record(market, competition["call_off"], at_position=drafted - 1, expect=404)["status"] == 404
    # The market's clock started on 2 March 2026: the day before, the ledger knew nothing of the call-off.
    assert record(market, competition["call_off"], as_recorded="2026-03-01", expect=404)["status"] == 404
    refused = record(market, competition["call_off"], as_effective="2026-02-30", expect=422)
    assert refused["errors"][0]["path"] == "as_effective"


def test_the_record_names_the_signed_checkpoint_covering_what_it_read(market: Market, competition: dict) -> None:
    assert record(market, competition["call_off"])["checkpoint"] is None  # nothing signed yet
    signed = market.client.simulate_post("/audit/checkpoints", headers=market.headers("auditor")).json
    found = record(market, competition["call_off"])
    assert found["checkpoint"]["tree_size"] == signed["tree_size"]
    assert found["checkpoint"]["root"] == signed["root"]
    proof = market.get(
        f"/audit/events/{found['read_up_to']}/inclusion-proof",
        params={"tree_size": found["checkpoint"]["tree_size"]},
        role="auditor",
    )
    assert proof["root"] == found["checkpoint"]["root"]


def test_an_award_off_the_ranking_shows_its_departure_reason_beside_the_top_ranked_supplier(market: Market) -> None:
    lead = market.commissioner()
    top = market.supplier("Top Ranked Homes", areas=("region-a",))
    chosen = market.supplier("Chosen Homes", areas=("region-a",))
    call_off = market.draft(lead)
    market.post(f"/call-offs/{call_off}/publication")
    market.tender(call_off, top, "990000.00")
    market.tender(call_off, chosen, "980000.00")
    market.clock.advance(days=31)
    market.post(f"/call-offs/{call_off}/tender-opening")
    market.score(call_off, top, quality=80, price=60, social=70)
    market.score(call_off, chosen, quality=60, price=80, social=50)
    market.post(f"/call-offs/{call_off}/evaluation")
    departure = "The top-ranked bidder failed the financial standing check"
    market.post(
        f"/call-offs/{call_off}/award",
        {"supplier_id": chosen, "rationale": "Compliant and affordable", "departure_reason": departure},
    )
    award = record(market, call_off)["award"]
    assert award["departed_from_ranking"] is True and award["departure_reason"] == departure
    assert award["top_ranked"] == {"id": top, "name": "Top Ranked Homes"}
    assert award["supplier"] == {"id": chosen, "name": "Chosen Homes"}


def test_a_call_off_closed_without_award_records_the_reason_and_the_stage(market: Market) -> None:
    lead = market.commissioner()
    call_off = market.draft(lead)
    market.post(f"/call-offs/{call_off}/publication")
    closed = market.post(f"/call-offs/{call_off}/cancellation", {"reason": "No compliant bids", "no_award": True})
    found = record(market, call_off)
    assert found["status"] == "no_award" and found["award"] is None
    assert found["closure"]["outcome"] == "no_award" and found["closure"]["reason"] == "No compliant bids"
    assert found["closure"]["stage"] == "open" and found["closure"]["closed"]["position"] == closed.json["position"]


def test_a_record_reads_the_log_as_it_stood_when_reading_began(market: Market) -> None:
    """Tenders that arrive while a record is being read belong to a later record, not half to this one."""
    lead = market.commissioner()
    bidders = [market.supplier(name, areas=("region-a",)) for name in ("Early Homes", "Prompt Homes")]
    call_off = market.draft(lead)
    market.post(f"/call-offs/{call_off}/publication")
    for bidder in bidders:
        market.tender(call_off, bidder)
    ledger = market.app.services.ledger
    head = ledger.head()

    def resubmit_while_reading(done: int, total: int) -> None:
        if done == 1:
            for bidder in bidders:
                actor = Actor(id="late-bidder", role="supplier_bid_manager", organisation_id=bidder)
                submit_tender(
                    ledger,
                    make_envelope(actor, recorded_at=market.clock.now),
                    UUID(call_off),
                    SubmitTender(
                        supplier_id=UUID(bidder),
                        content=TenderContent(price=Decimal("1.00"), method_statement="A late change"),
                    ),
                )

    with psycopg.connect(market.url, autocommit=True) as conn:
        found = decisions.call_off_record(ledger, conn, UUID(call_off), progress=resubmit_while_reading)
    assert found.read_up_to == head
    assert [len(r.submissions) for r in found.tenders[0].receipts] == [1, 1]
    assert ledger.head() == head + 2


def test_the_qualification_record_holds_each_decision_with_its_reason_and_assessor(market: Market) -> None:
    sid = market.post(
        "/suppliers",
        {"name": "Durham Pathways", "legal_identifier": "QR" + uuid.uuid4().hex[:8], "organisation_type": "mutual"}
        | {"is_small": False},
        expect=201,
    ).json["id"]
    qid = market.questionnaire(sid, ("accommodation", "ete"), ("durham",))
    market.assess(sid, qid, "accommodation", "pass")
    market.assess(sid, qid, "ete", "fail")
    market.post(f"/suppliers/{sid}/terms-acceptances", {}, role="supplier_bid_manager", org=sid)
    market.post(
        f"/suppliers/{sid}/declared-areas",
        {"declared_areas": ["region-a"], "notice": "Now serving the whole North East"},
        method="PUT",
        role="supplier_bid_manager",
        org=sid,
    )
    suspended = market.post(f"/suppliers/{sid}/suspensions", {"grounds": "Unpaid subcontractors"}).json["position"]
    market.post(f"/suppliers/{sid}/reinstatements", {"grounds": "Subcontractors paid in full"})

    found = market.get(f"/foi/suppliers/{sid}/qualification-record")
    assert found["registration"]["name"] == "Durham Pathways" and found["status"] == "active"
    (questionnaire,) = found["questionnaires"]
    assert questionnaire["questionnaire_id"] == qid and questionnaire["declared_areas"] == ["durham"]
    assert {lot["category"]: lot["case_studies"] for lot in questionnaire["lots"]} == {
        "accommodation": ["accommodation case"],
        "ete": ["ete case"],
    }
    assessed = {(a["category"], a["outcome"], a["reason"], a["assessor_id"]) for a in found["assessments"]}
    assert assessed == {
        ("accommodation", "pass", "evidence meets the bar", "assessor-jane"),
        ("ete", "fail", "evidence misses the bar", "assessor-jane"),
    }
    assert [a["category"] for a in found["appointments"]] == ["accommodation"]
    assert found["terms_acceptances"][0]["terms_version"]
    assert found["area_changes"][0]["notice"] == "Now serving the whole North East"
    assert [(s["kind"], s["grounds"]) for s in found["sanctions"]] == [
        ("suspension", "Unpaid subcontractors"),
        ("reinstatement", "Subcontractors paid in full"),
    ]
    assert {lot["category"]: lot["status"] for lot in found["lots"]} == {"accommodation": "appointed", "ete": "failed"}

    then = market.get(f"/foi/suppliers/{sid}/qualification-record", params={"at_position": suspended})
    assert then["status"] == "suspended" and [s["kind"] for s in then["sanctions"]] == ["suspension"]


def test_unknown_ids_answer_404(market: Market, competition: dict) -> None:
    unknown = str(uuid.uuid4())
    assert record(market, unknown, expect=404)["status"] == 404
    assert record(market, competition["winner"], expect=404)["status"] == 404  # a supplier is not a call-off
    assert record(market, "not-a-uuid", expect=404)["status"] == 404
    wrong = answer(market, f"/foi/suppliers/{competition['call_off']}/qualification-record", expect=404)
    assert wrong["status"] == 404


def test_the_html_record_is_self_contained_and_escapes_every_value(market: Market, competition: dict) -> None:
    path = f"/foi/call-offs/{competition['call_off']}/decision-record.html"
    response = market.client.simulate_get(path, headers=market.headers("foi_officer", None))
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page.lower() and "src=" not in page and "href=" not in page
    for heading in ("Who was eligible, who was not, and why", "Tenders received", "Evaluation", "Award and standstill"):
        assert f"<h2>{heading}</h2>" in page
    assert "Tyne Housing Trust" in page and "Highest weighted score" in page
    qualification = market.get(f"/foi/suppliers/{competition['loser']}/qualification-record.html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in qualification and "<script" not in qualification.lower()


def test_ledger_foi_record_prints_the_same_record_as_the_api(market: Market, competition: dict) -> None:
    at = competition["awarded"]
    env = {**os.environ, "DATABASE_URL": market.url}
    command = ["foi", "record", "call-off", competition["call_off"], "--at-position", str(at)]
    printed = subprocess.run(
        [sys.executable, "-m", "api.cli", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(printed.stdout) == record(market, competition["call_off"], at_position=at)


def _leaves(node: object, pointer: str = "") -> list[str]:
    """Every scalar of a document (and every empty array or object), by its JSON Pointer."""
    if isinstance(node, dict) and node:
        return [p for key, value in node.items() for p in _leaves(value, pointer + json_pointer.join(key))]
    if isinstance(node, list) and node:
        return [p for i, value in enumerate(node) for p in _leaves(value, pointer + json_pointer.join(i))]
    return [pointer]


def _values(contents: dict) -> list[dict]:
    return [v for section in contents["sections"] for group in section["groups"] for v in group["values"]]


def test_a_record_reads_as_labelled_values_each_named_by_its_pointer_and_covering_every_value(
    market: Market, competition: dict
) -> None:
    path = f"/foi/call-offs/{competition['call_off']}/decision-record"
    at = {"at_position": competition["awarded"]}
    document = answer(market, path, **at)
    contents = answer(market, f"{path}/values", **at)
    assert contents["title"] == "Accommodation, Tyneside"
    assert [s["key"] for s in contents["sections"]][:4] == ["", "call_off", "eligibility", "clarifications"]
    values = _values(contents)
    for value in values:  # each value is exactly what its pointer names in the record
        assert json_pointer.resolve(document, value["pointer"]) == value["value"], value["pointer"]
    covered = [v["pointer"] for v in values]
    # Nothing the record discloses is left out of what a reviewer reads (and may withhold).
    held = [p for p in _leaves(document) if json_pointer.resolve(document, p) not in (None, [], {})]
    missing = [p for p in held if not any(json_pointer.contains(c, p) for c in covered)]
    assert missing == []
    by = {v["pointer"]: v for v in values}
    assert (by["/call_off/estimated_value"]["kind"], by["/call_off/estimated_value"]["label"]) == (
        "money",
        "Estimated value",
    )
    assert by["/call_off/geography"]["kind"] == "area" and by["/call_off/lots"]["kind"] == "category"
    assert by["/award/supplier"]["kind"] == "party" and by["/award/supplier"]["value"]["name"] == "Tyne Housing Trust"
    assert by["/award/decided/actor_id"]["label"] == "Decided by"
    assert by["/read_up_to"]["withholdable"] is False and by["/award/rationale"]["withholdable"] is True
    assert by["/call_off/cohort"]["value"] is None and by["/call_off/cohort"]["withholdable"] is False
    titles = [g["title"] or "" for s in contents["sections"] for g in s["groups"]]
    assert "Initial stage: Tender from Tyne Housing Trust" in titles and f"Tender from {SCRIPT}" in " ".join(titles)
    assert any(t.startswith("Ranked 1: Tyne Housing Trust") for t in titles)


def test_a_qualification_record_reads_as_labelled_values(market: Market, competition: dict) -> None:
    path = f"/foi/suppliers/{competition['winner']}/qualification-record"
    contents = answer(market, f"{path}/values", at_position=competition["awarded"])
    assert contents["title"] == "Tyne Housing Group"  # renamed before the award
    by = {v["pointer"]: v for v in _values(contents)}
    assert by["/registration/name"]["value"] == "Tyne Housing Trust"
    assert by["/declared_areas"]["kind"] == "area" and by["/declared_areas"]["value"] == ["region-a"]
    titles = [g["title"] or "" for s in contents["sections"] for g in s["groups"]]
    assert "Accommodation: Pass" in titles and "Appointed to Accommodation" in titles
