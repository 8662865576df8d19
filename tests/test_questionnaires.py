"""A questionnaire's journey through the API alone: submitted, found on the Authority's worklist, assessed lot by
lot, and shown assessed on the supplier's page; who may see it."""

from __future__ import annotations

from datetime import datetime

from tests.market import Market
from tests.support import unique_legal_id

BID = "supplier_bid_manager"


def registered(market: Market, name: str) -> str:
    body = {"name": name, "legal_identifier": unique_legal_id(), "organisation_type": "voluntary", "is_small": True}
    return market.post("/suppliers", body, expect=201, role=BID).json["id"]


def submitted(market: Market, sid: str, lots: tuple[str, ...], areas: tuple[str, ...] = ("region-a",)) -> dict:
    """The supplier's own submission, as the API answers it."""
    body = {
        "lots": [
            {"category": lot, "case_studies": [{"title": f"{lot} case", "summary": "Five years."}]} for lot in lots
        ],
        "declared_areas": list(areas),
    }
    result = market.post(f"/suppliers/{sid}/questionnaires", body, expect=201, role=BID, org=sid)
    return {**result.json, "location": result.headers["location"]}


def worklist(market: Market, **params: object) -> dict:
    return market.get("/questionnaires", params=params, role="authority")


def waiting(market: Market) -> list[dict]:
    """Every questionnaire on the Authority's worklist, read page by page."""
    items, after = [], None
    while True:
        page = worklist(market, limit=2, **({"after": after} if after else {}))
        items += page["items"]
        after = page["next_after"]
        if after is None:
            return items


def test_a_submitted_questionnaire_is_found_on_the_worklist_assessed_and_shown_assessed(market: Market) -> None:
    sid = registered(market, "Journey Homes CIC")
    answer = submitted(market, sid, ("accommodation", "ete"), ("region-a", "region-b"))
    qid = answer["questionnaire_id"]
    assert answer["id"] == sid and answer["events"] == 1  # the generic answer, naming the questionnaire too
    assert answer["location"].endswith(f"/suppliers/{sid}/questionnaires/{qid}")

    own = market.get(f"/suppliers/{sid}/questionnaires/{qid}", role=BID, org=sid)
    assert (own["state"], own["awaiting"], own["declared_areas"]) == (
        "awaiting-assessment",
        ["accommodation", "ete"],
        ["region-a", "region-b"],
    )
    assert [(lot["category"], lot["status"]) for lot in own["lots"]] == [
        ("accommodation", "pending"),
        ("ete", "pending"),
    ]

    # The Authority finds it on its worklist, with everything it needs to assess it.
    (item,) = [i for i in waiting(market) if i["id"] == qid]
    assert (item["supplier_id"], item["supplier_name"], item["awaiting"]) == (
        sid,
        "Journey Homes CIC",
        ["accommodation", "ete"],
    )
    assert datetime.fromisoformat(item["submitted_at"]) == market.clock.now
    market.clock.advance(days=3)
    market.assess(item["supplier_id"], item["id"], "accommodation", "pass")
    (still,) = [i for i in waiting(market) if i["id"] == qid]
    assert still["awaiting"] == ["ete"] and still["state"] == "awaiting-assessment"
    market.assess(item["supplier_id"], item["id"], "ete", "fail")
    assert qid not in {i["id"] for i in waiting(market)}
    assert qid in {i["id"] for i in worklist(market, status="assessed", supplier_id=sid)["items"]}

    # The supplier's page shows it assessed: each lot's outcome, reason and when.
    (shown,) = market.get(f"/suppliers/{sid}", role=BID, org=sid)["questionnaires"]
    assert (shown["id"], shown["state"], shown["awaiting"]) == (qid, "assessed", [])
    assert datetime.fromisoformat(shown["settled_at"]) == market.clock.now
    assert [(lot["category"], lot["status"], lot["reason"]) for lot in shown["lots"]] == [
        ("accommodation", "passed", "evidence meets the bar"),
        ("ete", "failed", "evidence misses the bar"),
    ]
    assert all(datetime.fromisoformat(lot["assessed_at"]) == market.clock.now for lot in shown["lots"])
    assert market.get(f"/suppliers/{sid}", role="authority")["questionnaires"] == [shown]


def test_the_worklist_is_paged_oldest_first_and_a_page_read_later_neither_repeats_nor_skips(market: Market) -> None:
    ours = []
    for n in range(5):
        sid = registered(market, f"Queue Trust {n}")
        ours.append(submitted(market, sid, ("ete",))["questionnaire_id"])
        market.clock.advance(hours=1)
    first = worklist(market, limit=2)
    assert len(first["items"]) == 2 and first["next_after"] and first["total"] >= 5
    late = submitted(market, registered(market, "Late Queue Trust"), ("ete",))["questionnaire_id"]
    items, after = list(first["items"]), first["next_after"]
    while after:
        page = worklist(market, limit=2, after=after)
        assert page["total"] == first["total"] + 1
        items += page["items"]
        after = page["next_after"]
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == first["total"] + 1 and ids[-1] == late
    assert [i for i in ids if i in ours] == ours  # the longest waiting on top
    submitted_at = [datetime.fromisoformat(i["submitted_at"]) for i in items]
    assert submitted_at == sorted(submitted_at)
    bad = market.client.simulate_get("/questionnaires", params={"after": "nonsense"}, headers=market.headers())
    assert bad.status_code == 422
    unknown = market.client.simulate_get("/questionnaires", params={"status": "lost"}, headers=market.headers())
    assert unknown.status_code == 422 and unknown.json["errors"][0]["path"] == "status"


def test_only_the_supplier_itself_the_authority_and_auditors_see_its_questionnaires(market: Market) -> None:
    mine, theirs = registered(market, "Private Bidder A"), registered(market, "Private Bidder B")
    qid = submitted(market, mine, ("ete",))["questionnaire_id"]
    path = f"/suppliers/{mine}/questionnaires/{qid}"
    market.get(path, role=BID, org=mine)
    market.get(path, role="auditor")
    market.get(path, role=BID, org=theirs, expect=404)
    market.get(f"/suppliers/{theirs}/questionnaires/{qid}", role=BID, org=theirs, expect=404)  # not theirs
    market.get(path, role="commissioner", org="region-a", expect=403)
    assert market.get(f"/suppliers/{mine}", role=BID, org=theirs)["questionnaires"] is None
    assert market.get(f"/suppliers/{mine}", role="commissioner", org="region-a")["questionnaires"] is None
    assert [q["id"] for q in market.get(f"/suppliers/{mine}", role="auditor")["questionnaires"]] == [qid]
    market.get("/questionnaires", role=BID, org=mine, expect=403)
    assert qid in {i["id"] for i in market.get("/questionnaires", role="auditor", params={"limit": 500})["items"]}


def test_a_lot_withdrawn_before_its_assessment_leaves_the_worklist_and_cannot_then_be_assessed(market: Market) -> None:
    sid = registered(market, "Second Thoughts Ltd")
    qid = submitted(market, sid, ("accommodation", "ete"))["questionnaire_id"]
    market.post(f"/suppliers/{sid}/lot-withdrawals", {"category": "ete", "reason": "No capacity"}, role=BID, org=sid)
    (item,) = [i for i in waiting(market) if i["id"] == qid]
    assert item["awaiting"] == ["accommodation"]
    refused = market.assess(sid, qid, "ete", "pass", expect=409)
    assert refused.json["rule"] == "lot not awaiting assessment"
    market.post(f"/suppliers/{sid}/lot-withdrawals", {"category": "accommodation", "reason": "Closing"}, role=BID)
    assert qid not in {i["id"] for i in waiting(market)}
    record = market.get(f"/suppliers/{sid}/questionnaires/{qid}", role="authority")
    assert record["state"] == "withdrawn"
    assert {(lot["status"], lot["reason"]) for lot in record["lots"]} == {
        ("withdrawn", "No capacity"),
        ("withdrawn", "Closing"),
    }


def test_other_commands_still_answer_the_generic_shape_and_the_document_says_which_names_more(market: Market) -> None:
    answer = market.post(
        "/suppliers",
        {
            "name": "Plain Answer",
            "legal_identifier": unique_legal_id(),
            "organisation_type": "private",
            "is_small": True,
        },
        expect=201,
    ).json
    assert set(answer) == {"id", "version", "position", "events", "command_id"}
    paths = market.client.simulate_get("/openapi.json").json["paths"]

    def answered_with(path: str) -> str:
        return paths[path]["post"]["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]

    assert answered_with("/suppliers/{supplier_id}/questionnaires").endswith("/QuestionnaireAccepted")
    assert answered_with("/suppliers").endswith("/CommandAccepted")


def test_an_empty_status_on_the_worklist_is_refused_not_read_as_the_default(market: Market) -> None:
    refused = market.get("/questionnaires", params={"status": ""}, role="authority", expect=422)
    assert refused["errors"][0]["path"] == "status"
