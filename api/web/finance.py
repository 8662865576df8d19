"""Finance pages (finance officers; commissioners for their own): spend, budgets, invoices, accounts."""

from __future__ import annotations

from typing import Any

from api.operations import Operations


def routes(operations: Operations) -> list[tuple[str, Any]]:
    return []
