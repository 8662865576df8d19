"""Auditors' pages: the log, aggregates as of a moment, integrity and inclusion proofs, personal-data reads."""

from __future__ import annotations

from typing import Any

from api.operations import Operations


def routes(operations: Operations) -> list[tuple[str, Any]]:
    return []
