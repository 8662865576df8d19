"""Erasure by crypto-shredding: a person's data is sealed with their key; erasing destroys the key."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import psycopg
import pytest

from ledger.audit import log as merkle_log
from tests.market import Market
from tests.test_referrals import assessed, at, provider

DPO = "data_protection_officer"
CRN = "Q987654"
PERSON = {
    "given_name": "Philippa",
    "family_name": "Quillfeather",
    "date_of_birth": "1987-03-14",
    "gender": "female",
    "address": "12 Erasure Lane, Gateshead",
    "diverse_needs": "Dyslexia: prefers spoken summaries",
}
TEXTS = {
    "risk": "Quillfeather risk: volatile when owed money by her brother",
    "needs": "Hearing aid battery runs out mid-afternoon",
    "note": "Disclosed gambling debts to her Quillfeather cousins",
    "concerns": "Arrived smelling of alcohol at the Quillfeather session",
    "behaviour": "Shouted at reception about the parking",
    "stand_down": "No placement would take Ms Quillfeather today",
}
# Everything that identifies her, as it would appear anywhere in the database.
NEEDLES = [CRN, "Philippa", "Quillfeather", "1987-03-14", "Erasure Lane", "Dyslexia", *TEXTS.values()]


@pytest.fixture(scope="module")
def case(market: Market) -> dict[str, str]:
    """Her referral with a risk summary, a case note, an attended session with concerns; an Unpaid Work order."""
    contract, _ = market.contract()
    market.post("/innovation-partners", {"region": "region-a", "contract_id": contract}, role="authority")
    referral = market.referral(
        contract,
        crn=CRN,
        person=PERSON,
        risk_summary=TEXTS["risk"],
        needs_and_accessibility=TEXTS["needs"],
    )
    assessed(market, referral)
    market.post(f"/referrals/{referral}/case-notes", {"subject": "Money", "body": TEXTS["note"]})
    market.post(
        f"/referrals/{referral}/appointments",
        {"starts_at": at(market, hours=1), "delivery_method": "in_person", "session_type": "one_to_one"},
    )
    appointment = [a for a in market.get(f"/referrals/{referral}")["appointments"] if a["status"] == "scheduled"][-1]
    market.clock.advance(hours=2)
    provider(
        market,
        referral,
        "attendance",
        {
            "appointment_id": appointment["appointment_id"],
            "attended": "late",
            "behaviour": TEXTS["behaviour"],
            "concerns": TEXTS["concerns"],
            "notify_practitioner": True,
        },
    )
    order = market.post(
        "/unpaid-work",
        {
            "contract_id": contract,
            "crn": CRN,
            "person": PERSON,
            "hours_ordered": 80,
            "employed": False,
            "made_on": market.clock.now.date().isoformat(),
        },
        expect=201,
    ).json["id"]
    market.post(
        f"/unpaid-work/{order}/stand-downs",
        {"on": market.clock.now.date().isoformat(), "reason": TEXTS["stand_down"]},
        role="provider_caseworker",
    )
    return {"referral": referral, "contract": contract, "order": order}


def dump(url: str) -> bytes:
    """Every row of every table, as `COPY` writes it (bytea as hex), plus pg_dump's output when it can run."""
    chunks: list[bytes] = []
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for (table,) in tables:
            with conn.cursor().copy(f"COPY (SELECT * FROM {table}) TO STDOUT") as copy:
                chunks.extend(bytes(block) for block in copy)
    pg_dump = shutil.which("pg_dump")
    if pg_dump:
        done = subprocess.run([pg_dump, "--data-only", url], capture_output=True, check=False)
        if done.returncode == 0:  # a pg_dump older than the server refuses to run; COPY above covers it
            chunks.append(done.stdout)
    return b"\n".join(chunks)


def found(haystack: bytes, needles: list[str]) -> list[str]:
    """The needles present as text, or as the hex that bytea columns show."""
    lowered = haystack.lower()
    return [n for n in needles if n.encode().lower() in lowered or n.encode().hex().encode() in lowered]


def erase(
    market: Market, crn: str = CRN, *, expect: int = 201, reason: str | None = "Art. 17 request DPO-2026-117"
) -> Any:
    body = {"crn": crn} if reason is None else {"crn": crn, "reason": reason}
    result = market.client.simulate_post("/personal-data/erasures", json=body, headers=market.headers(DPO))
    assert result.status_code == expect, result.text
    if result.status_code < 300:
        market.position = max(market.position, result.json["position"])
    return result.json


def test_personal_data_is_readable_by_those_allowed_and_never_stored_in_the_clear(market: Market, case) -> None:
    record = market.get(f"/referrals/{case['referral']}")
    assert (record["crn"], record["person_name"], record["erased"]) == (CRN, "Philippa Quillfeather", False)
    assert record["person"]["address"] == PERSON["address"] and record["risk_summary"] == TEXTS["risk"]
    assert record["appointments"][-1]["concerns"] == TEXTS["concerns"]
    assert found(dump(market.url), NEEDLES) == []


def test_erasure_destroys_the_key_and_every_view_and_export_shows_the_person_as_erased(market: Market, case) -> None:
    with psycopg.connect(market.url, autocommit=True) as conn:
        before = merkle_log.checkpoint(conn, merkle_log.Signer.from_file(market.settings.checkpoint_key_path()))
    erased = erase(market)
    with psycopg.connect(market.url) as conn:
        event = conn.execute(
            "SELECT actor_role, reason FROM ledger_events WHERE notification_id = %s", (erased["position"],)
        ).fetchone()
        tombstone = conn.execute(
            "SELECT wrapped_key, crn_index, erasure_position FROM personal_data_keys WHERE subject_id = %s",
            (erased["id"],),
        ).fetchone()
    assert event == (DPO, "Art. 17 request DPO-2026-117")
    assert tombstone == (None, None, erased["position"])

    record = market.get(f"/referrals/{case['referral']}")
    assert record["erased"] is True
    assert (record["crn"], record["person_name"], record["person"], record["risk_summary"]) == (None,) * 4
    assert record["appointments"][-1]["concerns"] is None
    listed = [r for r in market.get("/referrals", params={"contract_id": case["contract"]})["items"]]
    assert [(r["crn"], r["person_name"], r["erased"]) for r in listed] == [(None, None, True)]
    orders = market.get("/unpaid-work", params={"contract_id": case["contract"]})["items"]
    assert [(o["crn"], o["erased"]) for o in orders] == [(None, True)]
    today = market.clock.now.date()
    report = market.get(
        "/caseload/report.csv",
        params={"contract_id": case["contract"], "from": today.replace(year=today.year - 1).isoformat(), "to": today},
    )
    assert report.splitlines()[1].split(",")[1] == "erased"
    assert market.get("/personal-data/erasures", role="auditor")["items"][-1]["subject_id"] == erased["id"]

    # The events are all still there, and the log still verifies against the checkpoint signed before.
    with psycopg.connect(market.url, autocommit=True) as conn:
        signer = merkle_log.Signer.from_file(market.settings.checkpoint_key_path())
        result = merkle_log.verify(conn, signer.public_key)
        after = merkle_log.checkpoint(conn, signer)
    assert result.ok and after.tree_size > before.tree_size

    assert found(dump(market.url), NEEDLES) == []


def test_nothing_more_is_recorded_about_an_erased_person(market: Market, case) -> None:
    refused = market.post(
        f"/referrals/{case['referral']}/case-notes", {"subject": "x", "body": "More about her"}, expect=409
    )
    assert refused.json["rule"] == "personal data erased"
    again = erase(market, expect=409)
    assert again["rule"] == "no personal data held"
    assert erase(market, "Z000000", expect=409)["rule"] == "no personal data held"
    assert erase(market, reason=None, expect=422)["errors"][0]["path"] == "$.reason"
    assert erase(market, "not-a-crn", expect=422)["errors"][0]["path"] == "$.crn"


def test_a_person_referred_again_after_erasure_starts_afresh_with_a_new_key(market: Market, case) -> None:
    again = market.referral(case["contract"], crn=CRN, person={**PERSON, "address": "3 New Start Road"})
    record = market.get(f"/referrals/{again}")
    assert (record["crn"], record["person"]["address"], record["erased"]) == (CRN, "3 New Start Road", False)
    old = market.get(f"/referrals/{case['referral']}")
    assert old["erased"] is True and old["person"] is None
