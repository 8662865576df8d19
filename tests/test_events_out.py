"""Domain events out (ADR 34): the published catalogue, the CloudEvents it makes and the pull feed's paging."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ledger.audit.event_types import recordable
from ledger.store import Ledger
from projections.published.catalogue import NOT_PUBLISHED, PUBLISHED, public_types
from projections.published.stream import BATCH_MEDIA, Cursor, read
from tests.market import Market
from tools.demo import load_demo

SUBSCRIBER = {"role": "subscriber", "org": "warehouse", "sub": "nightly-warehouse"}
PERSON = ("Alex", "Smith", "1990-05-17", "X123456", "rent arrears")


def feed(m: Market, **params: Any) -> list[dict[str, Any]]:
    headers = m.headers(**SUBSCRIBER)
    result = m.client.simulate_get("/events/feed", params=params, headers=headers)
    assert result.status_code == 200, result.text
    assert result.headers["content-type"] == BATCH_MEDIA
    return json.loads(result.text)


def everything(m: Market, limit: int) -> list[dict[str, Any]]:
    """The whole stream as a consumer pages through it: `after` is the last message's `sequence`."""
    read_so_far: list[dict[str, Any]] = []
    after = "0"
    while page := feed(m, after=after, limit=limit):
        read_so_far += page
        after = page[-1]["sequence"]
    return read_so_far


def test_every_event_type_is_published_with_a_public_schema_or_withheld_with_a_reason() -> None:
    names = {cls.__name__ for cls in recordable().values()}
    assert names == set(PUBLISHED) | set(NOT_PUBLISHED)
    assert not set(PUBLISHED) & set(NOT_PUBLISHED)
    assert all(reason.strip() for reason in NOT_PUBLISHED.values())
    assert {"TenderSubmitted", "TenderStarted", "ScoresRecorded", "ParticipantJoined"} <= set(NOT_PUBLISHED)
    types = [p.cloud_type for p in public_types().values()]
    assert len(types) == len(set(types)) == len(PUBLISHED)
    assert public_types()["AttendanceRecorded"].cloud_type == (
        "uk.gov.justice.probation-ledger.referral.attendance-recorded.v1"
    )


def test_no_published_field_is_sealed_personal_data_or_a_person_s_free_text() -> None:
    for public in public_types().values():
        hints = public.data.__annotations__
        for name, kind in hints.items():
            assert "Sealed" not in str(kind), (public.event, name)
            assert name not in ("subject_id", "personal", "notes", "reason", "requester_name", "content"), (
                public.event,
                name,
            )


@pytest.fixture(scope="module")
def journey(market: Market) -> dict[str, str]:
    """A contract won in competition, a checkpoint signed, then a referral made for Alex Smith (CRN X123456)."""
    contract, supplier = market.contract()
    signed = market.client.simulate_post("/audit/checkpoints", headers=market.headers("auditor", "hmpps-audit"))
    assert signed.status_code == 201, signed.text
    referral = market.referral(contract)
    return {"contract": contract, "supplier": supplier, "referral": referral, "tree_size": signed.json["tree_size"]}


def test_the_feed_pages_through_every_message_once_in_log_order(market: Market, journey: dict[str, str]) -> None:
    whole = feed(market, limit=1000)
    assert len(whole) > 10
    for small in (1, 3, 7):
        assert everything(market, small) == whole  # nothing skipped, nothing repeated, whatever the page size
    ids = [message["id"] for message in whole]
    assert len(ids) == len(set(ids))
    sequences = [message["sequence"] for message in whole]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert feed(market, after=whole[-1]["sequence"]) == []
    # A position names the place just after that event: the same messages as the sequence of that event.
    assert feed(market, after=str(whole[3]["position"]), limit=5) == whole[4:9]


def test_each_message_is_a_cloud_event_with_the_envelope_as_recorded(market: Market, journey: dict[str, str]) -> None:
    whole = feed(market, limit=1000)
    made = next(m for m in whole if m["type"].endswith(".referral.referral-made.v1"))
    assert made["specversion"] == "1.0" and made["subject"] == journey["referral"]
    assert made["id"] == f"{journey['referral']}/1"
    assert made["source"] == "urn:uk:gov:justice:probation-ledger"
    assert made["datacontenttype"] == "application/json"
    assert made["data"]["details"]["contract_id"] == journey["contract"]
    assert made["data"]["supplier_id"] == journey["supplier"]
    assert {"time", "effectivetime", "correlationid", "position", "sequence"} <= set(made)
    log = market.client.simulate_get(
        "/audit/events",
        params={"aggregate": journey["referral"]},
        headers=market.headers("auditor", "hmpps-audit"),
    ).json["items"][0]
    assert made["position"] == log["position"] and made["correlationid"] == log["correlation_id"]
    assert made["time"].replace("Z", "+00:00") == log["recorded_at"].replace("Z", "+00:00")
    assert not any(m["type"].endswith("tender-submitted.v1") or m["type"].endswith("tender-started.v1") for m in whole)


def test_a_signed_checkpoint_is_published_after_the_events_it_covers(market: Market, journey: dict[str, str]) -> None:
    whole = feed(market, limit=1000)
    [at] = [i for i, m in enumerate(whole) if m["type"].endswith(".audit.checkpoint-signed.v1")]
    checkpoint = whole[at]
    assert checkpoint["id"] == f"checkpoint/{journey['tree_size']}"
    data = checkpoint["data"]
    assert data["tree_size"] == journey["tree_size"]
    assert len(base64.b64decode(data["root"])) == 32 and len(base64.b64decode(data["signature"])) == 64
    assert {"signed_at", "key_id"} <= set(data)
    # The same checkpoint as the C2SP note outsiders keep: its body names the tree, and it is the one served.
    lines = data["note"].split("\n")
    assert lines[1:3] == [str(journey["tree_size"]), data["root"]] and lines[4].startswith("\u2014 ")
    served = market.client.simulate_get("/audit/checkpoint")
    assert served.status_code == 200 and served.text == data["note"]
    # After every event it covers (the tree's leaves are the first `tree_size` positions), before the referral.
    assert all(m["position"] <= checkpoint["position"] for m in whole[:at])
    assert any(m["subject"] == journey["referral"] for m in whole[at + 1 :])
    assert checkpoint["sequence"] == Cursor(checkpoint["position"], journey["tree_size"]).sequence()
    assert feed(market, after=checkpoint["sequence"], limit=1)[0] == whole[at + 1]
    assert feed(market, after=whole[at - 1]["sequence"], limit=1)[0] == checkpoint


def test_no_message_carries_the_person_s_data_or_the_tender_s_content(market: Market, journey: dict[str, str]) -> None:
    text = json.dumps(feed(market, limit=1000))
    for value in (*PERSON, "Our method", "1000000.00"):
        assert value not in text


@pytest.mark.parametrize("after", ["-1", "x", "1.", ".5", "1.2.3", "99999999999999999999", "1e3", "1" * 21])
def test_a_malformed_place_in_the_stream_is_422(market: Market, after: str) -> None:
    result = market.client.simulate_get("/events/feed", params={"after": after}, headers=market.headers(**SUBSCRIBER))
    assert result.status_code == 422
    assert result.json["errors"][0]["path"] == "after"


def test_a_subscriber_sees_the_feed_and_public_lists_but_nothing_of_the_log_or_the_caseload(market: Market) -> None:
    headers = market.headers(**SUBSCRIBER)
    assert market.client.simulate_get("/suppliers", headers=headers).status_code == 200
    for path in ("/audit/events", "/referrals", "/caseload", "/finance/spend"):
        assert market.client.simulate_get(path, headers=headers).status_code == 403, path


def test_no_message_of_the_demo_history_carries_personal_data_or_tender_content(make_database) -> None:
    url = make_database()
    ledger = Ledger(url)
    try:
        load_demo(ledger)
    finally:
        ledger.close()
    with psycopg.connect(url, autocommit=True) as conn:
        page = read(conn, Cursor(), 100_000, source="urn:test")
        text = b"\n".join(item.body for item in page.items).decode()
        published = conn.execute(
            "SELECT count(*) FROM ledger_events WHERE event_type = ANY(%s)", (list(PUBLISHED),)
        ).fetchone()[0]
    assert len([i for i in page.items if not i.id.startswith("checkpoint/")]) == published > 1000
    given = ("Alex", "Sam", "Jordan", "Chris", "Jamie", "Taylor", "Morgan", "Casey")
    family = ("Smith", "Jones", "Khan", "Evans", "Okafor", "Murphy", "Patel", "Williams")
    for name in given + family:
        assert f'"{name}"' not in text and f" {name}" not in text, name
    assert not re.search(r'"[A-Z][0-9]{6}"', text)  # no CRN
    assert not re.search(r'"(19[0-9]{2}|200[0-5])-[0-9]{2}-[0-9]{2}', text)  # no date of birth (history is 2021 on)
    assert "housing-first" not in text and "method_statement" not in text


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_the_asyncapi_document_names_every_published_type_and_its_data_schema(market: Market) -> None:
    result = market.client.simulate_get("/asyncapi.json")  # no token: it reveals nothing
    assert result.status_code == 200
    document = result.json
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {p.cloud_type for p in public_types().values()} | {
        "uk.gov.justice.probation-ledger.audit.checkpoint-signed.v1"
    }
    assert set(document["x-not-published"]) == set(NOT_PUBLISHED)
    made = document["components"]["schemas"]["ReferralMadeV1"]
    assert set(made["properties"]) == {"reference_number", "details", "supplier_id", "region"}
    for ref in _refs(document):
        node: Any = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]  # every reference resolves


def test_the_readme_lists_every_published_type_and_every_one_withheld() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for public in public_types().values():
        assert f"`{public.cloud_type.removeprefix('uk.gov.justice.probation-ledger.')}`" in readme, public.event
    for name in NOT_PUBLISHED:
        assert f"`{name}`" in readme, name


def test_a_tree_signed_again_after_its_checkpoint_was_deleted_is_placed_anew_and_the_feed_reads_on(
    make_database, settings
) -> None:
    m = Market(make_database(), settings)
    try:
        m.supplier("Checkpointed Trust")
        auditor = m.headers("auditor", "hmpps-audit")
        first = m.client.simulate_post("/audit/checkpoints", headers=auditor).json
        read_so_far = feed(m, limit=1000)
        assert read_so_far[-1]["id"] == f"checkpoint/{first['tree_size']}"
        with psycopg.connect(m.url, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # as someone with the rights would
            conn.execute("DELETE FROM checkpoints")
        same = m.client.simulate_post("/audit/checkpoints", headers=auditor)  # the same tree, signed again
        assert same.status_code == 201 and same.json["tree_size"] == first["tree_size"], same.text
        m.supplier("Later Trust")
        again = m.client.simulate_post("/audit/checkpoints", headers=auditor)
        assert again.status_code == 201, again.text
        later = feed(m, after=read_so_far[-1]["sequence"], limit=1000)
        assert later[-1]["id"] == f"checkpoint/{again.json['tree_size']}"
        assert any(message["type"].endswith("supplier-registered.v1") for message in later)
    finally:
        m.close()
