"""What the log already holds stays readable: events stored before modules and rules moved decode with today's
code, to the very bytes they were stored as, and every topic they name still names a class (ADR 28, ADR 29).

The events table stores each event's class as `module:QualifiedName` and its fields as JSON, decoded by the class's
type hints; a snapshot names its aggregate's class the same way, and so does every created event's
`originator_topic`. Moving or renaming a module that defines an aggregate or an event, or renaming an event or one
of its fields, would strand what is stored. The fixture was recorded by the code before issue 18 (no database is
needed to read it).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from ledger.codec import EventMapper

FIXTURE = json.loads((Path(__file__).parent / "data" / "stored_events_before_issue_18.json").read_text())


def _stored(row: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        originator_id=UUID(row["originator_id"]),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=row["state"].encode(),
    )


@pytest.mark.parametrize("topic", FIXTURE["topics"])
def test_every_topic_the_log_may_hold_still_names_its_class(topic: str) -> None:
    assert get_topic(resolve_topic(topic)) == topic


@pytest.mark.parametrize(
    "row", FIXTURE["events"], ids=[f"{r['topic'].split(':')[1]}-{len(r['state'])}" for r in FIXTURE["events"]]
)
def test_an_event_stored_before_the_move_decodes_and_encodes_to_the_same_bytes(row: dict[str, Any]) -> None:
    mapper = EventMapper()
    stored = _stored(row)
    event = mapper.to_domain_event(stored)
    assert type(event).__qualname__ == row["topic"].split(":")[1]
    again = mapper.to_stored_event(event)
    assert (again.topic, again.state) == (stored.topic, stored.state)


def test_the_fixture_holds_an_event_of_every_kind_the_ledger_records_in_service() -> None:
    """Only the library's unused default `Created` classes and the abstract `Event` bases are never stored."""
    stored = {row["topic"] for row in FIXTURE["events"]}
    never_stored = {
        t
        for t in FIXTURE["topics"]
        if t not in stored and ("." in t.split(":")[1]) and not t.endswith((".Created", ".Event"))
    }
    assert never_stored == set()
