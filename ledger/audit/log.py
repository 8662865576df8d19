"""The ledger's Merkle log: leaves over the stored events, signed checkpoints, proofs and verification."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import psycopg
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from psycopg.rows import tuple_row

from ledger.audit import merkle
from ledger.store import EVENTS_TABLE

_ROW = (
    "notification_id, originator_id, originator_version, topic, recorded_at, effective_at, actor_id, actor_role,"
    " organisation_id, correlation_id, causation_id, reason, state"
)
_encoder = msgspec.json.Encoder()


def _canonical(row: tuple[Any, ...], *, with_position: bool) -> bytes:
    """The bytes a leaf covers: position, aggregate, version, type, envelope and the stored payload."""
    position, originator, version, topic, recorded, effective, *envelope, state = row
    fields = [
        str(originator),
        version,
        topic,
        recorded.astimezone(UTC).isoformat(),
        effective.astimezone(UTC).isoformat(),
        *envelope,
        hashlib.sha256(bytes(state)).hexdigest(),
    ]
    return _encoder.encode([position, *fields] if with_position else fields)


def leaf_of(row: tuple[Any, ...]) -> tuple[int, bytes, bytes]:
    """(position, leaf hash, content hash) of one stored event row."""
    return (
        row[0],
        merkle.leaf_hash(_canonical(row, with_position=True)),
        merkle.leaf_hash(_canonical(row, with_position=False)),
    )


def stored_rows(conn: psycopg.Connection[Any], after: int = -(2**63), batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Every stored event row in log order, streamed in batches (from the very lowest id: rows slipped in
    at zero or below are rows too)."""
    cur = conn.cursor(row_factory=tuple_row)
    while True:
        rows = cur.execute(
            f"SELECT {_ROW} FROM {EVENTS_TABLE} WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
            (after, batch),
        ).fetchall()
        if not rows:
            return
        yield from rows
        after = rows[-1][0]


# -- signing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    @property
    def key_id(self) -> str:
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @classmethod
    def from_file(cls, path: Path) -> Signer:
        """The checkpoint key in a PEM file, created (mode 0600) the first time in development."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(pem)
            tmp.chmod(0o600)
            tmp.replace(path)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        return cls(key)


def checkpoint_message(tree_size: int, root: bytes, signed_at: datetime) -> bytes:
    """What a checkpoint's signature covers."""
    return f"probation-ledger checkpoint\n{tree_size}\n{root.hex()}\n{signed_at.astimezone(UTC).isoformat()}\n".encode()


class Checkpoint(msgspec.Struct, kw_only=True):
    tree_size: int
    root: str
    signed_at: datetime
    key_id: str
    signature: str


# -- appending and checkpointing ------------------------------------------------------------------


def extend(conn: psycopg.Connection[Any], progress: Callable[[int], None] | None = None) -> int:
    """Append a leaf for every event not yet in the log; return how many were added."""
    cur = conn.cursor(row_factory=tuple_row)
    with conn.transaction():
        cur.execute("LOCK TABLE merkle_leaves IN EXCLUSIVE MODE")
        last = cur.execute(
            "SELECT coalesce(max(leaf_index), -1), coalesce(max(position), 0) FROM merkle_leaves"
        ).fetchone()
        assert last is not None
        index, position = last
        added = []
        for row in stored_rows(conn, after=position):
            index += 1
            p, leaf, content = leaf_of(row)
            added.append((index, p, leaf, content))
            if progress is not None and len(added) % 10000 == 0:
                progress(len(added))
        if added:
            cur.executemany(
                "INSERT INTO merkle_leaves (leaf_index, position, leaf_hash, content_hash) VALUES (%s, %s, %s, %s)",
                added,
            )
    return len(added)


def leaves(conn: psycopg.Connection[Any], size: int | None = None) -> list[bytes]:
    cur = conn.cursor(row_factory=tuple_row)
    if size is None:
        rows = cur.execute("SELECT leaf_hash FROM merkle_leaves ORDER BY leaf_index").fetchall()
    else:
        rows = cur.execute(
            "SELECT leaf_hash FROM merkle_leaves WHERE leaf_index < %s ORDER BY leaf_index", (size,)
        ).fetchall()
    return [bytes(r[0]) for r in rows]


def checkpoint(
    conn: psycopg.Connection[Any],
    signer: Signer,
    *,
    now: datetime | None = None,
    progress: Callable[[int], None] | None = None,
) -> Checkpoint:
    """Extend the log to the head and sign its root (or return the latest checkpoint if nothing is new)."""
    extend(conn, progress)
    hashes = leaves(conn)
    latest = latest_checkpoint(conn)
    if latest is not None and latest.tree_size == len(hashes):
        return latest
    signed_at = (now or datetime.now(UTC)).replace(microsecond=0)
    tree_root = merkle.root(hashes)
    signature = signer.key.sign(checkpoint_message(len(hashes), tree_root, signed_at))
    conn.execute(
        "INSERT INTO checkpoints (tree_size, root, signed_at, key_id, signature) VALUES (%s, %s, %s, %s, %s)",
        (len(hashes), tree_root, signed_at, signer.key_id, signature),
    )
    return Checkpoint(
        tree_size=len(hashes),
        root=tree_root.hex(),
        signed_at=signed_at,
        key_id=signer.key_id,
        signature=signature.hex(),
    )


def latest_checkpoint(conn: psycopg.Connection[Any], at_most: int | None = None) -> Checkpoint | None:
    cur = conn.cursor(row_factory=tuple_row)
    row = cur.execute(
        "SELECT tree_size, root, signed_at, key_id, signature FROM checkpoints"
        " WHERE %s::bigint IS NULL OR tree_size <= %s ORDER BY tree_size DESC LIMIT 1",
        (at_most, at_most),
    ).fetchone()
    if row is None:
        return None
    return Checkpoint(
        tree_size=row[0], root=bytes(row[1]).hex(), signed_at=row[2], key_id=row[3], signature=bytes(row[4]).hex()
    )


def checkpoint_covering(
    conn: psycopg.Connection[Any], position: int, *, at_most: int | None = None
) -> Checkpoint | None:
    """The latest signed checkpoint (of at most `at_most` leaves) whose tree holds the event at `position`."""
    cur = conn.cursor(row_factory=tuple_row)
    row = cur.execute(
        "SELECT tree_size, root, signed_at, key_id, signature FROM checkpoints"
        " WHERE tree_size > (SELECT leaf_index FROM merkle_leaves WHERE position = %s)"
        " AND (%s::bigint IS NULL OR tree_size <= %s) ORDER BY tree_size DESC LIMIT 1",
        (position, at_most, at_most),
    ).fetchone()
    if row is None:
        return None
    return Checkpoint(
        tree_size=row[0], root=bytes(row[1]).hex(), signed_at=row[2], key_id=row[3], signature=bytes(row[4]).hex()
    )


def signature_valid(cp: Checkpoint, public_key: Ed25519PublicKey) -> bool:
    try:
        public_key.verify(
            bytes.fromhex(cp.signature), checkpoint_message(cp.tree_size, bytes.fromhex(cp.root), cp.signed_at)
        )
    except InvalidSignature:
        return False
    return True


# -- verification ----------------------------------------------------------------------------------


class Finding(msgspec.Struct, kw_only=True):
    kind: str  # altered, removed, inserted, reordered, log-tampered, bad-signature
    position: int | None
    detail: str


class Verification(msgspec.Struct, kw_only=True):
    ok: bool
    events: int
    leaves: int
    checkpoint_size: int | None
    root: str
    finding: Finding | None = None


def verify(
    conn: psycopg.Connection[Any], public_key: Ed25519PublicKey, progress: Callable[[int], None] | None = None
) -> Verification:
    """Recompute every leaf from the raw events table and compare with the log and its latest checkpoint.

    Reports the first position where a row was altered, removed, inserted or reordered, or where the
    log itself no longer matches its signed checkpoint.
    """
    cur = conn.cursor(row_factory=tuple_row)
    logged = cur.execute("SELECT position, leaf_hash, content_hash FROM merkle_leaves ORDER BY leaf_index").fetchall()
    logged_content = {bytes(c): p for p, _, c in logged}
    recomputed: list[bytes] = []
    finding: Finding | None = None
    events = 0
    for i, row in enumerate(stored_rows(conn)):
        events += 1
        position, leaf, content = leaf_of(row)
        recomputed.append(leaf)
        if progress is not None and events % 10000 == 0:
            progress(events)
        if finding is not None or i >= len(logged):
            continue
        logged_position, logged_leaf, _ = logged[i]
        if position == logged_position and leaf == bytes(logged_leaf):
            continue
        if position > logged_position:
            finding = Finding(
                kind="removed",
                position=logged_position,
                detail=f"the event logged at position {logged_position} is missing",
            )
        elif position < logged_position:
            finding = Finding(
                kind="inserted",
                position=position,
                detail=f"position {position} was not in the log (next logged is {logged_position})",
            )
        elif content in logged_content and logged_content[content] != position:
            finding = Finding(
                kind="reordered",
                position=position,
                detail=f"the row at {position} was logged at position {logged_content[content]}",
            )
        else:
            finding = Finding(kind="altered", position=position, detail=f"the row at {position} was changed")
    if finding is None and events < len(logged):
        missing = logged[events][0]
        finding = Finding(kind="removed", position=missing, detail=f"the event logged at position {missing} is missing")
    cp = latest_checkpoint(conn)
    if finding is None and cp is not None:
        if not signature_valid(cp, public_key):
            finding = Finding(
                kind="bad-signature", position=None, detail=f"checkpoint {cp.tree_size} is not signed by the key"
            )
        elif merkle.root([bytes(r[1]) for r in logged[: cp.tree_size]]).hex() != cp.root:
            finding = Finding(
                kind="log-tampered",
                position=None,
                detail=f"the logged leaves no longer match checkpoint {cp.tree_size}",
            )
    return Verification(
        ok=finding is None,
        events=events,
        leaves=len(logged),
        checkpoint_size=cp.tree_size if cp else None,
        root=merkle.root(recomputed).hex(),
        finding=finding,
    )


# -- proofs ----------------------------------------------------------------------------------------


class InclusionProof(msgspec.Struct, kw_only=True):
    """That the event at `position` is leaf `leaf_index` of the tree of `tree_size` leaves whose root is `root`.

    `leaf_data` is the exact JSON the leaf hashes (with the SHA-256 of the stored payload), so a holder of
    the event can check it against the leaf: leaf_hash = SHA-256(0x00 || leaf_data).
    """

    position: int
    leaf_index: int
    tree_size: int
    leaf_data: str
    leaf_hash: str
    audit_path: list[str]
    root: str
    checkpoint: Checkpoint | None


class ConsistencyProof(msgspec.Struct, kw_only=True):
    """That the tree of `first` leaves is a prefix of the tree of `second` leaves (RFC 9162 section 2.1.4)."""

    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]
    first_checkpoint: Checkpoint | None
    second_checkpoint: Checkpoint | None


class ProofRefused(ValueError):
    """A proof was asked for that the log cannot give (a size beyond it, a position not in it)."""


def _checkpoint_at(conn: psycopg.Connection[Any], size: int) -> Checkpoint | None:
    found = latest_checkpoint(conn, at_most=size)
    return found if found is not None and found.tree_size == size else None


def _size(conn: psycopg.Connection[Any], requested: int | None, *, covering: int = 0) -> int:
    """The tree size to prove against: as asked; else the latest checkpoint's when it covers leaf
    `covering`; else the whole log."""
    logged = len(leaves(conn))
    if requested is None:
        latest = latest_checkpoint(conn)
        return latest.tree_size if latest is not None and latest.tree_size > covering else logged
    if not 0 < requested <= logged:
        raise ProofRefused(f"the log has {logged} leaves; there is no tree of {requested}")
    return requested


def inclusion(conn: psycopg.Connection[Any], position: int, tree_size: int | None = None) -> InclusionProof:
    extend(conn)
    cur = conn.cursor(row_factory=tuple_row)
    found = cur.execute("SELECT leaf_index FROM merkle_leaves WHERE position = %s", (position,)).fetchone()
    row = cur.execute(f"SELECT {_ROW} FROM {EVENTS_TABLE} WHERE notification_id = %s", (position,)).fetchone()
    if found is None or row is None:
        raise ProofRefused(f"no event at position {position} in the log")
    index = found[0]
    size = _size(conn, tree_size, covering=index)
    if index >= size:
        raise ProofRefused(f"position {position} is leaf {index}, outside a tree of {size}")
    hashes = leaves(conn, size)
    return InclusionProof(
        position=position,
        leaf_index=index,
        tree_size=size,
        leaf_data=_canonical(row, with_position=True).decode(),
        leaf_hash=hashes[index].hex(),
        audit_path=[h.hex() for h in merkle.inclusion_proof(index, hashes)],
        root=merkle.root(hashes).hex(),
        checkpoint=_checkpoint_at(conn, size),
    )


def consistency(conn: psycopg.Connection[Any], first: int, second: int | None = None) -> ConsistencyProof:
    extend(conn)
    size = _size(conn, second)
    if not 0 < first <= size:
        raise ProofRefused(f"no consistency proof from {first} to {size}")
    hashes = leaves(conn, size)
    return ConsistencyProof(
        first=first,
        second=size,
        first_root=merkle.root(hashes[:first]).hex(),
        second_root=merkle.root(hashes).hex(),
        proof=[h.hex() for h in merkle.consistency_proof(first, hashes)],
        first_checkpoint=_checkpoint_at(conn, first),
        second_checkpoint=_checkpoint_at(conn, size),
    )


def checkpoints(conn: psycopg.Connection[Any], *, limit: int = 100) -> list[Checkpoint]:
    cur = conn.cursor(row_factory=tuple_row)
    rows = cur.execute(
        "SELECT tree_size, root, signed_at, key_id, signature FROM checkpoints ORDER BY tree_size DESC LIMIT %s",
        (limit,),
    ).fetchall()
    return [
        Checkpoint(tree_size=r[0], root=bytes(r[1]).hex(), signed_at=r[2], key_id=r[3], signature=bytes(r[4]).hex())
        for r in rows
    ]
