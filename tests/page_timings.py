"""How fast the finance pages answer on a ledger's data: each main page asked for 50 times in-process (the falcon
TestClient, signed in as a finance officer), its median and 95th percentile in milliseconds.

    DATABASE_URL=... python -m tests.page_timings [--runs 50]

Point it at a ledger with the demo loaded (`ledger migrate && ledger demo && ledger worker --once`)."""

from __future__ import annotations

import argparse
import re
import statistics
import time

from falcon import testing

from api.app import create_app
from tests.pages import Visitor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    finance = Visitor(testing.TestClient(create_app()), "finance_officer", "hmpps-finance", "Page Timer")
    year = re.search(r'<option value="(\d{4}-\d\d)" selected', finance.get("/app/finance/budgets").text)
    budgets = finance.get("/app/finance/budgets", financial_year=f"{int(year.group(1)[:4]) - 1}-{year.group(1)[2:4]}")
    line = _first(budgets.text, r"/app/finance/budgets/([0-9a-f-]{36})")
    flagged = finance.get("/app/invoices", flagged="true").text
    invoice = _first(flagged, r"/app/invoices/([0-9a-f-]{36})")
    contract = _first(flagged, r"/app/contracts/([0-9a-f-]{36})/account")
    pages = [
        "/app/finance",
        "/app/finance?group_by=month",
        "/app/finance?group_by=supplier&as_at-day=31&as_at-month=3&as_at-year=2026&axis=recorded",
        "/app/finance/budgets",
        f"/app/finance/budgets/{line}",
        "/app/invoices",
        f"/app/invoices/{invoice}",
        f"/app/contracts/{contract}/account",
        "/app/finance/aged-payables",
        "/app/finance/payments-compliance",
    ]
    print(f"{'page':<100} {'p50 ms':>8} {'p95 ms':>8} {'bytes':>8}")
    for page in pages:
        path, _, query = page.partition("?")
        params = dict(p.split("=") for p in query.split("&")) if query else {}
        took = []
        for _ in range(args.runs):
            start = time.perf_counter()
            answer = finance.get(path, **params)
            took.append((time.perf_counter() - start) * 1000)
            assert answer.status_code == 200, (page, answer.status_code)
        p95 = statistics.quantiles(took, n=20)[-1]
        print(f"{page:<100} {statistics.median(took):>8.1f} {p95:>8.1f} {len(answer.text):>8}")


def _first(html: str, pattern: str) -> str:
    found = re.search(pattern, html)
    assert found, pattern
    return found.group(1)


if __name__ == "__main__":
    main()
