"""Reading pages as their users would, without a browser: signing in through the sign-in pages, the tables a page
shows (as text, cell by cell), its error summary, and whether a download holds the rows the page shows."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from falcon import testing

from api.web import format as fmt


class Visitor:
    """A signed-in person's browser, as the TestClient sees it: their session cookie and their form token."""

    def __init__(self, client: testing.TestClient, role: str, organisation: str, name: str) -> None:
        self.client = client
        first = self.client.simulate_get("/app/sign-in")
        cookie = first.cookies["ledger_session"].value
        signed = self.client.simulate_post(
            "/app/sign-in/organisation",
            body=_form(
                {"role": role, "name": name, "organisation": organisation, "next": "/app", "csrf_token": token(first)}
            ),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"ledger_session={cookie}"},
        )
        assert signed.status_code == 303, signed.text
        self.cookie = {"Cookie": f"ledger_session={signed.cookies['ledger_session'].value}"}

    def get(self, path: str, **params: str) -> Any:
        return self.client.simulate_get(path, params=params or None, headers=self.cookie)

    def post(self, path: str, fields: dict[str, str], *, with_token: bool = True) -> Any:
        body = dict(fields)
        if with_token:
            body["csrf_token"] = token(self.get("/app"))
        headers = {**self.cookie, "Content-Type": "application/x-www-form-urlencoded"}
        return self.client.simulate_post(path, body=_form(body), headers=headers)


def _form(fields: dict[str, str]) -> str:
    return urlencode(fields)


def token(page: Any) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "every page with a form carries the CSRF token"
    return match.group(1)


class _Tables(HTMLParser):
    """Every `<table data-table=...>` of a page: its rows (header, body and totals) as the text of each cell."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "table" and named.get("data-table"):
            self.current = str(named["data-table"])
            self.tables[self.current] = []
        elif self.current and tag == "caption":
            self.in_caption = True
        elif self.current and tag == "tr":
            self.row = []
        elif self.current and tag in ("th", "td") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.current = None
        elif tag == "caption":
            self.in_caption = False
        elif tag in ("th", "td") and self.cell is not None and self.row is not None:
            self.row.append(re.sub(r"\s+", " ", "".join(self.cell)).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None and self.current:
            self.tables[self.current].append(self.row)
            self.row = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None and not self.in_caption:
            self.cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def error_summary(html: str) -> list[str]:
    box = re.search(r'govuk-error-summary__list">(.*?)</ul>', html, re.S)
    return (
        [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", box.group(1), re.S)]
        if box
        else []
    )


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def shown_as(value: str) -> set[str]:
    """How a page may show a CSV cell: as it is, or as money, a date, a time, a month, a financial year or a share."""
    forms = {value}
    try:
        amount = Decimal(value)
        forms |= {fmt.money(amount), f"{amount}%", f"{int(amount):,}" if amount == amount.to_integral() else value}
    except (InvalidOperation, ValueError):
        pass
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        forms.add(fmt.gov_date(date.fromisoformat(value)))
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T.*", value):
        forms.add(fmt.gov_time(datetime.fromisoformat(value.replace("Z", "+00:00"))))
    if re.fullmatch(r"\d{4}-\d{2}", value) and 1 <= int(value[5:]) <= 12:
        forms.add(f"{date(int(value[:4]), int(value[5:]), 1):%B} {value[:4]}")
    if re.fullmatch(r"\d{4}-\d{2}", value) and int(value[5:]) == (int(value[2:4]) + 1) % 100:
        forms.add(f"{value[:4]} to {int(value[:4]) + 1}")
    return forms


def differences(page_rows: list[list[str]], downloaded: list[list[str]]) -> list[str]:
    """Where a download differs from the table the page shows: row counts, or a cell the page shows otherwise."""
    if len(page_rows) != len(downloaded):
        return [f"the page shows {len(page_rows)} rows, the download holds {len(downloaded)}"]
    pairs = list(enumerate(zip(page_rows, downloaded, strict=True)))
    return [f"row {r}: {len(p)} cells shown, {len(d)} held" for r, (p, d) in pairs if len(p) != len(d)] + [
        f"row {r} column {c}: the page shows {shown!r}, the download holds {held!r}"
        for r, (page_row, csv_row) in pairs
        for c, (shown, held) in enumerate(zip(page_row, csv_row, strict=False))
        if shown != held and shown not in shown_as(held)
    ]
