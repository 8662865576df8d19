"""The finance pages: a finance officer's journey in a real browser (dashboard, filters, an invoice, its download),
axe on every finance page, and without a browser: every table downloads as the rows it shows, commissioners see
only their own, actions a role may not take are neither offered nor taken, forms carry their token, and a refused
form writes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import browser
from tests.finance_world import FinanceWorld, finance_world
from tests.market import Market
from tests.pages import Visitor, csv_rows, differences, error_summary, page_tables
from tests.support import count_events
from tests.test_payments import charges, invoice


@pytest.fixture(scope="module")
def world(market: Market) -> Iterator[FinanceWorld]:
    yield finance_world(market)


@pytest.fixture(scope="module")
def finance(market: Market, world: FinanceWorld) -> Visitor:
    return Visitor(market.client, "finance_officer", "hmpps-finance", "Fiona Finance")


@pytest.fixture(scope="module")
def site(market: Market, world: FinanceWorld) -> Iterator[tuple[browser.Site, Any]]:
    yield from browser.browser_session(market.app)


def every_page(world: FinanceWorld) -> list[str]:
    return [
        "/app/finance",
        f"/app/finance?group_by=month&financial_year={world.year}",
        "/app/finance/budgets",
        f"/app/finance/budgets/{world.line_a}",
        "/app/invoices",
        f"/app/invoices/{world.disputed}",
        f"/app/invoices/{world.paid}",
        f"/app/contracts/{world.contract_a}/account",
        "/app/finance/aged-payables",
        "/app/finance/payments-compliance",
        _compliance_of(world.lead_a),
    ]


def _compliance_of(commissioner: str) -> str:
    """The payments compliance page for 2026-H1 with a commissioner's notice."""
    return f"/app/finance/payments-compliance?period=2026-H1&commissioner_id={commissioner}"


# -- the journey, in a browser ------------------------------------------------------------------------------------


def test_a_finance_officer_filters_the_dashboard_opens_an_invoice_and_downloads_its_table(
    site: tuple[browser.Site, Any], world: FinanceWorld, tmp_path: Path
) -> None:
    server, chromium = site
    page = browser.new_page(chromium, server)
    browser.sign_in(page, "Finance officer", None, "Fiona Finance")
    page.wait_for_url("**/app/finance")
    assert page.inner_text("h1") == "Money by region"
    browser.check_accessibility(page)

    page.get_by_label("Group by").select_option(label="Region")
    page.get_by_label("Financial year").select_option(value=world.year)
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(rf".*group_by=region.*financial_year={world.year}.*"))
    regions = [row[0] for row in page_rows(page, "spend-by-region")]
    assert regions == ["Region", "North East", "North West", "Total"]
    browser.check_accessibility(page)
    browser.screenshot(page, "finance-dashboard")

    page.get_by_role("link", name="Invoices", exact=True).click()
    page.get_by_label("Match").select_option(label="With a flagged line")
    page.get_by_role("button", name="Apply filters").click()
    browser.check_accessibility(page)
    browser.screenshot(page, "finance-invoices")
    page.get_by_role("link", name="A-002").click()
    assert page.inner_text("h1") == "Invoice A-002"
    match = page_rows(page, "match")
    assert [row[5] for row in match[1:3]] == ["Over-claimed", "Unmatched"]
    assert "Travel is not chargeable" in browser.text_of(page, "[data-table=decisions]")
    browser.check_accessibility(page)
    browser.screenshot(page, "finance-invoice")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile(r"Download this table \(CSV\).*three-way match")).click()
    saved = tmp_path / "match.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "match.csv"
    assert differences(match, csv_rows(saved.read_text())) == []


def page_rows(page: Any, table: str) -> list[list[str]]:
    """A table's rows as the browser shows them (header, body, totals), the text of each cell."""
    return page.eval_on_selector(
        f"[data-table={table}]",
        "t => [...t.rows].map(r => [...r.cells].map(c => c.innerText.replace(/\\s+/g, ' ').trim()))",
    )


def test_every_finance_page_passes_axe_and_is_photographed(site: tuple[browser.Site, Any], world: FinanceWorld) -> None:
    server, chromium = site
    page = browser.new_page(chromium, server)
    browser.sign_in(page, "Finance officer", None, "Fiona Finance")
    names = {
        "/app/finance/budgets": "finance-budgets",
        f"/app/finance/budgets/{world.line_a}": "finance-budget-line",
        f"/app/contracts/{world.contract_a}/account": "finance-contract-account",
        "/app/finance/aged-payables": "finance-aged-payables",
        _compliance_of(world.lead_a): "finance-payments-compliance",
    }
    for path in every_page(world):
        page.goto(path)
        assert page.locator("h1").count() == 1
        browser.check_accessibility(page)
        if path in names:
            browser.screenshot(page, names[path])
    # A refused filter and a refused form: the error summary, and axe on it too.
    page.goto("/app/finance?as_at-day=31&as_at-month=2&as_at-year=2026")
    assert "The date must be a real date" in page.inner_text(".govuk-error-summary")
    browser.check_accessibility(page)
    page.goto(f"/app/invoices/{world.unpaid}")
    page.get_by_label("Amount paid").fill("5000000.00")
    page.get_by_label("Remittance reference").fill("BACS-TOO-MUCH")
    page.get_by_label("Day").fill("1")
    page.get_by_label("Month").fill("1")
    page.get_by_label("Year").fill("2020")
    page.get_by_role("button", name="Record the payment").click()
    assert page.locator(".govuk-error-summary").is_visible()
    browser.check_accessibility(page)


# -- without a browser ------------------------------------------------------------------------------------------


def test_every_table_downloads_as_the_rows_its_page_shows(finance: Visitor, world: FinanceWorld) -> None:
    checked = 0
    for path in every_page(world):
        shown = finance.get(path)
        assert shown.status_code == 200, (path, shown.text[:500])
        for name, rows in page_tables(shown.text).items():
            link = re.search(rf'href="([^"]*table={name})"', shown.text)
            assert link, f"{path}: the table {name} offers no download"
            downloaded = finance.get(link.group(1).replace("&amp;", "&"))
            assert downloaded.status_code == 200 and downloaded.headers["content-type"].startswith("text/csv")
            assert f'filename="{name}.csv"' in downloaded.headers["content-disposition"]
            assert differences(rows, csv_rows(downloaded.text)) == [], (path, name)
            checked += 1
    assert checked >= 15
    money = csv_rows(finance.get("/app/finance", group_by="region", format="csv").text)
    assert money[0] == ["Region", "Committed", "Charged", "Invoiced", "Paid", "Remaining"]
    assert all(re.fullmatch(r"-?\d+\.\d\d", cell) for row in money[1:] for cell in row[1:])  # plain decimals
    months = csv_rows(finance.get(f"/app/finance/budgets/{world.line_a}", format="csv").text)
    assert months[1][0] == f"{world.year[:4]}-04"  # months as ISO, not words
    assert finance.get("/app/finance", format="csv", table="secrets").status_code == 404


def test_the_dashboard_names_what_it_groups_and_leads_to_each(finance: Visitor, world: FinanceWorld) -> None:
    page = finance.get("/app/finance", group_by="commissioner")
    rows = page_tables(page.text)["spend-by-commissioner"]
    assert [r[0] for r in rows[1:]] == ["Commissioner region-a", "Commissioner region-b", "Total"]
    assert f'title="{world.lead_a}"' in page.text  # the id on hover, for whoever needs it
    assert f"commissioner_id={world.lead_a}" in page.text  # each leads to its own contracts
    by_contract = finance.get("/app/finance", group_by="contract", commissioner_id=world.lead_a)
    assert f'href="/app/contracts/{world.contract_a}/account"' in by_contract.text
    assert f"/app/contracts/{world.contract_b}/account" not in by_contract.text
    assert '<img src="data:image/svg+xml;base64,' in page.text  # the chart, beside its table


def test_payments_compliance_shows_each_commissioners_figures_and_the_notice_of_the_one_chosen(
    finance: Visitor, world: FinanceWorld
) -> None:
    every = page_tables(finance.get("/app/finance/payments-compliance").text)  # the period today falls in
    assert "notice" not in every  # no commissioner chosen
    rows = {r[0]: r for r in every["payments-compliance"][1:]}
    # Region A's invoice paid on day 10; region B's approved sum not paid (the period has not ended).
    assert rows["Commissioner region-a"][1:6] == ["1", "10.0", "100.0%", "0.0%", "0.0%"]
    assert rows["Commissioner region-b"][1] == "0" and rows["Commissioner region-b"][7] == "100.0%"
    chosen = finance.get("/app/finance/payments-compliance", period="2026-H1", commissioner_id=world.lead_b)
    notice = dict(page_tables(chosen.text)["notice"][1:])
    assert notice["Contracting authority"] == "Commissioner region-b" and notice["Approved by"] == "Not yet approved"
    assert (notice["First day of the reporting period"], notice["Publish by"]) == ("1 April 2026", "29 October 2026")


def test_bad_filters_are_shown_against_their_fields(finance: Visitor) -> None:
    refused = finance.get("/app/finance", **{"as_at-day": "30", "as_at-month": "2", "as_at-year": "2026"})
    assert refused.status_code == 422 and error_summary(refused.text) == ["The date must be a real date"]
    assert 'id="as_at-error"' in refused.text and "data-table" not in refused.text
    assert error_summary(finance.get("/app/finance", group_by="everything").text) == ["Select one of the options"]
    too_early = finance.get("/app/finance", **{"as_at-day": "1", "as_at-month": "1", "as_at-year": "1800"})
    assert too_early.status_code == 422 and error_summary(too_early.text)[0].startswith("As at:")
    before_commencement = finance.get("/app/finance/payments-compliance", period="2025-H1")
    assert before_commencement.status_code == 422 and error_summary(before_commencement.text) == [
        "Select one of the options"
    ]


def test_a_commissioner_sees_only_their_own(market: Market, world: FinanceWorld) -> None:
    own = Visitor(market.client, "commissioner", world.org_a, "Chris Commissioner")
    dashboard = own.get("/app/finance", group_by="commissioner")
    assert [r[0] for r in page_tables(dashboard.text)["spend-by-commissioner"][1:]] == [
        "Commissioner region-a",
        "Total",
    ]
    assert 'name="commissioner_id"' not in dashboard.text  # no choosing another commissioner
    listed = page_tables(own.get("/app/invoices").text)["invoices"]
    assert sorted(r[0] for r in listed[1:]) == ["A-001", "A-002"]
    assert [r[0] for r in page_tables(own.get("/app/finance/budgets").text)["budget-lines"][1:-1]] == [
        "Commissioner region-a: Core rehabilitative services"
    ]
    for theirs in (
        f"/app/invoices/{world.unpaid}",
        f"/app/contracts/{world.contract_b}/account",
        f"/app/finance/budgets/{world.line_b}",
    ):
        refused = own.get(theirs)
        assert refused.status_code == 404 and "Page not found" in refused.text, theirs
    assert "Aged payables" in own.get("/app/finance/aged-payables").text
    aged = page_tables(own.get("/app/finance/aged-payables").text)
    assert "aged-payables" not in aged  # region B's unpaid invoice is not theirs: nothing owed is listed
    compliance = own.get("/app/finance/payments-compliance", period="2026-H1")
    shown = page_tables(compliance.text)
    assert [r[0] for r in shown["payments-compliance"][1:]] == ["Commissioner region-a"]
    assert shown["notice"][1] == ["Contracting authority", "Commissioner region-a"]  # their own notice, unasked
    assert 'name="commissioner_id"' not in compliance.text
    mine = own.get(f"/app/invoices/{world.disputed}")
    assert mine.status_code == 200 and "Record the payment" not in mine.text and "Decide on a line" not in mine.text


def test_an_action_a_role_may_not_take_is_refused_if_forced_and_writes_nothing(
    market: Market, world: FinanceWorld
) -> None:
    for role, org in (("commissioner", world.org_a), ("auditor", "hmpps-audit")):
        visitor = Visitor(market.client, role, org, "Someone Else")
        before = count_events(market.url)
        forced = visitor.post(f"/app/invoices/{world.disputed}/credit-note", {"credit_line": "1", "credit_amount": "1"})
        assert forced.status_code == 403 and f"the {role} role may not" in forced.text, role
        assert count_events(market.url) == before


def test_a_form_without_its_token_is_refused_and_writes_nothing(
    market: Market, finance: Visitor, world: FinanceWorld
) -> None:
    before = count_events(market.url)
    forged = finance.post(
        f"/app/invoices/{world.unpaid}/payment",
        {"amount": "1.00", "paid_on-day": "1", "paid_on-month": "1", "paid_on-year": "2026"},
        with_token=False,
    )
    assert forged.status_code == 403 and "This form has expired" in forged.text
    assert count_events(market.url) == before


def test_refused_forms_show_what_is_wrong_and_write_nothing(
    market: Market, finance: Visitor, world: FinanceWorld
) -> None:
    before = count_events(market.url)
    today = market.clock.now.date()
    when = {
        "paid_on-day": str(today.day),
        "paid_on-month": str(today.month),
        "paid_on-year": str(today.year),
        "idempotency_key": "refused-payment",
    }
    cases = [
        ("decision", world.disputed, {"line": "1", "decision": "approve"}, "Line already decided: line 1 is disputed"),
        ("decision", world.paid, {}, "Select a line"),
        ("payment", world.unpaid, {"amount": "5000.00", "remittance_reference": "R", **when}, "Never pay more"),
        ("payment", world.unpaid, {"amount": "ten pounds", "remittance_reference": "R", **when}, "Enter the amount"),
        ("payment", world.unpaid, {"amount": "1.00", "remittance_reference": "R", "paid_on-day": ""}, "Enter the date"),
        ("credit-note", world.paid, {"credit_line": "1", "credit_amount": "1.00"}, "Enter why the credit note"),
    ]
    for action, invoice_id, fields, message in cases:
        refused = finance.post(f"/app/invoices/{invoice_id}/{action}", fields)
        assert refused.status_code == 422, (action, fields, refused.text[:300])
        assert any(m.startswith(message) for m in error_summary(refused.text)), (message, error_summary(refused.text))
        assert "Traceback" not in refused.text
    assert count_events(market.url) == before


def test_a_finance_officer_decides_on_a_line_and_records_a_payment_once(
    market: Market, finance: Visitor, world: FinanceWorld
) -> None:
    market.clock.advance(days=31)
    market.post(
        f"/contracts/{world.contract_b}/period-closures",
        {"month": (market.clock.now - timedelta(days=31)).strftime("%Y-%m")},
        role="finance_officer",
    )
    market.get(f"/contracts/{world.contract_b}/account")
    (fee,) = charges(market, world.contract_b)
    lines = [{"description": "Fixed fee", "amount": fee["amount"], "charge_ids": [fee["id"]]}]
    fresh = invoice(market, world.contract_b, lines, "B-2").json["id"]
    market.get(f"/invoices/{fresh}", role="finance_officer")

    disputed = finance.post(f"/app/invoices/{fresh}/decision", {"line": "1", "decision": "dispute"})
    assert error_summary(disputed.text) == ["Enter why you dispute the line"] and 'id="reason-error"' in disputed.text
    approved = finance.post(f"/app/invoices/{fresh}/decision", {"line": "1", "decision": "approve"})
    assert approved.status_code == 303 and "done=approved" in approved.headers["location"]
    shown = finance.get(approved.headers["location"])
    assert "The line was approved" in shown.text and "Approved" in page_tables(shown.text)["match"][1][-1]

    key = re.search(r'name="idempotency_key" value="([^"]+)"', shown.text).group(1)
    today = market.clock.now.date()
    payment = {
        "amount": "£1,000.00",
        "paid_on-day": str(today.day),
        "paid_on-month": str(today.month),
        "paid_on-year": str(today.year),
        "remittance_reference": "BACS-B-2",
        "idempotency_key": key,
    }
    before = count_events(market.url)
    paid = finance.post(f"/app/invoices/{fresh}/payment", payment)
    assert paid.status_code == 303 and "done=paid" in paid.headers["location"]
    again = finance.post(f"/app/invoices/{fresh}/payment", payment)  # the form sent twice: paid once
    assert again.status_code == 303
    assert count_events(market.url) == before + 1
    receipt = finance.get(paid.headers["location"])
    assert page_tables(receipt.text)["payments"][1][:3] == [today.strftime("%-d %B %Y"), "£1,000.00", "BACS-B-2"]


def test_the_finance_pages_hold_no_query_of_their_own() -> None:
    """They run operations by name: no SQL, no view's query function, no database connection (ADR 30)."""
    package = Path(__file__).resolve().parent.parent / "api" / "web" / "finance"
    for module in package.glob("*.py"):
        source = module.read_text()
        assert not re.search(r"^\s*(from|import) (projections|psycopg)", source, re.M), module.name
        assert not re.search(r"\b(SELECT|INSERT|UPDATE|DELETE)\b", source), module.name
        assert ".services.read(" not in source and ".primary(" not in source, module.name
