"""Every event type the domain can record, found from the aggregates themselves: the log's filters offer them, and
a test holds every one to a view or to the list of deliberately unprojected events."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from functools import cache

from eventsourcing.domain import DomainEvent
from eventsourcing.utils import get_topic

import ledger
from ledger.aggregate import LedgerAggregate


def _subclasses(kind: type) -> Iterator[type]:
    for sub in kind.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@cache
def recordable() -> dict[str, type]:
    """Every event class an aggregate of the domain declares (not the library's generated base classes), by
    topic."""
    for module in pkgutil.walk_packages(ledger.__path__, "ledger."):
        importlib.import_module(module.name)
    found: dict[str, type] = {}
    for aggregate in set(_subclasses(LedgerAggregate)):
        if not aggregate.__module__.startswith("ledger."):
            continue  # an aggregate a test defines for itself
        for value in vars(aggregate).values():
            if (
                isinstance(value, type)
                and issubclass(value, DomainEvent)
                and value.__qualname__.startswith(f"{aggregate.__qualname__}.")
                and value.__name__ not in ("Created", "Event")
            ):
                found[get_topic(value)] = value
    return found
