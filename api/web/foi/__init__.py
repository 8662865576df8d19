"""FOI officers' pages: requests on the 20-working-day clock, a request's case and its steps, the disclosure builder
(withhold values by exemption, preview, respond) and decision and qualification records, all over the API's named
operations (ADR 30)."""

from __future__ import annotations

from typing import Any

from api.operations import Operations
from api.web.foi.disclosure import DisclosedDocument, DisclosurePage, PreviewPage, WithdrawalPage, WithholdPage
from api.web.foi.present import REQUESTS
from api.web.foi.records import RecordPage
from api.web.foi.requests import NewRequestPage, RequestPage, RequestsPage


def routes(operations: Operations) -> list[tuple[str, Any]]:
    request = REQUESTS + "/{request_id}"
    return [
        (REQUESTS, RequestsPage(operations)),
        (f"{REQUESTS}/new", NewRequestPage(operations)),
        (request, RequestPage(operations)),
        (f"{request}/disclosure", DisclosurePage(operations)),
        (f"{request}/disclosure/withhold", WithholdPage(operations)),
        (f"{request}/disclosure/redactions/{{redaction_id}}/withdrawal", WithdrawalPage(operations)),
        (f"{request}/disclosure/preview", PreviewPage(operations)),
        (f"{request}/disclosure/document", DisclosedDocument(operations)),
        (
            "/app/foi/call-offs/{call_off_id}/decision-record",
            RecordPage(operations, "foi.decision_record_values", "Decision record"),
        ),
        (
            "/app/foi/suppliers/{supplier_id}/qualification-record",
            RecordPage(operations, "foi.qualification_record_values", "Qualification record"),
        ),
    ]
