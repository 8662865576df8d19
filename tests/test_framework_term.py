"""The framework's term as recorded decisions (issue 19, item 6): seven years from June 2021, extendable by up to
three, each extension the Authority's with its reason; suppliers apply during the term as it stands."""

from __future__ import annotations

from datetime import UTC, date, datetime

from ledger.envelope import Actor
from ledger.framework import agreement
from tests.market import Market
from tests.support import count_events, recording, refused


def test_the_term_is_the_original_until_extended_and_extensions_keep_their_reasons(market: Market) -> None:
    term = market.get("/framework", role="supplier_bid_manager")
    assert (term["start"], term["end"], term["latest_end"], term["extensions"]) == (
        "2021-06-01",
        "2028-05-31",
        "2031-05-31",
        [],
    )
    before = count_events(market.url)
    for new_end, rule in (
        ("2028-05-31", "an extension lengthens the term"),
        ("2031-06-01", "extendable by up to three years"),
    ):
        refused = market.post("/framework/extensions", {"new_end": new_end, "reason": "Market needs it"}, expect=409)
        assert refused.json["rule"] == rule
    assert count_events(market.url) == before
    market.post("/framework/extensions", {"new_end": "2029-05-31", "reason": "Re-procurement delayed a year"})
    market.post("/framework/extensions", {"new_end": "2031-05-31", "reason": "Aligned with probation reform"})
    term = market.get("/framework")
    assert term["end"] == "2031-05-31"
    assert [(e["previous_end"], e["new_end"], e["reason"]) for e in term["extensions"]] == [
        ("2028-05-31", "2029-05-31", "Re-procurement delayed a year"),
        ("2029-05-31", "2031-05-31", "Aligned with probation reform"),
    ]
    again = market.post("/framework/extensions", {"new_end": "2031-05-31", "reason": "Again"}, expect=409)
    assert again.json["rule"] == "an extension lengthens the term"
    market.post("/framework/extensions", {"new_end": "2030-01-01", "reason": "Mine"}, expect=403, role="commissioner")


def test_an_extension_is_decided_while_the_term_runs() -> None:
    authority = Actor(id="authority-1", role="authority", organisation_id="hmpps-commercial")
    with recording(authority, datetime(2028, 6, 1, 9, tzinfo=UTC)):
        ended = agreement.FrameworkAgreement(
            start=date(2021, 6, 1), end=date(2028, 5, 31), latest_end=date(2031, 5, 31)
        )
        with refused("an extension is decided during the term"):
            ended.extend(date(2029, 5, 31), "Too late", today=date(2028, 6, 1))
        ended.extend(date(2029, 5, 31), "On the last day", today=date(2028, 5, 31))
    assert ended.term.within(date(2029, 5, 31)) and not ended.term.within(date(2029, 6, 1))


def test_suppliers_apply_during_the_term_as_extended(market: Market) -> None:
    """After the first test of this module extended the term to 31 May 2031."""
    supplier = market.post(
        "/suppliers",
        {"name": "Late Applicant", "legal_identifier": "LATE0001", "organisation_type": "mutual", "is_small": True},
        expect=201,
    ).json["id"]
    market.clock.now = datetime(2030, 6, 1, 9, tzinfo=UTC)  # after the original end; within it as extended above
    market.questionnaire(supplier, ("ete",), ("region-a",))
    market.clock.now = datetime(2031, 6, 1, 9, tzinfo=UTC)  # after the latest end
    late = market.questionnaire(supplier, ("accommodation",), ("region-a",), expect=409)
    assert late.json["rule"] == "applications only during the framework term"
    assert "the framework runs from 2021-06-01 to 2031-05-31" in late.json["detail"]
