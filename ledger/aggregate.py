"""The base aggregate: every event it triggers carries the envelope of the command that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.envelope import Envelope, current_envelope
from ledger.ids import new_id


class LedgerAggregate(Aggregate):
    """An eventsourcing aggregate whose events are stamped with the current command's envelope.

    Triggering an event outside `ledger.envelope.stamping(...)` raises: an event without an
    envelope cannot be explained to an auditor, so it is never created.
    """

    # An aggregate whose stream grows long declares how often it is snapshotted and the msgspec Struct that
    # holds its state (one field per attribute); loading then starts from the latest snapshot.
    snapshot_every: ClassVar[int | None] = None
    snapshot_state: ClassVar[type | None] = None

    @staticmethod
    def create_id(*_: Any, **__: Any) -> UUID:
        return new_id()

    class Event(Aggregate.Event):
        # `envelope` is set in __post_init__ rather than declared as a field, so that it is never a
        # constructor argument of the events the @event decorator generates.

        def __post_init__(self) -> None:
            parent: Any = super()
            if hasattr(parent, "__post_init__"):
                parent.__post_init__()
            object.__setattr__(self, "envelope", current_envelope())

        @staticmethod
        def create_timestamp() -> datetime:
            return current_envelope().recorded_at

        def mutate(self, aggregate: Any) -> Any:
            # The library sets modified_on only after the method body has run: expose this event's
            # time to the body as `event_time` first.
            if aggregate is not None:
                aggregate.__dict__["_event_time"] = self.timestamp
            return super().mutate(aggregate)

    @property
    def event_time(self) -> datetime:
        """Inside an @event method body: the time of the event being applied."""
        return self.__dict__.get("_event_time", self.modified_on)

    def latest_envelope(self) -> Envelope:
        """The envelope of the event this command triggered last. What the event causes on other aggregates in the
        same transaction is stamped alike: a session's charge takes effect when the attendance that earned it did."""
        latest: Any = self.pending_events[-1]
        return latest.envelope
