"""Referrals and their delivery through the API, and the caseload view practitioners and providers use."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

from tests.market import Market
from tests.support import count_events


@pytest.fixture(scope="module")
def live(market: Market) -> tuple[str, str]:
    return market.contract()


def at(market: Market, days: float = 0, hours: float = 0) -> str:
    return (market.clock.now + timedelta(days=days, hours=hours)).isoformat()


def provider(market: Market, referral: str, path: str, body: dict | None = None, *, expect: int = 200) -> dict:
    return market.post(f"/referrals/{referral}/{path}", body, expect=expect, role="provider_caseworker").json


def assessed(market: Market, referral: str, sessions: int = 2) -> None:
    """Acknowledged, assigned, initial assessment attended, action plan approved."""
    provider(market, referral, "acknowledgement")
    provider(market, referral, "caseworker", {"caseworker_id": "cw-patel"})
    market.post(
        f"/referrals/{referral}/appointments",
        {"kind": "initial_assessment", "starts_at": at(market, hours=1), "delivery_method": "in_person"},
    )
    appointment = market.get(f"/referrals/{referral}")["appointments"][-1]["appointment_id"]
    market.clock.advance(hours=2)
    provider(market, referral, "attendance", {"appointment_id": appointment, "attended": "yes"})
    provider(
        market, referral, "action-plan", {"activities": ["Housing options review"], "number_of_sessions": sessions}
    )
    market.post(f"/referrals/{referral}/action-plan-approval", role="probation_practitioner")


def session(market: Market, referral: str, attendance: dict, *, hours_ahead: float = 1) -> str:
    market.post(
        f"/referrals/{referral}/appointments",
        {"starts_at": at(market, hours=hours_ahead), "delivery_method": "video", "session_type": "one_to_one"},
    )
    appointment = [a for a in market.get(f"/referrals/{referral}")["appointments"] if a["status"] == "scheduled"][-1]
    market.clock.advance(hours=hours_ahead + 1)
    provider(market, referral, "attendance", {"appointment_id": appointment["appointment_id"], **attendance})
    return appointment["appointment_id"]


def test_a_referral_to_a_live_contract_gets_a_readable_unique_reference(market: Market, live) -> None:
    contract, supplier = live
    first, second = market.referral(contract), market.referral(contract, crn="Y654321")
    one, two = market.get(f"/referrals/{first}"), market.get(f"/referrals/{second}")
    assert re.fullmatch(r"[A-Z]{2}\d{4}[A-Z]{2}", one["reference_number"])
    assert one["reference_number"] != two["reference_number"]
    assert (one["status"], one["supplier_id"], one["region"], one["practitioner_id"]) == (
        "sent",
        supplier,
        "region-a",
        "po-jones",
    )
    assert one["person_name"] == "Alex Smith"


def test_referrals_are_refused_naming_the_rule_and_write_nothing(market: Market, live) -> None:
    contract, _ = live
    women_only, _ = market.contract(need="accommodation", geography="region-a", eligibility={"gender": "women"})
    adults, _ = market.contract(need="accommodation", geography="region-a", eligibility={"min_age": 26})
    elsewhere, _ = market.contract(need="accommodation", geography="region-b")
    before = count_events(market.url)
    cases = {
        "contract does not cover the person's area": market.referral(elsewhere, expect=409),
        "person not eligible: gender": market.referral(women_only, expect=409),
        "person not eligible: age": market.referral(
            adults,
            expect=409,
            person={"given_name": "Sam", "family_name": "Lee", "date_of_birth": "2004-01-01", "gender": "female"},
        ),
        "category not delivered under this contract": market.referral(
            contract,
            expect=409,
            category="ete",
            desired_outcomes=["Obtains suitable education, training or employment"],
        ),
    }
    for rule, result in cases.items():
        assert result.json["rule"] == rule
    bad_outcome = market.referral(contract, expect=422, desired_outcomes=["Wins the lottery"])
    assert bad_outcome.json["errors"][0]["path"] == "$.desired_outcomes[0]"
    assert count_events(market.url) == before


def test_a_referral_to_a_contract_that_is_not_live_is_refused(market: Market) -> None:
    contract, _ = market.contract(geography="region-a")
    market.post(
        f"/contracts/{contract}/termination",
        {"grounds": "Provider insolvent", "effective_date": market.clock.now.date().isoformat()},
    )
    refused = market.referral(contract, expect=409)
    assert refused.json["rule"] == "contract not live"


def test_reassignment_keeps_the_history_of_caseworkers(market: Market, live) -> None:
    referral = market.referral(live[0])
    provider(market, referral, "caseworker", {"caseworker_id": "cw-first"})
    provider(market, referral, "caseworker", {"caseworker_id": "cw-second"})
    record = market.get(f"/referrals/{referral}")
    assert record["caseworker_id"] == "cw-second" and record["status"] == "assigned"
    assert [(a["caseworker_id"], a["previous_caseworker_id"]) for a in record["assignments"]] == [
        ("cw-first", None),
        ("cw-second", "cw-first"),
    ]


def test_attendance_recorded_the_next_day_takes_effect_at_the_session(market: Market, live) -> None:
    referral = market.referral(live[0])
    assessed(market, referral)
    market.post(
        f"/referrals/{referral}/appointments",
        {"starts_at": at(market, hours=1), "delivery_method": "phone", "session_type": "one_to_one"},
    )
    appointment = market.get(f"/referrals/{referral}")["appointments"][-1]
    too_early = provider(
        market, referral, "attendance", {"appointment_id": appointment["appointment_id"], "attended": "yes"}, expect=409
    )
    assert too_early["rule"] == "attendance before the session"
    market.clock.advance(days=1, hours=3)
    provider(
        market,
        referral,
        "attendance",
        {"appointment_id": appointment["appointment_id"], "attended": "late", "behaviour": "Engaged well"},
    )
    with psycopg.connect(market.url) as conn:
        recorded_at, effective_at = conn.execute(
            "SELECT recorded_at, effective_at FROM ledger_events WHERE originator_id = %s"
            " AND event_type = 'AttendanceRecorded' ORDER BY notification_id DESC LIMIT 1",
            (referral,),
        ).fetchone()
    assert effective_at.isoformat() == appointment["starts_at"].replace("Z", "+00:00")
    assert recorded_at - effective_at > timedelta(days=1)


def test_sessions_need_an_approved_action_plan_and_rar_days_are_capped(market: Market, live) -> None:
    referral = market.referral(live[0], max_enforceable_days=1)
    provider(market, referral, "caseworker", {"caseworker_id": "cw-khan"})
    refused = market.post(
        f"/referrals/{referral}/appointments", {"starts_at": at(market, 1), "delivery_method": "in_person"}, expect=409
    )
    assert refused.json["rule"] == "sessions need an approved action plan"
    assessed(market, referral, sessions=3)
    session(market, referral, {"attended": "yes", "counts_towards_rar": True})
    market.post(f"/referrals/{referral}/appointments", {"starts_at": at(market, hours=1), "delivery_method": "video"})
    second = [a for a in market.get(f"/referrals/{referral}")["appointments"] if a["status"] == "scheduled"][-1]
    market.clock.advance(hours=2)
    over = provider(
        market,
        referral,
        "attendance",
        {"appointment_id": second["appointment_id"], "attended": "yes", "counts_towards_rar": True},
        expect=409,
    )
    assert over["rule"] == "RAR days exceed the maximum enforceable days"


def test_rescheduling_and_cancelling_keep_who_asked_and_why(market: Market, live) -> None:
    referral = market.referral(live[0])
    assessed(market, referral)
    market.post(f"/referrals/{referral}/appointments", {"starts_at": at(market, 2), "delivery_method": "in_person"})
    appointment = market.get(f"/referrals/{referral}")["appointments"][-1]["appointment_id"]
    provider(
        market,
        referral,
        "appointment-changes",
        {
            "appointment_id": appointment,
            "starts_at": at(market, 3),
            "reason": "Job interview clash",
            "requested_by": "person_on_probation",
        },
    )
    provider(market, referral, "appointment-cancellations", {"appointment_id": appointment, "reason": "Hospital stay"})
    line = next(a for a in market.get(f"/referrals/{referral}")["appointments"] if a["appointment_id"] == appointment)
    assert line["status"] == "cancelled" and line["reschedules"] == 1
    again = provider(
        market, referral, "appointment-cancellations", {"appointment_id": appointment, "reason": "Again"}, expect=409
    )
    assert again["rule"] == "appointment already closed"


def test_unacceptable_absence_notifies_the_practitioner_until_acknowledged(market: Market, live) -> None:
    referral = market.referral(live[0], practitioner="po-notify")
    assessed(market, referral)
    appointment = session(
        market, referral, {"attended": "no", "absence": "unacceptable", "concerns": "Said he would not attend again"}
    )
    pending = market.get("/caseload", params={"practitioner_id": "po-notify"})["notifications_pending"]["items"]
    assert [(p["appointment_id"], p["attendance"], p["absence"]) for p in pending] == [
        (appointment, "did_not_attend", "unacceptable")
    ]
    by_provider = market.get("/caseload/notifications-pending", params={"supplier_id": live[1]})  # its own index
    assert appointment in [p["appointment_id"] for p in by_provider["items"]]
    market.post(
        f"/referrals/{referral}/notification-acknowledgements",
        {"appointment_id": appointment},
        role="probation_practitioner",
    )
    none = market.get("/caseload", params={"practitioner_id": "po-notify"})["notifications_pending"]
    assert none == {"total": 0, "items": [], "next_after": None}
    by_provider = market.get("/caseload/notifications-pending", params={"supplier_id": live[1]})
    assert appointment not in [p["appointment_id"] for p in by_provider["items"]]
    no_absence = provider(market, referral, "attendance", {"appointment_id": appointment, "attended": "no"}, expect=422)
    assert no_absence["errors"][0]["path"] == "$.absence"


def test_ending_derives_cancelled_ended_early_or_completed(market: Market, live) -> None:
    cancelled = market.referral(live[0])
    other = market.post(f"/referrals/{cancelled}/withdrawal", {"reason_code": "OTH"}, expect=422).json
    assert other["errors"][0]["path"] == "$.detail"
    market.post(f"/referrals/{cancelled}/withdrawal", {"reason_code": "MOV", "detail": "Moved to Cardiff"})

    early = market.referral(live[0])
    assessed(market, early, sessions=3)
    session(market, early, {"attended": "yes"})
    market.post(f"/referrals/{early}/withdrawal", {"reason_code": "CUS"})

    completed = market.referral(live[0])
    assessed(market, completed, sessions=2)
    session(market, completed, {"attended": "yes"})
    session(market, completed, {"attended": "late"})
    incomplete = provider(
        market,
        completed,
        "end-of-service-report",
        {"outcomes": [{"outcome": "Homelessness is prevented", "achievement": "achieved"}], "summary": "Housed."},
        expect=422,
    )
    assert incomplete["errors"][0]["path"] == "$.outcomes"
    provider(
        market,
        completed,
        "end-of-service-report",
        {
            "outcomes": [
                {"outcome": "Obtains or sustains suitable accommodation", "achievement": "achieved"},
                {"outcome": "Homelessness is prevented", "achievement": "partially_achieved"},
            ],
            "summary": "Secured a private tenancy with deposit support.",
        },
    )
    states = {r: market.get(f"/referrals/{r}")["end_state"] for r in (cancelled, early, completed)}
    assert states == {cancelled: "cancelled", early: "ended_early", completed: "completed"}
    closed = provider(market, completed, "case-notes", {"subject": "x", "body": "y"})
    assert closed["events"] == 1  # notes may follow the end; other commands may not
    refused = provider(market, completed, "caseworker", {"caseworker_id": "cw-late"}, expect=409)
    assert refused["rule"] == "referral concluded"


def test_amendments_need_a_reason_and_stay_within_the_category(market: Market, live) -> None:
    referral = market.referral(live[0])
    missing = market.post(f"/referrals/{referral}/amendments", {"complexity": "HIGH"}, expect=422)
    assert missing.json["errors"][0]["path"] == "$.reason"
    market.post(
        f"/referrals/{referral}/amendments",
        {"complexity": "HIGH", "practitioner_id": "po-new", "reason": "Risk increased after arrest"},
        role="probation_practitioner",
    )
    record = market.get(f"/referrals/{referral}")
    assert (record["complexity"], record["practitioner_id"]) == ("HIGH", "po-new")


def test_caseload_view_for_a_provider_and_its_performance_report(market: Market) -> None:
    contract, supplier = market.contract(geography="region-a")
    waiting = market.referral(contract, crn="W111111")
    delivered = market.referral(contract, crn="D222222")
    assessed(market, delivered, sessions=2)
    session(market, delivered, {"attended": "yes"})
    session(market, delivered, {"attended": "no", "absence": "acceptable"})
    market.clock.advance(days=15)
    view = market.get("/caseload", params={"supplier_id": supplier, "waiting_days": 10})
    assert view["by_status"] == {"sent": 1, "in_progress": 1}
    assert [r["id"] for r in view["unassigned"]["items"]] == [waiting]
    assert [r["id"] for r in view["waiting_for_first_appointment"]["items"]] == [waiting]
    assert view["attendance_rate"] == "0.500"
    report = market.client.simulate_get(
        "/caseload/report.csv",
        params={"supplier_id": supplier, "from": "2020-01-01", "to": "2030-12-31", "min_position": market.position},
        headers=market.headers("provider_caseworker", supplier),
    )
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(report.text)))
    assert {r["crn"] for r in rows} == {"W111111", "D222222"}
    line = next(r for r in rows if r["crn"] == "D222222")
    assert (line["sessions_planned"], line["sessions_attended"]) == ("2", "1") and line["first_appointment_at"]
    listed = market.get("/referrals", params={"supplier_id": supplier}, role="provider_caseworker", org=supplier)
    by_number = {r["reference_number"]: r for r in listed["items"]}
    assert len(rows) == len(by_number)
    for row in rows:  # the report says what the referrals list says, row for row
        item = by_number[row["reference_number"]]
        for column in ("crn", "category", "complexity", "sessions_planned", "sessions_attended", "end_state"):
            assert row[column] == ("" if item[column] is None else str(item[column])), column
        for column in ("received_at", "first_appointment_at"):
            exported = datetime.fromisoformat(row[column]) if row[column] else None
            assert exported == (datetime.fromisoformat(item[column]) if item[column] else None), column
    bad = market.client.simulate_get(
        "/caseload/report.csv", params={"from": "soon"}, headers=market.headers("provider_caseworker", supplier)
    )
    assert bad.status_code == 422


def test_a_provider_contract_or_region_caseload_from_running_totals_equals_counting_every_referral(
    market: Market,
) -> None:
    contract, supplier = market.contract()
    sent, working, done, withdrawn = (market.referral(contract, crn=f"T{n:06d}") for n in range(4))
    for referral in (working, done):
        assessed(market, referral, sessions=1)
    session(market, working, {"attended": "no", "absence": "unacceptable"})
    session(market, done, {"attended": "yes"})
    provider(
        market,
        done,
        "end-of-service-report",
        {
            "outcomes": [
                {"outcome": "Obtains or sustains suitable accommodation", "achievement": "achieved"},
                {"outcome": "Homelessness is prevented", "achievement": "partially_achieved"},
            ],
            "summary": "Housed and holding the tenancy.",
        },
    )
    market.post(f"/referrals/{withdrawn}/withdrawal", {"reason_code": "MOV"}, role="probation_practitioner")
    market.get(f"/referrals/{withdrawn}")  # the caseload view has caught up
    with psycopg.connect(market.url) as conn:
        counted = conn.execute(
            "SELECT status, count(*), sum(sessions_attended), sum(sessions_recorded),"
            " count(*) FILTER (WHERE end_state = 'completed'), sum(outcomes_achieved), sum(outcomes_rated)"
            " FROM caseload_referrals WHERE supplier_id = %s GROUP BY 1",
            (supplier,),
        ).fetchall()
    expected_status = {row[0]: row[1] for row in counted}
    assert sent and expected_status == {"sent": 1, "in_progress": 1, "concluded": 2}
    for cut in ({"supplier_id": supplier}, {"contract_id": contract}, {"region": "region-a", "contract_id": contract}):
        view = market.get("/caseload", params=cut)
        assert view["by_status"] == expected_status, cut
        assert (view["completed"], view["cancelled"]) == (1, 1)
        attended = sum(row[2] for row in counted)
        recorded = sum(row[3] for row in counted)
        assert view["attendance_rate"] == str((Decimal(attended) / Decimal(recorded)).quantize(Decimal("0.001")))
        assert view["outcome_achievement_rate"] == "0.500"


def test_a_corrected_attendance_is_what_the_caseload_counts(market: Market) -> None:
    contract, supplier = market.contract()
    referral = market.referral(contract, crn="C777777")
    assessed(market, referral, sessions=3)
    first = session(market, referral, {"attended": "yes", "counts_towards_rar": True})
    session(market, referral, {"attended": "late"})
    assert market.get("/caseload", params={"supplier_id": supplier})["attendance_rate"] == "1.000"
    provider(
        market,
        referral,
        "attendance-corrections",
        {"appointment_id": first, "attended": "no", "absence": "acceptable", "reason": "Recorded for the wrong person"},
    )
    record = market.get(f"/referrals/{referral}")
    corrected = next(a for a in record["appointments"] if a["appointment_id"] == first)
    assert (corrected["status"], corrected["absence"], corrected["rar"]) == ("did_not_attend", "acceptable", False)
    assert (record["sessions_attended"], record["sessions_recorded"], record["rar_days"]) == (1, 2, 0)
    assert market.get("/caseload", params={"supplier_id": supplier})["attendance_rate"] == "0.500"
    provider(
        market, referral, "attendance-corrections", {"appointment_id": first, "attended": "yes", "reason": "Register"}
    )
    assert market.get(f"/referrals/{referral}")["sessions_attended"] == 2
    assert market.get("/caseload", params={"supplier_id": supplier})["attendance_rate"] == "1.000"
