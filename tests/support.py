"""Helpers shared by the tests (the app's routes by name, reading counts, making unique identifiers, aggregates in
memory)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

import psycopg
import pytest

from ledger.envelope import Actor, Envelope, make_envelope, stamping
from ledger.errors import RuleViolation
from ledger.framework.suppliers import OrganisationType, RegisterSupplier, register_supplier
from ledger.store import Ledger, Recorded


def routes_of(app: Any) -> dict[tuple[str, str], str]:
    """Each (method, path template) of the app, with the name of the operation it runs (from its registry)."""
    return {app.operations.route(name): name for name in app.operations.names()}


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


@contextmanager
def recording(actor: Actor, moment: datetime) -> Iterator[Envelope]:
    """Events triggered in the block are stamped as recorded by `actor` at `moment`: an aggregate's commands run in
    memory, without a ledger (ADR 28)."""
    with stamping(make_envelope(actor, recorded_at=moment)) as envelope:
        yield envelope


def refused(rule: str) -> AbstractContextManager[pytest.ExceptionInfo[RuleViolation]]:
    """Expect the command to be refused by `rule`: the name the API answers with as the problem's title."""
    return pytest.raises(RuleViolation, match=f"^{re.escape(rule)}: ")
