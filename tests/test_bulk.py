"""The batched append path: the same commands and rules, events written in whole batches by COPY."""

from __future__ import annotations

import pytest

from ledger.bulk import BulkLedger
from ledger.envelope import Actor, make_envelope
from ledger.errors import ConcurrencyConflict, RuleViolation
from ledger.framework.suppliers import RegisterSupplier, Supplier, register_supplier
from tests.support import count_events

ACTOR = Actor(id="bulk-loader", role="authority", organisation_id="hmpps-commercial")


def register(ledger, legal_id: str) -> object:
    return register_supplier(
        ledger,
        make_envelope(ACTOR),
        RegisterSupplier(
            name=f"Bulk {legal_id}", legal_identifier=legal_id, organisation_type="voluntary", is_small=True
        ),
    )


def test_commands_see_their_own_buffered_writes_and_the_same_rules_refuse(make_database) -> None:
    url = make_database()
    ledger = BulkLedger(url, batch_size=1000)
    try:
        first = register(ledger, "BULK1")
        assert count_events(url) == 0  # buffered
        assert ledger.load(Supplier, first.aggregate_id).name == "Bulk BULK1"
        with pytest.raises(RuleViolation, match="already registered"):
            register(ledger, "BULK1")
        assert ledger.head() == 1  # reading the head writes the buffer first
    finally:
        ledger.close()
    assert count_events(url) == 1


def test_a_batch_that_clashes_with_another_writer_is_refused_whole(make_database) -> None:
    url = make_database()
    one, two = BulkLedger(url), BulkLedger(url)
    try:
        register(one, "CLASH1")
        register(two, "OTHER1")
        register(two, "CLASH1")  # two does not know one's buffered event
        one.flush(wait=True)
        with pytest.raises(ConcurrencyConflict, match="refused"):
            two.flush(wait=True)
    finally:
        one.close()
        two.close()
    assert count_events(url) == 1  # nothing of the refused batch, not even OTHER1
