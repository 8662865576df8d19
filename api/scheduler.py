"""What the worker does on the clock: tenders opened by an event at the deadline; checkpoints signed at intervals."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

import psycopg

from ledger.audit import log as merkle_log
from ledger.audit.log import Signer
from ledger.envelope import SYSTEM, make_envelope
from ledger.errors import ConcurrencyConflict, RuleViolation
from ledger.procurement import call_offs
from ledger.store import Ledger
from projections.catalogue import queries
from projections.leadership import SCHEDULER_POST, Leadership

log = logging.getLogger(__name__)


def open_due_tenders(ledger: Ledger, conn: psycopg.Connection[Any]) -> int:
    """Open the tenders of every call-off whose deadline has passed; return how many were opened.

    The catalogue only proposes candidates: the command re-checks the rule on the call-off itself, so
    a stale view or a commissioner opening them first is harmless.
    """
    now = ledger.now()
    opened = 0
    for call_off_id in queries.due_for_opening(conn, now):
        envelope = make_envelope(
            SYSTEM,
            correlation_id=f"deadline:{call_off_id}",
            reason="the response deadline passed",
            recorded_at=now,
        )
        try:
            call_offs.open_tenders(ledger, envelope, call_off_id)
            opened += 1
        except (RuleViolation, ConcurrencyConflict) as exc:
            log.info("call-off %s not opened by the scheduler: %s", call_off_id, exc)
    return opened


def checkpoint_if_due(conn: psycopg.Connection[Any], signer: Signer, now: datetime, every: timedelta) -> bool:
    """Sign a checkpoint when the latest is older than `every` and the log has grown since; True if signed."""
    latest = merkle_log.latest_checkpoint(conn)
    if latest is not None and now - latest.signed_at < every:
        return False
    signed = merkle_log.checkpoint(conn, signer, now=now)
    return latest is None or signed.tree_size != latest.tree_size


class Scheduler:
    """The worker's timed duties, run from its loop: open tenders at their deadline and, when a signer is
    given, sign a checkpoint of the Merkle log at intervals. Reconnects after a lost connection.

    With a `leadership`, only the worker that leads the scheduler's post keeps the clock, however many
    workers run (one per view, or standbys): checkpoints are then signed once, not once per worker.
    """

    def __init__(
        self,
        url: str,
        ledger: Ledger,
        *,
        signer: Signer | None = None,
        checkpoint_every: timedelta | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.url = url
        self.ledger = ledger
        self.signer = signer
        self.checkpoint_every = checkpoint_every
        self.leadership = leadership
        self._conn: psycopg.Connection[Any] | None = None

    def __call__(self) -> int:
        """Run every duty that is due; return how many call-offs' tenders were opened."""
        if self.leadership is not None and SCHEDULER_POST not in self.leadership.claim():
            return 0  # another worker keeps the clock
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.url, autocommit=True)
            opened = open_due_tenders(self.ledger, self._conn)
            if self.signer is not None and self.checkpoint_every is not None:
                checkpoint_if_due(self._conn, self.signer, self.ledger.now(), self.checkpoint_every)
            return opened
        except psycopg.OperationalError:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self.leadership is not None:
            self.leadership.release()
