"""The disclosure builder: the pinned record value by value, withholding and withdrawing, the schedule, the preview
exactly as the requester will see it, and the response with the SHA-256 of what was disclosed."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import falcon
import msgspec

from api import media
from api.operations import Operations
from api.web.calls import FieldProblem, PageCalls
from api.web.foi.forms import attempt, banner, body, done, respond_body, text
from api.web.foi.present import EXEMPTIONS, HELPERS, OUTCOMES, REQUESTS, anchor
from api.web.render import render
from api.web.tables import csv_href, send_csv, wants_csv

SCHEDULE_COLUMNS = (
    "label",
    "pointer",
    "ground",
    "exemption",
    "reason",
    "public_interest_note",
    "reviewer_id",
    "recorded_at",
    "position",
    "withdrawn_reason",
    "withdrawn_position",
    "redaction_id",
)


def _labels(contents: Any) -> dict[str, str]:
    """Each value's label by its pointer, with its group's title: "Tender from X: price"."""
    found = {}
    for section in contents.sections:
        for group in section.groups:
            for value in group.values:
                title = group.title or section.title
                found[value.pointer] = f"{title}: {value.label[:1].lower()}{value.label[1:]}"
    return found


def _find(contents: Any, pointer: str) -> tuple[Any, Any, Any] | None:
    for section in contents.sections:
        for group in section.groups:
            for value in group.values:
                if value.pointer == pointer:
                    return section, group, value
    return None


class DisclosurePage:
    """GET/POST /app/foi/requests/{request_id}/disclosure: the pinned record, readably, each value withheld or not;
    what is withheld and why; the preview; the response and, once given, the SHA-256 of what was disclosed."""

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
        path = {"request_id": request_id}
        case = calls.query("foi.requests.get", path=path)
        contents = calls.query("foi.requests.disclosure_values", path=path) if case.disclosure else None
        labels = _labels(contents) if contents else {}
        schedule = [{**msgspec.structs.asdict(r), "label": labels.get(r.pointer, r.pointer)} for r in case.redactions]
        if wants_csv(req):
            send_csv(resp, f"withheld-{case.request.reference}.csv", SCHEDULE_COLUMNS, schedule)
            return
        open_ = case.response is None
        render(
            req,
            resp,
            "pages/foi/disclosure.html",
            status=422 if errors else 200,
            case=case,
            contents=contents,
            schedule=schedule,
            withheld={w.pointer: w for w in contents.withheld} if contents else {},
            suggested={s.pointer: s for s in contents.suggested} if contents else {},
            may_withhold=open_ and calls.allowed("foi.requests.apply_redaction"),
            may_withdraw=open_ and calls.allowed("foi.requests.withdraw_redaction"),
            may_respond=open_ and calls.allowed("foi.requests.respond"),
            record_href=_record_href(case.disclosure) if case.disclosure else None,
            csv_href=csv_href(req),
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
        path = {"request_id": request_id}
        here = f"{REQUESTS}/{request_id}/disclosure"
        if action == "respond":
            command = respond_body(form)
            errors = attempt(lambda: calls.command("foi.requests.respond", command, path=path), "respond-")
            if errors:
                self._show(req, resp, calls, request_id, errors, form)
                return
            raise done(here, "responded", "response")
        if action != "apply_suggestion":
            raise falcon.HTTPBadRequest(title="Unknown action", description="Go back and choose what to do.")
        pointer = text(form, "pointer")
        suggested = calls.query("foi.requests.suggested_redactions", path=path).items
        suggestion = next((s for s in suggested if s.pointer == pointer), None)
        if suggestion is None:
            errors = [
                FieldProblem(None, "That value is no longer suggested for withholding: it may be withheld already")
            ]
            self._show(req, resp, calls, request_id, errors, form)
            return
        redaction = body(
            pointer=suggestion.pointer,
            ground=suggestion.ground,
            reason=suggestion.suggested_reason,
            public_interest_note=suggestion.suggested_public_interest_note,
        )
        errors = attempt(lambda: calls.command("foi.requests.apply_redaction", redaction, path=path))
        if errors:
            self._show(req, resp, calls, request_id, errors, form)
            return
        raise done(here, "withheld", anchor(pointer))


def _record_href(source: Any) -> str:
    """The pinned record on its own page, as it stood at the pinned position."""
    if source.kind == "call_off_record":
        return f"/app/foi/call-offs/{source.id}/decision-record?at_position={source.position}"
    return f"/app/foi/suppliers/{source.id}/qualification-record?at_position={source.position}"


class WithholdPage:
    """GET/POST /app/foi/requests/{request_id}/disclosure/withhold?pointer=…: withhold one value under an exemption
    (the value is chosen on the builder; its pointer travels with the form, never typed)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        calls: PageCalls,
        request_id: str,
        pointer: str,
        errors: list[FieldProblem] | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> None:
        path = {"request_id": request_id}
        case = calls.query("foi.requests.get", path=path)
        if case.disclosure is None or case.response is not None:
            raise falcon.HTTPSeeOther(f"{REQUESTS}/{request_id}/disclosure")
        contents = calls.query("foi.requests.disclosure_values", path=path)
        found = _find(contents, pointer)
        if found is None or not found[2].withholdable:
            raise falcon.HTTPNotFound(description="There is no such value to withhold in this disclosure.")
        section, group, value = found
        suggestion = next((s for s in contents.suggested if s.pointer == pointer), None)
        if form is None and suggestion is not None:
            form = {
                "ground": suggestion.ground,
                "reason": suggestion.suggested_reason,
                "public_interest_note": suggestion.suggested_public_interest_note,
            }
        render(
            req,
            resp,
            "pages/foi/withhold.html",
            status=422 if errors else 200,
            case=case,
            section=section,
            group=group,
            value=value,
            suggestion=suggestion,
            already=contents.withheld,
            errors=errors or [],
            error_summary=errors or None,
            form=form or {},
            exemptions=EXEMPTIONS,
            **HELPERS,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response, request_id: str) -> None:
        calls = PageCalls(self.operations, req)
        if not calls.allowed("foi.requests.apply_redaction"):
            raise falcon.HTTPForbidden(title="You cannot withhold values", description="Only FOI officers can.")
        self._show(req, resp, calls, request_id, req.get_param("pointer") or "")

    def on_post(self, req: falcon.Request, resp: falcon.Response, request_id: str) -> None:
        calls = PageCalls(self.operations, req)
        form: dict[str, Any] = req.context.form
        pointer = text(form, "pointer")
        redaction = body(
            pointer=pointer,
            ground=text(form, "ground"),
            reason=text(form, "reason"),
            public_interest_note=text(form, "public_interest_note"),
        )
        path = {"request_id": request_id}
        errors = attempt(lambda: calls.command("foi.requests.apply_redaction", redaction, path=path))
        if errors:
            self._show(req, resp, calls, request_id, pointer, errors, form)
            return
        raise done(f"{REQUESTS}/{request_id}/disclosure", "withheld", anchor(pointer))


class WithdrawalPage:
    """GET/POST …/disclosure/redactions/{redaction_id}/withdrawal: disclose a withheld value again, with a reason."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def _show(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        calls: PageCalls,
        request_id: str,
        redaction_id: str,
        errors: list[FieldProblem] | None = None,
        form: Mapping[str, Any] | None = None,
    ) -> None:
        path = {"request_id": request_id}
        case = calls.query("foi.requests.get", path=path)
        redaction = next(
            (r for r in case.redactions if str(r.redaction_id) == redaction_id and r.withdrawn_position is None), None
        )
        if redaction is None or case.response is not None:
            raise falcon.HTTPNotFound(description="There is no such redaction in force on this request.")
        labels = _labels(calls.query("foi.requests.disclosure_values", path=path))
        render(
            req,
            resp,
            "pages/foi/withdrawal.html",
            status=422 if errors else 200,
            case=case,
            redaction=redaction,
            label=labels.get(redaction.pointer, redaction.pointer),
            errors=errors or [],
            error_summary=errors or None,
            form=form or {},
            **HELPERS,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response, request_id: str, redaction_id: str) -> None:
        calls = PageCalls(self.operations, req)
        if not calls.allowed("foi.requests.withdraw_redaction"):
            raise falcon.HTTPForbidden(title="You cannot withdraw redactions", description="Only FOI officers can.")
        self._show(req, resp, calls, request_id, redaction_id)

    def on_post(self, req: falcon.Request, resp: falcon.Response, request_id: str, redaction_id: str) -> None:
        calls = PageCalls(self.operations, req)
        form: dict[str, Any] = req.context.form
        path = {"request_id": request_id, "redaction_id": redaction_id}
        errors = attempt(
            lambda: calls.command("foi.requests.withdraw_redaction", body(reason=text(form, "reason")), path=path)
        )
        if errors:
            self._show(req, resp, calls, request_id, redaction_id, errors, form)
            return
        raise done(f"{REQUESTS}/{request_id}/disclosure", "withdrawn", "withheld")


NONE = "'none'"


def document_policy(document: str) -> str:
    """A policy allowing the document's own style elements (each by its hash) and nothing else: no script, no
    request anywhere."""
    styles = re.findall(r"<style>(.*?)</style>", document, flags=re.S)
    hashes = [f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in styles]
    return (
        f"default-src 'none'; style-src {' '.join(hashes) or NONE}; base-uri 'none'; form-action 'none';"
        " frame-ancestors 'self'"
    )


class PreviewPage:
    """GET …/disclosure/preview: the disclosure exactly as the requester will see it (the API's HTML document). It
    carries its own style, so it gets its own policy: that style by its hash, and nothing else at all."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response, request_id: str) -> None:
        document = PageCalls(self.operations, req).query(
            "foi.requests.disclosure_html", path={"request_id": request_id}
        )
        resp.set_header("Content-Security-Policy", document_policy(document))
        resp.content_type = falcon.MEDIA_HTML
        resp.text = document


class DisclosedDocument:
    """GET …/disclosure/document: the disclosure's JSON, byte for byte what the API serves (after the response,
    the bytes whose SHA-256 it recorded)."""

    def __init__(self, operations: Operations) -> None:
        self.operations = operations

    def on_get(self, req: falcon.Request, resp: falcon.Response, request_id: str) -> None:
        disclosed = PageCalls(self.operations, req).query("foi.requests.disclosure", path={"request_id": request_id})
        resp.content_type = falcon.MEDIA_JSON
        resp.set_header("Content-Disposition", f'attachment; filename="disclosure-{quote(request_id)}.json"')
        resp.data = media.encode(disclosed)
