"""The requests: listed on their clock, received, and each case with the steps its state allows."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import falcon
import msgspec

from api.operations import Operations
from api.web.calls import FieldProblem, PageCalls
from api.web.foi.forms import attempt, banner, body, date_field, date_parts, date_value, done, respond_body, text
from api.web.foi.present import EXEMPTIONS, HELPERS, OUTCOMES, REQUESTS
from api.web.render import render
from api.web.tables import csv_href, send_csv, wants_csv

REQUEST_COLUMNS = (
    "reference",
    "requester_name",
    "information_requested",
    "received_on",
    "statutory_due_on",
    "due_on",
    "working_days_left",
    "overdue",
    "status",
    "extended",
    "responded_on",
    "outcome",
    "late",
    "call_off_id",
    "supplier_id",
    "id",
)


class RequestsPage:
    """GET /app/foi/requests: every request by due date, with working days left; overdue ones tagged red."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        listing = calls.query("foi.requests.list")
        if wants_csv(req):
            rows = (msgspec.structs.asdict(item) for item in listing.items)
            send_csv(resp, f"foi-requests-{listing.today}.csv", REQUEST_COLUMNS, rows)
            return
        render(
            req,
            resp,
            "pages/foi/requests.html",
            listing=listing,
            csv_href=csv_href(req),
            can_receive=calls.allowed("foi.requests.receive"),
            banner=banner(req),
            **HELPERS,
        )


def _records(calls: PageCalls) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """What a request may concern, by name: every call-off (id, title) and every supplier (id, name)."""
    call_offs = sorted(((str(c.id), c.title) for c in calls.query("call_offs.list").items), key=lambda c: c[1])
    suppliers = [(str(s.id), s.name) for s in calls.query("suppliers.list", query={"limit": 500}).items]
    return call_offs, suppliers


def _record_choices(calls: PageCalls) -> list[tuple[str, str]]:
    """The records a disclosure may pin, as the select's (value, text)."""
    call_offs, suppliers = _records(calls)
    return [
        *((f"call_off_record:{i}", f"Decision record: {title}") for i, title in call_offs),
        *((f"qualification_record:{i}", f"Qualification record: {name}") for i, name in suppliers),
    ]


class NewRequestPage:
    """GET/POST /app/foi/requests/new: record a request as received."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def _show(self, req: falcon.Request, resp: falcon.Response, calls: PageCalls, **form: Any) -> None:
        errors = form.pop("errors", [])
        call_offs, suppliers = _records(calls)
        render(
            req,
            resp,
            "pages/foi/new_request.html",
            status=422 if errors else 200,
            errors=errors,
            error_summary=errors or None,
            call_offs=call_offs,
            suppliers=suppliers,
            **form,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        if not calls.allowed("foi.requests.receive"):
            raise falcon.HTTPForbidden(title="You cannot record requests", description="Only FOI officers can.")
        self._show(req, resp, calls, form={}, received={})

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        calls = PageCalls(self.operations, req)
        form: dict[str, Any] = req.context.form
        received = date_parts(form, "received_on")
        command = body(
            reference=text(form, "reference"),
            requester_name=text(form, "requester_name"),
            information_requested=text(form, "information_requested"),
            received_on=date_value(received),
            call_off_id=text(form, "call_off_id"),
            supplier_id=text(form, "supplier_id"),
        )
        answer: list[Any] = []
        errors = attempt(lambda: answer.append(calls.command("foi.requests.receive", command)))
        if errors:
            self._show(req, resp, calls, form=form, received=received, errors=errors)
            return
        raise done(f"{REQUESTS}/{answer[0].id}", "received")


class RequestPage:
    """GET/POST /app/foi/requests/{request_id}: the case, its timeline, and the steps its state allows."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        calls: PageCalls,
        request_id: str,
        errors: list[FieldProblem] | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> None:
        case = calls.query("foi.requests.get", path={"request_id": request_id})
        summary = case.request
        open_ = case.response is None
        may = {
            step: open_ and calls.allowed(f"foi.requests.{step}")
            for step in ("seek_clarification", "receive_clarification", "extend_deadline", "prepare_disclosure")
        }
        may["seek_clarification"] &= summary.status != "awaiting_clarification"
        may["receive_clarification"] &= summary.status == "awaiting_clarification"
        may["extend_deadline"] &= summary.due_on is not None
        may["prepare_disclosure"] &= case.disclosure is None
        may["respond"] = open_ and calls.allowed("foi.requests.respond")
        concerns = _concerns(calls, summary.call_off_id, summary.supplier_id)
        choices = _record_choices(calls) if may["prepare_disclosure"] else []
        default = (
            f"call_off_record:{summary.call_off_id}"
            if summary.call_off_id
            else f"qualification_record:{summary.supplier_id}"
            if summary.supplier_id
            else None
        )
        render(
            req,
            resp,
            "pages/foi/request.html",
            status=422 if errors else 200,
            case=case,
            summary=summary,
            may=may,
            concerns=concerns,
            choices=choices,
            default_record=default,
            errors=errors or [],
            error_summary=errors or None,
            form=form or {},
            banner=banner(req),
            outcomes=OUTCOMES,
            exemptions=EXEMPTIONS,
            **HELPERS,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response, request_id: str) -> None:
        self._show(req, resp, PageCalls(self.operations, req), request_id)

    def on_post(self, req: falcon.Request, resp: falcon.Response, request_id: str) -> None:
        calls = PageCalls(self.operations, req)
        form: dict[str, Any] = req.context.form
        action = text(form, "action")
        if action not in STEPS:
            raise falcon.HTTPBadRequest(title="Unknown action", description="Go back and choose what to do.")
        prefix, make, outcome = STEPS[action]
        command = make(form, prefix)
        fields = {"kind": "record", "source_id": "record"}
        path = {"request_id": request_id}
        errors = attempt(lambda: calls.command(f"foi.requests.{action}", command, path=path, fields=fields), prefix)
        if errors:
            self._show(req, resp, calls, request_id, errors, form)
            return
        if action == "prepare_disclosure":
            raise done(f"{REQUESTS}/{request_id}/disclosure", outcome)
        raise done(f"{REQUESTS}/{request_id}", outcome)


def _record_body(form: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    kind, _, source = text(form, prefix + "record").partition(":")
    return body(kind=kind, source_id=source)


# Each step on the request page: its form's field prefix, its command's body from the form, what the banner says.
STEPS: dict[str, tuple[str, Callable[[Mapping[str, Any], str], dict[str, Any]], str]] = {
    "seek_clarification": ("seek-", lambda f, p: body(question=text(f, p + "question")), "clarification-sought"),
    "receive_clarification": (
        "clarify-",
        lambda f, p: body(clarification=text(f, p + "clarification"), received_on=date_field(f, p + "received_on")),
        "clarified",
    ),
    "extend_deadline": (
        "extend-",
        lambda f, p: body(new_due_on=date_field(f, p + "new_due_on"), reason=text(f, p + "reason")),
        "extended",
    ),
    "prepare_disclosure": ("prepare-", _record_body, "prepared"),
    "respond": ("respond-", respond_body, "responded"),
}


def _concerns(calls: PageCalls, call_off_id: Any, supplier_id: Any) -> list[tuple[str, str, str]]:
    """What the request is about, by name: (kind, name, the record page)."""
    found = []
    if call_off_id:
        title = calls.query("call_offs.get", path={"call_off_id": call_off_id}).title
        found.append(("Call-off", title, f"/app/foi/call-offs/{call_off_id}/decision-record"))
    if supplier_id:
        name = calls.query("suppliers.get", path={"supplier_id": supplier_id}).name
        found.append(("Supplier", name, f"/app/foi/suppliers/{supplier_id}/qualification-record"))
    return found
