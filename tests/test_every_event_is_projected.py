"""Every event type the domain can record is projected by some view, or listed as deliberately unprojected with
its reason (projections/unprojected.py): a new event type cannot be forgotten by the views silently."""

from __future__ import annotations

from eventsourcing.utils import get_topic

from ledger.audit.event_types import recordable as recordable_event_types
from projections.runner import all_views
from projections.unprojected import UNPROJECTED


def test_every_event_type_has_a_handler_or_is_listed_as_unprojected_with_a_reason() -> None:
    events = recordable_event_types()
    handled = frozenset().union(*(view.topics for view in all_views()))
    unprojected = {get_topic(kind): reason for kind, reason in UNPROJECTED.items()}
    forgotten = sorted(set(events) - handled - set(unprojected))
    assert not forgotten, f"event types no view projects and projections/unprojected.py does not list: {forgotten}"
    assert all(len(reason) > 40 for reason in unprojected.values()), "each listed event says why"


def test_the_unprojected_list_holds_only_event_types_that_no_view_handles() -> None:
    events = recordable_event_types()
    handled = frozenset().union(*(view.topics for view in all_views()))
    listed = {get_topic(kind) for kind in UNPROJECTED}
    assert listed <= set(events), "the list names only the domain's event types"
    assert not listed & handled, f"listed as unprojected but handled by a view: {sorted(listed & handled)}"
    assert len(events) > 80  # the walk found the domain's events, not an empty set
