"""Deadline-driven commands the worker issues itself: tenders are opened by an event at the deadline."""

from __future__ import annotations

import logging
from typing import Any

import psycopg

from ledger.envelope import SYSTEM, make_envelope
from ledger.errors import ConcurrencyConflict, RuleViolation
from ledger.procurement import call_offs
from ledger.store import Ledger
from projections import catalogue

log = logging.getLogger(__name__)


def open_due_tenders(ledger: Ledger, conn: psycopg.Connection[Any]) -> int:
    """Open the tenders of every call-off whose deadline has passed; return how many were opened.

    The catalogue only proposes candidates: the command re-checks the rule on the call-off itself, so
    a stale view or a commissioner opening them first is harmless.
    """
    now = ledger.now()
    opened = 0
    for call_off_id in catalogue.due_for_opening(conn, now):
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


class DeadlineScheduler:
    """Runs `open_due_tenders` from the worker's loop, reconnecting after a lost connection."""

    def __init__(self, url: str, ledger: Ledger) -> None:
        self.url = url
        self.ledger = ledger
        self._conn: psycopg.Connection[Any] | None = None

    def __call__(self) -> int:
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(self.url, autocommit=True)
            return open_due_tenders(self.ledger, self._conn)
        except psycopg.OperationalError:
            self.close()
            raise

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
