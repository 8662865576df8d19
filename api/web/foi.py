"""FOI officers' pages: requests on the 20-working-day clock, the disclosure builder, decision records."""

from __future__ import annotations

from typing import Any

from api.operations import Operations


def routes(operations: Operations) -> list[tuple[str, Any]]:
    return []
