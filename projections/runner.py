"""The projection worker: tails the log and applies each event to each view exactly once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from ledger.codec import EventMapper
from ledger.store import EVENTS_TABLE
from projections.base import EVENT_COLUMNS, LoggedEvent, View, decode
from projections.caseload.handlers import CaseloadView
from projections.catalogue.handlers import CatalogueView
from projections.leadership import HOLDS_LOCK_SQL, Leadership, leadership_key, lock_identity, view_post
from projections.payments.handlers import PaymentsView
from projections.publication.handlers import PublicationView
from projections.reference import ReferenceView

log = logging.getLogger(__name__)


class ProjectionFailed(RuntimeError):
    """A view could not apply an event; nothing of its batch was committed and it stays at its position."""

    def __init__(self, view: str, logged: LoggedEvent) -> None:
        super().__init__(f"view {view!r} failed at position {logged.position} ({logged.topic})")
        self.view = view
        self.position = logged.position


def all_views() -> list[View]:
    """Every view the worker maintains, in the order it applies them."""
    return [ReferenceView(), CatalogueView(), CaseloadView(), PaymentsView(), PublicationView()]


def register_views(conn: psycopg.Connection[Any], views: Sequence[View]) -> None:
    """Give each view its position row. `code_version` names the code that built the view's rows from
    position 0: set here while the view is still empty, and again only when a rebuild is switched in."""
    for view in views:
        conn.execute(
            "INSERT INTO projection_positions (view_name, position, code_version) VALUES (%s, 0, %s)"
            " ON CONFLICT (view_name) DO UPDATE SET code_version = excluded.code_version"
            " WHERE projection_positions.position = 0",
            (view.name, view.code_version),
        )


def positions(conn: psycopg.Connection[Any], names: Sequence[str] | None = None) -> dict[str, int]:
    cur = conn.cursor(row_factory=tuple_row)
    if names is None:
        rows = cur.execute("SELECT view_name, position FROM projection_positions").fetchall()
    else:
        rows = cur.execute(
            "SELECT view_name, position FROM projection_positions WHERE view_name = ANY(%s)", (list(names),)
        ).fetchall()
    return dict(rows)


class ProjectionRunner:
    """Reads the log in batches from the lowest view position and brings every view up to date.

    Each view's rows and its position are written in one transaction under a row lock on the
    view's position, so a crash mid-batch applies nothing of that batch for that view, and two
    runners never apply the same event twice.

    With `lead=True` (the `ledger worker` process) a runner applies events only to the views it leads
    (`projections.leadership`): for each view it holds a session advisory lock on a dedicated connection,
    stands by for the views another runner leads, and checks in every view's transaction that its
    leadership session still holds the lock.
    """

    def __init__(
        self,
        url: str,
        views: Sequence[View] | None = None,
        *,
        batch_size: int = 500,
        on_batch: Callable[[int, int], None] | None = None,
        lead: bool = False,
    ) -> None:
        self.url = url
        self.views = list(views) if views is not None else all_views()
        self.batch_size = batch_size
        self.mapper = EventMapper()
        self.on_batch = on_batch
        self.stopping = threading.Event()
        self._conn: psycopg.Connection[Any] | None = None
        self.leadership = Leadership(url, [view_post(v.name) for v in self.views]) if lead else None

    @property
    def conn(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.url, autocommit=True)
            register_views(self._conn, self.views)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.leadership is not None:
            self.leadership.release()

    def stop(self) -> None:
        self.stopping.set()

    def led_views(self) -> list[View]:
        """The views this runner may apply events to now: all of them, or (leading) those it leads."""
        if self.leadership is None:
            return self.views
        led = self.leadership.claim()
        return [v for v in self.views if view_post(v.name) in led]

    def catch_up(self) -> int:
        """Apply everything recorded so far (to the views led); return the number of events applied."""
        applied = 0
        while not self.stopping.is_set():
            done, count = self._step(self.led_views())
            applied += count
            if done:
                break
        return applied

    def _lock_position(self, conn: psycopg.Connection[Any], view: View) -> int | None:
        """Lock the view's position row for this transaction and return the position; None when a leading
        runner's session no longer holds the view's post (another runner leads it now)."""
        if self.leadership is None:
            row = conn.execute(
                "SELECT position FROM projection_positions WHERE view_name = %s FOR UPDATE", (view.name,)
            ).fetchone()
            return row[0] if row else 0
        classid, objid = lock_identity(leadership_key(view_post(view.name)))
        row = conn.execute(
            f"SELECT position, {HOLDS_LOCK_SQL} FROM projection_positions WHERE view_name = %s FOR UPDATE",
            (self.leadership.session_pid or 0, classid, objid, view.name),
        ).fetchone()
        if row is None or not row[1]:
            return None
        return row[0]

    def _step(self, views: Sequence[View]) -> tuple[bool, int]:
        if not views:
            return True, 0
        conn = self.conn
        current = positions(conn, [v.name for v in views])
        start = min(current.values(), default=0)
        rows = conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM {EVENTS_TABLE} WHERE notification_id > %s ORDER BY notification_id LIMIT %s",
            (start, self.batch_size),
        ).fetchall()
        if not rows:
            return True, 0
        batch_end = rows[-1][0]
        decoded: dict[int, LoggedEvent] = {}
        applied = 0
        for view in views:
            if self.stopping.is_set():
                return True, applied
            try:
                applied += self._apply(view, rows, batch_end, decoded, pipelined=True)
            except psycopg.OperationalError:
                raise  # the connection is lost: `run_forever` reconnects
            except psycopg.Error:
                # Pipelined, a failing statement is reported late; apply the batch again one statement at a
                # time (the failed transaction was rolled back) to name the event that fails.
                applied += self._apply(view, rows, batch_end, decoded, pipelined=False)
        if self.on_batch is not None:
            self.on_batch(batch_end, len(rows))
        return len(rows) < self.batch_size, applied

    def _apply(
        self,
        view: View,
        rows: list[tuple[Any, ...]],
        batch_end: int,
        decoded: dict[int, LoggedEvent],
        *,
        pipelined: bool,
    ) -> int:
        """Apply a batch to one view and move its position, in one transaction; return the events applied."""
        conn = self.conn
        applied = 0
        with conn.transaction():
            position = self._lock_position(conn, view)
            if position is None:
                log.info("no longer leading %s: leaving it to its new leader", view.name)
                return 0
            if position >= batch_end:
                return 0
            # Pipelined, the handlers' statements go out without waiting for each reply.
            with conn.pipeline() if pipelined else nullcontext(), conn.cursor() as cur:
                for row in rows:
                    if row[0] <= position or row[3] not in view.topics:
                        continue
                    logged = decoded.get(row[0])
                    if logged is None:
                        logged = decoded[row[0]] = decode(self.mapper, row)
                    try:
                        view.apply(cur, logged)
                    except psycopg.OperationalError:
                        raise  # the database went away, not this event's fault: reconnect and retry the batch
                    except Exception as exc:
                        if pipelined and isinstance(exc, psycopg.Error):
                            raise  # reported late: `_step` applies the batch again unpipelined
                        raise ProjectionFailed(view.name, logged) from exc
                    applied += 1
                cur.execute(
                    "UPDATE projection_positions SET position = %s, applied_by = %s, updated_at = now()"
                    " WHERE view_name = %s",
                    (batch_end, view.code_version, view.name),
                )
        return applied

    def run_forever(self, *, poll_seconds: float = 1.0, on_idle: Callable[[], object] | None = None) -> None:
        """Catch up, then wait for NOTIFY (or the poll interval) and repeat until stop() is called.

        `on_idle` runs after each catch-up (the worker uses it for deadline-driven commands). A leading
        runner that leads no view waits on a view's lock instead, so it takes over the moment that view's
        leader's session ends; views led elsewhere are tried again every `poll_seconds`.
        """
        listener: psycopg.Connection[Any] | None = None
        try:
            while not self.stopping.is_set():
                try:
                    if listener is None or listener.closed:
                        listener = psycopg.connect(self.url, autocommit=True)
                        listener.execute(f"LISTEN {EVENTS_TABLE}")
                    self.catch_up()
                    if on_idle is not None:
                        on_idle()
                    if self.leadership is not None and not self.leadership.held:
                        self.leadership.stand_by(poll_seconds)
                        # A standby applies nothing: the notifications it got meanwhile need no answer.
                        for _ in listener.notifies(timeout=0):
                            pass
                    else:
                        for _ in listener.notifies(timeout=poll_seconds, stop_after=1):
                            pass
                except psycopg.OperationalError as exc:
                    log.warning("projection worker lost the database (%s); retrying", exc)
                    self.close()
                    if listener is not None:
                        listener.close()
                    listener = None
                    self.stopping.wait(1.0)
        finally:
            if listener is not None:
                listener.close()
            self.close()


def lag(conn: psycopg.Connection[Any], views: Sequence[str] | None = None) -> int:
    """How many positions the slowest view is behind the head of the log."""
    head_row = (
        conn.cursor(row_factory=tuple_row)
        .execute(f"SELECT coalesce(max(notification_id), 0) FROM {EVENTS_TABLE}")
        .fetchone()
    )
    head = head_row[0] if head_row else 0
    current = positions(conn, views)
    return max(0, head - min(current.values(), default=0))


def wait_for_position(conn: psycopg.Connection[Any], views: Sequence[str], minimum: int, *, timeout: float) -> bool:
    """Wait until every named view has applied the log up to `minimum`; False on timeout."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        current = positions(conn, views)
        if current and min(current.get(v, 0) for v in views) >= minimum:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.1)
