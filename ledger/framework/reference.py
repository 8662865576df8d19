"""Reference data as events: the seed records each list's items, once, and revisions when they change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import event

from ledger.aggregate import LedgerAggregate
from ledger.envelope import SYSTEM, make_envelope
from ledger.framework.categories import (
    COMPLEXITY_LEVELS,
    SERVICE_CATEGORIES,
    ComplexityLevel,
    ServiceCategory,
)
from ledger.framework.commissioner_types import COMMISSIONER_TYPES, CommissionerType
from ledger.framework.geography import AREAS, Area
from ledger.store import Ledger

LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "https://probation-ledger.service.justice.gov.uk/")


def reference_list_id(list_name: str) -> UUID:
    return uuid5(LEDGER_NAMESPACE, f"reference:{list_name}")


class ReferenceList(LedgerAggregate):
    """One list of reference data (categories, complexity levels, areas, commissioner types)."""

    @staticmethod
    def create_id(list_name: str) -> UUID:
        return reference_list_id(list_name)

    @event("ReferenceListOpened")
    def __init__(self, list_name: str) -> None:
        self.list_name = list_name
        self.items: dict[str, object] = {}

    @event("ServiceCategoryDefined")
    def define_service_category(self, category: ServiceCategory) -> None:
        self.items[category.code] = category

    @event("ComplexityLevelDefined")
    def define_complexity_level(self, level: ComplexityLevel) -> None:
        self.items[level.code] = level

    @event("AreaDefined")
    def define_area(self, area: Area) -> None:
        self.items[area.code] = area

    @event("CommissionerTypeDefined")
    def define_commissioner_type(self, commissioner_type: CommissionerType) -> None:
        self.items[commissioner_type.code] = commissioner_type


@dataclass(frozen=True)
class _Source:
    list_name: str
    items: Sequence[ServiceCategory | ComplexityLevel | Area | CommissionerType]
    method: str  # the ReferenceList command that records one item


SOURCES = (
    _Source("complexity-levels", COMPLEXITY_LEVELS, "define_complexity_level"),
    _Source("service-categories", SERVICE_CATEGORIES, "define_service_category"),
    _Source("geography", AREAS, "define_area"),
    _Source("commissioner-types", COMMISSIONER_TYPES, "define_commissioner_type"),
)


@dataclass(frozen=True)
class SeedReport:
    defined: dict[str, int]
    position: int

    @property
    def total(self) -> int:
        return sum(self.defined.values())


def seed(ledger: Ledger, *, correlation_id: str | None = None, at: datetime | None = None) -> SeedReport:
    """Record every reference item not yet recorded (or changed since); a re-run writes nothing.

    `at` is the recorded time (the ledger's clock by default; the demo's simulated history sets it).
    """
    envelope = make_envelope(
        SYSTEM,
        correlation_id=correlation_id,
        reason="framework reference data from the source documents",
        recorded_at=at or ledger.now(),
    )
    defined: dict[str, int] = {}
    position = ledger.head()
    for source in SOURCES:
        list_id = reference_list_id(source.list_name)
        existing = ledger.load(ReferenceList, list_id) if ledger.exists(list_id) else None
        changed = [item for item in source.items if existing is None or existing.items.get(item.code) != item]
        defined[source.list_name] = len(changed)
        if not changed:
            continue

        def record(
            existing: ReferenceList | None = existing, source: _Source = source, changed: list = changed
        ) -> ReferenceList:
            reference = existing or ReferenceList(list_name=source.list_name)
            for item in changed:
                getattr(reference, source.method)(item)
            return reference

        position = ledger.execute(envelope, record).position
    return SeedReport(defined=defined, position=position)
