"""The framework agreement's term as recorded decisions: launched June 2021 for seven years, extendable by up to
three (seed 002; DOMAIN.md), each extension decided by the Authority with its reason (issue 19, item 6; ADR 39).

Until an extension is recorded the agreement's stream does not exist and its term is the one in `terms`; the first
extension records that original term and the extension in one transaction, so the stream says where it started.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID, uuid5

import msgspec
from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import Envelope
from ledger.errors import RuleViolation
from ledger.framework import terms
from ledger.framework.reference import LEDGER_NAMESPACE
from ledger.store import Ledger, Recorded
from ledger.types import Reason

AGREEMENT_ID = uuid5(LEDGER_NAMESPACE, "framework-agreement")
# Seven years from 1 June 2021, extendable by up to three: never beyond 31 May 2031.
LATEST_END = date(terms.FRAMEWORK_START.year + 10, 5, 31)


class ExtendFramework(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    new_end: date
    reason: Reason


class Extension(msgspec.Struct, frozen=True, kw_only=True):
    previous_end: date
    new_end: date
    reason: str
    decided_on: date


class Term(msgspec.Struct, frozen=True, kw_only=True):
    """The agreement's term as it stands: its start, its end, how far it may still be extended, its extensions."""

    start: date
    end: date
    latest_end: date
    extensions: tuple[Extension, ...] = ()

    def within(self, day: date) -> bool:
        return self.start <= day <= self.end


class FrameworkAgreement(LedgerAggregate):
    @staticmethod
    def create_id() -> UUID:
        return AGREEMENT_ID

    @event("FrameworkTermRecorded")
    def __init__(self, start: date, end: date, latest_end: date) -> None:
        self.start, self.end, self.latest_end = start, end, latest_end
        self.extensions: list[Extension] = []

    def extend(self, new_end: date, reason: str, today: date) -> None:
        """Extend the term: to a later end, not beyond the latest the agreement allows, decided while it runs."""
        if today > self.end:
            raise RuleViolation(
                "an extension is decided during the term", f"the framework ended on {self.end}; it cannot be revived"
            )
        if new_end <= self.end:
            raise RuleViolation("an extension lengthens the term", f"the term already runs to {self.end}")
        if new_end > self.latest_end:
            raise RuleViolation(
                "extendable by up to three years",
                f"the agreement may run to {self.latest_end} at the latest, not {new_end}",
            )
        self._extended(previous_end=self.end, new_end=new_end, reason=reason, decided_on=today)

    @event("FrameworkExtended")
    def _extended(self, previous_end: date, new_end: date, reason: str, decided_on: date) -> None:
        extension = Extension(previous_end=previous_end, new_end=new_end, reason=reason, decided_on=decided_on)
        self.extensions.append(extension)
        self.end = new_end

    @property
    def term(self) -> Term:
        return Term(start=self.start, end=self.end, latest_end=self.latest_end, extensions=tuple(self.extensions))


ORIGINAL = Term(start=terms.FRAMEWORK_START, end=terms.FRAMEWORK_END, latest_end=LATEST_END)


def current_term(ledger: Ledger) -> Term:
    """The term as recorded (the original one until an extension is decided)."""
    if not ledger.exists(AGREEMENT_ID):
        return ORIGINAL
    return ledger.load(FrameworkAgreement, AGREEMENT_ID).term


def extend_framework(ledger: Ledger, envelope: Envelope, command: ExtendFramework) -> Recorded:
    today = envelope.effective_at.date()

    def decide() -> FrameworkAgreement:
        if ledger.exists(AGREEMENT_ID):
            agreement = ledger.load(FrameworkAgreement, AGREEMENT_ID)
        else:
            agreement = FrameworkAgreement(start=ORIGINAL.start, end=ORIGINAL.end, latest_end=ORIGINAL.latest_end)
        agreement.extend(command.new_end, command.reason, today)
        return agreement

    return ledger.execute(envelope, decide, reason=command.reason)
