"""The envelope every event carries: who, for which organisation, why, and on which two clocks."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import msgspec

from ledger.errors import ProgrammingError


class Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """Metadata stamped by the ledger on each event of a command.

    `recorded_at` is the ledger's clock when the command ran; `effective_at` is when the fact
    happened in the world (attendance recorded the next day is effective the day before).
    """

    actor_id: str
    actor_role: str
    organisation_id: str | None = None
    correlation_id: str
    causation_id: str | None = None
    recorded_at: datetime
    effective_at: datetime
    reason: str | None = None


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """An authenticated identity: always from the token, never from a request body."""

    id: str
    role: str
    organisation_id: str | None = None
    privileges: tuple[str, ...] = ()  # e.g. "personal_data" for an auditor who may read it


SYSTEM = Actor(id="system:ledger", role="system", organisation_id=None)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    return str(uuid.uuid4())


_current: contextvars.ContextVar[Envelope | None] = contextvars.ContextVar("ledger_envelope", default=None)


def current_envelope() -> Envelope:
    envelope = _current.get()
    if envelope is None:
        raise ProgrammingError("an event was triggered outside a command: every event needs an envelope")
    return envelope


@contextmanager
def stamping(envelope: Envelope) -> Iterator[Envelope]:
    """Stamp `envelope` on every event triggered inside the block."""
    token = _current.set(envelope)
    try:
        yield envelope
    finally:
        _current.reset(token)


def make_envelope(
    actor: Actor,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    effective_at: datetime | None = None,
    reason: str | None = None,
    recorded_at: datetime | None = None,
) -> Envelope:
    recorded = recorded_at or utcnow()
    if effective_at is not None and effective_at.tzinfo is None:
        raise ValueError("effective_at must be timezone-aware")
    return Envelope(
        actor_id=actor.id,
        actor_role=actor.role,
        organisation_id=actor.organisation_id,
        correlation_id=correlation_id or new_request_id(),
        causation_id=causation_id,
        recorded_at=recorded,
        effective_at=(effective_at or recorded).astimezone(UTC),
        reason=reason,
    )
