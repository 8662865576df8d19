"""The stream other systems read: the published events and signed checkpoints, in log order, as CloudEvents 1.0.

One stream, two ways out (ADR 34): the relay publishes it to the broker, the pull feed serves it in pages. Both
read it through `read()` and build each message with `message()`, so a message is the same bytes whichever way it
leaves, and a retry repeats its `id`.

Order. An event is at its log position; a checkpoint is placed after the last event committed when it was signed
(`checkpoint_places`, filled by a trigger that takes SHARE on the log). The stream's order is (position, tree size)
with events at tree size 0, and a cursor is the key of the last item read: `P` (after the event at P) or `P.T`
(after the checkpoint of tree size T placed at P). The writer's table lock makes commit order equal log order,
so reading "everything after the cursor" never passes by an item that commits later.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from typing import Any

import msgspec
import psycopg
from psycopg.rows import tuple_row

from ledger.audit import log as merkle_log
from ledger.codec import EventMapper
from ledger.store import EVENTS_TABLE
from projections.base import EVENT_COLUMNS, decode
from projections.published.catalogue import SCHEMA_VERSION, TYPE_PREFIX, public_data, public_types

SPEC_VERSION = "1.0"
DEFAULT_SOURCE = "urn:uk:gov:justice:probation-ledger"
CHECKPOINT_TYPE = f"{TYPE_PREFIX}.audit.checkpoint-signed.v{SCHEMA_VERSION}"
MESSAGE_MEDIA = "application/cloudevents+json"
BATCH_MEDIA = "application/cloudevents-batch+json"
_CURSOR = re.compile(r"^0*([0-9]{1,19})(?:\.0*([0-9]{1,19}))?$")


class Cursor(msgspec.Struct, frozen=True, order=True):
    """A place in the stream: after the event at `position` and the checkpoints placed there up to `tree_size`."""

    position: int = 0
    tree_size: int = 0

    @classmethod
    def parse(cls, text: str) -> Cursor:
        """`P` or `P.T` (leading zeros allowed: the `sequence` attribute of a message is accepted as it is)."""
        match = _CURSOR.match(text) if len(text) <= 41 else None
        if match is None:
            raise ValueError("a position (e.g. 42), or the sequence of the last message read (e.g. 42.17)")
        position, tree_size = int(match[1]), int(match[2] or 0)
        if position > 2**63 - 1 or tree_size > 2**63 - 1:
            raise ValueError("out of range")
        return cls(position, tree_size)

    def sequence(self) -> str:
        """The CloudEvents `sequence` extension: zero-padded, so the strings order as the stream does."""
        text = f"{self.position:020d}"
        return f"{text}.{self.tree_size:020d}" if self.tree_size else text


class CheckpointSignedV1(msgspec.Struct, frozen=True, kw_only=True):
    """A signed checkpoint of the Merkle log: the tree's size and root, when, with which key, and the signature."""

    tree_size: int
    root: str  # base64 of the 32-byte RFC 6962 root
    signed_at: datetime
    key_id: str
    signature: str  # base64 of the Ed25519 signature
    note: str | None = None  # the same checkpoint as a C2SP signed note (ADR 35), the text outsiders keep


class Item(msgspec.Struct, frozen=True, kw_only=True):
    """One message of the stream, with the key it sits at and the routing key (its CloudEvents `type`)."""

    cursor: Cursor
    id: str
    type: str
    body: bytes  # the CloudEvent, JSON structured mode


class Page(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Item]
    # Where a reader that has taken every item stands: past events that are not published too.
    next: Cursor


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _envelope(*, source: str, id: str, type: str, subject: str, time: datetime, cursor: Cursor) -> dict[str, Any]:
    return {
        "specversion": SPEC_VERSION,
        "id": id,
        "source": source,
        "type": type,
        "subject": subject,
        "time": _time(time),
        "datacontenttype": "application/json",
        "position": cursor.position,
        "sequence": cursor.sequence(),
    }


def event_message(source: str, logged: Any, event_type: str) -> Item | None:
    """The CloudEvent of a logged event (None for a type that is not published)."""
    data = public_data(event_type, logged.event)
    if data is None:
        return None
    envelope = logged.envelope
    cursor = Cursor(logged.position)
    cloud_type = public_types()[event_type].cloud_type
    message = _envelope(
        source=source,
        # The aggregate and its version name the event for ever: stable across retries, relays and rebuilds.
        id=f"{logged.originator_id}/{logged.originator_version}",
        type=cloud_type,
        subject=str(logged.originator_id),
        time=envelope.recorded_at,
        cursor=cursor,
    )
    message["effectivetime"] = _time(envelope.effective_at)
    message["correlationid"] = envelope.correlation_id
    if envelope.causation_id is not None:
        message["causationid"] = envelope.causation_id
    message["data"] = data
    return Item(cursor=cursor, id=message["id"], type=cloud_type, body=msgspec.json.encode(message))


def checkpoint_message(source: str, after: int, row: tuple[Any, ...]) -> Item:
    tree_size, root, signed_at, key_id, signature, origin, note_signature = row
    signed = merkle_log.Checkpoint(
        tree_size=tree_size,
        root=bytes(root).hex(),
        signed_at=signed_at,
        key_id=key_id,
        signature=bytes(signature).hex(),
        origin=origin,
        note_signature=None if note_signature is None else bytes(note_signature).hex(),
    )
    cursor = Cursor(after, tree_size)
    message = _envelope(
        source=source,
        id=f"checkpoint/{tree_size}",
        type=CHECKPOINT_TYPE,
        subject=f"checkpoint/{tree_size}",
        time=signed_at,
        cursor=cursor,
    )
    message["data"] = CheckpointSignedV1(
        tree_size=tree_size,
        root=base64.b64encode(bytes(root)).decode(),
        signed_at=signed_at,
        key_id=key_id,
        signature=base64.b64encode(bytes(signature)).decode(),
        note=merkle_log.note_text(signed),
    )
    return Item(cursor=cursor, id=message["id"], type=CHECKPOINT_TYPE, body=msgspec.json.encode(message))


_EVENT_ROWS = (
    f"SELECT {EVENT_COLUMNS}, event_type FROM {EVENTS_TABLE}"
    " WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
)
_CHECKPOINT_ROWS = (
    "SELECT p.after_position, c.tree_size, c.root, c.signed_at, c.key_id, c.signature, c.origin, c.note_signature"
    " FROM checkpoint_places p JOIN checkpoints c USING (tree_size)"
    " WHERE (p.after_position, p.tree_size) > (%s, %s) ORDER BY p.after_position, p.tree_size LIMIT %s"
)


def read(
    conn: psycopg.Connection[Any], after: Cursor, limit: int, *, source: str, mapper: EventMapper | None = None
) -> Page:
    """Up to `limit` messages after the cursor, in stream order, and where a reader of all of them stands.

    Events whose type is not published are passed over (the page may then hold fewer, and the cursor still
    moves past them). The events are read before the checkpoints: a checkpoint placed at or below an event read
    is then visible (it committed before any event above it could).
    """
    mapper = mapper or EventMapper()
    published = public_types()
    cur = conn.cursor(row_factory=tuple_row)
    events: list[Item] = []
    scanned = after.position
    while len(events) < limit:
        rows = cur.execute(_EVENT_ROWS, (scanned, limit * 4)).fetchall()
        for row in rows:
            scanned = row[0]
            if row[5] in published:
                item = event_message(source, decode(mapper, row[:5]), row[5])
                assert item is not None
                events.append(item)
                if len(events) == limit:
                    break
        if len(rows) < limit * 4:
            break
    # Only checkpoints placed at or below the last event read: one placed above it follows events that committed
    # after the read (between the two statements); it is taken with them, next time.
    checkpoints = [
        checkpoint_message(source, row[0], row[1:])
        for row in cur.execute(_CHECKPOINT_ROWS, (after.position, after.tree_size, limit)).fetchall()
        if row[0] <= scanned
    ]
    items = sorted(events + checkpoints, key=lambda item: item.cursor)[:limit]
    if len(items) == limit:
        return Page(items=items, next=items[-1].cursor)
    end = Cursor(scanned) if scanned > after.position else after
    return Page(items=items, next=max([end, *(item.cursor for item in items)]))


def batch(page: Page) -> bytes:
    """A page as `application/cloudevents-batch+json`: a JSON array of the messages."""
    return b"[" + b",".join(item.body for item in page.items) + b"]"


def head(conn: psycopg.Connection[Any]) -> tuple[int, datetime | None]:
    """The log's last position and when it was recorded."""
    row = (
        conn.cursor(row_factory=tuple_row)
        .execute(f"SELECT notification_id, recorded_at FROM {EVENTS_TABLE} ORDER BY notification_id DESC LIMIT 1")
        .fetchone()
    )
    return (row[0], row[1]) if row else (0, None)
