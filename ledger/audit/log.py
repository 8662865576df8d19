"""The ledger's Merkle log: leaves over the stored events, signed checkpoints, proofs and verification."""

from __future__ import annotations

import contextlib
import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
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

from ledger.audit import merkle, note
from ledger.config import DEFAULT_CHECKPOINT_ORIGIN
from ledger.store import EVENTS_TABLE


def _utc_text(column: str) -> str:
    """SQL for a timestamp as Python's `datetime.astimezone(UTC).isoformat()` writes it (no fraction when whole)."""
    return (
        f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN"
        f" date_part('microseconds', {column})::bigint %% 1000000 = 0 THEN '' ELSE"
        f" to_char({column} AT TIME ZONE 'UTC', '.US') END || '+00:00'"
    )


# A row as its leaf covers it, each field already in its canonical text: position, aggregate, version, type,
# both times, the envelope, and the SHA-256 of the stored payload. PostgreSQL formats and hashes (pg_catalog's
# own sha256, so no function of another schema can stand in for it) beside the verifier's Python, and only
# 32 bytes of each payload cross the wire.
_ROW = (
    "notification_id, originator_id::text, originator_version, topic,"
    f" {_utc_text('recorded_at')}, {_utc_text('effective_at')}, actor_id, actor_role,"
    " organisation_id, correlation_id, causation_id, reason, pg_catalog.encode(pg_catalog.sha256(state), 'hex')"
)
_encoder = msgspec.json.Encoder()


def _canonical(row: tuple[Any, ...], *, with_position: bool) -> bytes:
    """The bytes a leaf covers: the row's canonical fields, with or without its position."""
    return _encoder.encode(list(row) if with_position else list(row[1:]))


def leaf_hash_of(row: tuple[Any, ...]) -> bytes:
    return merkle.leaf_hash(_canonical(row, with_position=True))


def content_hash_of(row: tuple[Any, ...]) -> bytes:
    """The row's hash without its position: the same content at another position means a reorder."""
    return merkle.leaf_hash(_canonical(row, with_position=False))


def leaf_of(row: tuple[Any, ...]) -> tuple[int, bytes, bytes]:
    """(position, leaf hash, content hash) of one stored event row."""
    return row[0], leaf_hash_of(row), content_hash_of(row)


def stored_rows(conn: psycopg.Connection[Any], after: int = -(2**63), batch: int = 5000) -> Iterator[tuple[Any, ...]]:
    """Every stored event row in log order, streamed in batches (from the very lowest id: rows slipped in
    at zero or below are rows too).

    The next batch is fetched by a thread while the caller works through the current one, so the database's
    formatting and hashing run beside the caller's.
    """
    batches: queue.Queue[list[tuple[Any, ...]] | BaseException] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        cur = conn.cursor(row_factory=tuple_row)
        position = after
        try:
            while not stop.is_set():
                rows = cur.execute(
                    f"SELECT {_ROW} FROM {EVENTS_TABLE} WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
                    (position, batch),
                ).fetchall()
                batches.put(rows)
                if not rows:
                    return
                position = rows[-1][0]
        except BaseException as exc:  # handed to the reader, which raises it
            batches.put(exc)

    fetcher = threading.Thread(target=fetch, name="stored-rows", daemon=True)
    fetcher.start()
    try:
        while True:
            rows = batches.get()
            if isinstance(rows, BaseException):
                raise rows
            if not rows:
                return
            yield from rows
    finally:
        stop.set()
        while fetcher.is_alive():  # unblock a fetcher waiting to put, then let it finish its query
            with contextlib.suppress(queue.Empty):
                batches.get(timeout=0.05)
        fetcher.join()


# -- signing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Signer:
    """The log's checkpoint key, named by the log's origin (the name its checkpoint notes are signed under)."""

    key: Ed25519PrivateKey
    origin: str = DEFAULT_CHECKPOINT_ORIGIN

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    @property
    def key_id(self) -> str:
        raw = self.public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return hashlib.sha256(raw).hexdigest()[:16]

    def vkey(self) -> str:
        """The verifier key of the checkpoint notes, in the standard form other systems configure."""
        return note.vkey(self.origin, self.public_key)

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    @classmethod
    def from_file(cls, path: Path, origin: str = DEFAULT_CHECKPOINT_ORIGIN) -> Signer:
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
        return cls(key, origin)


def checkpoint_message(tree_size: int, root: bytes, signed_at: datetime) -> bytes:
    """What a checkpoint's signature covers."""
    return f"probation-ledger checkpoint\n{tree_size}\n{root.hex()}\n{signed_at.astimezone(UTC).isoformat()}\n".encode()


class Checkpoint(msgspec.Struct, kw_only=True):
    tree_size: int
    root: str
    signed_at: datetime
    key_id: str
    signature: str
    # The same tree signed as a C2SP checkpoint note under the origin (None: signed before notes were, ADR 35).
    origin: str | None = None
    note_signature: str | None = None


_CHECKPOINT_COLUMNS = "tree_size, root, signed_at, key_id, signature, origin, note_signature"


def _checkpoint(row: tuple[Any, ...]) -> Checkpoint:
    return Checkpoint(
        tree_size=row[0],
        root=bytes(row[1]).hex(),
        signed_at=row[2],
        key_id=row[3],
        signature=bytes(row[4]).hex(),
        origin=row[5],
        note_signature=None if row[6] is None else bytes(row[6]).hex(),
    )


def note_text(cp: Checkpoint) -> str | None:
    """The checkpoint as its signed note, the text other systems keep (None: signed before notes were)."""
    if cp.origin is None or cp.note_signature is None:
        return None
    body = note.checkpoint_body(cp.origin, cp.tree_size, bytes.fromhex(cp.root))
    return note.render(body, cp.origin, bytes.fromhex(cp.note_signature))


def latest_note(conn: psycopg.Connection[Any]) -> str | None:
    """The latest checkpoint signed as a note, as its text."""
    row = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints WHERE note_signature IS NOT NULL"
            " ORDER BY tree_size DESC LIMIT 1"
        )
        .fetchone()
    )
    return None if row is None else note_text(_checkpoint(row))


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
    """Extend the log to the head and sign its root, both as the ledger's own message and as a C2SP checkpoint
    note (or return the latest checkpoint if nothing is new)."""
    extend(conn, progress)
    size = conn.cursor(row_factory=tuple_row).execute("SELECT count(*) FROM merkle_leaves").fetchone()
    latest = latest_checkpoint(conn)
    if latest is not None and size is not None and latest.tree_size == size[0]:
        return latest  # nothing new: the leaves are not read again (the worker asks every minute)
    hashes = leaves(conn)
    signed_at = (now or datetime.now(UTC)).replace(microsecond=0)
    tree_root = merkle.root(hashes)
    signature = signer.key.sign(checkpoint_message(len(hashes), tree_root, signed_at))
    note_signature = note.sign(signer.key, signer.origin, note.checkpoint_body(signer.origin, len(hashes), tree_root))
    signed = conn.execute(
        "INSERT INTO checkpoints (tree_size, root, signed_at, key_id, signature, origin, note_signature)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (tree_size) DO NOTHING",
        (len(hashes), tree_root, signed_at, signer.key_id, signature, signer.origin, note_signature),
    )
    if signed.rowcount == 0:  # another signer checkpointed the same tree first: theirs stands
        existing = latest_checkpoint(conn, at_most=len(hashes))
        assert existing is not None
        return existing
    return Checkpoint(
        tree_size=len(hashes),
        root=tree_root.hex(),
        signed_at=signed_at,
        key_id=signer.key_id,
        signature=signature.hex(),
        origin=signer.origin,
        note_signature=note_signature.hex(),
    )


def latest_checkpoint(conn: psycopg.Connection[Any], at_most: int | None = None) -> Checkpoint | None:
    cur = conn.cursor(row_factory=tuple_row)
    row = cur.execute(
        f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints"
        " WHERE %s::bigint IS NULL OR tree_size <= %s ORDER BY tree_size DESC LIMIT 1",
        (at_most, at_most),
    ).fetchone()
    return None if row is None else _checkpoint(row)


def checkpoint_covering(
    conn: psycopg.Connection[Any], position: int, *, at_most: int | None = None
) -> Checkpoint | None:
    """The latest signed checkpoint (of at most `at_most` leaves) whose tree holds the event at `position`."""
    cur = conn.cursor(row_factory=tuple_row)
    row = cur.execute(
        f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints"
        " WHERE tree_size > (SELECT leaf_index FROM merkle_leaves WHERE position = %s)"
        " AND (%s::bigint IS NULL OR tree_size <= %s) ORDER BY tree_size DESC LIMIT 1",
        (position, at_most, at_most),
    ).fetchone()
    return None if row is None else _checkpoint(row)


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


class OutsideCheck(msgspec.Struct, kw_only=True):
    """One checkpoint note kept outside the database, checked against it: its signature, the tree the events make
    at its size, a consistency proof from it to the head (RFC 9162 section 2.1.4, recomputed from the events),
    and that the database's own log still holds it."""

    origin: str
    tree_size: int
    root: str
    ok: bool
    head_size: int
    head_root: str
    proof: list[str]
    finding: Finding | None = None


class Verification(msgspec.Struct, kw_only=True):
    ok: bool
    events: int
    leaves: int
    checkpoint_size: int | None
    root: str
    finding: Finding | None = None
    uncovered: int = 0  # events no signed checkpoint covers yet: not anchored anywhere, inside or out
    outside: list[OutsideCheck] = msgspec.field(default_factory=list)


def logged_leaves(conn: psycopg.Connection[Any], batch: int = 20000) -> Iterator[tuple[int, bytes]]:
    """(position, leaf hash) of every leaf of the log, in order, streamed in batches."""
    cur = conn.cursor(row_factory=tuple_row)
    after = -1
    while True:
        rows = cur.execute(
            "SELECT leaf_index, position, leaf_hash FROM merkle_leaves WHERE leaf_index > %s ORDER BY leaf_index"
            " LIMIT %s",
            (after, batch),
        ).fetchall()
        if not rows:
            return
        for _, position, leaf in rows:
            yield position, bytes(leaf)
        after = rows[-1][0]


def _mismatch(conn: psycopg.Connection[Any], row: tuple[Any, ...], logged_position: int) -> Finding:
    """Say what happened at the first place the events and the log part."""
    position = row[0]
    if position > logged_position:
        return Finding(
            kind="removed",
            position=logged_position,
            detail=f"the event logged at position {logged_position} is missing",
        )
    if position < logged_position:
        return Finding(
            kind="inserted",
            position=position,
            detail=f"position {position} was not in the log (next logged is {logged_position})",
        )
    elsewhere = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            "SELECT position FROM merkle_leaves WHERE content_hash = %s AND position <> %s LIMIT 1",
            (content_hash_of(row), position),
        )
        .fetchone()
    )
    if elsewhere is not None:
        return Finding(
            kind="reordered", position=position, detail=f"the row at {position} was logged at position {elsewhere[0]}"
        )
    return Finding(kind="altered", position=position, detail=f"the row at {position} was changed")


class _Outside:
    """An outside checkpoint's tree recomputed as the events stream past: the root at its size, and the subtrees
    its consistency proof to the head is made of (each leaf falls in at most one; memory stays O(log n))."""

    def __init__(self, held: note.CheckpointNote, head: int) -> None:
        self.held = held
        self.root: bytes | None = merkle.EMPTY_ROOT if held.tree_size == 0 else None
        self.ranges = merkle.consistency_ranges(held.tree_size, head) if 0 < held.tree_size <= head else []
        self.order = sorted(range(len(self.ranges)), key=lambda i: self.ranges[i][0])
        self.trees = [merkle.Tree() for _ in self.ranges]
        self._next = 0

    def add(self, index: int, leaf: bytes, tree: merkle.Tree) -> None:
        if index + 1 == self.held.tree_size:
            self.root = tree.root()
        while self._next < len(self.order) and index >= self.ranges[self.order[self._next]][1]:
            self._next += 1
        if self._next < len(self.order) and self.ranges[self.order[self._next]][0] <= index:
            self.trees[self.order[self._next]].append(leaf)

    def proof(self) -> list[bytes]:
        return [t.root() for t in self.trees]


def _outside_check(
    conn: psycopg.Connection[Any], held: _Outside, verifier: note.Verifier, head: int, head_root: bytes
) -> OutsideCheck:
    """Judge one outside checkpoint once the events have streamed past."""
    size, root = held.held.tree_size, held.held.root
    proof = held.proof()
    finding: Finding | None = None
    cur = conn.cursor(row_factory=tuple_row)
    stored = cur.execute("SELECT root FROM checkpoints WHERE tree_size = %s", (size,)).fetchone()
    logged = cur.execute("SELECT count(*) FROM merkle_leaves").fetchone()
    name = f"checkpoint {size} of {held.held.origin}"
    if held.held.origin != verifier.name or not held.held.signed_by(verifier):
        finding = Finding(kind="bad-signature", position=None, detail=f"{name} is not signed by {verifier.name}")
    elif size > head:
        finding = Finding(
            kind="truncated", position=None, detail=f"{name} covers {size} events; the database holds {head}"
        )
    elif held.root != root:
        finding = Finding(
            kind="rewritten",
            position=None,
            detail=f"the first {size} events no longer make the root of {name}: history was rewritten",
        )
    elif not merkle.verify_consistency(size, head, root, head_root, proof):
        finding = Finding(kind="inconsistent", position=None, detail=f"no consistency from {name} to the head")
    elif stored is None:
        finding = Finding(
            kind="checkpoint-deleted", position=None, detail=f"the checkpoints table no longer holds {name}"
        )
    elif bytes(stored[0]) != root:
        finding = Finding(kind="log-tampered", position=None, detail=f"the checkpoints table holds another {name}")
    elif logged is None or logged[0] < size:
        finding = Finding(
            kind="leaves-deleted",
            position=None,
            detail=f"merkle_leaves holds {0 if logged is None else logged[0]} leaves; {name} covers {size}",
        )
    return OutsideCheck(
        origin=held.held.origin,
        tree_size=size,
        root=root.hex(),
        ok=finding is None,
        head_size=head,
        head_root=head_root.hex(),
        proof=[h.hex() for h in proof],
        finding=finding,
    )


def verify(
    conn: psycopg.Connection[Any],
    public_key: Ed25519PublicKey,
    progress: Callable[[int], None] | None = None,
    *,
    outside: Sequence[note.CheckpointNote] = (),
    verifier: note.Verifier | None = None,
) -> Verification:
    """Recompute every leaf from the raw events table and compare with the log and its latest checkpoint.

    Reports the first position where a row was altered, removed, inserted or reordered, or where the
    log itself no longer matches its signed checkpoint. Both are streamed side by side, so memory stays
    flat however long the log.

    With checkpoint notes kept `outside` the database (checked with `verifier`'s key, which they need), each is
    also proved against the events themselves, not the log's tables, which an attacker may have rewritten or deleted
    (ADR 35): the events up to the head counted at the start are hashed once for every check.
    """
    if outside and verifier is None:
        raise ValueError("checkpoints kept outside are checked with a verifier key")
    cp = latest_checkpoint(conn)
    logged = logged_leaves(conn)
    head, last = 0, None
    if outside:
        counted = (
            conn.cursor(row_factory=tuple_row)
            .execute(f"SELECT count(*), max(notification_id) FROM {EVENTS_TABLE}")
            .fetchone()
        )
        assert counted is not None
        head, last = counted
    held = [_Outside(n, head) for n in outside]
    # Until the first mismatch the recomputed leaves are the logged ones, so one tree gives both roots.
    recomputed = merkle.Tree()
    checkpoint_root: bytes | None = None
    finding: Finding | None = None
    events = compared = 0
    for row in stored_rows(conn):
        if outside and (last is None or row[0] > last or events == head):
            break  # appended since the count: the proofs are to the head counted
        events += 1
        leaf = leaf_hash_of(row)
        recomputed.append(leaf)
        for h in held:
            h.add(events - 1, leaf, recomputed)
        if progress is not None and events % 10000 == 0:
            progress(events)
        if finding is not None:
            continue
        entry = next(logged, None)
        if entry is None:
            continue  # events beyond the log: not yet logged, which is not tampering
        compared += 1
        logged_position, logged_leaf = entry
        if row[0] != logged_position or leaf != logged_leaf:
            finding = _mismatch(conn, row, logged_position)
        elif cp is not None and compared == cp.tree_size:
            checkpoint_root = recomputed.root()
    if finding is None:
        entry = next(logged, None)
        if entry is not None and (last is None or entry[0] <= last):  # not one logged since the count
            finding = Finding(
                kind="removed", position=entry[0], detail=f"the event logged at position {entry[0]} is missing"
            )
    if finding is None and cp is not None:
        if not signature_valid(cp, public_key):
            finding = Finding(
                kind="bad-signature", position=None, detail=f"checkpoint {cp.tree_size} is not signed by the key"
            )
        elif checkpoint_root is None or checkpoint_root.hex() != cp.root:
            finding = Finding(
                kind="log-tampered",
                position=None,
                detail=f"the logged leaves no longer match checkpoint {cp.tree_size}",
            )
    head_root = recomputed.root()
    checks = [_outside_check(conn, h, verifier, events, head_root) for h in held if verifier is not None]
    return Verification(
        ok=finding is None and all(c.ok for c in checks),
        events=events,
        leaves=compared + sum(1 for _ in logged),
        checkpoint_size=cp.tree_size if cp else None,
        root=head_root.hex(),
        finding=finding,
        uncovered=max(0, events - (cp.tree_size if cp else 0)),
        outside=checks,
    )


class VerificationRun(msgspec.Struct, kw_only=True):
    """A verification as it was run and recorded: when, by whom, and what it found (a fact about the log, kept
    beside it, not a domain event)."""

    id: int
    ran_at: datetime
    ran_by: str
    ran_by_role: str
    seconds: float
    ok: bool
    events: int
    leaves: int
    checkpoint_size: int | None
    root: str
    finding: Finding | None
    uncovered: int | None = None  # None: a run from before verifications counted them
    # The checkpoints kept outside that this run was given, each as checked (the run's outcome is recorded;
    # the notes stay with whoever keeps them).
    outside: list[OutsideCheck] = msgspec.field(default_factory=list)


_RUN_COLUMNS = (
    "id, ran_at, ran_by, ran_by_role, seconds, ok, events, leaves, checkpoint_size, root, finding_kind,"
    " first_bad_position, detail, uncovered"
)


def _run(row: tuple[Any, ...]) -> VerificationRun:
    kind, position, detail = row[10:13]
    return VerificationRun(
        id=row[0],
        ran_at=row[1],
        ran_by=row[2],
        ran_by_role=row[3],
        seconds=row[4],
        ok=row[5],
        events=row[6],
        leaves=row[7],
        checkpoint_size=row[8],
        root=row[9],
        finding=None if kind is None else Finding(kind=kind, position=position, detail=detail),
        uncovered=row[13],
    )


def verify_and_record(
    conn: psycopg.Connection[Any],
    public_key: Ed25519PublicKey,
    *,
    ran_by: str,
    ran_by_role: str,
    now: datetime,
    progress: Callable[[int], None] | None = None,
    outside: Sequence[note.CheckpointNote] = (),
    verifier: note.Verifier | None = None,
) -> VerificationRun:
    """`verify`, then record when it ran, who ran it and what it found (`audit_verifications`, append-only): the
    first finding in the database itself, else the first against a checkpoint kept outside."""
    started = time.monotonic()
    result = verify(conn, public_key, progress, outside=outside, verifier=verifier)
    finding = result.finding or next((c.finding for c in result.outside if c.finding is not None), None)
    row = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            "INSERT INTO audit_verifications (ran_at, ran_by, ran_by_role, seconds, ok, events, leaves,"
            " checkpoint_size, root, finding_kind, first_bad_position, detail, uncovered)"
            f" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING {_RUN_COLUMNS}",
            (
                now,
                ran_by,
                ran_by_role,
                round(time.monotonic() - started, 3),
                result.ok,
                result.events,
                result.leaves,
                result.checkpoint_size,
                result.root,
                finding.kind if finding else None,
                finding.position if finding else None,
                finding.detail if finding else None,
                result.uncovered,
            ),
        )
        .fetchone()
    )
    assert row is not None
    return msgspec.structs.replace(_run(row), outside=result.outside)


def verifications(conn: psycopg.Connection[Any], *, limit: int = 20) -> list[VerificationRun]:
    """The recorded verifications, the latest first."""
    rows = (
        conn.cursor(row_factory=tuple_row)
        .execute(f"SELECT {_RUN_COLUMNS} FROM audit_verifications ORDER BY id DESC LIMIT %s", (limit,))
        .fetchall()
    )
    return [_run(r) for r in rows]


# -- proofs ----------------------------------------------------------------------------------------


class ProofStep(msgspec.Struct, kw_only=True):
    """One step up the audit path: node = SHA-256(0x01 || left || right), the sibling on the `side` named."""

    sibling: str
    side: str  # left or right
    node: str


class InclusionProof(msgspec.Struct, kw_only=True):
    """That the event at `position` is leaf `leaf_index` of the tree of `tree_size` leaves whose root is `root`.

    `leaf_data` is the exact JSON the leaf hashes (with the SHA-256 of the stored payload), so a holder of
    the event can check it against the leaf: leaf_hash = SHA-256(0x00 || leaf_data).

    The computation, shown so that it can be redone: `leaf_hash_of_data` is SHA-256(0x00 || leaf_data) of the
    event as stored now (equal to the logged `leaf_hash` unless the row was changed), `steps` climb from it by the
    audit path to `computed_root`, which must equal the signed checkpoint's root; `signed_message` is the text
    the checkpoint's Ed25519 signature covers. `signature_valid` and `verified` are the ledger's own conclusions
    (None: there is no signed checkpoint of this tree to check).
    """

    position: int
    leaf_index: int
    tree_size: int
    leaf_data: str
    leaf_hash: str
    audit_path: list[str]
    root: str
    checkpoint: Checkpoint | None
    leaf_hash_of_data: str
    steps: list[ProofStep]
    computed_root: str
    signed_message: str | None
    signature_valid: bool | None
    verified: bool | None


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


def inclusion(
    conn: psycopg.Connection[Any],
    position: int,
    tree_size: int | None = None,
    public_key: Ed25519PublicKey | None = None,
) -> InclusionProof:
    """The proof for the event at `position`, with every step of checking it; with the public key, checked."""
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
    data = _canonical(row, with_position=True)
    path = merkle.inclusion_proof(index, hashes)
    of_data = merkle.leaf_hash(data)
    steps = merkle.inclusion_steps(index, size, of_data, path) or []
    computed = steps[-1].node if steps else of_data
    signed = _checkpoint_at(conn, size)
    valid = signature_valid(signed, public_key) if public_key is not None and signed is not None else None
    return InclusionProof(
        position=position,
        leaf_index=index,
        tree_size=size,
        leaf_data=data.decode(),
        leaf_hash=hashes[index].hex(),
        audit_path=[h.hex() for h in path],
        root=merkle.root(hashes).hex(),
        checkpoint=signed,
        leaf_hash_of_data=of_data.hex(),
        steps=[ProofStep(sibling=s.sibling.hex(), side=s.side, node=s.node.hex()) for s in steps],
        computed_root=computed.hex(),
        signed_message=None
        if signed is None
        else checkpoint_message(signed.tree_size, bytes.fromhex(signed.root), signed.signed_at).decode(),
        signature_valid=valid,
        verified=None if valid is None else valid and computed.hex() == signed.root and of_data == hashes[index],
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
        f"SELECT {_CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY tree_size DESC LIMIT %s", (limit,)
    ).fetchall()
    return [_checkpoint(r) for r in rows]
