"""Accredited programmes through the API: each programme's own rules, attendance, completion and leaving (ADR 24)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from projections.caseload.handlers import CaseloadView
from projections.rebuild import rebuild
from tests.market import Market
from tests.test_unpaid_work_and_programmes import MAN, PERSON, join, schedule

TSP, BBR = "thinking_skills_programme", "building_better_relationships"


@pytest.fixture(scope="module")
def partner(market: Market) -> tuple[str, str]:
    """The region's innovation partner contract (Unpaid Work and programmes)."""
    return market.innovation_partner()


def form(market: Market, contract: str, programme: str = TSP, mode: str = "rolling") -> str:
    return market.post(
        "/programmes",
        {"programme": programme, "contract_id": contract, "name": f"{mode} group", "mode": mode, "facilitator_id": "f"},
        expect=201,
    ).json["id"]


def members(market: Market, gid: str, crns: list[str], programme: str = TSP) -> None:
    for crn in crns:
        join(market, gid, crn, MAN if programme == BBR else PERSON, ipv=programme == BBR)


def register(market: Market, gid: str, session: int, *marks: tuple[str, ...], expect: int = 200):
    """A session's register: (crn, attended) or (crn, "no", absence) for each participant named."""
    entries = [{"crn": m[0], "attended": m[1], **({"absence": m[2]} if len(m) > 2 else {})} for m in marks]
    return market.post(f"/programmes/{gid}/attendance", {"session": session, "register": entries}, expect=expect)


def monday_after(market: Market, weeks: int = 1) -> date:
    today = market.clock.now.date()
    return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)


def until(market: Market, day: date) -> None:
    """The market's clock moves on to 09:00 on `day` (it never goes back)."""
    moment = datetime.combine(day, time(9), UTC)
    assert moment >= market.clock.now
    market.clock.now = moment


def read(market: Market, gid: str, **params: str) -> dict:
    return market.get(f"/programmes/{gid}", params=params)


def subjects(record: dict) -> dict[str, str]:
    return {p["crn"]: p["subject_id"] for p in record["participants"]}


def test_in_a_rolling_group_a_participant_who_has_had_all_their_sessions_completes_and_frees_a_place(
    market: Market, partner
) -> None:
    gid = form(market, partner[0])
    founders = [f"R10000{i}" for i in range(4)]
    later = [f"R20000{i}" for i in range(8)]
    members(market, gid, founders)
    monday = monday_after(market)
    group_days = [monday + timedelta(weeks=w, days=d) for w in range(5) for d in range(3)]  # Mon-Wed, five weeks
    for day in group_days[:11]:
        schedule(market, gid, day)
    members(market, gid, later)  # eight more join the rolling group at its twelfth session
    assert join(market, gid, "R300000", expect=409).json["rule"] == "groups of at most 12"
    for day in group_days[11:]:
        schedule(market, gid, day)
    first = founders[0]
    thursdays = [monday + timedelta(weeks=w, days=3) for w in range(1, 5)]
    for day in thursdays:  # the first founder's four individual sessions
        schedule(market, gid, day, crn=first)

    until(market, thursdays[-1] + timedelta(days=4))  # the Monday after: every session has been held
    for number in range(1, 16):
        register(market, gid, number, *((crn, "yes") for crn in founders + (later if number > 11 else [])))
    for number in (16, 17, 18):
        register(market, gid, number, (first, "late" if number == 17 else "yes"))
    assert join(market, gid, "R300000", expect=409).json["rule"] == "groups of at most 12"
    register(market, gid, 19, (first, "yes"))  # the nineteenth session attended: the programme is completed

    record = read(market, gid)
    done = next(p for p in record["participants"] if p["crn"] == first)
    assert (done["status"], done["left_on"], done["sessions_attended"]) == ("completed", str(thursdays[-1]), 19)
    assert (record["current"], record["completed"]) == (11, 1)
    completions = market.get("/audit/events", params={"type": "ProgrammeCompleted", "aggregate": gid})["items"]
    assert [e["effective_at"] for e in completions] == [f"{thursdays[-1]}T00:00:00Z"]

    join(market, gid, "R300000")  # the place the completed participant left
    assert join(market, gid, "R300001", expect=409).json["rule"] == "groups of at most 12"
    # The next group session is for those who still need one: the later joiners and the newest. The founders who
    # have had their fifteen group sessions are not in it, and do not stop it.
    schedule(market, gid, group_days[-1] + timedelta(days=6))
    record = read(market, gid)
    ids = subjects(record)
    assert {p["subject_id"] for p in record["sessions"][-1]["participants"]} == {ids[c] for c in [*later, "R300000"]}
    # Replayed from the log, the group's participants, sessions and attendance are the same.
    assert all(report.identical for report in rebuild(market.url, [CaseloadView()]))


def test_a_thinking_skills_session_after_a_week_without_one_is_refused(market: Market, partner) -> None:
    gid = form(market, partner[0])
    crns = [f"W10000{i}" for i in range(4)]
    members(market, gid, crns)
    monday = monday_after(market)
    schedule(market, gid, monday)
    after_a_gap = schedule(market, gid, monday + timedelta(weeks=2), expect=409)
    assert after_a_gap.json["rule"] == "at least one session a week"
    alone = schedule(market, gid, monday + timedelta(weeks=2), crn=crns[0], expect=409)
    assert alone.json["rule"] == "at least one session a week"
    schedule(market, gid, monday + timedelta(days=13))  # Sunday of the next week: no week is left without one
    schedule(market, gid, monday + timedelta(weeks=2), crn=crns[0])
    schedule(market, gid, monday + timedelta(weeks=2, days=1))
    assert schedule(market, gid, monday + timedelta(weeks=4), expect=409).json["rule"] == "at least one session a week"
    schedule(market, gid, monday + timedelta(weeks=3))


def test_building_better_relationships_has_its_own_limits_not_the_thinking_skills_pace(market: Market, partner) -> None:
    gid = form(market, partner[0], BBR)
    crns = [f"B20000{i}" for i in range(4)]
    members(market, gid, crns, BBR)
    monday = monday_after(market)
    # Two sessions in a day, five in a week, a week with none: what TSP refuses, the BBR documents do not limit.
    for day in (0, 0, 1, 2, 3):
        schedule(market, gid, monday + timedelta(days=day))
    days = [monday + timedelta(weeks=2 + n // 4, days=n % 4) for n in range(22)]
    for day in days:
        schedule(market, gid, day)
    # 27 group sessions: the other two of the 29 are the preparatory one-to-one sessions.
    assert schedule(market, gid, days[-1] + timedelta(days=1), expect=409).json["rule"] == "BBR has 27 group sessions"
    schedule(market, gid, monday, crn=crns[0])  # the same day as two group sessions
    schedule(market, gid, monday + timedelta(days=1), crn=crns[0])
    third = schedule(market, gid, monday + timedelta(days=2), crn=crns[0], expect=409)
    assert third.json["rule"] == "BBR has 29 sessions"


def test_attendance_takes_effect_on_the_session_day_and_a_missed_session_can_be_made_up(
    market: Market, partner
) -> None:
    gid = form(market, partner[0])
    crn = "A300000"
    members(market, gid, [crn])
    monday = monday_after(market)
    for day in range(4):
        schedule(market, gid, monday + timedelta(days=day), crn=crn)
    fifth = schedule(market, gid, monday + timedelta(days=7), crn=crn, expect=409)
    assert fifth.json["rule"] == "TSP has 4 individual sessions"
    early = register(market, gid, 1, (crn, "yes"), expect=409)
    assert early.json["rule"] == "attendance before the session"

    until(market, monday + timedelta(days=9))  # recorded the Wednesday after
    missing = register(market, gid, 2, (crn, "no"), expect=422)
    assert [e["path"] for e in missing.json["errors"]] == ["$.register[0].absence"]
    register(market, gid, 1, (crn, "yes"))
    register(market, gid, 2, (crn, "no", "unacceptable"))
    assert register(market, gid, 1, (crn, "late"), expect=409).json["rule"] == "attendance already recorded"
    assert register(market, gid, 1, ("A399999", "yes"), expect=409).json["rule"] == "not in the session"
    assert register(market, gid, 9, (crn, "yes"), expect=409).json["rule"] == "unknown session"

    recorded = market.get("/audit/events", params={"type": "ProgrammeAttendanceRecorded", "aggregate": gid})["items"]
    assert [e["effective_at"] for e in recorded] == [f"{monday}T00:00:00Z", f"{monday + timedelta(days=1)}T00:00:00Z"]
    assert {e["recorded_at"] for e in recorded} == {market.clock.now.isoformat().replace("+00:00", "Z")}
    # As effective on the day before the session, nothing had happened; on the session's day, it had.
    before = read(market, gid, as_effective=str(monday - timedelta(days=1)))
    on_the_day = read(market, gid, as_effective=str(monday))
    assert before["sessions"][0]["participants"][0]["attendance"] is None
    assert on_the_day["sessions"][0]["participants"][0]["attendance"] == "attended"
    assert on_the_day["sessions"][1]["participants"][0]["attendance"] is None  # the next day's session

    # The missed session no longer counts: a make-up session may be scheduled in its place.
    schedule(market, gid, monday + timedelta(days=10), crn=crn)
    person = read(market, gid)["participants"][0]
    assert (person["sessions_booked"], person["sessions_attended"], person["sessions_missed"]) == (5, 1, 1)


def test_a_participant_withdrawn_with_a_coded_reason_leaves_the_group_and_its_size(market: Market, partner) -> None:
    gid = form(market, partner[0])
    crns = [f"L40000{i}" for i in range(4)]
    members(market, gid, crns)
    monday = monday_after(market)
    schedule(market, gid, monday)
    other = market.post(f"/programmes/{gid}/withdrawals", {"crn": crns[0], "reason_code": "OTH"}, expect=422)
    assert [e["path"] for e in other.json["errors"]] == ["$.detail"]
    market.post(f"/programmes/{gid}/withdrawals", {"crn": crns[0], "reason_code": "CUS"})
    again = market.post(f"/programmes/{gid}/withdrawals", {"crn": crns[0], "reason_code": "CUS"}, expect=409)
    assert again.json["rule"] == "not in the group"
    assert join(market, gid, crns[0], expect=409).json["rule"] == "already left the group"

    record = read(market, gid)
    gone = next(p for p in record["participants"] if p["crn"] == crns[0])
    assert (gone["status"], gone["end_reason"], record["current"], record["withdrawn"]) == ("withdrawn", "CUS", 3, 1)
    short = market.get("/caseload", params={"supplier_id": partner[1]})["programme_groups_below_minimum"]
    assert {g["group_id"]: g["participants"] for g in short}[gid] == 3
    small = schedule(market, gid, monday + timedelta(days=1), expect=409)
    assert small.json["rule"] == "a group session needs at least 4 participants"
    until(market, monday)  # the session booked before the withdrawal is held
    assert register(market, gid, 1, (crns[0], "yes"), expect=409).json["rule"] == "left the group"
    register(market, gid, 1, *((crn, "yes") for crn in crns[1:]))

    # Erasing a participant's personal data leaves the group's record with their place but not their CRN.
    erased = market.client.simulate_post(
        "/personal-data/erasures",
        json={"crn": crns[1], "reason": "Art. 17 request DPO-2026-204"},
        headers=market.headers("data_protection_officer", org=None),
    )
    assert erased.status_code == 201, erased.text
    market.position = erased.json["position"]
    places = {p["subject_id"]: (p["crn"], p["erased"]) for p in read(market, gid)["participants"]}
    assert places[subjects(record)[crns[1]]] == (None, True)


def test_a_fixed_group_takes_nobody_new_once_it_has_started(market: Market, partner) -> None:
    gid = form(market, partner[0], mode="fixed")
    members(market, gid, [f"F50000{i}" for i in range(4)])
    join(market, gid, "F500004")  # before the first session: still forming
    schedule(market, gid, monday_after(market))
    late = join(market, gid, "F500005", expect=409)
    assert late.json["rule"] == "a fixed group takes nobody new once it has started"

    def short() -> set[str]:
        below = market.get("/caseload", params={"supplier_id": partner[1]})["programme_groups_below_minimum"]
        return {g["group_id"] for g in below}

    for n in range(5):
        market.post(f"/programmes/{gid}/withdrawals", {"crn": f"F50000{n}", "reason_code": "ENG"})
        if n == 1:
            assert gid in short()  # three left: too few for a group session
    assert gid not in short()  # everyone has left the fixed group: it is over, not short
