"""The OCDS publication (issue 15, ADR 32): a market built through the API, harvested as an outsider would (no token),
its releases and records checked for what they say, what they never say, and their validity against the UK profile.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from projections.publication import ocds
from tests.market import Market
from tests.test_payments import SCHEDULE, charges, invoice, started

ROOT = Path(__file__).resolve().parent.parent
SHARED_OCDS = ROOT.parent / "shared" / "ocds"
NO_SCHEMAS = f"the OCDS 1.1.5 schemas and UK extension are not at {SHARED_OCDS} (see docs/adr/0032)"

# What must never be published: each value below is put into the ledger by the journey.
LOSER_PRICE, LOSER_METHOD = "1234567.89", "Our method (1234567.89)"
WINNER_PRICE = "950000.00"
LOSER_SCORES = {"quality": "37.25", "price": "41.75", "social value": "43.15"}
EVALUATOR_COMMENT = "Thin evidence of local partnerships"
DRAFT_TITLE = "Draft that was never published (QZX)"
AWARD_RATIONALE = "Highest weighted score, confidential-ZQX"
PERSON = ("Alex", "Smith", "X123456", "1990-05-17")
QUESTION_ASKED = "Is TUPE expected to apply to staff of the incumbent?"


def public_get(market: Market, path: str, params: dict | None = None) -> Any:
    """GET as an outsider: no token; waits for the view to reach the market's last write."""
    query = {"min_position": market.position, **(params or {})}
    result = market.client.simulate_get(path, params=query)
    assert result.status_code == 200, f"GET {path}: {result.status_code} {result.text}"
    return result.json


def follow(market: Market, url: str) -> Any:
    path, _, query = url.removeprefix(market.settings.ocds_base_url).partition("?")
    result = market.client.simulate_get(path, query_string=query)
    assert result.status_code == 200, result.text
    return result.json


def harvest(market: Market, limit: int) -> list[dict]:
    """Every release, page by page from the first, following links.next until an empty page."""
    releases: list[dict] = []
    page = public_get(market, "/ocds/release-packages", {"limit": limit})
    while page["releases"]:
        releases += page["releases"]
        page = follow(market, page["links"]["next"])
    assert "links" not in page
    return releases


def member(market: Market, name: str, legal_identifier: str, organisation_type: str) -> str:
    sid = market.post(
        "/suppliers",
        {"name": name, "legal_identifier": legal_identifier, "organisation_type": organisation_type, "is_small": True},
        expect=201,
    ).json["id"]
    qid = market.questionnaire(sid, ("accommodation",), ("region-a",))
    market.assess(sid, qid, "accommodation", "pass")
    market.post(f"/suppliers/{sid}/terms-acceptances", {}, role="supplier_bid_manager", org=sid)
    return sid


def _plan_body(title: str, geography: str, value: str = "1200000.00") -> dict[str, Any]:
    return {
        "title": title,
        "description": "Help people on probation find and keep a home.",
        "need": "accommodation",
        "geography": geography,
        "estimated_value": value,
        "estimated_annual_volume": 350,
        "expected_publication": "2026-04",
        "initial_term_months": 36,
    }


def _plan(market: Market, lead: str, title: str, geography: str) -> str:
    body = {"lead_commissioner_id": lead, "plan": _plan_body(title, geography)}
    return market.post("/planned-call-offs", body, expect=201, role="commissioner").json["id"]


@pytest.fixture(scope="module")
def journey(market: Market) -> dict[str, Any]:
    """A dynamic market with members joining and leaving, a draft never published, a cancelled call-off, and a
    call-off run to a contract that is varied, extended, paid under (for a person on probation) and terminated."""
    lead = market.commissioner()
    winner = member(market, "Winning Homes CIC", "01234567", "voluntary")
    loser = member(market, "Losing Homes", "1123456", "voluntary")
    leaver = member(market, "Leaving Trust", "SC012345", "voluntary")
    market.post(
        f"/suppliers/{leaver}/lot-withdrawals",
        {"category": "accommodation", "reason": "Leaving the market"},
        role="supplier_bid_manager",
        org=leaver,
    )
    market.draft(lead, title=DRAFT_TITLE)
    cancelled = market.draft(lead, title="Accommodation, re-tendered later")
    market.post(f"/call-offs/{cancelled}/publication")
    market.post(f"/call-offs/{cancelled}/cancellation", {"reason": "The requirement changed"})

    plan = _plan(market, lead, "Accommodation services, North East", "region-a")
    market.post(
        f"/planned-call-offs/{plan}/revisions",
        {
            "plan": _plan_body("Accommodation services, North East", "region-a", "1300000.00"),
            "reason": "A second year of funding",
        },
    )
    dropped = _plan(market, lead, "Accommodation, Durham", "durham")
    market.post(f"/planned-call-offs/{dropped}/withdrawal", {"reason": "Funding moved to the region-wide call-off"})
    call_off = market.draft(lead, geography="region-a")
    market.post(f"/planned-call-offs/{plan}/fulfilment", {"call_off_id": call_off})
    market.post(f"/call-offs/{call_off}/publication")
    market.post(
        f"/call-offs/{call_off}/clarification-requests",
        {"supplier_id": loser, "question": QUESTION_ASKED},
        role="supplier_bid_manager",
        org=loser,
    )
    market.post(
        f"/call-offs/{call_off}/clarifications",
        {"question": "Will TUPE apply?", "answer": "Yes: the staffing schedule is attached."},
    )
    clarified_at = market.clock.now
    market.tender(call_off, winner, WINNER_PRICE)
    market.post(
        f"/call-offs/{call_off}/tenders",
        {"supplier_id": loser, "content": {"price": LOSER_PRICE, "method_statement": LOSER_METHOD}},
        expect=201,
        role="supplier_bid_manager",
        org=loser,
    )
    market.clock.advance(days=31)
    market.post(f"/call-offs/{call_off}/tender-opening")
    market.score(call_off, winner, quality=80, price=60, social=70)
    for evaluator in ("evaluator-1", "evaluator-2"):
        market.post(
            f"/call-offs/{call_off}/scores",
            {"supplier_id": loser, "scores": LOSER_SCORES, "comments": EVALUATOR_COMMENT},
            role="commissioner",
            sub=evaluator,
        )
    market.post(
        f"/call-offs/{call_off}/moderations",
        {"supplier_id": loser, "scores": LOSER_SCORES, "rationale": "Evaluators agreed."},
        role="commissioner",
    )
    market.post(f"/call-offs/{call_off}/evaluation")
    market.post(f"/call-offs/{call_off}/award", {"supplier_id": winner, "rationale": AWARD_RATIONALE})
    awarded_at = market.clock.now
    market.clock.advance(days=10, seconds=1)
    today = market.clock.now.date()
    contract = market.post(
        f"/call-offs/{call_off}/contract",
        {
            "value": "900000.00",
            "start_date": today.isoformat(),
            "end_date": today.replace(year=today.year + 3).isoformat(),
            "eligibility": {"gender": "any"},
        },
        expect=201,
    ).json["id"]
    market.post(f"/contracts/{contract}/variations", {"new_value": "975000.00", "reason": "More referrals expected"})
    market.post(f"/contracts/{contract}/extensions", {"months": 12, "reason": "Good performance"})
    market.post(
        f"/contracts/{contract}/price-schedules",
        {"effective_from": today.isoformat(), **SCHEDULE},
        role="finance_officer",
    )
    referral = started(market, contract)
    assert referral
    earned = charges(market, contract)
    total = sum(float(c["amount"]) for c in earned)
    amount = f"{total:.2f}"
    inv = invoice(
        market, contract, [{"description": "Fees", "amount": amount, "charge_ids": [c["id"] for c in earned]}], "OC-1"
    ).json["id"]
    market.post(f"/contracts/{contract}/invoices/{inv}/approvals", {"line": 1}, role="finance_officer")
    paid = market.client.simulate_post(
        f"/contracts/{contract}/invoices/{inv}/payments",
        json={"amount": amount, "paid_on": today.isoformat(), "remittance_reference": "BACS-REMIT-77"},
        headers={**market.headers(role="finance_officer"), "Idempotency-Key": "ocds-payment"},
    )
    assert paid.status_code == 201, paid.text
    market.position = paid.json["position"]
    reversal = {"payment_id": paid.json["id"], "reason": "Paid to the wrong bank account"}
    market.post(f"/contracts/{contract}/payment-reversals", reversal, role="finance_officer")
    paid = market.client.simulate_post(
        f"/contracts/{contract}/invoices/{inv}/payments",
        json={"amount": amount, "paid_on": today.isoformat(), "remittance_reference": "BACS-REMIT-78"},
        headers={**market.headers(role="finance_officer"), "Idempotency-Key": "ocds-payment-again"},
    )
    assert paid.status_code == 201, paid.text
    market.position = paid.json["position"]
    market.clock.advance(days=1)
    market.post(
        f"/contracts/{contract}/termination",
        {"grounds": "Provider insolvency", "effective_date": market.clock.now.date().isoformat()},
    )
    return {
        "plan": plan,
        "dropped_plan": dropped,
        "call_off": call_off,
        "cancelled": cancelled,
        "contract": contract,
        "winner": winner,
        "loser": loser,
        "leaver": leaver,
        "amount": amount,
        "awarded_at": awarded_at,
        "clarified_at": clarified_at,
        "lead": lead,
    }


def prefix(market: Market) -> str:
    return market.settings.ocds_ocid_prefix


def record(market: Market, process: str, **params: str) -> dict:
    return public_get(market, f"/ocds/record-packages/{prefix(market)}-{process}", params)["records"][0]


def test_each_process_has_its_ocid_and_a_call_off_links_to_the_market(market: Market, journey: dict) -> None:
    releases = harvest(market, limit=500)
    ocids = {r["ocid"] for r in releases}
    market_ocid = f"{prefix(market)}-dynamic-market"
    processes = ("call_off", "cancelled", "plan", "dropped_plan")
    assert ocids == {market_ocid, *(f"{prefix(market)}-{journey[name]}" for name in processes)}
    assert len({(r["ocid"], r["id"]) for r in releases}) == len(releases)
    for release in releases:
        assert release["initiationType"] == "tender" and release["id"].startswith(release["ocid"] + "-")
        if release["ocid"] != market_ocid:
            (link,) = release["relatedProcesses"]
            assert (link["relationship"], link["scheme"], link["identifier"]) == (["framework"], "ocid", market_ocid)


def test_every_public_event_is_a_release_with_its_tags_and_uk_notice_type(market: Market, journey: dict) -> None:
    call_off = record(market, journey["call_off"])
    steps = [(r["tag"], _notices(r)) for r in call_off["releases"]]
    assert steps == [
        (["tender"], ["UK4"]),  # published
        (["tenderUpdate"], ["UK4"]),  # a clarification
        (["tenderUpdate"], ["UK4"]),  # tenders opened
        (["award"], ["UK6"]),
        (["contract"], ["UK7"]),
        (["contractAmendment"], ["UK10"]),  # varied
        (["contractAmendment"], ["UK10"]),  # extended
        (["implementation"], ["UK8"]),  # paid
        (["implementationUpdate"], ["UK8"]),  # the payment reversed
        (["implementation"], ["UK8"]),  # paid again
        (["contractTermination"], ["UK11"]),
    ]
    compiled = call_off["compiledRelease"]
    tender = compiled["tender"]
    assert tender["title"] == "Accommodation services, North East" and tender["value"] == {
        "amount": 1200000.00,
        "currency": "GBP",
    }
    assert tender["tenderPeriod"]["durationInDays"] >= 28 and tender["numberOfTenderers"] == 2
    assert "quality (quality) 60%" in tender["awardCriteriaDetails"]
    assert tender["techniques"]["hasDynamicPurchasingSystem"] is True
    assert [i["classification"]["id"] for i in tender["items"]] == ["accommodation"]
    (award,) = compiled["awards"]
    assert award["status"] == "active" and award["suppliers"][0]["id"] == "GB-COH-01234567"
    assert award["standstillPeriod"]["endDate"] > award["standstillPeriod"]["startDate"]
    (contract,) = compiled["contracts"]
    assert contract["status"] == "terminated" and contract["value"]["amount"] == 975000
    assert [a["rationale"] for a in contract["amendments"]] == ["More referrals expected", "Good performance"]
    transaction, reversal, again = contract["implementation"]["transactions"]
    assert str(transaction["value"]["amount"]) == str(again["value"]["amount"]) == str(float(journey["amount"]))
    assert reversal["value"]["amount"] == -transaction["value"]["amount"] and reversal["payee"] == transaction["payee"]
    assert transaction["payee"]["id"] == "GB-COH-01234567"
    assert transaction["payer"]["id"].startswith("commissioner-")
    roles = {p["id"]: set(p["roles"]) for p in compiled["parties"]}
    assert roles["GB-COH-01234567"] == {"supplier", "tenderer", "payee"}
    assert {"buyer", "procuringEntity", "payer"} <= roles[transaction["payer"]["id"]]
    cancelled = record(market, journey["cancelled"])
    assert [(r["tag"], _notices(r)) for r in cancelled["releases"]] == [
        (["tender"], ["UK4"]),
        (["tenderCancellation"], ["UK12"]),
    ]
    assert cancelled["compiledRelease"]["tender"]["status"] == "cancelled"


def test_a_planned_call_off_is_a_planning_process_of_its_own(market: Market, journey: dict) -> None:
    """The forward pipeline (issue 19, item 4): planned, revised, then complete once its call-off was drafted; or
    withdrawn. Each release a UK3 planned procurement notice."""
    plan = record(market, journey["plan"])
    tags = [r["tag"] for r in plan["releases"]]
    assert tags == [["planning"], ["planningUpdate"], ["planningUpdate"]]
    compiled = plan["compiledRelease"]
    assert compiled["tender"]["status"] == "complete"
    assert compiled["planning"]["budget"]["amount"] == {"amount": 1300000, "currency": "GBP"}
    assert "Estimated annual volume: 350 referrals." in compiled["tender"]["description"]
    assert compiled["tender"]["tenderPeriod"]["startDate"] == "2026-04-01T00:00:00Z"
    assert {d["noticeType"] for d in compiled["tender"]["documents"]} == {"UK3"}
    assert compiled["relatedProcesses"][0]["relationship"] == ["framework"]
    assert [p["roles"] for p in compiled["parties"]] == [["buyer", "procuringEntity"]]
    dropped = record(market, journey["dropped_plan"])["compiledRelease"]
    assert dropped["tender"]["status"] == "withdrawn"


def test_the_market_publishes_its_lots_and_its_members_joining_and_leaving(market: Market, journey: dict) -> None:
    dynamic = record(market, "dynamic-market")
    first, *rest = dynamic["releases"]
    assert (first["tag"], _notices(first)) == (["tender"], ["UK14"])
    assert {tuple(r["tag"]) for r in rest} == {("tenderUpdate",), ("award",), ("awardUpdate",)}
    assert {n for r in rest for n in _notices(r)} == {"UK15"}
    compiled = dynamic["compiledRelease"]
    assert len(compiled["tender"]["items"]) == 14  # every lot of the framework
    awards = {a["suppliers"][0]["id"]: a["status"] for a in compiled["awards"]}
    assert awards["GB-COH-01234567"] == "active" and awards["GB-CHC-1123456"] == "active"
    assert awards["GB-SC-SC012345"] == "cancelled"  # a Scottish charity, which left


def test_nothing_private_is_ever_published(market: Market, journey: dict, tmp_path: Path, monkeypatch) -> None:
    """Sealed tender content, unsuccessful bidders' scores, people on probation, drafts, what FOI withheld: searched
    for in every release package, record package and the export."""
    request = market.post(
        "/foi/requests",
        {
            "reference": "FOI-OCDS-1",
            "requester_name": "Sam Requester",
            "information_requested": "How the call-off was decided.",
            "received_on": market.clock.now.date().isoformat(),
            "call_off_id": journey["call_off"],
        },
        expect=201,
    ).json["id"]
    market.post(f"/foi/requests/{request}/disclosure", {"kind": "call_off_record", "source_id": journey["call_off"]})
    market.post(
        f"/foi/requests/{request}/redactions", {"pointer": "/award/rationale", "ground": "s41", "reason": "Confidence"}
    )
    texts = [json.dumps(page) for page in _pages(market, limit=3)]
    for process in (
        "dynamic-market",
        journey["call_off"],
        journey["cancelled"],
        journey["plan"],
        journey["dropped_plan"],
    ):
        texts.append(json.dumps(public_get(market, f"/ocds/record-packages/{prefix(market)}-{process}")))
    from api.cli import main

    monkeypatch.setenv("DATABASE_URL", market.url)
    assert main(["ocds", "export", str(tmp_path / "export")]) == 0
    exported = tmp_path / "export"
    assert (exported / "release-packages" / "00001.json").is_file() and (exported / "csv" / "releases.csv").is_file()
    assert len(list((exported / "record-packages").glob("*.json"))) == 5  # the market, two call-offs, two plans
    texts += [p.read_text() for p in sorted(exported.rglob("*")) if p.is_file()]
    assert len(texts) > 6
    forbidden = [
        LOSER_PRICE,
        LOSER_METHOD,
        WINNER_PRICE,
        *LOSER_SCORES.values(),
        EVALUATOR_COMMENT,
        DRAFT_TITLE,
        AWARD_RATIONALE,
        QUESTION_ASKED,
        *PERSON,
        "BACS-REMIT-77",
        "BACS-REMIT-78",
        "wrong bank account",
        "OC-1",
        "Evaluators agreed",
        "Sam Requester",
    ]
    for text in texts:
        found = [value for value in forbidden if value in text]
        assert not found, f"published: {found}"


def test_harvesting_while_releases_arrive_skips_and_repeats_nothing(market: Market, journey: dict) -> None:
    before = harvest(market, limit=500)
    page = public_get(market, "/ocds/release-packages", {"limit": 4})
    seen = list(page["releases"])
    late = market.supplier("Late Joiner")  # new releases are published between two pages
    market.post(
        f"/suppliers/{late}/lot-withdrawals",
        {"category": "accommodation", "reason": "Changed our mind"},
        role="supplier_bid_manager",
        org=late,
    )
    public_get(market, "/ocds/release-packages", {"limit": 1})  # the view has caught up
    while page["releases"]:
        page = follow(market, page["links"]["next"])
        seen += page["releases"]
    ids = [r["id"] for r in seen]
    assert len(ids) == len(set(ids)) == len(before) + 2
    assert ids[: len(before)] == [r["id"] for r in before]


def test_a_page_by_date_and_as_recorded_answer_what_had_been_published_by_then(market: Market, journey: dict) -> None:
    then = journey["clarified_at"]
    call_off = record(market, journey["call_off"], as_recorded=then.isoformat())
    assert [r["tag"] for r in call_off["releases"]] == [["tender"], ["tenderUpdate"]]
    assert "awards" not in call_off["compiledRelease"] and "bids" not in call_off["compiledRelease"]
    page = public_get(market, "/ocds/release-packages", {"as_recorded": then.isoformat(), "limit": 500})
    assert all(r["date"] <= then.isoformat().replace("+00:00", "Z") for r in page["releases"])
    since = public_get(market, "/ocds/release-packages", {"updated_from": then.isoformat(), "limit": 500})
    assert since["releases"] and all(r["date"] >= then.isoformat().replace("+00:00", "Z") for r in since["releases"])


def test_an_ocid_not_of_this_publisher_is_not_found_and_bad_paging_is_422(market: Market, journey: dict) -> None:
    for ocid in ("ocds-other-dynamic-market", f"{prefix(market)}-nothing", f"{prefix(market)}-{journey['winner']}"):
        assert market.client.simulate_get(f"/ocds/record-packages/{ocid}").status_code == 404
    for params in ({"cursor": "x"}, {"limit": "0"}, {"updated_from": "2026-05-02", "updated_to": "2026-05-01"}):
        answer = market.client.simulate_get("/ocds/release-packages", params=params)
        assert answer.status_code == 422, (params, answer.text)


@pytest.mark.skipif(not SHARED_OCDS.is_dir(), reason=NO_SCHEMAS)
def test_every_package_is_valid_against_ocds_1_1_5_with_the_uk_profile(market: Market, journey: dict) -> None:
    profile = _profile()
    # The page after the last release is empty: the answer that nothing more is published yet, not a package.
    *packages, end = _pages(market, limit=5)
    assert end["releases"] == []
    for process in ("dynamic-market", journey["call_off"], journey["cancelled"]):
        packages.append(public_get(market, f"/ocds/record-packages/{prefix(market)}-{process}"))
    for package in packages:
        kind = "record" if "records" in package else "release"
        errors = [
            f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
            for e in profile.validator(kind).iter_errors(package)
        ]
        assert not errors, errors[:10]


@pytest.mark.skipif(not SHARED_OCDS.is_dir(), reason=NO_SCHEMAS)
def test_the_declared_merge_rules_are_the_schemas_for_every_path_the_ledger_emits(
    market: Market, journey: dict
) -> None:
    from ocdsmerge.rules import get_merge_rules

    schema_rules = get_merge_rules(_profile().release_schema())
    emitted: set[tuple[str, ...]] = set()
    for release in harvest(market, limit=500):
        _paths(release, (), emitted)
    expected = {path: rule for path, rule in schema_rules.items() if path in emitted}
    assert {p: r for p, r in ocds.OCDS_MERGE_RULES.items() if p in emitted} == expected
    assert all(schema_rules.get(path) == rule for path, rule in ocds.OCDS_MERGE_RULES.items())


def test_the_ocid_prefix_is_configuration_with_a_placeholder_by_default(monkeypatch) -> None:
    from ledger.config import Settings

    monkeypatch.delenv("OCDS_OCID_PREFIX", raising=False)
    assert Settings.from_env().ocds_ocid_prefix == "ocds-xxxxxx"
    monkeypatch.setenv("OCDS_OCID_PREFIX", "ocds-b5fd17")
    assert Settings.from_env().ocds_ocid_prefix == "ocds-b5fd17"
    assert ocds.process_of("ocds-b5fd17", "ocds-b5fd17-dynamic-market") == "dynamic-market"
    assert ocds.process_of("ocds-b5fd17", "ocds-xxxxxx-dynamic-market") is None


@pytest.mark.parametrize(
    ("given", "kind", "scheme"),
    [
        ("01234567", "private", "GB-COH"),
        ("SC123456", "private", "GB-COH"),  # a Scottish company
        ("SC012345", "voluntary", "GB-SC"),  # a Scottish charity
        ("1123456", "voluntary", "GB-CHC"),
        ("NIC100002", "voluntary", "GB-NIC"),
        ("31234R", "mutual", "GB-MPR"),
        ("T0A1B2C3D4E", "voluntary", None),
    ],
)
def test_a_legal_identifier_is_published_under_its_registry(given: str, kind: str, scheme: str | None) -> None:
    found = ocds.registry_identifier(given, kind)
    assert (found or {}).get("scheme") == scheme


# -- helpers ----------------------------------------------------------------------------------------


def _notices(release: dict) -> list[str]:
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "noticeType" in value:
                found.append(value["noticeType"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk({k: v for k, v in release.items() if k != "relatedProcesses"})
    return found


def _pages(market: Market, limit: int) -> list[dict]:
    pages = [public_get(market, "/ocds/release-packages", {"limit": limit})]
    while pages[-1]["releases"]:
        pages.append(follow(market, pages[-1]["links"]["next"]))
    return pages


def _paths(value: Any, path: tuple[str, ...], found: set[tuple[str, ...]]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            found.add((*path, key))
            _paths(item, (*path, key), found)
    elif isinstance(value, list):
        for item in value:
            _paths(item, path, found)


def _profile() -> Any:
    spec = importlib.util.spec_from_file_location("ocds_profile", SHARED_OCDS / "profile.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
