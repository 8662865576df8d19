"""What a view is: a name, a code version, its tables, and one handler per event class it reads."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic
from psycopg import Cursor
from psycopg.rows import dict_row

from ledger.envelope import Envelope


@dataclass(frozen=True)
class LoggedEvent:
    """A decoded event with its place in the log."""

    position: int
    originator_id: UUID
    originator_version: int
    topic: str
    event: Any

    @property
    def envelope(self) -> Envelope:
        return self.event.envelope


Handler = Callable[[Cursor[Any], LoggedEvent], None]

# The columns `decode` expects, in order.
EVENT_COLUMNS = "notification_id, originator_id, originator_version, topic, state"


def decode(mapper: Mapper[UUID], row: tuple[Any, ...]) -> LoggedEvent:
    """A stored event row (EVENT_COLUMNS) as a domain event with its place in the log."""
    position, originator_id, version, topic, state = row
    event = mapper.to_domain_event(
        StoredEvent(originator_id=originator_id, originator_version=version, topic=topic, state=bytes(state))
    )
    return LoggedEvent(
        position=position, originator_id=originator_id, originator_version=version, topic=topic, event=event
    )


class View:
    """A read model. Subclasses set `name`, `code_version`, `tables` and register handlers.

    A handler writes with the cursor it is given; the runner commits the handler's writes and the
    view's new position in one transaction, so each event is applied exactly once.
    """

    name: str = ""
    code_version: str = "1"
    tables: tuple[str, ...] = ()

    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = {}
        self.register()

    def register(self) -> None:
        """Subclasses call `self.on(EventClass, handler)` here."""
        raise NotImplementedError

    def on(self, event_class: type, handler: Handler) -> None:
        """Apply `handler` to every event of this class; several handlers of one event run in the order given."""
        self._handlers.setdefault(get_topic(event_class), []).append(handler)

    @property
    def topics(self) -> frozenset[str]:
        return frozenset(self._handlers)

    def apply(self, cursor: Cursor[Any], logged: LoggedEvent) -> None:
        for handler in self._handlers.get(logged.topic, ()):
            handler(cursor, logged)


def update_row(cur: Cursor[Any], table: str, key: str, ident: UUID, sets: dict[str, Any]) -> None:
    """UPDATE one view row's columns (enum values are stored as their strings)."""
    assignments = ", ".join(f"{column} = %s" for column in sets)
    values = [v.value if isinstance(v, Enum) else v for v in sets.values()]
    cur.execute(f"UPDATE {table} SET {assignments} WHERE {key} = %s", [*values, ident])


def fetch_one(cur: Cursor[Any], sql: str, params: Any = ()) -> Any:
    """One row read by a view's handler, on a cursor of its own.

    Handlers write through one shared cursor, pipelined during catch-up and replay. A read on that cursor
    may be answered with an earlier statement's result, which the pipeline can deliver to the cursor
    after the read was sent ("the last operation didn't produce records"); a fresh cursor has no earlier
    statements, so its first result is its own.
    """
    return cur.connection.cursor(row_factory=cur.row_factory).execute(sql, params).fetchone()


def fetch_pipelined(conn: psycopg.Connection[Any], queries: Sequence[tuple[str, Any]]) -> list[list[dict[str, Any]]]:
    """Several queries' rows as dicts, sent together so that the client waits for one round trip, not one each."""
    cursors = []
    with conn.pipeline():
        for sql, params in queries:
            cursor = conn.cursor(row_factory=dict_row)
            cursor.execute(sql, params)
            cursors.append(cursor)
    return [cursor.fetchall() for cursor in cursors]


def fetch_rows(conn: psycopg.Connection[Any], sql: str, params: Any = ()) -> list[dict[str, Any]]:
    """A query's rows as dicts, whatever the connection's row factory."""
    return conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()
