"""Freedom of Information: decision records rebuilt from the events, and requests as cases (clarification,
extension, a pinned disclosure, redactions with their exemptions, the response)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import msgspec

from api import foi_documents
from api.routes.common import Step, steps
from api.specs import HORIZON, Command, Query, QueryContext, Route, route
from ledger.audit import contents, decisions, foi

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


def routes() -> list[Route]:
    return [*_records(), *_requests(), *_disclosure(), *_redaction_and_response()]


CALL_OFF_SUMMARY = (
    "A call-off's decision record as known at the horizon: timeline, eligibility and invitation with "
    "reasons, clarifications, tenders, evaluation, award, standstill and contract"
)
SUPPLIER_SUMMARY = (
    "A supplier's qualification record as known at the horizon: questionnaires, lot assessments with "
    "reasons and assessors, terms, appointments, withdrawals, areas and sanctions"
)


def _records() -> list[Route]:
    """A call-off's decision record and a supplier's qualification record, as data or a readable document."""
    return [
        *_record(
            "/foi/call-offs/{call_off_id}/decision-record",
            "decision_record",
            CALL_OFF_SUMMARY,
            _call_off_record,
            decisions.CallOffRecord,
            foi_documents.call_off_record_html,
        ),
        *_record(
            "/foi/suppliers/{supplier_id}/qualification-record",
            "qualification_record",
            SUPPLIER_SUMMARY,
            _qualification_record,
            decisions.QualificationRecord,
            foi_documents.qualification_record_html,
        ),
    ]


def _record(
    path: str, name: str, summary: str, read: Callable[..., Any], response: type, html: Callable[[Any], str]
) -> list[Route]:
    """A record as known at the horizon, the same record as a readable HTML document (`.html`), and as labelled
    values (`/values`: what the pages show)."""
    return [
        route(
            path,
            get=Query(f"foi.{name}", summary, read, response, params=HORIZON, from_ledger=True, tags=TAGS),
        ),
        route(
            f"{path}.html",
            get=Query(
                f"foi.{name}_html",
                summary + " (a readable HTML document)",
                lambda q, source_id: html(decisions.as_document(read(q, source_id))),
                _HTML_SCHEMA,
                params=HORIZON,
                from_ledger=True,
                content_type=HTML,
                tags=TAGS,
            ),
        ),
        route(
            f"{path}/values",
            get=Query(
                f"foi.{name}_values",
                summary + ", as labelled values section by section, each with its JSON Pointer and kind",
                lambda q, source_id: contents.record_contents(decisions.as_document(read(q, source_id))),
                contents.RecordContents,
                params=HORIZON,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
    ]


REQUEST = "/foi/requests/{request_id}"


def _steps(*table: Step) -> list[Route]:
    return steps(REQUEST, "foi.requests", TAGS, *table)


def _requests() -> list[Route]:
    """A request received, read, clarified and extended."""
    return [
        route(
            "/foi/requests",
            post=Command(
                "foi.requests.receive",
                "Record a request for information as received: due on the 20th working day after receipt",
                foi.receive_request,
                foi.ReceiveRequest,
                status=201,
                location="foi.requests.get",
                tags=TAGS,
            ),
            get=Query(
                "foi.requests.list",
                "Every request with its due date, working days left and whether it is overdue",
                lambda q: FoiRequestList(today=_today(q), items=foi.list_requests(q.ledger, _today(q))),
                FoiRequestList,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            REQUEST,
            get=Query(
                "foi.requests.get",
                "One request: its deadline, the pinned disclosure, redactions (in force and withdrawn), "
                "the response and its history",
                lambda q, request_id: foi.case(q.ledger, q.conn, request_id, _today(q)),
                foi.FoiCase,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        *_steps(
            (
                "clarification-requests",
                "seek_clarification",
                "Ask the requester to clarify (s.1(3)): the clock stops",
                foi.seek_clarification,
                foi.SeekClarification,
            ),
            (
                "clarifications",
                "receive_clarification",
                "The requester's clarification, as received: a new 20-working-day clock runs from its receipt",
                foi.receive_clarification,
                foi.ReceiveClarification,
            ),
            (
                "extensions",
                "extend_deadline",
                "Extend the deadline to consider the public interest (s.10(3)): a reason, at most 20 further "
                "working days",
                foi.extend_deadline,
                foi.ExtendDeadline,
            ),
        ),
    ]


def _disclosure() -> list[Route]:
    """The disclosure pinned and read, and the redactions suggested for it."""
    return [
        route(
            f"{REQUEST}/disclosure",
            post=Command(
                "foi.requests.prepare_disclosure",
                "Prepare the disclosure: pin a decision record to the log's head",
                foi.prepare_disclosure,
                foi.PrepareDisclosure,
                tags=TAGS,
            ),
            get=Query(
                "foi.requests.disclosure",
                "The disclosure: the pinned record with each withheld value replaced by a marker, and the "
                "schedule of what was withheld and why (after the response, its SHA-256 is the one recorded)",
                lambda q, request_id: foi.disclosure(q.ledger, q.conn, request_id),
                foi.Disclosure,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            f"{REQUEST}/disclosure.html",
            get=Query(
                "foi.requests.disclosure_html",
                "The disclosure as a readable HTML document",
                _disclosure_html,
                _HTML_SCHEMA,
                from_ledger=True,
                content_type=HTML,
                tags=TAGS,
            ),
        ),
        route(
            f"{REQUEST}/disclosure/values",
            get=Query(
                "foi.requests.disclosure_values",
                "The disclosure as labelled values, section by section, each with its JSON Pointer and kind (a "
                "withheld value is its marker), with the schedule of what is withheld and the redactions suggested",
                lambda q, request_id: foi.disclosure_contents(q.ledger, q.conn, request_id),
                foi.DisclosureContents,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
        route(
            f"{REQUEST}/suggested-redactions",
            get=Query(
                "foi.requests.suggested_redactions",
                "Suggested redactions of the pinned record (unsuccessful bidders' prices and method "
                "statements under s.43(2)); nothing is withheld until a reviewer applies one",
                lambda q, request_id: SuggestedRedactions(items=foi.suggested_redactions(q.ledger, q.conn, request_id)),
                SuggestedRedactions,
                from_ledger=True,
                tags=TAGS,
            ),
        ),
    ]


def _redaction_and_response() -> list[Route]:
    """What the reviewer withholds (or no longer withholds), and the response."""
    return _steps(
        (
            "redactions",
            "apply_redaction",
            "Withhold one value of the pinned record (a JSON Pointer) under s.40(2), s.41 or s.43(2); "
            "the reviewer is the caller; s.43(2) needs a public interest note",
            foi.apply_redaction,
            foi.ApplyRedaction,
        ),
        (
            "redactions/{redaction_id}/withdrawal",
            "withdraw_redaction",
            "Withdraw a redaction, with a reason: the value is disclosed again",
            foi.withdraw_redaction,
            foi.WithdrawRedaction,
        ),
        (
            "response",
            "respond",
            "Respond: disclosed in full, in part, or refused (with exemptions and reason); the SHA-256 of the "
            "disclosed document and whether the response was late are recorded",
            foi.respond,
            foi.Respond,
        ),
    )
