"""The FOI officer's pages in a real browser: a request received, its disclosure built value by value (a value
withheld under s.43(2) with its public interest test, a suggestion applied and withdrawn), previewed as the requester
will see it, and the response given with the SHA-256 of what was disclosed; axe-core on every FOI page."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from api.web.foi.present import anchor
from tests import browser
from tests.market import Market

PURPOSE = "Answering a request for information under FOIA"


@pytest.fixture(scope="module")
def awarded(market: Market) -> dict:
    """A call-off awarded to one of two bidders (the other's price and method statement are suggested for
    withholding), and a request received in January that is overdue by now."""
    lead = market.commissioner()
    winner = market.supplier("Winning Homes", areas=("region-a",))
    loser = market.supplier("Losing Homes", areas=("region-a",))
    call_off = market.draft(lead, title="Accommodation services, Tyneside")
    market.post(f"/call-offs/{call_off}/publication")
    market.tender(call_off, winner, "950000.00")
    market.tender(call_off, loser, "1234567.89")
    market.clock.advance(days=31)
    market.post(f"/call-offs/{call_off}/tender-opening")
    market.score(call_off, winner, quality=80, price=60, social=70)
    market.score(call_off, loser, quality=60, price=80, social=50)
    market.post(f"/call-offs/{call_off}/evaluation")
    market.post(f"/call-offs/{call_off}/award", {"supplier_id": winner, "rationale": "Highest weighted score"})
    market.post(
        "/foi/requests",
        {
            "reference": "FOI-2026-0007",
            "requester_name": "Pat Journalist",
            "information_requested": "Every invoice paid to providers in the North East in 2025.",
            "received_on": "2026-01-05",
        },
        expect=201,
    )
    return {"call_off": call_off, "winner": winner, "loser": loser}


@pytest.fixture(scope="module")
def site(market: Market) -> Iterator[tuple[browser.Site, Any]]:
    yield from browser.browser_session(market.app)


def checked(page: Any, screenshot: str | None = None, **shot: Any) -> None:
    """No WCAG 2.2 AA violation on the page as it stands (and its picture for the README)."""
    browser.check_accessibility(page)
    if screenshot:
        browser.screenshot(page, screenshot, **shot)


def errors_shown(page: Any) -> str:
    return browser.text_of(page, ".govuk-error-summary")


def test_an_foi_officer_receives_a_request_withholds_a_bidders_price_and_responds_in_part(
    market: Market, awarded: dict, site: tuple[browser.Site, Any]
) -> None:
    server, chromium = site
    page = browser.new_page(chromium, server)
    browser.sign_in(page, "Freedom of Information officer", None, "Fola Officer")
    # Requesters' names are personal data: the officer says why before the list shows them.
    page.wait_for_url("**/app/purpose**")
    page.get_by_label("Purpose").fill(PURPOSE)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/app/foi/requests")
    assert "Overdue" in browser.text_of(page, "tbody")  # January's request
    checked(page, "foi-requests")

    page.get_by_role("button", name="Record a new request").click()
    checked(page)
    page.get_by_label("Case reference").fill("FOI-2026-0042")
    page.get_by_label("What they asked for").fill("How the Tyneside accommodation contract was awarded.")
    today = market.clock.now.date()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_label("Call-off it concerns (optional)").select_option(label="Accommodation services, Tyneside")
    page.get_by_role("button", name="Record the request").click()
    assert "Enter the requester's name" in errors_shown(page)  # and nothing was recorded
    assert page.locator("#requester_name-error").is_visible()
    checked(page)
    page.get_by_label("Requester's name").fill("Sam Requester")
    page.get_by_role("button", name="Record the request").click()

    page.wait_for_url(re.compile(r".*/app/foi/requests/[0-9a-f-]+\?done=received$"))
    request_id = page.url.split("/")[-1].split("?")[0]
    assert "Request recorded" in browser.text_of(page, ".govuk-notification-banner")
    assert "Sam Requester" in browser.text_of(page, "main") and "Request received" in browser.text_of(page, "main")
    checked(page, "foi-request", height=1500)

    page.get_by_role("button", name="Prepare the disclosure").click()  # the call-off the request names
    page.wait_for_url(f"**/app/foi/requests/{request_id}/disclosure?done=prepared")
    checked(page, "foi-disclosure", height=1500)
    disclosed = market.get(f"/foi/requests/{request_id}/disclosure")
    loser = next(
        i for i, r in enumerate(disclosed["document"]["tenders"][0]["receipts"]) if r["supplier_id"] == awarded["loser"]
    )
    price, method = (f"/tenders/0/receipts/{loser}/content/{field}" for field in ("price", "method_statement"))
    assert "Suggested: s.43(2)" in browser.text_of(page, f"#{anchor(price)}")
    browser.screenshot(page, "foi-disclosure-values", element=f".govuk-summary-card:has(#{anchor(price)})")

    # Withhold the unsuccessful bidder's price, first without the public interest test s.43(2) needs.
    page.locator(f"#{anchor(price)} a", has_text="Withhold").click()
    page.wait_for_url("**/disclosure/withhold?pointer=**")
    assert "£1,234,567.89" in browser.text_of(page, "main")
    checked(page)
    page.get_by_label("s.43(2) commercial interests").check()
    page.get_by_label("Why is it withheld?").fill("The price an unsuccessful bidder offered.")
    page.get_by_label("The public interest test").fill("")
    page.get_by_role("button", name="Withhold this value").click()
    assert "s.43(2) is a qualified exemption" in errors_shown(page)
    assert page.locator("#public_interest_note-error").is_visible()
    checked(page, "foi-withhold")
    page.get_by_label("The public interest test").fill(
        "Disclosure would prejudice the bidder in next year's re-procurement; scores and ranking are disclosed."
    )
    page.get_by_role("button", name="Withhold this value").click()
    page.wait_for_url(f"**/app/foi/requests/{request_id}/disclosure?done=withheld#{anchor(price)}")
    assert "Withheld" in browser.text_of(page, f"#{anchor(price)}")

    # A suggestion applied in one click, then withdrawn with a reason: the method statement is disclosed again.
    page.locator(f"#{anchor(method)}").get_by_role("button", name=re.compile("Withhold as suggested")).click()
    page.wait_for_url("**?done=withheld**")
    page.locator(f"#{anchor(method)} a", has_text="Withdraw").click()
    page.wait_for_url("**/withdrawal")
    checked(page)
    page.get_by_role("button", name="Withdraw the redaction").click()
    assert "Say why" in errors_shown(page)
    page.get_by_label("Why disclose it after all?").fill("The bidder agreed to its method statement being disclosed.")
    page.get_by_role("button", name="Withdraw the redaction").click()
    page.wait_for_url("**?done=withdrawn**")
    assert "Withdrawn" in browser.text_of(page, "#withheld ~ .app-table-scroll")

    page.get_by_role("button", name="Preview the disclosure as the requester will see it").click()
    page.wait_for_url("**/disclosure/preview")
    preview = browser.text_of(page, "body")
    assert "[withheld: s.43(2) commercial interests]" in preview
    # The price is withheld; the method statement (which quotes it) was withdrawn from withholding: disclosed.
    assert preview.count("1234567.89") == preview.count("Our method (1234567.89)") == 1
    checked(page, "foi-preview", height=1500)
    page.go_back()

    page.get_by_label("Disclosed in part (with the values withheld)").check()
    page.get_by_role("button", name="Record the response").click()
    page.wait_for_url("**?done=responded#response")
    shown = browser.text_of(page, "#sha256")
    recorded = market.get(f"/foi/requests/{request_id}")["response"]
    served = market.client.simulate_get(
        f"/foi/requests/{request_id}/disclosure", headers=market.headers("foi_officer", "moj-foi")
    )
    assert shown == recorded["sha256"] == hashlib.sha256(served.content).hexdigest()
    assert recorded["outcome"] == "disclosed_in_part"
    checked(page, "foi-responded", height=1200)


def test_decision_and_qualification_records_read_with_names_money_and_dates(
    market: Market, awarded: dict, site: tuple[browser.Site, Any]
) -> None:
    server, chromium = site
    page = browser.new_page(chromium, server)
    browser.sign_in(page, "Freedom of Information officer", None, "Fola Officer")
    page.goto(f"/app/foi/call-offs/{awarded['call_off']}/decision-record")
    main = browser.text_of(page, "main")
    assert "Accommodation services, Tyneside" in browser.text_of(page, "h1")
    assert "£1,200,000.00" in main and "Northumbria" in main and "Accommodation" in main
    assert "Winning Homes" in main and "Highest weighted score" in main
    assert re.search(r"\d{1,2} (January|February|March|April) 2026", main)
    assert page.locator(".moj-timeline__item").count() > 5
    checked(page, "foi-decision-record", height=1800)

    # As recorded before the tenders were opened: no award yet.
    page.get_by_text("Show the record as it was known at another time").click()
    opened = market.clock.now.date()
    page.locator("#as_recorded-day").fill("2")
    page.locator("#as_recorded-month").fill("3")
    page.locator("#as_recorded-year").fill("2026")
    page.get_by_role("button", name="Show the record").click()
    assert "Highest weighted score" not in browser.text_of(page, "main")
    assert "as recorded" in browser.text_of(page, ".govuk-inset-text") and opened.year == 2026
    checked(page)

    page.goto(f"/app/foi/suppliers/{awarded['winner']}/qualification-record")
    main = browser.text_of(page, "main")
    assert "Winning Homes" in browser.text_of(page, "h1") and "Accommodation: Pass" in main
    assert "North East" in main  # region-a, by name
    checked(page, "foi-qualification-record", height=1800)


def test_the_journey_works_without_javascript(market: Market, awarded: dict, site: tuple[browser.Site, Any]) -> None:
    server, chromium = site
    context = chromium.new_context(
        base_url=server.url, java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    browser.sign_in(page, "Freedom of Information officer", None, "Nico No-Script")
    page.get_by_label("Purpose").fill(PURPOSE)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Record a new request").click()
    page.get_by_label("Case reference").fill("FOI-2026-0043")
    page.get_by_label("Requester's name").fill("Robin Requester")
    page.get_by_label("What they asked for").fill("The Tyneside award.")
    today = market.clock.now.date()
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    page.get_by_role("button", name="Record the request").click()
    page.get_by_label("Record to disclose").select_option(label="Decision record: Accommodation services, Tyneside")
    page.get_by_role("button", name="Prepare the disclosure").click()
    page.wait_for_url("**/disclosure?done=prepared")
    page.locator(f"#{anchor('/award/rationale')} a", has_text="Withhold").click()
    page.get_by_label("s.41 information provided in confidence").check()
    page.get_by_label("Why is it withheld?").fill("Given in confidence by the commissioner.")
    page.get_by_role("button", name="Withhold this value").click()
    page.wait_for_url("**?done=withheld**")
    page.get_by_label("Disclosed in part (with the values withheld)").check()
    page.get_by_role("button", name="Record the response").click()
    page.wait_for_url("**?done=responded**")
    assert re.fullmatch(r"[0-9a-f]{64}", browser.text_of(page, "#sha256"))
    context.close()
