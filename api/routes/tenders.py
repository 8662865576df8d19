"""Tenders to a call-off: submitted sealed, read (by those who evaluate or examine them) only once opened."""

from __future__ import annotations

from uuid import UUID

import msgspec

from api.routes.call_offs import CALL_OFF
from api.specs import Command, Query, QueryContext, Route, route
from ledger.procurement import call_offs

TAGS = ("call-offs",)


class OpenedTender(msgspec.Struct, kw_only=True):
    """An opened tender's content (only after the opening event)."""

    supplier_id: UUID
    stage: str
    submission: int
    content: call_offs.TenderContent


class OpenedTenders(msgspec.Struct, kw_only=True):
    call_off_id: UUID
    tenders: list[OpenedTender]


def _opened(q: QueryContext, call_off_id: UUID) -> OpenedTenders:
    stage, tenders = call_offs.opened_tenders(q.ledger, call_off_id)
    items = [
        OpenedTender(
            supplier_id=tender.supplier_id,
            stage=str(stage),
            submission=tender.submission_count[stage],
            content=tender.submissions[stage],
        )
        for tender in tenders
    ]
    return OpenedTenders(call_off_id=call_off_id, tenders=items)


def routes() -> list[Route]:
    return [
        route(
            f"{CALL_OFF}/tenders",
            post=Command(
                "tenders.submit",
                "Submit (or resubmit before the deadline) a tender",
                call_offs.submit_tender,
                call_offs.SubmitTender,
                status=201,
                tags=TAGS,
            ),
            get=Query(
                "tenders.opened",
                "Opened tenders' content: refused (409) while sealed, for everyone",
                _opened,
                OpenedTenders,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
    ]
