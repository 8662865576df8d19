"""Personal data sealed with a key per person, so that erasing the person destroys only their key.

A person on probation is known to the ledger by a random subject id, never by their case reference
number (CRN) in the clear: the CRN is found through a keyed hash (a blind index) and is itself sealed.
Each subject has a 256-bit data key, stored wrapped (AES-GCM) under the master key, which lives outside
the database. Sealed values are AES-256-GCM with the subject id as associated data, so a ciphertext
cannot be passed off as another person's. Erasure (see `ledger.audit.erasure`) deletes the wrapped key
and the blind index: the events keep their ciphertext, and their hashes, and nobody can read them again.

Shared plumbing, beside the store that holds the key ring: the caseload seals with it, the views reveal with it,
the audit trail's erasure destroys keys. It knows none of them (ADR 29).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Annotated, Any, TypeVar
from uuid import UUID

import msgspec
import psycopg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg.rows import tuple_row

from ledger.envelope import utcnow
from ledger.errors import RuleViolation
from ledger.ids import new_id

T = TypeVar("T")
_NONCE = 12

# A person's case reference number: what the key ring indexes (blindly) to find their subject.
Crn = Annotated[str, msgspec.Meta(pattern=r"^[A-Z][0-9]{6}$", description="Case reference number, e.g. X123456")]


class Sealed(msgspec.Struct, frozen=True, kw_only=True):
    """A value encrypted with one person's key: readable while that key exists, never after erasure."""

    subject: UUID
    ciphertext: bytes  # 12-byte nonce, then AES-256-GCM ciphertext and tag


ERASED = "erased"  # what a view shows in place of personal data whose key has been destroyed


def _derive(master: bytes, purpose: bytes) -> bytes:
    return hmac.new(master, b"probation-ledger/" + purpose, hashlib.sha256).digest()


class KeyRing:
    """Seals and reveals personal data; finds (or creates) the subject a CRN belongs to.

    `connection` yields an autocommit connection; `master_key` returns the 32-byte master key (read
    lazily, so a process that never touches personal data never needs it).

    A `sole_writer` (a bulk load, the only writer while it runs) keeps subjects and keys in memory, since no
    erasure can happen elsewhere meanwhile, and hands new keys' rows to `write_pending`, which writes them in
    the same transaction as the events sealed with them. If the ledger held no keys when it began
    (`fresh`), a CRN it has not seen is new, and no lookup is needed.
    """

    def __init__(
        self,
        connection: Callable[[], AbstractContextManager[psycopg.Connection[Any]]],
        master_key: Callable[[], bytes],
        *,
        sole_writer: bool = False,
        fresh: bool = False,
    ) -> None:
        self._connection = connection
        self._master_key = master_key
        self._wrap: AESGCM | None = None
        self._index_key: bytes | None = None
        self._subjects: dict[bytes, UUID] | None = {} if sole_writer else None
        self._cached: dict[UUID, AESGCM] | None = {} if sole_writer else None
        self._fresh = sole_writer and fresh
        self._pending: list[tuple[UUID, bytes, bytes, datetime]] = []

    def _keys(self) -> tuple[AESGCM, bytes]:
        if self._wrap is None or self._index_key is None:
            master = self._master_key()
            self._wrap = AESGCM(_derive(master, b"wrap"))
            self._index_key = _derive(master, b"crn-index")
        return self._wrap, self._index_key

    def crn_index(self, crn: str) -> bytes:
        return hmac.new(self._keys()[1], crn.strip().upper().encode(), hashlib.sha256).digest()

    # -- subjects -----------------------------------------------------------------------------------

    def find_subject(self, crn: str) -> UUID | None:
        """The subject a CRN belongs to, or None if the ledger holds nothing (or only erased data) for it."""
        if self._subjects is not None and (known := self._subjects.get(self.crn_index(crn))) is not None:
            return known
        with self._connection() as conn:
            row = (
                conn.cursor(row_factory=tuple_row)
                .execute("SELECT subject_id FROM personal_data_keys WHERE crn_index = %s", (self.crn_index(crn),))
                .fetchone()
            )
        return row[0] if row else None

    def subject(self, crn: str) -> UUID:
        """The subject of a CRN, created with a fresh data key the first time the CRN is seen.

        A person whose data was erased and who is referred again starts afresh, with a new subject.
        """
        index = self.crn_index(crn)
        if self._subjects is not None:
            known = self._subjects.get(index) or (None if self._fresh else self.find_subject(crn))
            if known is not None:
                self._subjects[index] = known
                return known
        wrap, _ = self._keys()
        subject = new_id()
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(_NONCE)
        wrapped = nonce + wrap.encrypt(nonce, data_key, subject.bytes)
        if self._subjects is not None and self._cached is not None:
            self._pending.append((subject, index, wrapped, utcnow()))
            self._subjects[index] = subject
            self._cached[subject] = AESGCM(data_key)
            return subject
        with self._connection() as conn:
            cur = conn.cursor(row_factory=tuple_row)
            cur.execute(
                "INSERT INTO personal_data_keys (subject_id, crn_index, wrapped_key, created_at)"
                " VALUES (%s, %s, %s, %s) ON CONFLICT (crn_index) DO NOTHING",
                (subject, index, wrapped, utcnow()),
            )
            row = cur.execute("SELECT subject_id FROM personal_data_keys WHERE crn_index = %s", (index,)).fetchone()
        assert row is not None
        return row[0]

    def write_pending(self, cur: psycopg.Cursor[Any]) -> None:
        """Write the keys a sole writer created, in the caller's transaction (before the events that use them)."""
        if self._pending:
            cur.executemany(
                "INSERT INTO personal_data_keys (subject_id, crn_index, wrapped_key, created_at)"
                " VALUES (%s, %s, %s, %s)",
                self._pending,
            )
            self._pending = []

    # -- sealing ------------------------------------------------------------------------------------

    def _data_keys(self, subjects: Iterable[UUID]) -> dict[UUID, AESGCM]:
        wanted = list({s for s in subjects})
        if self._cached is not None:
            known = {s: self._cached[s] for s in wanted if s in self._cached}
            missing = [s for s in wanted if s not in known]
            if missing:
                known.update(self._fetch_keys(missing))
                self._cached.update(known)
            return known
        return self._fetch_keys(wanted)

    def _fetch_keys(self, wanted: list[UUID]) -> dict[UUID, AESGCM]:
        if not wanted:
            return {}
        with self._connection() as conn:
            rows = (
                conn.cursor(row_factory=tuple_row)
                .execute(
                    "SELECT subject_id, wrapped_key FROM personal_data_keys"
                    " WHERE subject_id = ANY(%s) AND wrapped_key IS NOT NULL",
                    (wanted,),
                )
                .fetchall()
            )
        wrap, _ = self._keys()
        keys = {}
        for subject, wrapped in rows:
            wrapped = bytes(wrapped)
            keys[subject] = AESGCM(wrap.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], subject.bytes))
        return keys

    def seal(self, subject: UUID, value: Any) -> Sealed:
        """Encrypt `value` (any msgspec-encodable value) with the subject's key.

        Refused (409) once the subject's data has been erased: nothing more is written about them.
        """
        key = self._data_keys([subject]).get(subject)
        if key is None:
            raise RuleViolation(
                "personal data erased", "this person's personal data was erased; nothing more can be recorded"
            )
        nonce = os.urandom(_NONCE)
        return Sealed(subject=subject, ciphertext=nonce + key.encrypt(nonce, msgspec.json.encode(value), subject.bytes))

    def revealer(self, sealed: Iterable[Sealed | None]) -> Revealer:
        """Fetch, in one query, the keys needed to reveal these sealed values."""
        return Revealer(self._data_keys(s.subject for s in sealed if s is not None))


class Revealer:
    """Opens sealed values whose keys were fetched together; an erased subject's values open to None."""

    def __init__(self, keys: dict[UUID, AESGCM]) -> None:
        self._keys = keys

    def __call__(self, sealed: Sealed | None, kind: type[T]) -> T | None:
        if sealed is None:
            return None
        key = self._keys.get(sealed.subject)
        if key is None:
            return None
        nonce, body = sealed.ciphertext[:_NONCE], sealed.ciphertext[_NONCE:]
        return msgspec.json.decode(key.decrypt(nonce, body, sealed.subject.bytes), type=kind)


def load_sealed(raw: bytes | None) -> Sealed | None:
    """A sealed value as a view stores it (its JSON), or None."""
    return None if raw is None else msgspec.json.decode(bytes(raw), type=Sealed)


def store_sealed(sealed: Sealed | None) -> bytes | None:
    return None if sealed is None else msgspec.json.encode(sealed)
