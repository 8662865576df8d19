"""The thin slice end to end: register a supplier -> event -> catalogue row -> GET (read-your-writes)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
from falcon import testing

from tests.support import count_events, unique_legal_id


def register(client: testing.TestClient, auth: Callable[..., dict[str, str]], **overrides: object) -> testing.Result:
    body = {
        "name": "Northern Pathways CIC",
        "legal_identifier": unique_legal_id(),
        "organisation_type": "voluntary",
        "is_small": True,
        **overrides,
    }
    return client.simulate_post("/suppliers", json=body, headers=auth())


def test_registered_supplier_can_be_read_back_at_its_position(client, auth) -> None:
    created = register(client, auth, name="Tees Valley Recovery")
    assert created.status_code == 201, created.text
    body = created.json
    assert created.headers["location"] == f"/suppliers/{body['id']}"
    assert created.headers["etag"] == '"1"'
    assert body["version"] == 1 and body["events"] == 1 and body["position"] > 0

    read = client.simulate_get(f"/suppliers/{body['id']}", params={"min_position": body["position"]}, headers=auth())
    assert read.status_code == 200, read.text
    assert read.json["name"] == "Tees Valley Recovery"
    assert read.json["organisation_type"] == "voluntary"
    assert read.json["is_small"] is True
    assert read.headers["etag"] == '"1"'


def test_supplier_list_filters_by_name_and_pages(client, auth) -> None:
    marker = unique_legal_id()
    positions = [register(client, auth, name=f"Paging Trust {marker} {i}").json["position"] for i in range(3)]
    first = client.simulate_get(
        "/suppliers", params={"name": marker, "limit": 2, "min_position": max(positions)}, headers=auth()
    )
    assert first.status_code == 200
    assert len(first.json["items"]) == 2 and first.json["next_after"]
    second = client.simulate_get(
        "/suppliers", params={"name": marker, "limit": 2, "after": first.json["next_after"]}, headers=auth()
    )
    assert len(second.json["items"]) == 1 and second.json["next_after"] is None


def test_every_event_carries_the_envelope_from_the_token_and_request(client, auth, database_url) -> None:
    request_id = f"req-{unique_legal_id()}"
    created = client.simulate_post(
        "/suppliers",
        json={
            "name": "Envelope Ltd",
            "legal_identifier": unique_legal_id(),
            "organisation_type": "private",
            "is_small": False,
        },
        headers={
            **auth(role="authority", org="hmpps-commercial", sub="officer-42"),
            "X-Request-ID": request_id,
        },
    )
    assert created.status_code == 201
    assert created.headers["x-request-id"] == request_id
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT actor_id, actor_role, organisation_id, correlation_id, causation_id, recorded_at, effective_at,"
            " event_type FROM ledger_events WHERE correlation_id = %s",
            (request_id,),
        ).fetchone()
    actor, role, org, correlation, causation, recorded, effective, event_type = row
    assert (actor, role, org, correlation) == ("officer-42", "authority", "hmpps-commercial", request_id)
    assert causation == created.json["command_id"]
    assert recorded.utcoffset().total_seconds() == 0 and abs(datetime.now(UTC) - recorded).total_seconds() < 60
    assert effective == recorded
    assert event_type == "SupplierRegistered"


def test_a_generated_request_id_is_echoed_when_none_is_sent(client) -> None:
    result = client.simulate_get("/health/live")
    assert len(result.headers["x-request-id"]) == 36


def test_a_body_cannot_name_the_actor(client, auth, database_url) -> None:
    before = count_events(database_url)
    result = register(client, auth, actor_id="someone-else", role="administrator")
    assert result.status_code == 422
    paths = {e["path"] for e in result.json["errors"]}
    assert paths == {"$.actor_id", "$.role"}
    assert count_events(database_url) == before


def test_registering_the_same_legal_identifier_twice_is_refused_naming_the_rule(client, auth, database_url) -> None:
    legal_id = unique_legal_id()
    assert register(client, auth, legal_identifier=legal_id).status_code == 201
    before = count_events(database_url)
    again = register(client, auth, legal_identifier=legal_id.lower())
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json["rule"] == "supplier already registered"
    assert count_events(database_url) == before


def test_change_with_current_if_match_succeeds_and_stale_if_match_is_412(client, auth, database_url) -> None:
    supplier = register(client, auth).json
    changed = client.simulate_patch(
        f"/suppliers/{supplier['id']}", json={"name": "Renamed Trust"}, headers={**auth(), "If-Match": '"1"'}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json["version"] == 2 and changed.headers["etag"] == '"2"'
    before = count_events(database_url)
    stale = client.simulate_patch(
        f"/suppliers/{supplier['id']}", json={"name": "Lost Update"}, headers={**auth(), "If-Match": '"1"'}
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == "application/problem+json"
    assert count_events(database_url) == before
    read = client.simulate_get(
        f"/suppliers/{supplier['id']}", params={"min_position": changed.json["position"]}, headers=auth()
    )
    assert read.json["name"] == "Renamed Trust" and read.headers["etag"] == '"2"'


def test_concurrent_changes_to_one_supplier_conflict_with_409_and_write_once(client, auth, database_url) -> None:
    """Two commands read version 1, then race to write version 2: one wins, the other gets 409."""
    supplier = register(client, auth).json
    before = count_events(database_url)
    results: list[testing.Result] = []

    def change(name: str) -> None:
        results.append(client.simulate_patch(f"/suppliers/{supplier['id']}", json={"name": name}, headers=auth()))

    # Hold the events table's write lock so both commands load version 1 and then queue on it.
    with psycopg.connect(database_url) as blocker:
        blocker.execute("LOCK TABLE ledger_events IN EXCLUSIVE MODE")
        threads = [threading.Thread(target=change, args=(n,)) for n in ("First Name", "Second Name")]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        with psycopg.connect(database_url, autocommit=True) as watcher:
            while time.monotonic() < deadline:
                waiting = watcher.execute(
                    "SELECT count(*) FROM pg_locks WHERE relation = 'ledger_events'::regclass AND NOT granted"
                ).fetchone()[0]
                if waiting >= 2:
                    break
                time.sleep(0.02)
        assert waiting >= 2, "both commands should be queued on the table lock"
        blocker.rollback()
    for t in threads:
        t.join(timeout=10)
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 409]
    conflict = next(r for r in results if r.status_code == 409)
    assert conflict.json["rule"] == "optimistic concurrency"
    assert count_events(database_url) == before + 1
