"""Signing in to the pages: development identities, signed sessions, CSRF on every form, no inline script."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests import browser
from tests.market import Market


@pytest.fixture(scope="module")
def site(market: Market) -> Iterator[tuple[browser.Site, Any]]:
    yield from browser.browser_session(market.app)


def form_token(text: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match, "every form carries a CSRF token"
    return match.group(1)


def test_a_page_needs_a_session_and_sends_it_to_sign_in(market: Market) -> None:
    first = market.client.simulate_get("/app/finance")
    assert first.status_code == 303 and first.headers["location"] == "/app/sign-in?next=/app/finance"
    cookie = first.cookies["ledger_session"]
    assert cookie.http_only and cookie.same_site == "Lax" and cookie.path == "/app"
    assert not cookie.secure  # development; production marks it Secure


def test_the_session_is_signed_and_a_form_without_its_token_is_refused_and_writes_nothing(market: Market) -> None:
    page = market.client.simulate_get("/app/sign-in")
    session = page.cookies["ledger_session"].value
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"ledger_session={session}"}
    refused = market.client.simulate_post("/app/sign-in", body="role=auditor&csrf_token=guess", headers=headers)
    assert refused.status_code == 403 and "text/html" in refused.headers["content-type"]
    forged = session[:-4] + ("AAAA" if not session.endswith("AAAA") else "BBBB")
    tampered = market.client.simulate_get(
        "/app/sign-in/organisation?role=auditor", headers={"Cookie": f"ledger_session={forged}"}
    )
    assert tampered.cookies["ledger_session"].value != forged  # an altered cookie is a new, empty session
    accepted = market.client.simulate_post(
        "/app/sign-in", body=f"role=auditor&csrf_token={form_token(page.text)}", headers=headers
    )
    assert accepted.status_code == 303


def test_pages_allow_no_inline_script_and_a_session_is_no_api_token(market: Market) -> None:
    page = market.client.simulate_get("/app/sign-in")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page.text, flags=re.S)
    assert scripts and all(body.strip() == "" for body in scripts)  # every script is a file
    assert not re.search(r"\son[a-z]+\s*=", page.text)  # no inline event handlers
    assert "style=" not in page.text
    session = page.cookies["ledger_session"].value
    api = market.client.simulate_get("/suppliers", headers={"Authorization": f"Bearer {session}"})
    assert api.status_code == 401


def test_sign_in_is_refused_in_production(market: Market, monkeypatch: pytest.MonkeyPatch) -> None:
    settings_class = type(market.app.services.settings)
    monkeypatch.setattr(settings_class, "is_production", property(lambda self: True))
    monkeypatch.setattr(settings_class, "session_key", lambda self: "a production session secret, given")
    refused = market.client.simulate_get("/app/sign-in")
    assert refused.status_code == 404 and "OpenID Connect" in refused.text


def test_a_finance_officer_signs_in_with_the_keyboard_alone_and_signs_out(site: tuple[browser.Site, Any]) -> None:
    server, chromium = site
    page = browser.new_page(chromium, server)
    page.goto("/app/sign-in")
    browser.check_accessibility(page)
    browser.screenshot(page, "sign-in")
    # Keyboard only: tab to the role, choose it, tab to Continue.
    page.keyboard.press("Tab")  # the skip link
    page.focus("input[name=role]")
    finance = page.get_by_label("Finance officer", exact=True)
    while not finance.is_checked():
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/app/sign-in/organisation**")
    browser.check_accessibility(page)
    tab_to(page, "name")
    page.keyboard.press("Enter")  # submitting with nothing filled in shows the error summary
    assert "There is a problem" in page.inner_text(".govuk-error-summary")
    browser.check_accessibility(page)
    tab_to(page, "error summary link")
    page.keyboard.press("Enter")  # the summary's link takes the focus to the field
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("Fiona Finance")
    page.keyboard.press("Enter")
    page.wait_for_url("**/app/finance**")
    assert "Signed in as Fiona Finance" in browser.text_of(page, ".app-signed-in")
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/app/sign-in**")


def tab_to(page: Any, target: str) -> None:
    """Press Tab until the focus reaches `target` (an element id, or the error summary's first link)."""
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement; return e.closest('.govuk-error-summary') ? 'error summary link'"
            " : e.id }"
        )
        if focused == target:
            return
    raise AssertionError(f"Tab never reached {target}")
