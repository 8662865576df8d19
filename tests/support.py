"""Helpers shared by the tests (reading counts, making unique identifiers)."""

from __future__ import annotations

import uuid

import psycopg

from ledger.envelope import Actor, Envelope, make_envelope
from ledger.framework.suppliers import OrganisationType, RegisterSupplier, register_supplier
from ledger.store import Ledger, Recorded


def count_events(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
        return int(row[0]) if row else 0


def unique_legal_id() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


def register_test_supplier(
    ledger: Ledger, actor: Actor, *, envelope: Envelope | None = None, **fields: object
) -> Recorded:
    """Register a supplier through the public command, with unique defaults for whatever is not given."""
    values: dict[str, object] = {
        "name": "Test Supplier Trust",
        "legal_identifier": unique_legal_id(),
        "organisation_type": OrganisationType.VOLUNTARY,
        "is_small": True,
        **fields,
    }
    return register_supplier(ledger, envelope or make_envelope(actor), RegisterSupplier(**values))


def recorded_payload(url: str, originator_id: str, event_type: str) -> dict:
    """An event's payload exactly as recorded in the log (as an auditor reads it with plain SQL)."""
    with psycopg.connect(url) as conn:
        (payload,) = conn.execute(
            "SELECT convert_from(state, 'UTF8')::jsonb FROM ledger_events"
            " WHERE originator_id = %s AND event_type = %s ORDER BY originator_version DESC LIMIT 1",
            (originator_id, event_type),
        ).fetchone()
    return payload
