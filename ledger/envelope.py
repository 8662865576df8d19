"""The envelope every event carries: who, for which organisation, why, and on which two clocks."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from ledger.errors import ProgrammingError, RuleViolation


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


# -- when a fact happened (docs/adr/0025-effective-time-of-business-facts.md) -----------------------------

# Devices that time a fact and the ledger's clock differ by a little: an instant this far ahead of the ledger's
# clock is taken as "now"; further ahead, it has not happened yet.
FUTURE_TOLERANCE = timedelta(minutes=2)


def start_of(day: date) -> datetime:
    """The instant a business date begins: 00:00 UTC. The ledger's days are UTC days (its "today", and a bare date
    in a horizon, which means that day's end), so a fact dated D counts as effective at D and not at D - 1."""
    return datetime.combine(day, time.min, tzinfo=UTC)


def effective(
    envelope: Envelope,
    when: date | datetime,
    *,
    fact: str,
    field: str,
    after: tuple[str, datetime] | None = None,
) -> Envelope:
    """The envelope of a fact that happened `when` (a business date or an instant), whenever it is recorded.

    A date is effective from its start, an instant at itself. The fact is refused (409) if it lies in the future: a
    date after the ledger's today, an instant more than FUTURE_TOLERANCE after its clock. `after` names what the
    fact cannot precede and when that happened (e.g. the order's allocation): a fact dated earlier is refused, and
    one dated the same day counts from that moment, never before it.
    """
    now = envelope.recorded_at.astimezone(UTC)
    floor = None if after is None else (after[0], after[1].astimezone(UTC))
    if isinstance(when, datetime):  # an instant: compared as instants
        at = when.astimezone(UTC)
        if at > now + FUTURE_TOLERANCE:
            raise RuleViolation(
                f"{fact} not in the future", f"{field} {at.isoformat()} is after now ({now.isoformat()})"
            )
        at = min(at, now)
        if floor is not None and at < floor[1]:
            raise RuleViolation(
                f"{fact} not before {floor[0]}", f"{field} {at.isoformat()} is before {floor[1].isoformat()}"
            )
    else:  # a business date: compared as the ledger's days
        if when > now.date():
            raise RuleViolation(f"{fact} not in the future", f"{field} {when} is after today ({now.date()})")
        at = start_of(when)
        if floor is not None and when < floor[1].date():
            raise RuleViolation(f"{fact} not before {floor[0]}", f"{field} {when} is before {floor[1].date()}")
    if floor is not None:
        at = max(at, floor[1])
    return msgspec.structs.replace(envelope, effective_at=at)


@contextmanager
def taking_effect(
    when: date | datetime, *, fact: str, field: str, after: tuple[str, datetime] | None = None
) -> Iterator[Envelope]:
    """Inside a command: the events triggered in the block take effect `when` (`effective` applied to the command's
    envelope, refused the same way). For an aggregate whose rules say when its fact happened: attendance at the
    session, a withdrawal on the day it was withdrawn."""
    with stamping(effective(current_envelope(), when, fact=fact, field=field, after=after)) as envelope:
        yield envelope
