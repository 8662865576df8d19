"""Personal data: a person's erasure (their key destroyed, their events kept sealed) and the record of erasures."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import msgspec

from api.specs import Command, Query, QueryContext, Route, route
from ledger import history
from ledger.audit import erasure

TAGS = ("personal data",)


class Erasure(msgspec.Struct, kw_only=True):
    """An erasure as the log records it: whose (subject id only), when, by whom, and why."""

    subject_id: UUID
    position: int
    recorded_at: datetime
    actor_id: str
    reason: str | None


class Erasures(msgspec.Struct, kw_only=True):
    items: list[Erasure]


def _erasures(q: QueryContext) -> Erasures:
    records = history.page(q.conn, history.EventFilter(type="PersonalDataErased"), limit=10_000)
    return Erasures(
        items=[
            Erasure(
                subject_id=r.aggregate_id,
                position=r.position,
                recorded_at=r.recorded_at,
                actor_id=r.actor_id,
                reason=r.reason,
            )
            for r in records
        ]
    )


def routes() -> list[Route]:
    return [
        route(
            "/personal-data/erasures",
            post=Command(
                "personal_data.erase",
                "Erase a person's personal data: their key is destroyed; their events stay, sealed",
                erasure.erase_personal_data,
                erasure.ErasePersonalData,
                status=201,
                tags=TAGS,
                description="Records the decision (with its reason) and destroys the person's key in the same "
                "transaction. Views and exports then show the person as erased; the log still verifies.",
            ),
            get=Query(
                "personal_data.erasures",
                "Every erasure recorded (subject ids, never names)",
                _erasures,
                Erasures,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
    ]
