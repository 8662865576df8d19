"""Helpers shared by the tests (reading counts, making unique identifiers)."""

from __future__ import annotations

import uuid

import psycopg


def count_events(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
        return int(row[0]) if row else 0


def unique_legal_id() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"
