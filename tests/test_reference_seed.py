"""The seed records the framework's reference data as events, once: a re-run writes nothing."""

from __future__ import annotations

import psycopg

from ledger.framework import categories, geography
from ledger.framework.reference import seed
from ledger.store import Ledger
from tests.support import count_events


def test_seed_is_idempotent_and_records_each_list(make_database) -> None:
    url = make_database()
    ledger = Ledger(url)
    try:
        first = seed(ledger)
        assert first.defined == {
            "complexity-levels": 3,
            "service-categories": 14,
            "geography": 1 + 2 + 12 + 43,
            "commissioner-types": 9,
        }
        events = count_events(url)
        second = seed(ledger)
        assert second.total == 0
        assert count_events(url) == events
    finally:
        ledger.close()
    with psycopg.connect(url) as conn:
        actors = conn.execute("SELECT DISTINCT actor_id, actor_role FROM ledger_events").fetchall()
        reasons = conn.execute("SELECT DISTINCT reason FROM ledger_events").fetchall()
    assert actors == [("system:ledger", "system")]
    assert reasons == [("framework reference data from the source documents",)]


def test_geography_nests_every_police_area_in_one_region_of_one_nation() -> None:
    police = [a for a in geography.AREAS if a.kind is geography.AreaKind.POLICE_AREA]
    assert len(police) == 43
    for area in police:
        chain = geography.ancestors(area.code)
        assert chain[-1] == geography.ENGLAND_AND_WALES
        assert geography.BY_CODE[chain[1]].kind is geography.AreaKind.PROBATION_REGION
    assert geography.covers("region-l", "greater-manchester")
    assert not geography.covers("region-b", "greater-manchester")


def test_categories_mark_needs_and_cohorts() -> None:
    cohorts = {c.code for c in categories.SERVICE_CATEGORIES if c.kind is categories.CategoryKind.COHORT}
    assert cohorts == {"women", "young-adults", "bame"}
    assert len(categories.SERVICE_CATEGORIES) == 14


def test_region_letters_follow_the_moj_referral_service_not_the_2019_briefing() -> None:
    """The referral service files West Midlands contracts under E and East Midlands ones under F (seed 003,
    a 2019 briefing, has them the other way round): the ledger agrees with the service, and so does the
    region each police area lies in."""
    letters = {a.attributes["region_letter"]: a.name for a in geography.AREAS if "region_letter" in a.attributes}
    assert (letters["E"], letters["F"]) == ("West Midlands", "East Midlands")
    for police_area in ("staffordshire", "warwickshire", "west-mercia", "west-midlands"):
        assert geography.BY_CODE[police_area].parent_code == "region-e"
    for police_area in ("derbyshire", "leicestershire", "lincolnshire", "nottinghamshire"):
        assert geography.BY_CODE[police_area].parent_code == "region-f"
