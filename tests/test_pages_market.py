"""The market health page: the Authority's journey in a real browser (filters, the tables, a download), axe on it,
and without a browser: a commissioner reads it, a bad filter is named on its field, suppliers are not shown it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import browser
from tests.market import Market
from tests.market_world import yorkshire_world
from tests.pages import Visitor, csv_rows, differences, error_summary, page_tables


@pytest.fixture(scope="module")
def world(market: Market) -> dict[str, str]:
    return yorkshire_world(market)


@pytest.fixture(scope="module")
def site(market: Market, world: dict[str, str]) -> Iterator[tuple[browser.Site, Any]]:
    yield from browser.browser_session(market.app)


def page_rows(page: Any, table: str) -> list[list[str]]:
    return page.eval_on_selector(
        f"[data-table={table}]",
        "t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.replace(/\\s+/g, ' ').trim()))",
    )


def test_the_authority_reads_a_regions_market_and_downloads_its_gaps(
    site: tuple[browser.Site, Any], world: dict[str, str], tmp_path: Path
) -> None:
    server, chromium = site
    page = browser.new_page(chromium, server)
    browser.sign_in(page, "The Authority (HMPPS commercial)", None, "Alex Authority")
    page.goto("/app")
    page.get_by_role("link", name="Market health").first.click()
    page.get_by_label("Financial year").select_option(value="2026-27")
    page.get_by_label("Region", exact=True).select_option(label="Yorkshire and the Humber")
    page.get_by_label("Service category").select_option(label="Finance, Benefits and Debt")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*financial_year=2026-27.*region=region-c.*"))
    assert page.inner_text("h1") == "Market health, 2026 to 2027"
    (cell,) = page_rows(page, "regions-and-lots")[1:]
    assert cell[:8] == ["Yorkshire and the Humber", "Finance, Benefits and Debt", "2", "1", "1", "2", "2", "1.0"]
    assert cell[8:] == ["£1,800,000.00", "16.67%", "£4,000.00", "25.00%", "75.00%", "6,250"]
    gaps = page_rows(page, "gaps")
    assert [row[0] for row in gaps[1:]] == ["Humberside", "North Yorkshire", "South Yorkshire"]
    assert "largest supplier was paid 75.00% of the total" in browser.text_of(page, ".govuk-summary-list")
    assert page.locator("figure.app-chart img").count() == 1
    browser.check_accessibility(page)
    browser.screenshot(page, "market-health")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Download this table \(CSV\).*gaps")).click()
    saved = tmp_path / "gaps.csv"
    download.value.save_as(saved)
    assert differences(gaps, csv_rows(saved.read_text())) == []

    page.get_by_label("Fewest qualified suppliers").fill("none")
    page.get_by_role("button", name="Apply filters").click()
    assert "Fewest qualified suppliers must be a whole number from 1 to 100" in page.inner_text(".govuk-error-summary")
    browser.check_accessibility(page)


def test_a_commissioner_reads_the_whole_market_and_a_bad_filter_is_named(market: Market, world: dict[str, str]) -> None:
    commissioner = Visitor(market.client, "commissioner", world["commissioner_org"], "Chris Commissioner")
    whole = commissioner.get("/app/catalogue/market-health", financial_year="2026-27")
    assert whole.status_code == 200, whole.text
    rows = page_tables(whole.text)["by-supplier-type"]
    assert rows[1][0] == "Small" and rows[-1][0] == "Total"
    refused = commissioner.get("/app/catalogue/market-health", financial_year="2026-27", minimum_qualified="0")
    assert refused.status_code == 422
    assert error_summary(refused.text) == ["Fewest qualified suppliers must be a whole number from 1 to 100"]
    unknown = commissioner.get("/app/catalogue/market-health", region="atlantis")
    assert error_summary(unknown.text) == ["Select one of the options"]


def test_a_supplier_is_not_shown_the_market_health_page(market: Market, world: dict[str, str]) -> None:
    supplier = Visitor(market.client, "supplier_bid_manager", world["voluntary"], "Sam Supplier")
    answer = supplier.get("/app/catalogue/market-health")
    assert answer.status_code in (403, 404)
    assert "Market health" not in supplier.get("/app").text
