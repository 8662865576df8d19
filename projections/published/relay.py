"""The relay: publishes the stream (events and checkpoints, as CloudEvents) to a RabbitMQ topic exchange.

At least once, in log order, no gap (ADR 34). The relay reads from its own position (`relay_positions`, one row
per exchange), publishes each message persistent (delivery mode 2) with publisher confirms, and moves its position
only after the broker has confirmed every message of the batch. Whatever fails in between (the process killed,
the connection dropped, the broker refusing) leaves the position where it was: the batch is published again from
there, each message with the `id` it had before, so a consumer sees at worst a repeat it can recognise.

One relay leads an exchange at a time, by a session advisory lock (`projections.leadership`), like the views; a
standby takes over when the leader's session ends, and the position moves only while the lock is still held.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import pika
import pika.exceptions
import psycopg
from psycopg.rows import tuple_row

from ledger.codec import EventMapper
from ledger.store import EVENTS_TABLE
from projections.leadership import HOLDS_LOCK_SQL, Leadership, leadership_key, lock_identity
from projections.published.stream import MESSAGE_MEDIA, Cursor, Item, Page, head, read

log = logging.getLogger(__name__)

DEFAULT_EXCHANGE = "probation-ledger.events"


def relay_post(exchange: str) -> str:
    """The post of relaying to one exchange."""
    return f"relay/{exchange}"


def position(conn: psycopg.Connection[Any], exchange: str) -> Cursor | None:
    """Where the relay to `exchange` stands (None: it has never run)."""
    row = (
        conn.cursor(row_factory=tuple_row)
        .execute("SELECT position, tree_size FROM relay_positions WHERE relay = %s", (exchange,))
        .fetchone()
    )
    return Cursor(row[0], row[1]) if row else None


class RelayLag(msgspec.Struct, frozen=True, kw_only=True):
    """How far the relay is behind the head of the log: in positions, and in seconds since the first event it
    has not yet published was recorded (0 when caught up)."""

    events: int
    seconds: float


def lag(conn: psycopg.Connection[Any], exchange: str) -> RelayLag | None:
    """The relay's lag, or None if it has never run."""
    at = position(conn, exchange)
    if at is None:
        return None
    last, _ = head(conn)
    row = (
        conn.cursor(row_factory=tuple_row)
        .execute(
            f"SELECT recorded_at FROM {EVENTS_TABLE} WHERE notification_id > %s ORDER BY notification_id LIMIT 1",
            (at.position,),
        )
        .fetchone()
    )
    seconds = max(0.0, (datetime.now(UTC) - row[0]).total_seconds()) if row else 0.0
    return RelayLag(events=max(0, last - at.position), seconds=round(seconds, 3))


class Relay:
    """Publishes the stream to `exchange` on the broker at `broker_url`, from the position kept in the database."""

    def __init__(
        self,
        url: str,
        broker_url: str,
        *,
        exchange: str = DEFAULT_EXCHANGE,
        source: str,
        batch_size: int = 500,
        retry_seconds: float = 1.0,
        max_retry_seconds: float = 60.0,
        on_publish: Callable[[Item], None] | None = None,
    ) -> None:
        self.url = url
        self.broker_url = broker_url
        self.exchange = exchange
        self.source = source
        self.batch_size = batch_size
        self.retry_seconds = retry_seconds
        self.max_retry_seconds = max_retry_seconds
        self.on_publish = on_publish  # called after the broker confirmed each message
        self.mapper = EventMapper()
        self.stopping = threading.Event()
        self.leadership = Leadership(url, [relay_post(exchange)], application_name="ledger relay")
        self._conn: psycopg.Connection[Any] | None = None
        self._broker: pika.BlockingConnection | None = None
        self._channel: Any = None

    # -- connections ------------------------------------------------------------------------------

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
            self._conn.execute(
                "INSERT INTO relay_positions (relay) VALUES (%s) ON CONFLICT (relay) DO NOTHING", (self.exchange,)
            )
        return self._conn

    def _open_channel(self) -> Any:
        if self._channel is None or self._channel.is_closed:
            self._close_broker()
            parameters = pika.URLParameters(self.broker_url)
            # The name shows in the broker's connection list, so an operator can see (or close) the relay's.
            parameters.client_properties = {"connection_name": f"ledger relay {self.exchange} {os.getpid()}"}
            self._broker = pika.BlockingConnection(parameters)
            channel = self._broker.channel()
            channel.confirm_delivery()  # every publish waits for the broker's ack (or nack)
            channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
            self._channel = channel
        return self._channel

    def _close_broker(self) -> None:
        broker, self._broker, self._channel = self._broker, None, None
        if broker is not None and broker.is_open:
            with contextlib.suppress(pika.exceptions.AMQPError):
                broker.close()

    def close(self) -> None:
        self._close_broker()
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self.leadership.release()

    def stop(self) -> None:
        self.stopping.set()

    # -- relaying ---------------------------------------------------------------------------------

    def _publish(self, channel: Any, item: Item) -> None:
        channel.basic_publish(
            exchange=self.exchange,
            routing_key=item.type,
            body=item.body,
            properties=pika.BasicProperties(
                content_type=MESSAGE_MEDIA,
                delivery_mode=pika.DeliveryMode.Persistent,
                message_id=item.id,
                type=item.type,
            ),
        )

    def _advance(self, to: Cursor) -> bool:
        """Move the position, if this relay still leads the exchange; False if it no longer does."""
        classid, objid = lock_identity(leadership_key(relay_post(self.exchange)))
        moved = self.conn.execute(
            f"UPDATE relay_positions SET position = %s, tree_size = %s, updated_at = now()"
            f" WHERE relay = %s AND {HOLDS_LOCK_SQL}",
            (to.position, to.tree_size, self.exchange, self.leadership.session_pid or 0, classid, objid),
        )
        return moved.rowcount == 1

    def step(self) -> tuple[bool, int]:
        """Publish one batch from the position; return (caught up, messages published)."""
        if not self.leadership.claim():
            return True, 0
        at = position(self.conn, self.exchange) or Cursor()
        page: Page = read(self.conn, at, self.batch_size, source=self.source, mapper=self.mapper)
        if page.next == at:
            return True, 0
        if page.items:
            channel = self._open_channel()
            for item in page.items:
                if self.stopping.is_set():
                    return True, 0  # the position stays: what was published is published again
                self._publish(channel, item)
                if self.on_publish is not None:
                    self.on_publish(item)
        if not self._advance(page.next):
            log.info("no longer leading %s: leaving it to its new leader", relay_post(self.exchange))
            return True, 0
        return len(page.items) < self.batch_size, len(page.items)

    def catch_up(self) -> int:
        """Publish everything recorded so far; return the number of messages published."""
        published = 0
        while not self.stopping.is_set():
            done, count = self.step()
            published += count
            if done:
                break
        return published

    def run_forever(self, *, poll_seconds: float = 1.0) -> None:
        """Catch up, then wait for NOTIFY (or the poll interval: checkpoints do not notify) and repeat until
        stop(). A broker or database that fails is tried again after `retry_seconds`, doubling up to
        `max_retry_seconds`."""
        listener: psycopg.Connection[Any] | None = None
        delay = self.retry_seconds
        try:
            while not self.stopping.is_set():
                try:
                    if listener is None or listener.closed:
                        listener = psycopg.connect(self.url, autocommit=True)
                        listener.execute(f"LISTEN {EVENTS_TABLE}")
                    self.catch_up()
                    delay = self.retry_seconds
                    if not self.leadership.held:
                        self.leadership.stand_by(poll_seconds)
                    else:
                        if self._broker is not None and self._broker.is_open:
                            self._broker.process_data_events(0)  # heartbeats while idle
                        for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                            pass
                except (pika.exceptions.AMQPError, OSError) as exc:
                    log.warning("relay could not publish (%r); trying again from its position in %.1fs", exc, delay)
                    self._close_broker()
                    self.stopping.wait(delay)
                    delay = min(delay * 2, self.max_retry_seconds)
                except psycopg.OperationalError as exc:
                    log.warning("relay lost the database (%s); retrying", exc)
                    self.close()
                    if listener is not None:
                        listener.close()
                    listener = None
                    self.stopping.wait(delay)
                    delay = min(delay * 2, self.max_retry_seconds)
        finally:
            if listener is not None:
                listener.close()
            self.close()
