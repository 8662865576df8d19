"""FOI requests through the API: the s.10 clock in working days, clarification, extension, a pinned
disclosure, redactions with their exemptions, and the response."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.market import Market
from tests.support import count_events

ROOT = Path(__file__).resolve().parent.parent
COMMERCIAL = "[withheld: s.43(2) commercial interests]"
NOTE = "Prices would prejudice the bidder in the re-procurement due next year; scores and ranking are disclosed."


@pytest.fixture(scope="module")
def awarded(market: Market) -> dict:
    """A call-off awarded to one of two bidders: the other's tender is an unsuccessful bidder's."""
    lead = market.commissioner()
    winner = market.supplier("Winning Homes", areas=("region-a",))
    loser = market.supplier("Losing Homes", areas=("region-a",))
    call_off = market.draft(lead)
    market.post(f"/call-offs/{call_off}/publication")
    market.tender(call_off, winner, "950000.00")
    market.tender(call_off, loser, "1234567.89")
    market.clock.advance(days=31)
    market.post(f"/call-offs/{call_off}/tender-opening")
    market.score(call_off, winner, quality=80, price=60, social=70)
    market.score(call_off, loser, quality=60, price=80, social=50)
    market.post(f"/call-offs/{call_off}/evaluation")
    market.post(f"/call-offs/{call_off}/award", {"supplier_id": winner, "rationale": "Highest weighted score"})
    return {"call_off": call_off, "winner": winner, "loser": loser}


def receive(market: Market, received_on: str | None = None, *, expect: int = 201, **fields: object) -> object:
    body = {
        "reference": f"FOI-{uuid.uuid4().hex[:8].upper()}",
        "requester_name": "Sam Requester",
        "information_requested": "How the accommodation call-off was decided.",
        "received_on": received_on or market.clock.now.date().isoformat(),
        **fields,
    }
    result = market.post("/foi/requests", body, expect=expect)
    return result.json["id"] if expect == 201 else result


def case(market: Market, request: str) -> dict:
    return market.get(f"/foi/requests/{request}")


def refused(market: Market, path: str, body: dict, rule: str) -> None:
    """The command is refused by the named rule and writes nothing."""
    before = count_events(market.url)
    answer = market.post(path, body, expect=409)
    assert answer.json["rule"] == rule, answer.json
    assert count_events(market.url) == before


def test_a_request_is_due_on_the_twentieth_working_day_after_the_day_it_was_received(market: Market) -> None:
    today = receive(market, "2026-03-02")  # a Monday
    assert case(market, today)["request"]["due_on"] == "2026-03-30"
    # Received by post on the Friday, logged on the Monday: effective on the Friday, due 20 working days on.
    by_post = receive(market, "2026-02-27")
    found = case(market, by_post)
    assert found["request"]["due_on"] == "2026-03-27" and found["request"]["status"] == "received"
    assert found["history"][0]["effective_at"] == "2026-02-27T00:00:00Z"
    assert found["history"][0]["recorded_at"].startswith("2026-03-02")

    before = count_events(market.url)
    tomorrow = (market.clock.now.date() + timedelta(days=1)).isoformat()
    assert receive(market, tomorrow, expect=409).json["rule"] == "receipt not in the future"
    duplicate = market.post(
        "/foi/requests",
        {
            "reference": found["request"]["reference"].lower(),
            "requester_name": "Someone Else",
            "information_requested": "Anything",
            "received_on": "2026-03-02",
        },
        expect=409,
    )
    assert duplicate.json["rule"] == "request reference already used"
    assert receive(market, call_off_id=str(uuid.uuid4()), expect=404).json["status"] == 404
    invalid = receive(market, received_on="2026-02-30", expect=422).json
    assert invalid["errors"][0]["path"] == "$.received_on"
    assert count_events(market.url) == before


def test_an_extension_needs_a_reason_and_at_most_twenty_further_working_days(market: Market) -> None:
    request = receive(market, "2026-03-02")  # due 30 March; 20 further working days run to 29 April
    path = f"/foi/requests/{request}/extensions"
    refused(market, path, {"new_due_on": "2026-04-20"}, "an extension needs a reason")
    refused(
        market,
        path,
        {"new_due_on": "2026-03-30", "reason": "Public interest test"},
        "an extension moves the deadline later",
    )
    refused(
        market,
        path,
        {"new_due_on": "2026-04-30", "reason": "Public interest test"},
        "extension of at most 20 further working days",
    )
    market.post(path, {"new_due_on": "2026-04-20", "reason": "Weighing the public interest in s.43(2)"})
    market.post(path, {"new_due_on": "2026-04-29", "reason": "Consulting the bidders"})
    # The limit runs from the statutory deadline, not from the last extension.
    refused(
        market,
        path,
        {"new_due_on": "2026-04-30", "reason": "More consultation"},
        "extension of at most 20 further working days",
    )
    extended = case(market, request)
    assert extended["request"]["status"] == "extended" and extended["request"]["extended"] is True
    assert (extended["request"]["statutory_due_on"], extended["request"]["due_on"]) == ("2026-03-30", "2026-04-29")
    reasons = [e["reason"] for e in extended["history"] if e["type"] == "FoiDeadlineExtended"]
    assert reasons == ["Weighing the public interest in s.43(2)", "Consulting the bidders"]
    events = market.get("/audit/events", params={"aggregate": request, "type": "FoiDeadlineExtended"}, role="auditor")
    assert [e["reason"] for e in events["items"]] == reasons  # in the envelope, where a person decided


def test_a_clarification_stops_the_clock_and_its_receipt_restarts_the_twenty_working_day_clock(
    market: Market,
) -> None:
    assert market.clock.now.date() == date(2026, 3, 2), "this test's dates start on the market's first day"
    request = receive(market, "2026-03-02")
    path = f"/foi/requests/{request}"
    refused(
        market,
        f"{path}/clarifications",
        {"clarification": "x", "received_on": "2026-03-02"},
        "no clarification outstanding",
    )
    market.post(f"{path}/clarification-requests", {"question": "Which call-off do you mean?"})
    stopped = case(market, request)["request"]
    assert stopped["status"] == "awaiting_clarification" and stopped["due_on"] is None
    assert stopped["working_days_left"] is None and stopped["overdue"] is False
    refused(market, f"{path}/clarification-requests", {"question": "Again?"}, "clarification already sought")
    refused(
        market,
        f"{path}/extensions",
        {"new_due_on": "2026-04-30", "reason": "Public interest test"},
        "no running deadline to extend",
    )
    market.clock.advance(days=14)  # Monday 16 March
    refused(
        market,
        f"{path}/clarifications",
        {"clarification": "The Tyneside one", "received_on": "2026-03-01"},
        "clarification received before it was sought",
    )
    # Received on Friday 13 March: 20 working days from then, over Good Friday and Easter Monday.
    market.post(f"{path}/clarifications", {"clarification": "The Tyneside one", "received_on": "2026-03-13"})
    restarted = case(market, request)["request"]
    assert restarted["status"] == "clarified"
    assert restarted["due_on"] == restarted["statutory_due_on"] == "2026-04-14"
    refused(
        market,
        f"{path}/clarifications",
        {"clarification": "Again", "received_on": "2026-03-16"},
        "no clarification outstanding",
    )


def test_requests_are_listed_by_due_date_with_working_days_left_and_overdue(market: Market) -> None:
    overdue = receive(market, "2026-01-05")  # due Monday 2 February 2026
    on_time = receive(market)
    answered = receive(market, "2026-01-06")
    market.post(
        f"/foi/requests/{answered}/response",
        {"outcome": "refused", "refusal_grounds": ["s43(2)"], "reason": "Commercially sensitive throughout"},
    )
    listing = market.get("/foi/requests")
    rows = {r["id"]: r for r in listing["items"]}
    assert rows[overdue]["due_on"] == "2026-02-02" and rows[overdue]["overdue"] is True
    assert rows[overdue]["working_days_left"] < 0
    assert rows[on_time]["working_days_left"] == 20 and rows[on_time]["overdue"] is False
    assert rows[answered]["overdue"] is False and rows[answered]["working_days_left"] is None
    assert rows[answered]["late"] is True and rows[answered]["outcome"] == "refused"
    order = [r["id"] for r in listing["items"]]
    assert order.index(overdue) < order.index(on_time) < order.index(answered)


def test_suggested_redactions_are_the_unsuccessful_bidders_prices_and_method_statements(
    market: Market, awarded: dict
) -> None:
    request = receive(market, call_off_id=awarded["call_off"])
    path = f"/foi/requests/{request}"
    assert (
        market.client.simulate_get(f"{path}/suggested-redactions", headers=market.headers("foi_officer", None)).json[
            "rule"
        ]
        == "no disclosure prepared"
    )
    market.post(f"{path}/disclosure", {"kind": "call_off_record", "source_id": awarded["call_off"]})
    refused(
        market,
        f"{path}/disclosure",
        {"kind": "call_off_record", "source_id": awarded["call_off"]},
        "disclosure already prepared",
    )
    suggested = market.get(f"{path}/suggested-redactions")["items"]
    assert {(s["supplier_id"], s["field"], s["ground"]) for s in suggested} == {
        (awarded["loser"], "price", "s43(2)"),
        (awarded["loser"], "method_statement", "s43(2)"),
    }
    document = market.get(f"{path}/disclosure")["document"]
    for suggestion in suggested:
        receipt_path = suggestion["pointer"].split("/")
        receipt = document["tenders"][int(receipt_path[2])]["receipts"][int(receipt_path[4])]
        assert receipt["supplier_id"] == awarded["loser"]
    # Suggestions only: nothing is withheld until a reviewer applies one.
    assert market.get(f"{path}/disclosure")["withheld"] == []
    assert "1234567.89" in json.dumps(document)
    other = receive(market)
    assert (
        market.post(
            f"/foi/requests/{other}/disclosure",
            {"kind": "qualification_record", "source_id": awarded["call_off"]},
            expect=404,
        ).json["status"]
        == 404
    )


def test_a_redaction_names_a_value_of_the_pinned_document_and_a_qualified_exemption_its_public_interest_test(
    market: Market, awarded: dict
) -> None:
    request = receive(market)
    path = f"/foi/requests/{request}/redactions"
    price = {"pointer": "/tenders/0/receipts/1/content/price", "ground": "s43(2)", "reason": "Bidder's price"}
    refused(market, path, {**price, "public_interest_note": NOTE}, "no disclosure prepared")
    market.post(f"/foi/requests/{request}/disclosure", {"kind": "call_off_record", "source_id": awarded["call_off"]})
    refused(market, path, price, "a qualified exemption needs a public interest note")
    refused(
        market,
        path,
        {**price, "pointer": "/tenders/0/receipts/9/content/price", "public_interest_note": NOTE},
        "pointer not in the disclosed document",
    )
    for bad in ("tenders/0", "", "/tenders/~2"):
        invalid = market.post(path, {**price, "pointer": bad, "public_interest_note": NOTE}, expect=422).json
        assert invalid["errors"][0]["path"] == "$.pointer"
    market.post(path, {**price, "public_interest_note": NOTE})
    refused(
        market,
        path,
        {**price, "pointer": "/tenders/0/receipts/1/content", "public_interest_note": NOTE},
        "redactions must not overlap",
    )
    # An absolute exemption needs no public interest note.
    market.post(path, {"pointer": "/evaluation/scores/0/comments", "ground": "s41", "reason": "Given in confidence"})


def _loser_receipt(document: dict, loser: str) -> int:
    return next(i for i, r in enumerate(document["tenders"][0]["receipts"]) if r["supplier_id"] == loser)


def test_the_disclosure_withholds_each_redacted_value_and_schedules_why(market: Market, awarded: dict) -> None:
    request = receive(market, call_off_id=awarded["call_off"])
    path = f"/foi/requests/{request}"
    market.post(f"{path}/disclosure", {"kind": "call_off_record", "source_id": awarded["call_off"]})
    for suggestion in market.get(f"{path}/suggested-redactions")["items"]:
        market.post(
            f"{path}/redactions",
            {
                "pointer": suggestion["pointer"],
                "ground": suggestion["ground"],
                "reason": "An unsuccessful bidder's commercial information",
                "public_interest_note": suggestion["suggested_public_interest_note"],
            },
            sub="foi-reviewer-1",
        )
    disclosed = market.get(f"{path}/disclosure")
    text = json.dumps(disclosed)
    assert "1234567.89" not in text and "Our method (1234567.89)" not in text
    receipt = disclosed["document"]["tenders"][0]["receipts"][_loser_receipt(disclosed["document"], awarded["loser"])]
    assert receipt["content"]["price"] == receipt["content"]["method_statement"] == COMMERCIAL
    assert "950000.00" in text  # the successful bidder's price is not withheld
    schedule = disclosed["withheld"]
    assert [(w["ground"], w["exemption"], w["reviewer_id"]) for w in schedule] == [
        ("s43(2)", "s.43(2) commercial interests", "foi-reviewer-1")
    ] * 2
    assert all(w["public_interest_note"].startswith("Disclosing an unsuccessful bidder's") for w in schedule)
    events = market.get("/audit/events", params={"aggregate": request, "type": "RedactionApplied"}, role="auditor")
    assert [w["position"] for w in schedule] == [e["position"] for e in events["items"]]
    assert {e["actor_id"] for e in events["items"]} == {"foi-reviewer-1"}

    page = market.get(f"{path}/disclosure.html")
    assert "1234567.89" not in page and COMMERCIAL in page and "<script" not in page
    assert "Information withheld, and why" in page and "foi-reviewer-1" in page


def test_a_withdrawn_redaction_discloses_the_value_again(market: Market, awarded: dict) -> None:
    request = receive(market)
    path = f"/foi/requests/{request}"
    market.post(f"{path}/disclosure", {"kind": "call_off_record", "source_id": awarded["call_off"]})
    market.post(f"{path}/redactions", {"pointer": "/award/rationale", "ground": "s41", "reason": "Confidential"})
    assert market.get(f"{path}/disclosure")["document"]["award"]["rationale"].startswith("[withheld: s.41")
    (redaction,) = case(market, request)["redactions"]
    withdrawal = f"{path}/redactions/{redaction['redaction_id']}/withdrawal"
    market.post(withdrawal, {"reason": "The commissioner published the rationale itself"})
    disclosed = market.get(f"{path}/disclosure")
    assert disclosed["document"]["award"]["rationale"] == "Highest weighted score" and disclosed["withheld"] == []
    (withdrawn,) = case(market, request)["redactions"]
    assert withdrawn["withdrawn_reason"] == "The commissioner published the rationale itself"
    refused(market, withdrawal, {"reason": "Again"}, "redaction already withdrawn")
    unknown = market.post(f"{path}/redactions/{uuid.uuid4()}/withdrawal", {"reason": "Nothing"}, expect=404)
    assert unknown.json["status"] == 404


def test_the_response_must_match_what_is_withheld(market: Market, awarded: dict) -> None:
    bare = receive(market)
    refused(market, f"/foi/requests/{bare}/response", {"outcome": "disclosed_in_full"}, "no disclosure prepared")
    refused(
        market, f"/foi/requests/{bare}/response", {"outcome": "refused"}, "a refusal names its exemptions and reason"
    )
    refused(
        market,
        f"/foi/requests/{bare}/response",
        {"outcome": "refused", "refusal_grounds": ["s43(2)"], "reason": "Sensitive", "responded_on": "2099-01-01"},
        "response not in the future",
    )
    refused(
        market,
        f"/foi/requests/{bare}/response",
        {"outcome": "refused", "refusal_grounds": ["s43(2)"], "reason": "Sensitive", "responded_on": "2020-01-01"},
        "response before receipt",
    )
    grounds = market.post(
        f"/foi/requests/{bare}/response", {"outcome": "disclosed_in_full", "refusal_grounds": ["s41"]}, expect=422
    )
    assert grounds.json["errors"][0]["path"] == "$.refusal_grounds"
    request = receive(market)
    path = f"/foi/requests/{request}"
    market.post(f"{path}/disclosure", {"kind": "call_off_record", "source_id": awarded["call_off"]})
    refused(market, f"{path}/response", {"outcome": "disclosed_in_part"}, "a partial disclosure withholds something")
    market.post(f"{path}/redactions", {"pointer": "/award/rationale", "ground": "s41", "reason": "Confidential"})
    refused(market, f"{path}/response", {"outcome": "disclosed_in_full"}, "a full disclosure withholds nothing")


def test_the_disclosure_is_pinned_and_the_response_records_the_hash_of_exactly_what_was_disclosed(
    market: Market, awarded: dict
) -> None:
    request = receive(market, call_off_id=awarded["call_off"])
    path = f"/foi/requests/{request}"
    pinned = market.post(f"{path}/disclosure", {"kind": "call_off_record", "source_id": awarded["call_off"]})
    position = pinned.json["position"] - 1  # the head when the disclosure was prepared
    loser = _loser_receipt(market.get(f"{path}/disclosure")["document"], awarded["loser"])
    market.post(
        f"{path}/redactions",
        {
            "pointer": f"/tenders/0/receipts/{loser}/content/price",
            "ground": "s43(2)",
            "reason": "An unsuccessful bidder's price",
            "public_interest_note": NOTE,
        },
    )
    # The competition goes on after the disclosure was prepared: the disclosure does not.
    market.clock.advance(days=11)
    today = market.clock.now.date()
    market.post(
        f"/call-offs/{awarded['call_off']}/contract",
        {
            "value": "900000.00",
            "start_date": today.isoformat(),
            "end_date": today.replace(year=today.year + 2).isoformat(),
        },
        expect=201,
    )
    disclosed = market.get(f"{path}/disclosure")
    assert disclosed["source"]["position"] == position and disclosed["document"]["read_up_to"] <= position
    assert disclosed["document"]["status"] == "standstill" and disclosed["document"]["contract"] is None
    signed = market.client.simulate_post("/audit/checkpoints", headers=market.headers("auditor")).json

    market.post(f"{path}/response", {"outcome": "disclosed_in_part"})
    response = case(market, request)["response"]
    assert response["outcome"] == "disclosed_in_part" and response["late"] is False
    assert response["checkpoint_tree_size"] == signed["tree_size"]
    served = market.client.simulate_get(f"{path}/disclosure", headers=market.headers("auditor"))
    assert hashlib.sha256(served.content).hexdigest() == response["sha256"]
    # A later checkpoint does not change what was disclosed: it still names the one it named then.
    later = market.client.simulate_post("/audit/checkpoints", headers=market.headers("auditor")).json
    assert later["tree_size"] > signed["tree_size"]
    again = market.client.simulate_get(f"{path}/disclosure", headers=market.headers("auditor"))
    assert again.content == served.content

    refused(market, f"{path}/response", {"outcome": "disclosed_in_part"}, "request already responded")
    refused(
        market,
        f"{path}/disclosure",
        {"kind": "call_off_record", "source_id": awarded["call_off"]},
        "request already responded",
    )
    refused(
        market,
        f"{path}/redactions",
        {"pointer": "/award/rationale", "ground": "s41", "reason": "Too late"},
        "request already responded",
    )

    env = {**os.environ, "DATABASE_URL": market.url, "COLUMNS": "200"}
    printed = subprocess.run(
        [sys.executable, "-m", "api.cli", "foi", "disclosure", request],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    assert hashlib.sha256(printed.stdout.rstrip(b"\n")).hexdigest() == response["sha256"]
    listed = subprocess.run(
        [sys.executable, "-m", "api.cli", "foi", "requests"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    reference = case(market, request)["request"]["reference"]
    assert reference in listed.stdout and "disclosed_in_part" in listed.stdout


def test_the_disclosure_reads_as_labelled_values_with_what_is_withheld_and_what_is_suggested(
    market: Market, awarded: dict
) -> None:
    request = receive(market, call_off_id=awarded["call_off"])
    path = f"/foi/requests/{request}"
    market.post(f"{path}/disclosure", {"kind": "call_off_record", "source_id": awarded["call_off"]})
    loser = _loser_receipt(market.get(f"{path}/disclosure")["document"], awarded["loser"])
    price = f"/tenders/0/receipts/{loser}/content/price"
    method = f"/tenders/0/receipts/{loser}/content/method_statement"
    withheld = {"pointer": price, "ground": "s43(2)", "reason": "A bidder's price", "public_interest_note": NOTE}
    market.post(f"{path}/redactions", withheld)
    contents = market.get(f"{path}/disclosure/values")
    assert contents["title"] == "Accommodation services, North East" and contents["source"]["id"] == awarded["call_off"]
    values = {v["pointer"]: v for s in contents["sections"] for g in s["groups"] for v in g["values"]}
    assert values[price]["value"] == COMMERCIAL and values[price]["kind"] == "money"
    assert values[method]["value"] == "Our method (1234567.89)"  # not withheld (yet)
    assert [w["pointer"] for w in contents["withheld"]] == [price]
    (suggested,) = contents["suggested"]  # the price is withheld already: only the method statement is suggested
    assert suggested["pointer"] == method and suggested["suggested_reason"].startswith("The method statement of")
    listed = {r["id"]: r for r in market.get("/foi/requests")["items"]}
    assert listed[request]["information_requested"] == "How the accommodation call-off was decided."
    market.post(f"{path}/response", {"outcome": "disclosed_in_part"})
    assert market.get(f"{path}/disclosure/values")["suggested"] == []  # nothing more can be withheld
