"""The FOI pages under the API's rules, without a browser: the purpose before requesters' names, who is offered
what (and a forced form refused), another organisation's record not found, CSRF on every form, refused forms writing
nothing, each table's CSV the rows the page shows, and the preview and the disclosed document exactly the API's."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from api.web.foi.present import anchor
from tests.market import Market
from tests.support import count_events

FORM = "application/x-www-form-urlencoded"


class Person:
    """Someone signed in to the pages through the development sign-in, with the session cookie a browser keeps."""

    def __init__(self, market: Market, role: str, organisation: str, name: str, **extra: str) -> None:
        self.client = market.client
        self.cookie = ""
        self.csrf = ""
        self.get("/app/sign-in")
        self.post("/app/sign-in/organisation", {"role": role, "organisation": organisation, "name": name, **extra})
        self.get("/app")

    def _keep(self, result: Any) -> Any:
        if "ledger_session" in result.cookies:
            self.cookie = f"ledger_session={result.cookies['ledger_session'].value}"
        if found := re.search(r'name="csrf_token" value="([^"]+)"', result.text):
            self.csrf = found.group(1)
        return result

    def get(self, path: str, **params: str) -> Any:
        return self._keep(self.client.simulate_get(path, params=params or None, headers={"Cookie": self.cookie}))

    def post(self, path: str, form: dict[str, Any], *, csrf: bool = True) -> Any:
        data = {**form, **({"csrf_token": self.csrf} if csrf else {})}
        headers = {"Cookie": self.cookie, "Content-Type": FORM}
        return self._keep(self.client.simulate_post(path, body=urlencode(data, doseq=True), headers=headers))

    def with_purpose(self) -> Person:
        self.get("/app/purpose")
        assert (
            self.post("/app/purpose", {"purpose": "Answering requests for information", "next": "/app"}).status_code
            == 303
        )
        return self


def officer(market: Market) -> Person:
    return Person(market, "foi_officer", "moj-foi", "Fola Officer").with_purpose()


def summary_of(page: Any) -> list[str]:
    found = re.search(r'govuk-error-summary__list">(.*?)</ul>', page.text, flags=re.S)
    return (
        [re.sub(r"<[^>]+>", "", m).strip() for m in re.findall(r"<li>(.*?)</li>", found.group(1), flags=re.S)]
        if found
        else []
    )


def field_error(page: Any, field: str) -> str | None:
    found = re.search(rf'id="{re.escape(field)}-error"[^>]*>.*?</span>\s*(.*?)</p>', page.text, flags=re.S)
    return found.group(1).strip() if found else None


@pytest.fixture(scope="module")
def awarded(market: Market) -> dict:
    """An awarded call-off with two bidders, and a request about it with its disclosure prepared."""
    lead = market.commissioner()
    winner = market.supplier("Winning Homes", areas=("region-a",))
    loser = market.supplier("Losing Homes", areas=("region-a",))
    call_off = market.draft(lead)
    market.post(f"/call-offs/{call_off}/publication")
    market.tender(call_off, winner, "950000.00")
    market.tender(call_off, loser, "1234567.89")
    market.clock.advance(days=31)
    market.post(f"/call-offs/{call_off}/tender-opening")
    market.score(call_off, winner, quality=80, price=60, social=70)
    market.score(call_off, loser, quality=60, price=80, social=50)
    market.post(f"/call-offs/{call_off}/evaluation")
    market.post(f"/call-offs/{call_off}/award", {"supplier_id": winner, "rationale": "Highest weighted score"})
    request = market.post(
        "/foi/requests",
        {
            "reference": "FOI-RULES-1",
            "requester_name": "Sam Requester",
            "information_requested": '=HYPERLINK("http://example.com") How was the call-off decided?',
            "received_on": "2026-03-02",
            "call_off_id": call_off,
        },
        expect=201,
    ).json["id"]
    market.post(f"/foi/requests/{request}/disclosure", {"kind": "call_off_record", "source_id": call_off})
    document = market.get(f"/foi/requests/{request}/disclosure")["document"]
    receipt = next(i for i, r in enumerate(document["tenders"][0]["receipts"]) if r["supplier_id"] == loser)
    other_lead = market.commissioner("region-b", "region-b")
    other_call_off = market.draft(other_lead, geography="region-b")
    market.get(f"/call-offs/{other_call_off}")  # the views have caught up: sign-in lists the commissioners
    return {
        "call_off": call_off,
        "winner": winner,
        "loser": loser,
        "lead": lead,
        "request": request,
        "price": f"/tenders/0/receipts/{receipt}/content/price",
        "other_call_off": other_call_off,
    }


def test_requesters_names_wait_for_the_purpose_and_the_read_is_recorded_with_it(market: Market, awarded: dict) -> None:
    person = Person(market, "foi_officer", "moj-foi", "Fola Officer")
    first = person.get("/app/foi/requests")
    assert first.status_code == 303 and first.headers["location"] == "/app/purpose?next=/app/foi/requests"
    person.with_purpose()
    assert "Sam Requester" in person.get("/app/foi/requests").text
    reads = market.get("/audit/personal-data-reads", role="auditor", params={"actor_id": "Fola Officer"})
    assert any(
        r["path"] == "/foi/requests" and r["purpose"] == "Answering requests for information" for r in reads["items"]
    )


def test_the_requests_csv_is_the_rows_the_page_shows_with_iso_dates_and_formulas_defused(
    market: Market, awarded: dict
) -> None:
    person = officer(market)
    page = person.get("/app/foi/requests")
    shown = re.findall(r'<a class="govuk-link" href="/app/foi/requests/([0-9a-f-]+)">', page.text)
    assert 'href="/app/foi/requests?format=csv"' in page.text and "Download this table (CSV)" in page.text
    download = person.get("/app/foi/requests", format="csv")
    assert download.headers["content-type"].startswith("text/csv")
    assert "attachment" in download.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["id"] for r in rows] == shown
    row = next(r for r in rows if r["id"] == awarded["request"])
    listed = {i["id"]: i for i in market.get("/foi/requests")["items"]}[awarded["request"]]
    assert (row["received_on"], row["due_on"]) == ("2026-03-02", listed["due_on"]) == ("2026-03-02", "2026-03-30")
    assert row["requester_name"] == "Sam Requester" and row["overdue"] == "true"
    assert row["information_requested"].startswith("'=HYPERLINK")  # a spreadsheet shows it, never runs it


def test_a_refused_new_request_shows_each_problem_against_its_field_and_writes_nothing(
    market: Market, awarded: dict
) -> None:
    person = officer(market)
    person.get("/app/foi/requests/new")
    before = count_events(market.url)
    missing = person.post(
        "/app/foi/requests/new",
        {"requester_name": "Sam", "received_on-day": "30", "received_on-month": "2", "received_on-year": "2026"},
    )
    assert missing.status_code == 422 and "<title>Error: " in missing.text
    assert summary_of(missing) == [
        "Enter the case reference the requester is given, like FOI-2026-0042: 3 to 40 letters, numbers, hyphens"
        " or slashes",
        "Enter what the requester asked for",
        "Enter the date it was received as a real date, for example 27 3 2026",
    ]
    assert field_error(missing, "received_on") == "Enter the date it was received as a real date, for example 27 3 2026"
    assert 'value="Sam"' in missing.text  # what was typed is kept
    taken = {
        "reference": "foi-rules-1",
        "requester_name": "Someone Else",
        "information_requested": "Anything",
        "received_on-day": "2",
        "received_on-month": "3",
        "received_on-year": "2026",
    }
    duplicate = person.post("/app/foi/requests/new", taken)
    assert field_error(duplicate, "reference") == "A request with this reference is already recorded"
    future = person.post("/app/foi/requests/new", {**taken, "reference": "FOI-NEW-9", "received_on-year": "2027"})
    assert field_error(future, "received_on") == "The date it was received must be today or in the past"
    assert count_events(market.url) == before


def test_every_form_needs_its_csrf_token(market: Market, awarded: dict) -> None:
    person = officer(market)
    before = count_events(market.url)
    forged = person.post(
        f"/app/foi/requests/{awarded['request']}",
        {"action": "seek_clarification", "seek-question": "Which one?"},
        csrf=False,
    )
    assert forged.status_code == 403 and "This form has expired" in forged.text
    forged = person.post(
        f"/app/foi/requests/{awarded['request']}/disclosure/withhold",
        {"pointer": "/award/rationale", "ground": "s41", "reason": "Confidential"},
        csrf=False,
    )
    assert forged.status_code == 403
    assert count_events(market.url) == before


def test_withholding_under_s43_2_without_the_public_interest_test_is_refused_and_writes_nothing(
    market: Market, awarded: dict
) -> None:
    person = officer(market)
    builder = person.get(f"/app/foi/requests/{awarded['request']}/disclosure")
    assert f'id="{anchor(awarded["price"])}"' in builder.text and "Suggested: s.43(2)" in builder.text
    form = person.get(f"/app/foi/requests/{awarded['request']}/disclosure/withhold", pointer=awarded["price"])
    assert form.status_code == 200 and "£1,234,567.89" in form.text
    assert f'name="pointer" value="{awarded["price"]}"' in form.text  # the form carries it; nobody types it
    before = count_events(market.url)
    refused = person.post(
        f"/app/foi/requests/{awarded['request']}/disclosure/withhold",
        {"pointer": awarded["price"], "ground": "s43(2)", "reason": "A bidder's price"},
    )
    assert refused.status_code == 422
    assert field_error(refused, "public_interest_note").startswith("s.43(2) is a qualified exemption")
    no_ground = person.post(
        f"/app/foi/requests/{awarded['request']}/disclosure/withhold", {"pointer": awarded["price"], "reason": "x"}
    )
    assert field_error(no_ground, "ground") == "Select the exemption that applies"
    assert count_events(market.url) == before
    unknown = person.get(f"/app/foi/requests/{awarded['request']}/disclosure/withhold", pointer="/tenders/9/price")
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]


def test_the_preview_is_the_apis_document_under_a_policy_allowing_only_its_own_style(
    market: Market, awarded: dict
) -> None:
    person = officer(market)
    preview = person.get(f"/app/foi/requests/{awarded['request']}/disclosure/preview")
    assert preview.text == market.get(f"/foi/requests/{awarded['request']}/disclosure.html")
    policy = preview.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "style-src 'sha256-" in policy and "unsafe-inline" not in policy
    assert "script" not in policy


def test_an_auditor_reads_the_case_but_is_offered_no_step_and_a_forced_one_is_refused(
    market: Market, awarded: dict
) -> None:
    auditor = Person(market, "auditor", "hmpps-audit", "Ada Auditor", personal_data="yes").with_purpose()
    case = auditor.get(f"/app/foi/requests/{awarded['request']}")
    assert case.status_code == 200 and "FOI-RULES-1" in case.text
    assert re.findall(r'<form method="post" action="([^"]+)"', case.text) == ["/app/sign-out"]
    builder = auditor.get(f"/app/foi/requests/{awarded['request']}/disclosure")
    assert (
        builder.status_code == 200 and "Withhold as suggested" not in builder.text and ">Withhold<" not in builder.text
    )
    assert "Record a new request" not in auditor.get("/app/foi/requests").text
    before = count_events(market.url)
    forced = auditor.post(
        f"/app/foi/requests/{awarded['request']}", {"action": "seek_clarification", "seek-question": "Which?"}
    )
    assert forced.status_code == 403 and "text/html" in forced.headers["content-type"]
    forced = auditor.post(
        f"/app/foi/requests/{awarded['request']}/disclosure/withhold",
        {"pointer": awarded["price"], "ground": "s41", "reason": "Confidential"},
    )
    assert forced.status_code == 403
    assert auditor.get("/app/foi/requests/new").status_code == 403
    assert count_events(market.url) == before


def test_a_commissioner_reads_its_own_call_offs_decision_record_and_not_another_organisations(
    market: Market, awarded: dict
) -> None:
    commissioner = Person(market, "commissioner", market.orgs[awarded["lead"]], "Cora Commissioner")
    own = commissioner.get(f"/app/foi/call-offs/{awarded['call_off']}/decision-record")
    assert own.status_code == 200 and "Accommodation services, North East" in own.text
    other = commissioner.get(f"/app/foi/call-offs/{awarded['other_call_off']}/decision-record")
    assert other.status_code == 404 and "Page not found" in other.text
    assert commissioner.get(f"/app/foi/suppliers/{awarded['winner']}/qualification-record").status_code == 403
    assert commissioner.get("/app/foi/requests").status_code == 403


def test_a_record_page_reads_at_a_horizon_and_says_so_when_nothing_was_recorded_by_then(
    market: Market, awarded: dict
) -> None:
    person = officer(market)
    page = f"/app/foi/call-offs/{awarded['call_off']}/decision-record"
    now = person.get(page)
    assert "£1,200,000.00" in now.text and "Highest weighted score" in now.text and "Northumbria" in now.text
    before = person.get(page, **{"as_recorded-day": "1", "as_recorded-month": "1", "as_recorded-year": "2026"})
    assert before.status_code == 404 and "Nothing had been recorded about it by then" in before.text
    invalid = person.get(page, **{"as_recorded-day": "30", "as_recorded-month": "2", "as_recorded-year": "2026"})
    assert (
        invalid.status_code == 422 and field_error(invalid, "as_recorded") == "Enter a real date, for example 27 3 2026"
    )


def test_the_responded_disclosure_shows_the_sha256_of_the_bytes_it_offers_for_download(
    market: Market, awarded: dict
) -> None:
    person = officer(market)
    builder = f"/app/foi/requests/{awarded['request']}/disclosure"
    person.get(builder)
    applied = person.post(builder, {"action": "apply_suggestion", "pointer": awarded["price"]})
    assert applied.status_code == 303 and applied.headers["location"].endswith(f"#{anchor(awarded['price'])}")
    schedule = person.get(builder, format="csv")
    (row,) = csv.DictReader(io.StringIO(schedule.text))
    withheld = market.get(f"/foi/requests/{awarded['request']}")["redactions"][0]
    assert (row["pointer"], row["ground"], row["reason"]) == (withheld["pointer"], "s43(2)", withheld["reason"])
    assert row["label"] == "Initial stage: Tender from Losing Homes: price"
    assert row["public_interest_note"] == withheld["public_interest_note"] and row["recorded_at"].startswith("2026-")
    before = count_events(market.url)
    wrong = person.post(builder, {"action": "respond", "respond-outcome": "disclosed_in_full"})
    assert field_error(wrong, "respond-outcome") == "Values are withheld: respond in part, or withdraw them"
    assert count_events(market.url) == before
    assert person.post(builder, {"action": "respond", "respond-outcome": "disclosed_in_part"}).status_code == 303
    page = person.get(builder)
    shown = re.search(r'id="sha256">([0-9a-f]{64})<', page.text).group(1)
    document = person.get(f"{builder}/document")
    assert hashlib.sha256(document.content).hexdigest() == shown
    assert market.get(f"/foi/requests/{awarded['request']}")["response"]["sha256"] == shown
    assert "/disclosure/withhold?" not in page.text and "Withhold as suggested" not in page.text  # nothing more


def test_an_unknown_request_or_record_is_a_page_not_found(market: Market, awarded: dict) -> None:
    person = officer(market)
    for path in (
        "/app/foi/requests/7d1c3f1e-0000-4000-8000-000000000000",
        "/app/foi/requests/not-an-id/disclosure",
        "/app/foi/call-offs/7d1c3f1e-0000-4000-8000-000000000000/decision-record",
        "/app/foi/suppliers/7d1c3f1e-0000-4000-8000-000000000000/qualification-record",
    ):
        missing = person.get(path)
        assert missing.status_code == 404 and "Page not found" in missing.text, path
