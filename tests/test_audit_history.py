"""The audit trail through the API: the log with envelopes, aggregates on both time axes, and proofs."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ledger.audit import merkle
from ledger.audit.log import Checkpoint, signature_valid
from tests.market import Market
from tests.test_referrals import assessed, at, provider


def audit(market: Market, path: str, *, expect: int = 200, **params: object) -> dict:
    result = market.client.simulate_get(path, params=params, headers=market.headers("auditor"))
    assert result.status_code == expect, result.text
    return result.json


@pytest.fixture(scope="module")
def late_attendance(market: Market) -> dict:
    return attended_late(market)


def attended_late(market: Market) -> dict:
    """A session held on one day whose attendance was written down two days later."""
    contract, _ = market.contract()
    referral = market.referral(contract)
    assessed(market, referral)
    market.post(
        f"/referrals/{referral}/appointments",
        {"starts_at": at(market, hours=1), "delivery_method": "video", "session_type": "one_to_one"},
    )
    appointment = [a for a in market.get(f"/referrals/{referral}")["appointments"] if a["status"] == "scheduled"][-1]
    session_at = datetime.fromisoformat(appointment["starts_at"])
    market.clock.advance(days=2)
    recorded = provider(
        market, referral, "attendance", {"appointment_id": appointment["appointment_id"], "attended": "yes"}
    )
    return {
        "referral": referral,
        "appointment": appointment["appointment_id"],
        "session_at": session_at,
        "recorded_at": market.clock.now,
        "position": recorded["position"],
    }


def test_the_log_pages_by_position_with_each_events_envelope(market: Market, late_attendance) -> None:
    first = audit(market, "/audit/events", limit=5)
    assert [e["position"] for e in first["items"]] == sorted(e["position"] for e in first["items"])
    assert first["next_after"] == first["items"][-1]["position"]
    second = audit(market, "/audit/events", limit=5, after=first["next_after"])
    assert second["items"][0]["position"] > first["next_after"]
    event = first["items"][0]
    for field in ("aggregate_id", "version", "type", "recorded_at", "effective_at", "actor_id", "actor_role"):
        assert field in event
    assert {"correlation_id", "causation_id", "organisation_id", "reason", "payload"} <= set(event)


def test_the_log_filters_by_type_actor_organisation_aggregate_and_time(market: Market, late_attendance) -> None:
    referral = late_attendance["referral"]
    made = audit(market, "/audit/events", type="ReferralMade", aggregate=referral)["items"]
    assert len(made) == 1 and made[0]["actor_id"] == "po-jones" and made[0]["organisation_id"] == "region-a"
    by_actor = audit(market, "/audit/events", actor="po-jones", limit=1000)["items"]
    assert by_actor and {e["actor_id"] for e in by_actor} == {"po-jones"}
    by_org = audit(market, "/audit/events", organisation="region-a", limit=1000)["items"]
    assert made[0]["position"] in {e["position"] for e in by_org}
    late = audit(
        market,
        "/audit/events",
        type="AttendanceRecorded",
        aggregate=referral,
        since=(late_attendance["recorded_at"] - timedelta(minutes=1)).isoformat(),
    )["items"]
    assert [e["position"] for e in late] == [late_attendance["position"]]
    effective_window = audit(
        market,
        "/audit/events",
        aggregate=referral,
        effective_since=late_attendance["session_at"].isoformat(),
        effective_until=(late_attendance["session_at"] + timedelta(hours=1)).isoformat(),
    )["items"]
    assert [e["type"] for e in effective_window] == ["AttendanceRecorded"]
    assert audit(market, "/audit/events", since="yesterday", expect=422)["errors"][0]["path"] == "since"
    assert audit(market, "/audit/events", aggregate="nope", expect=422)["errors"][0]["path"] == "aggregate"


def test_an_aggregates_stream_is_its_events_in_version_order(market: Market, late_attendance) -> None:
    stream = audit(market, f"/audit/aggregates/{late_attendance['referral']}/events")["items"]
    assert [e["version"] for e in stream] == list(range(1, len(stream) + 1))
    assert stream[0]["type"] == "ReferralMade" and stream[-1]["type"] == "AttendanceRecorded"
    missing = "00000000-0000-0000-0000-000000000001"
    assert audit(market, f"/audit/aggregates/{missing}/events", expect=404)["status"] == 404


def _session(state: dict, appointment: str) -> dict:
    return state["appointments"][appointment]


def test_as_recorded_and_as_effective_differ_for_a_fact_recorded_late(market: Market, late_attendance) -> None:
    """The day after the session: the ledger did not yet know it was attended, but it had happened."""
    referral, appointment = late_attendance["referral"], late_attendance["appointment"]
    day_after = (late_attendance["session_at"] + timedelta(days=1)).isoformat()
    known = audit(market, f"/audit/aggregates/{referral}", as_recorded=day_after)
    happened = audit(market, f"/audit/aggregates/{referral}", as_effective=day_after)
    assert _session(known["state"], appointment)["attended"] is None
    assert _session(happened["state"], appointment)["attended"] == "yes"
    assert known["events_outside_horizon"] == 1 and happened["events_outside_horizon"] == 0
    assert happened["applied"][-1]["position"] == late_attendance["position"]
    # Both axes at once: what had happened by the day after, as the ledger knew it the day after.
    both = audit(market, f"/audit/aggregates/{referral}", as_effective=day_after, as_recorded=day_after)
    assert _session(both["state"], appointment)["attended"] is None
    # A log position pins the horizon exactly.
    before = audit(market, f"/audit/aggregates/{referral}", at_position=late_attendance["position"] - 1)
    assert _session(before["state"], appointment)["attended"] is None
    now = audit(market, f"/audit/aggregates/{referral}")
    assert now["version"] == happened["version"] == known["version"] + 1


def test_an_aggregate_created_after_the_horizon_did_not_exist_then(market: Market, late_attendance) -> None:
    referral = late_attendance["referral"]
    made = audit(market, f"/audit/aggregates/{referral}/events")["items"][0]
    before = (datetime.fromisoformat(made["recorded_at"]) - timedelta(seconds=1)).isoformat()
    then = audit(market, f"/audit/aggregates/{referral}", as_recorded=before)
    assert then["exists"] is False and then["state"] is None and then["events_outside_horizon"] > 0
    assert audit(market, f"/audit/aggregates/{referral}", as_recorded="2026-13-01", expect=422)["errors"][0][
        "path"
    ] == ("as_recorded")
    naive = audit(market, f"/audit/aggregates/{referral}", as_effective="2026-03-01T10:00:00", expect=422)
    assert naive["errors"][0]["path"] == "as_effective"


def _checkpoint(market: Market) -> dict:
    result = market.client.simulate_post("/audit/checkpoints", headers=market.headers("auditor"))
    assert result.status_code == 201, result.text
    return result.json


def test_inclusion_and_consistency_proofs_verify_against_signed_checkpoints(market: Market, late_attendance) -> None:
    first = _checkpoint(market)
    market.referral(market.get(f"/referrals/{late_attendance['referral']}")["contract_id"], crn="Z111111")
    second = _checkpoint(market)
    assert second["tree_size"] > first["tree_size"]

    listing = audit(market, "/audit/checkpoints")
    key = load_pem_public_key(listing["public_key"].encode())
    assert [c["tree_size"] for c in listing["items"][:2]] == [second["tree_size"], first["tree_size"]]
    for raw in (first, second):
        cp = Checkpoint(
            tree_size=raw["tree_size"],
            root=raw["root"],
            signed_at=datetime.fromisoformat(raw["signed_at"]),
            key_id=raw["key_id"],
            signature=raw["signature"],
        )
        assert raw["key_id"] == listing["key_id"] and signature_valid(cp, key)

    proof = audit(market, f"/audit/events/{late_attendance['position']}/inclusion-proof")
    assert proof["tree_size"] == second["tree_size"] and proof["root"] == second["root"]
    leaf = hashlib.sha256(b"\x00" + proof["leaf_data"].encode()).digest()
    assert leaf.hex() == proof["leaf_hash"]
    assert merkle.verify_inclusion(
        proof["leaf_index"],
        proof["tree_size"],
        leaf,
        [bytes.fromhex(h) for h in proof["audit_path"]],
        bytes.fromhex(second["root"]),
    )
    payload = audit(market, "/audit/events", after=late_attendance["position"] - 1, limit=1)["items"][0]["payload"]
    assert hashlib.sha256(_canonical_payload(payload)).hexdigest() in proof["leaf_data"]

    consistency = audit(market, "/audit/consistency-proof", first=first["tree_size"], second=second["tree_size"])
    assert consistency["first_checkpoint"]["root"] == first["root"]
    assert merkle.verify_consistency(
        first["tree_size"],
        second["tree_size"],
        bytes.fromhex(first["root"]),
        bytes.fromhex(second["root"]),
        [bytes.fromhex(h) for h in consistency["proof"]],
    )
    assert audit(market, "/audit/consistency-proof", first=second["tree_size"] + 10_000, expect=404)["status"] == 404
    assert audit(market, "/audit/consistency-proof", expect=422)["errors"][0]["path"] == "first"
    assert audit(market, "/audit/events/999999999/inclusion-proof", expect=404)["status"] == 404
    assert audit(market, "/audit/events/x/inclusion-proof", expect=404)["status"] == 404


def test_an_inclusion_proof_shows_each_step_of_its_check(market: Market, late_attendance) -> None:
    signed = _checkpoint(market)
    proof = audit(market, f"/audit/events/{late_attendance['position']}/inclusion-proof")
    assert proof["checkpoint"] == signed and proof["verified"] is True and proof["signature_valid"] is True
    node = hashlib.sha256(b"\x00" + proof["leaf_data"].encode()).digest()
    assert node.hex() == proof["leaf_hash_of_data"] == proof["leaf_hash"]
    assert [step["sibling"] for step in proof["steps"]] == proof["audit_path"]
    for step in proof["steps"]:  # each step's side and node, redone here
        left, right = (step["sibling"], node.hex()) if step["side"] == "left" else (node.hex(), step["sibling"])
        node = hashlib.sha256(b"\x01" + bytes.fromhex(left) + bytes.fromhex(right)).digest()
        assert node.hex() == step["node"]
    assert node.hex() == proof["computed_root"] == signed["root"]
    assert proof["signed_message"] == (
        f"probation-ledger checkpoint\n{signed['tree_size']}\n{signed['root']}\n"
        f"{datetime.fromisoformat(signed['signed_at']).isoformat()}\n"
    )


def test_what_changed_between_two_moments_names_each_value_and_the_events_between(
    market: Market, late_attendance
) -> None:
    referral, appointment, position = (
        late_attendance["referral"],
        late_attendance["appointment"],
        (late_attendance["position"]),
    )
    path = f"/audit/aggregates/{referral}/changes"
    attended = audit(market, path, axis="position", **{"from": position - 1, "to": position})
    assert attended["type"] == "Referral" and attended["to_version"] == attended["from_version"] + 1
    assert [e["position"] for e in attended["events"]] == [position]
    assert {"field": f"/appointments/{appointment}/attended", "change": "changed", "before": None, "after": "yes"} in (
        attended["changes"]
    )
    # On the recorded clock the day after the session nothing had changed yet; on the effective clock it had.
    day_after = (late_attendance["session_at"] + timedelta(days=1)).isoformat()
    session = (late_attendance["session_at"] - timedelta(minutes=1)).isoformat()
    assert audit(market, path, axis="recorded", **{"from": session, "to": day_after})["events"] == []
    happened = audit(market, path, axis="effective", **{"from": session, "to": day_after})
    assert [e["position"] for e in happened["events"]] == [position]
    # From before it existed, every value is new.
    created = audit(market, path, axis="position", **{"from": 0, "to": position})
    assert created["from_version"] is None and {c["change"] for c in created["changes"]} == {"added"}
    assert audit(market, path, axis="position", expect=422)["errors"][0]["path"] == "from"
    assert audit(market, path, axis="sideways", **{"from": 1, "to": 2}, expect=422)["errors"][0]["path"] == "axis"
    backwards = audit(market, path, axis="position", **{"from": position, "to": 1}, expect=422)
    assert backwards["errors"][0]["path"] == "to"
    missing = "/audit/aggregates/00000000-0000-0000-0000-000000000001/changes"
    assert audit(market, missing, **{"from": "2026-03-01", "to": "2026-03-02"}, expect=404)["status"] == 404


def test_the_event_types_are_the_domains_own(market: Market) -> None:
    types = {t["type"]: t["aggregates"] for t in audit(market, "/audit/event-types")["items"]}
    assert types["ReferralMade"] == ["Referral"] and types["AttendanceRecorded"] == ["Referral"]
    assert len(types) > 80 and "Created" not in types


def test_verify_runs_from_the_api_and_is_recorded_with_who_ran_it_and_when(market: Market) -> None:
    _checkpoint(market)
    headers = market.headers("auditor", "hmpps-audit", "audrey")
    ran = market.client.simulate_post("/audit/verifications", headers=headers)
    assert ran.status_code == 201, ran.text
    run = ran.json
    assert run["ok"] is True and run["finding"] is None and run["ran_by"] == "audrey"
    assert run["ran_at"] == market.clock.now.isoformat().replace("+00:00", "Z")
    assert run["events"] == run["leaves"] > 0
    listed = audit(market, "/audit/verifications")["items"]
    assert listed[0] == run
    refused = market.client.simulate_post("/audit/verifications", headers=market.headers("foi_officer", "moj-foi"))
    assert refused.status_code == 403 and audit(market, "/audit/verifications")["items"] == listed


def _canonical_payload(payload: dict) -> bytes:
    """The stored payload's bytes, as the API returned them (msgspec JSON, compact, in stored key order)."""
    import msgspec

    return msgspec.json.encode(payload)


def test_the_audit_trail_is_no_way_round_sealed_tenders(market: Market) -> None:
    lead = market.commissioner()
    bidder = market.supplier("Sealed Bids Ltd", areas=("region-a",))
    call_off = market.draft(lead, title="Sealed until the deadline")
    market.post(f"/call-offs/{call_off}/publication")
    tender = market.tender(call_off, bidder, "777000.00").json["id"]

    def submitted() -> dict:
        return audit(market, "/audit/events", type="TenderSubmitted", aggregate=tender)["items"][0]["payload"]

    sealed = "tender content stays sealed until the tenders are opened"
    assert submitted() == {"withheld": sealed}
    assert audit(market, f"/audit/aggregates/{tender}/events")["items"][-1]["payload"] == {"withheld": sealed}
    state = audit(market, f"/audit/aggregates/{tender}")["state"]
    assert state["submissions"] == {"initial": {"withheld": sealed}}
    changed = audit(market, f"/audit/aggregates/{tender}/changes", axis="position", **{"from": 0, "to": 2**62})
    assert "777000.00" not in str(changed)
    assert {"field": "/submissions/initial/withheld", "change": "added", "before": None, "after": sealed} in (
        changed["changes"]
    )
    market.clock.advance(days=31)
    market.post(f"/call-offs/{call_off}/tender-opening")
    assert submitted()["content"]["price"] == "777000.00"
    assert audit(market, f"/audit/aggregates/{tender}")["state"]["submissions"]["initial"]["price"] == "777000.00"


def test_a_persons_decision_carries_its_reason_in_the_envelope(market: Market) -> None:
    contract, supplier = market.contract()
    call_off = market.get(f"/contracts/{contract}")["call_off_id"]
    market.post(f"/suppliers/{supplier}/suspensions", {"grounds": "Failed a financial standing check"})
    market.post(f"/contracts/{contract}/variations", {"new_value": "950000.00", "reason": "Extra caseload funded"})

    def reason(event_type: str, aggregate: str) -> str | None:
        return audit(market, "/audit/events", type=event_type, aggregate=aggregate)["items"][-1]["reason"]

    assert reason("AwardDecided", call_off) == "Only tender"
    assert reason("ScoresModerated", call_off) == "Evaluators agreed."
    assert reason("LotAssessed", supplier) == "evidence meets the bar"
    assert reason("SupplierSuspended", supplier) == "Failed a financial standing check"
    assert reason("ContractVaried", contract) == "Extra caseload funded"
