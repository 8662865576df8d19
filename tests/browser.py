"""Pages in a real browser: the app served on a local port, headless Chromium driven by Playwright, and axe-core
checking every page against WCAG 2.2 AA. Without Chromium the browser tests skip, saying how to install it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Chromium as the machines run it: no sandbox as root, and none of its calls home (the network is closed).
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_browser() -> None:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed: `apt-get install -y chromium chromium-driver` (CI installs it)")
    if not AXE.is_file():
        pytest.skip("axe-core is not installed: run `make install` (npm ci)")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:  # the test output is not an access log
        pass


class Site:
    """The app on a free local port, for as long as the tests need it."""

    def __init__(self, app: Any) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.server = make_server("127.0.0.1", port, app, server_class=_Server, handler_class=_QuietHandler)
        self.url = f"http://127.0.0.1:{port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def browser_session(app: Any) -> Iterator[tuple[Site, Any]]:
    """A site and a Playwright browser, closed afterwards."""
    require_browser()
    from playwright.sync_api import sync_playwright

    site = Site(app)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield site, browser
        finally:
            browser.close()
            site.close()


def new_page(browser: Any, site: Site) -> Any:
    # axe is injected as a script: the pages' policy forbids that, so the test's own context bypasses it.
    context = browser.new_context(base_url=site.url, bypass_csp=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def check_accessibility(page: Any) -> None:
    """axe-core on the page as it stands: no WCAG 2.2 AA violation at all."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_22_AA)
    violations = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]
    assert not violations, f"{page.url}: " + "; ".join(violations)


def sign_in(page: Any, role_label: str, organisation: str | None, name: str, *, personal_data: bool = False) -> None:
    """Sign in through the development sign-in pages, as a person would."""
    page.goto("/app/sign-in")
    page.get_by_label(role_label, exact=True).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Your name").fill(name)
    if organisation is not None:
        page.get_by_label("Organisation you act for").select_option(label=organisation)
    if personal_data:
        page.get_by_label("I have been granted access to personal data").check()
    page.get_by_role("button", name="Sign in").click()


def screenshot(page: Any, name: str, *, height: int | None = None, element: str | None = None) -> None:
    """A full-page screenshot for the README, taken by the browser tests' own run when SCREENSHOTS=1
    (`make screenshots`), so that an ordinary test run leaves the checkout as it was. A long page may be shown by
    its top `height` pixels, or by one `element` (a selector)."""
    if os.environ.get("SCREENSHOTS") != "1":
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = str(SCREENSHOTS / f"{name}.png")
    if element is not None:
        page.locator(element).screenshot(path=path)
    elif height is not None:
        width = page.viewport_size["width"]
        page.screenshot(path=path, full_page=True, clip={"x": 0, "y": 0, "width": width, "height": height})
    else:
        page.screenshot(path=path, full_page=True)


def text_of(page: Any, selector: str) -> str:
    return re.sub(r"\s+", " ", page.inner_text(selector)).strip()
