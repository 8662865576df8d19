"""Routes for Freedom of Information: decision records (JSON and HTML), rebuilt from the events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from api import foi_documents
from api.endpoints import HORIZON, Query, QueryContext, endpoint
from api.services import Services
from ledger.audit import decisions

TAGS = ("foi",)
HTML = "text/html; charset=utf-8"
_HTML_SCHEMA = {"type": "string", "contentMediaType": "text/html"}


def _call_off_record(q: QueryContext, call_off_id: UUID) -> decisions.CallOffRecord:
    return decisions.call_off_record(q.ledger, q.conn, call_off_id, q.horizon())


def _qualification_record(q: QueryContext, supplier_id: UUID) -> decisions.QualificationRecord:
    return decisions.qualification_record(q.ledger, q.conn, supplier_id, q.horizon())


def build_foi_routes(services: Services) -> list[tuple[str, Any]]:
    call_off_summary = (
        "A call-off's decision record as known at the horizon: timeline, eligibility and invitation with "
        "reasons, clarifications, tenders, evaluation, award, standstill and contract"
    )
    supplier_summary = (
        "A supplier's qualification record as known at the horizon: questionnaires, lot assessments with "
        "reasons and assessors, terms, appointments, withdrawals, areas and sanctions"
    )
    return [
        (
            "/foi/call-offs/{call_off_id}/decision-record",
            endpoint(
                services,
                get=Query(
                    call_off_summary,
                    _call_off_record,
                    decisions.CallOffRecord,
                    params=HORIZON,
                    from_ledger=True,
                    tags=TAGS,
                ),
            ),
        ),
        (
            "/foi/call-offs/{call_off_id}/decision-record.html",
            endpoint(
                services,
                get=Query(
                    call_off_summary + " (a readable HTML document)",
                    lambda q, call_off_id: foi_documents.call_off_record_html(
                        decisions.as_document(_call_off_record(q, call_off_id))
                    ),
                    _HTML_SCHEMA,
                    params=HORIZON,
                    from_ledger=True,
                    content_type=HTML,
                    tags=TAGS,
                ),
            ),
        ),
        (
            "/foi/suppliers/{supplier_id}/qualification-record",
            endpoint(
                services,
                get=Query(
                    supplier_summary,
                    _qualification_record,
                    decisions.QualificationRecord,
                    params=HORIZON,
                    from_ledger=True,
                    tags=TAGS,
                ),
            ),
        ),
        (
            "/foi/suppliers/{supplier_id}/qualification-record.html",
            endpoint(
                services,
                get=Query(
                    supplier_summary + " (a readable HTML document)",
                    lambda q, supplier_id: foi_documents.qualification_record_html(
                        decisions.as_document(_qualification_record(q, supplier_id))
                    ),
                    _HTML_SCHEMA,
                    params=HORIZON,
                    from_ledger=True,
                    content_type=HTML,
                    tags=TAGS,
                ),
            ),
        ),
    ]
