"""The caseload's lists read a page at a time: counted in full, cut by a cursor, the longest waiting first."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ledger.cases import unpaid_work
from ledger.cases.unpaid_work import WEEKLY_MINIMUM
from tests.market import Market
from tests.test_unpaid_work_and_programmes import order, work


@pytest.fixture(scope="module")
def partner(market: Market) -> tuple[str, str]:
    return market.innovation_partner()


def on(market: Market, year: int, month: int, day: int) -> None:
    moment = datetime(year, month, day, 9, tzinfo=UTC)
    assert moment >= market.clock.now, "the test market's clock only moves forward"
    market.clock.now = moment


def read_all(market: Market, path: str, params: dict, limit: int) -> tuple[list[dict], list[int]]:
    """Every item of a list, following next_after; and the total each page reported."""
    items, totals, after = [], [], None
    while True:
        page = market.get(path, params={**params, "limit": limit, **({"after": after} if after else {})})
        assert len(page["items"]) <= limit
        items += page["items"]
        totals.append(page.get("total"))
        after = page["next_after"]
        if after is None:
            return items, totals


def test_late_starts_count_working_days_without_bank_holidays(market: Market, partner) -> None:
    # Allocated on Thursday 30 April 2026: Monday 4 May is the early May bank holiday, so the seventh working
    # day after allocation is Tuesday 12 May; a first session on the 13th is late, on the 12th is not.
    on(market, 2026, 4, 30)
    started_12th, started_13th, not_started = (order(market, partner[0], 40) for _ in range(3))
    for oid in (started_12th, started_13th):
        market.post(f"/unpaid-work/{oid}/induction", {"on": "2026-04-30", "risk_and_needs_assessed": True})
    on(market, 2026, 5, 12)
    work(market, started_12th, market.clock.now.date(), "7")
    late = market.get("/caseload/unpaid-work-started-late", params={"supplier_id": partner[1]})
    assert late == {"total": 0, "items": [], "next_after": None}  # not yet: the 12th is the seventh working day
    on(market, 2026, 5, 13)
    work(market, started_13th, market.clock.now.date(), "7")
    late_ones, totals = read_all(market, "/caseload/unpaid-work-started-late", {"supplier_id": partner[1]}, 1)
    assert sorted(line["order_id"] for line in late_ones) == sorted([started_13th, not_started])
    assert totals == [2, 2] and all(line["started_late"] for line in late_ones)
    flags = {line["order_id"]: line["started_late"] for line in market.get("/unpaid-work")["items"]}
    assert flags == {started_12th: False, started_13th: True, not_started: True}


def at_risk_from(hours_left: int, employed: bool, complete_by: date) -> date | None:
    """The domain's at-risk day for an order allocated today, which the view's generated column must match."""
    return unpaid_work.at_risk_from(complete_by, Decimal(hours_left), WEEKLY_MINIMUM[employed])


def at_risk_ids(market: Market, supplier: str) -> set[str]:
    items, _ = read_all(market, "/caseload/unpaid-work-at-risk", {"supplier_id": supplier}, 2)
    assert [o["complete_by"] for o in items] == sorted(o["complete_by"] for o in items)  # nearest deadline first
    return {o["order_id"] for o in items}


def test_an_order_is_at_risk_from_the_day_its_hours_left_no_longer_fit_before_its_deadline(
    market: Market, partner
) -> None:
    # Made on 13 May 2026, both are due by 13 May 2027: 70 hours employed (7 a week) are at risk from 5 March,
    # 56 hours unemployed (28 a week) from 30 April.
    employed, unemployed = order(market, partner[0], 70), order(market, partner[0], 56, employed=False)
    due = {o["order_id"]: date.fromisoformat(o["complete_by"]) for o in market.get("/unpaid-work")["items"]}
    first, second = at_risk_from(70, True, due[employed]), at_risk_from(56, False, due[unemployed])
    assert (first, second) == (date(2027, 3, 5), date(2027, 4, 30))
    on(market, 2027, 3, 4)
    assert employed not in at_risk_ids(market, partner[1])
    on(market, 2027, 3, 5)
    assert employed in at_risk_ids(market, partner[1]) and unemployed not in at_risk_ids(market, partner[1])
    view = market.get("/caseload", params={"supplier_id": partner[1], "limit": 1})["unpaid_work"]["at_risk"]
    assert view["total"] == len(at_risk_ids(market, partner[1])) and len(view["items"]) == 1
    # Working hours moves the day on: 62 hours left are at risk from 13 March.
    market.post(f"/unpaid-work/{employed}/induction", {"on": "2027-03-05", "risk_and_needs_assessed": True})
    work(market, employed, market.clock.now.date(), "8")
    assert employed not in at_risk_ids(market, partner[1])
    on(market, 2027, 4, 29)
    assert unemployed not in at_risk_ids(market, partner[1]) and employed in at_risk_ids(market, partner[1])
    on(market, 2027, 4, 30)
    assert unemployed in at_risk_ids(market, partner[1])


def test_unpaid_work_totals_count_every_order_and_the_list_pages_newest_first(market: Market, partner) -> None:
    orders = market.get("/unpaid-work", params={"supplier_id": partner[1], "limit": 500})["items"]
    summary = market.get("/caseload", params={"supplier_id": partner[1]})["unpaid_work"]
    assert summary["orders"] == len(orders) == 5
    assert summary["hours_ordered"] == sum(o["hours_ordered"] for o in orders) == 246
    assert summary["hours_worked"] == "22.00" and summary["completed"] == 0
    paged, _ = read_all(market, "/unpaid-work", {"supplier_id": partner[1]}, 3)
    assert [o["order_id"] for o in paged] == [o["order_id"] for o in orders]
    allocated = [o["allocated_on"] for o in paged]
    assert allocated == sorted(allocated, reverse=True)


def test_the_caseload_lists_page_with_totals_and_cursors_that_survive_new_referrals(market: Market) -> None:
    contract, supplier = market.contract(geography="region-a")
    made = []
    for _ in range(5):
        made.append(market.referral(contract))
        market.clock.advance(minutes=1)
    first = market.get("/caseload", params={"supplier_id": supplier, "limit": 2})["unassigned"]
    assert first["total"] == 5 and [r["id"] for r in first["items"]] == made[:2]
    made.append(market.referral(contract))  # received after the first page was read
    second = market.get(
        "/caseload/unassigned", params={"supplier_id": supplier, "limit": 2, "after": first["next_after"]}
    )
    assert second["total"] == 6 and [r["id"] for r in second["items"]] == made[2:4]
    rest, _ = read_all(market, "/caseload/unassigned", {"supplier_id": supplier, "after": second["next_after"]}, 2)
    assert [r["id"] for r in rest] == made[4:]  # nothing repeated, nothing missed
    market.post(f"/referrals/{made[0]}/caseworker", {"caseworker_id": "cw-1"}, role="provider_caseworker")
    assert market.get("/caseload/unassigned", params={"supplier_id": supplier})["total"] == 5
    newest, _ = read_all(market, "/referrals", {"supplier_id": supplier}, 4)
    assert [r["id"] for r in newest] == made[::-1]


def test_a_cursor_or_limit_the_list_did_not_hand_out_is_refused_by_name(market: Market, partner) -> None:
    headers = market.headers("auditor", privileges=("personal_data",))
    orders = market.get("/unpaid-work", params={"supplier_id": partner[1], "limit": 1})
    for path, params, field in (
        ("/caseload/unassigned", {"after": "not-a-cursor"}, "after"),
        ("/caseload/unassigned", {"after": orders["next_after"]}, "after"),  # a date-keyed list's cursor
        ("/referrals", {"after": "%%%"}, "after"),
        ("/unpaid-work", {"limit": "0"}, "limit"),
        ("/caseload", {"limit": "501"}, "limit"),
        ("/caseload/notifications-pending", {"limit": "ten"}, "limit"),
    ):
        result = market.client.simulate_get(path, params=params, headers=headers)
        assert result.status_code == 422, (path, params, result.text)
        assert [e["path"] for e in result.json["errors"]] == [field]
