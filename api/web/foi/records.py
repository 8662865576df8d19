"""Decision and qualification records on their own pages, at a horizon."""

from __future__ import annotations

import falcon

from api.errors import ProblemError
from api.operations import Operations
from api.web.calls import FieldProblem, PageCalls
from api.web.foi.forms import date_parts, date_value, plain
from api.web.foi.present import HELPERS
from api.web.render import render
from ledger.errors import NotFound


class RecordPage:
    """GET a decision or qualification record, readably, as known at a horizon (as recorded and as effective)."""

    def __init__(self, operations: Operations, operation: str, kind: str) -> None:
        self.operations = operations
        self.operation = operation
        self.kind = kind

    def on_get(self, req: falcon.Request, resp: falcon.Response, **path: str) -> None:
        calls = PageCalls(self.operations, req)
        recorded = date_parts(req.params, "as_recorded")
        effective = date_parts(req.params, "as_effective")
        position = req.get_param("at_position") or ""
        horizon = {"as_recorded": date_value(recorded), "as_effective": date_value(effective), "at_position": position}
        errors: list[FieldProblem] = []
        contents = None
        try:
            contents = calls.query(self.operation, path=path, query=horizon)
        except ProblemError as problem:
            if problem.status_code != 422:
                raise
            errors = plain(FieldProblem(e.path, e.message) for e in problem.field_errors or [])
        except NotFound:
            if not any(horizon.values()):
                raise
            # Not yet drafted (or registered) as known at that horizon: say so, and keep the horizon form.
        render(
            req,
            resp,
            "pages/foi/record.html",
            status=422 if errors else 404 if contents is None else 200,
            kind=self.kind,
            contents=contents,
            recorded=recorded,
            effective=effective,
            position=position,
            as_of=any(horizon.values()),
            horizon=horizon,
            errors=errors,
            error_summary=errors or None,
            **HELPERS,
        )
