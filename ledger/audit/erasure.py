"""Erasing a person's personal data: a recorded decision that destroys their key (crypto-shredding)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.domain import event
from psycopg import Cursor

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import RuleViolation
from ledger.personal_data import Crn
from ledger.store import Ledger, Recorded
from ledger.types import Reason


class ErasePersonalData(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Erase everything the ledger holds about a person on probation that identifies them."""

    crn: Crn
    reason: Reason


class DataSubject(LedgerAggregate):
    """A person whose personal data was erased; its id is the subject id their data was sealed with.

    Only the erasure is recorded here: the events about the person stay where they are, sealed.
    """

    @staticmethod
    def create_id(subject_id: UUID, grounds: str) -> UUID:
        return subject_id

    @event("PersonalDataErased")
    def __init__(self, subject_id: UUID, grounds: str) -> None:
        self.subject_id = subject_id
        self.grounds = grounds


def _destroy_key(subject: UUID) -> Any:
    def destroy(cur: Cursor[Any], positions: Sequence[int]) -> None:
        cur.execute(
            "UPDATE personal_data_keys SET wrapped_key = NULL, crn_index = NULL, erased_at = now(),"
            " erasure_position = %s WHERE subject_id = %s",
            (max(positions), subject),
        )

    return destroy


def erase_personal_data(ledger: Ledger, envelope: Envelope, command: ErasePersonalData) -> Recorded:
    """Record the erasure and destroy the person's key in the same transaction.

    The events keep their ciphertext (and the Merkle log still verifies); views drop their sealed copies;
    nothing can reveal the person's data again. A person referred again later starts with a new key.
    """
    subject = ledger.keys.find_subject(command.crn)
    if subject is None:
        raise RuleViolation(
            "no personal data held",
            f"the ledger holds no personal data for {command.crn} (none was recorded, or it has been erased)",
        )
    recorded = ledger.execute(
        msgspec.structs.replace(envelope, reason=command.reason),
        lambda: DataSubject(subject_id=subject, grounds=command.reason),
        also=[_destroy_key(subject)],
    )
    _vacuum_keys(ledger.database_url)
    return recorded


def _vacuum_keys(url: str) -> None:
    """Remove the dead row version that still holds the destroyed key (best effort: autovacuum would too)."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("VACUUM personal_data_keys")
    except psycopg.Error:
        pass
