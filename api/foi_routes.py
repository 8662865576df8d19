"""Routes for Freedom of Information: decision records rebuilt from the events, and requests as cases
(clarification, extension, a pinned disclosure, redactions with their exemptions, the response)."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec

from api import foi_documents
from api.endpoints import HORIZON, Command, Query, QueryContext, endpoint
from api.services import Services
from ledger.audit import decisions, foi

TAGS = ("foi",)
HTML = "text/html; charset=utf-8"
_HTML_SCHEMA = {"type": "string", "contentMediaType": "text/html"}


def _call_off_record(q: QueryContext, call_off_id: UUID) -> decisions.CallOffRecord:
    return decisions.call_off_record(q.ledger, q.conn, call_off_id, q.horizon())


def _qualification_record(q: QueryContext, supplier_id: UUID) -> decisions.QualificationRecord:
    return decisions.qualification_record(q.ledger, q.conn, supplier_id, q.horizon())


class FoiRequestList(msgspec.Struct, kw_only=True):
    """Every request with its deadline status (working days are England and Wales working days)."""

    today: date
    items: list[foi.RequestSummary]


class SuggestedRedactions(msgspec.Struct, kw_only=True):
    items: list[foi.SuggestedRedaction]


def _today(q: QueryContext) -> date:
    return q.ledger.now().date()


def _disclosure_html(q: QueryContext, request_id: UUID) -> str:
    disclosed = foi.disclosure(q.ledger, q.conn, request_id)
    return foi_documents.disclosure_html(msgspec.json.decode(foi.disclosure_bytes(disclosed)))


def _request_routes(services: Services) -> list[tuple[str, Any]]:
    base = "/foi/requests/{request_id}"

    def step(summary: str, handler: Any, request: type) -> Any:
        return endpoint(services, post=Command(summary, handler, request, tags=TAGS))

    return [
        (
            "/foi/requests",
            endpoint(
                services,
                post=Command(
                    "Record a request for information as received: due on the 20th working day after receipt",
                    foi.receive_request,
                    foi.ReceiveRequest,
                    status=201,
                    location="/foi/requests/{id}",
                    tags=TAGS,
                ),
                get=Query(
                    "Every request with its due date, working days left and whether it is overdue",
                    lambda q: FoiRequestList(today=_today(q), items=foi.list_requests(q.ledger, _today(q))),
                    FoiRequestList,
                    from_ledger=True,
                    tags=TAGS,
                ),
            ),
        ),
        (
            base,
            endpoint(
                services,
                get=Query(
                    "One request: its deadline, the pinned disclosure, redactions (in force and withdrawn), "
                    "the response and its history",
                    lambda q, request_id: foi.case(q.ledger, q.conn, request_id, _today(q)),
                    foi.FoiCase,
                    from_ledger=True,
                    tags=TAGS,
                ),
            ),
        ),
        (
            f"{base}/clarification-requests",
            step(
                "Ask the requester to clarify (s.1(3)): the clock stops", foi.seek_clarification, foi.SeekClarification
            ),
        ),
        (
            f"{base}/clarifications",
            step(
                "The requester's clarification, as received: a new 20-working-day clock runs from its receipt",
                foi.receive_clarification,
                foi.ReceiveClarification,
            ),
        ),
        (
            f"{base}/extensions",
            step(
                "Extend the deadline to consider the public interest (s.10(3)): a reason, at most 20 further "
                "working days",
                foi.extend_deadline,
                foi.ExtendDeadline,
            ),
        ),
        (
            f"{base}/disclosure",
            endpoint(
                services,
                post=Command(
                    "Prepare the disclosure: pin a decision record to the log's head",
                    foi.prepare_disclosure,
                    foi.PrepareDisclosure,
                    tags=TAGS,
                ),
                get=Query(
                    "The disclosure: the pinned record with each withheld value replaced by a marker, and the "
                    "schedule of what was withheld and why (after the response, its SHA-256 is the one recorded)",
                    lambda q, request_id: foi.disclosure(q.ledger, q.conn, request_id),
                    foi.Disclosure,
                    from_ledger=True,
                    tags=TAGS,
                ),
            ),
        ),
        (
            f"{base}/disclosure.html",
            endpoint(
                services,
                get=Query(
                    "The disclosure as a readable HTML document",
                    _disclosure_html,
                    _HTML_SCHEMA,
                    from_ledger=True,
                    content_type=HTML,
                    tags=TAGS,
                ),
            ),
        ),
        (
            f"{base}/suggested-redactions",
            endpoint(
                services,
                get=Query(
                    "Suggested redactions of the pinned record (unsuccessful bidders' prices and method "
                    "statements under s.43(2)); nothing is withheld until a reviewer applies one",
                    lambda q, request_id: SuggestedRedactions(
                        items=foi.suggested_redactions(q.ledger, q.conn, request_id)
                    ),
                    SuggestedRedactions,
                    from_ledger=True,
                    tags=TAGS,
                ),
            ),
        ),
        (
            f"{base}/redactions",
            step(
                "Withhold one value of the pinned record (a JSON Pointer) under s.40(2), s.41 or s.43(2); "
                "the reviewer is the caller; s.43(2) needs a public interest note",
                foi.apply_redaction,
                foi.ApplyRedaction,
            ),
        ),
        (
            f"{base}/redactions/{{redaction_id}}/withdrawal",
            step(
                "Withdraw a redaction, with a reason: the value is disclosed again",
                foi.withdraw_redaction,
                foi.WithdrawRedaction,
            ),
        ),
        (
            f"{base}/response",
            step(
                "Respond: disclosed in full, in part, or refused (with exemptions and reason); the SHA-256 of the "
                "disclosed document and whether the response was late are recorded",
                foi.respond,
                foi.Respond,
            ),
        ),
    ]


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
        *_request_routes(services),
    ]
