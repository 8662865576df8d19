"""msgspec serialisation of domain events, with class-version upcasting on read."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.envelope import Envelope

_IDENTITY_FIELDS = ("originator_id", "originator_version")


@dataclass(frozen=True)
class EnvelopedStoredEvent(StoredEvent):
    """A stored event that also carries its envelope, so the recorder can index it in columns."""

    envelope: Envelope | None = None


_encoder = msgspec.json.Encoder(decimal_format="string", uuid_format="canonical")
_raw_decoder = msgspec.json.Decoder()
_structs: dict[type, type[msgspec.Struct]] = {}
_typed_decoders: dict[type, msgspec.json.Decoder[Any]] = {}


def encode(value: object) -> bytes:
    """Encode any ledger value (events, envelopes, payloads) as canonical JSON bytes."""
    return _encoder.encode(value)


def state_struct(event_class: type) -> type[msgspec.Struct]:
    """A msgspec Struct mirroring an event class's fields, used to decode its state typed."""
    struct = _structs.get(event_class)
    if struct is None:
        hints = typing.get_type_hints(event_class)
        fields: list[Any] = []
        for field in dataclasses.fields(event_class):
            if field.name in _IDENTITY_FIELDS:
                continue
            kind = hints.get(field.name, Any)
            if field.default is not dataclasses.MISSING:
                fields.append((field.name, kind, field.default))
            elif field.default_factory is not dataclasses.MISSING:
                fields.append((field.name, kind, msgspec.field(default_factory=field.default_factory)))
            else:
                fields.append((field.name, kind))
        fields.append(("envelope", Envelope))
        fields.append(("class_version", int, 1))
        struct = msgspec.defstruct(f"{event_class.__qualname__}State", fields, kw_only=True)
        _structs[event_class] = struct
    return struct


class _SnapshotHead(msgspec.Struct, kw_only=True):
    topic: str  # the aggregate's class
    timestamp: datetime
    created_on: datetime
    modified_on: datetime
    state: msgspec.Raw  # decoded with the aggregate's `snapshot_state`


def _snapshot_state_type(topic: str) -> type:
    kind = resolve_topic(topic)
    state_type = getattr(kind, "snapshot_state", None)
    if state_type is None:
        raise MapperDeserialisationError(f"{topic} declares no snapshot_state: it cannot be snapshotted")
    return state_type


def _snapshot_to_stored(snapshot: Snapshot) -> StoredEvent:
    """A snapshot's state, typed by the aggregate's `snapshot_state`, so that it decodes back exactly."""
    state_type = _snapshot_state_type(snapshot.topic)
    attributes = {k: v for k, v in snapshot.state.items() if not k.startswith("_")}
    typed = state_type(**attributes)  # a missing or unknown attribute fails here, not at the next load
    payload = {
        "topic": snapshot.topic,
        "timestamp": snapshot.timestamp,
        "created_on": snapshot.state["_created_on"],
        "modified_on": snapshot.state["_modified_on"],
        "state": typed,
    }
    return StoredEvent(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        topic=get_topic(Snapshot),
        state=_encoder.encode(payload),
    )


def _snapshot_from_stored(stored: StoredEvent) -> Snapshot:
    head = msgspec.json.decode(stored.state, type=_SnapshotHead)
    typed = msgspec.json.decode(head.state, type=_snapshot_state_type(head.topic))
    state: dict[str, Any] = {**msgspec.structs.asdict(typed), "_created_on": head.created_on}
    state["_modified_on"] = head.modified_on
    originator_id = stored.originator_id if isinstance(stored.originator_id, UUID) else UUID(str(stored.originator_id))
    return Snapshot(
        originator_id=originator_id,
        originator_version=stored.originator_version,
        timestamp=head.timestamp,
        topic=head.topic,
        state=state,
    )


class EventMapper(Mapper[UUID]):
    """Maps domain events to stored events and back, with msgspec JSON as the wire format.

    JSON (not msgpack) so that an auditor can read any payload with plain SQL:
    `convert_from(state, 'UTF8')::jsonb`. Each event class may declare `class_version = N` and
    static methods `upcast_v1_v2(state)` ...; old rows are upcast when read, never rewritten.
    """

    def __init__(self) -> None:
        # The library's transcoder, compressor and cipher are not used: msgspec does the work.
        self.transcoder = None  # type: ignore[assignment]
        self.compressor = None
        self.cipher = None

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if isinstance(domain_event, Snapshot):
            return _snapshot_to_stored(domain_event)
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        return EnvelopedStoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=_encoder.encode(state),
            envelope=state.get("envelope"),
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        cls = resolve_topic(stored_event.topic)
        if cls is Snapshot:
            return _snapshot_from_stored(stored_event)
        try:
            values = self.decode_state(cls, stored_event.state)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise MapperDeserialisationError(
                f"cannot decode {stored_event.topic} {stored_event.originator_id} "
                f"v{stored_event.originator_version}: {exc}"
            ) from exc
        values["originator_id"] = (
            stored_event.originator_id
            if isinstance(stored_event.originator_id, UUID)
            else UUID(str(stored_event.originator_id))
        )
        values["originator_version"] = stored_event.originator_version
        domain_event = object.__new__(cls)
        object.__setattr__(domain_event, "__dict__", values)
        return domain_event

    @staticmethod
    def decode_state(cls: type, state: bytes) -> dict[str, Any]:
        """Decode stored state bytes into typed field values, upcasting older class versions."""
        current = getattr(cls, "class_version", 1)
        struct = state_struct(cls)
        decoder = _typed_decoders.get(cls)
        if decoder is None:
            decoder = _typed_decoders[cls] = msgspec.json.Decoder(struct)
        typed: Any = None
        try:
            typed = decoder.decode(state)
        except msgspec.ValidationError:
            typed = None  # an older shape: fall through to the upcasting path
        if typed is None or typed.class_version < current:
            raw: dict[str, Any] = _raw_decoder.decode(state)
            version = raw.pop("class_version", 1)
            while version < current:
                getattr(cls, f"upcast_v{version}_v{version + 1}")(raw)
                version += 1
            raw["class_version"] = current
            typed = msgspec.convert(raw, struct)
        values = msgspec.structs.asdict(typed)
        del values["class_version"]
        return values
