"""Before a page shows anyone's personal data, the person says why: the purpose is recorded with every read they
make, as the API's X-Purpose header is (ADR 16). It lasts for the session; they may change it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import falcon

from api.web.calls import FieldProblem
from api.web.identity import safe_next
from api.web.render import render
from api.web.session import Sessions
from ledger.types import text_errors


class Purpose:
    """GET/POST /app/purpose: why do you need to see personal data?"""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        session = req.context.session
        render(
            req,
            resp,
            "pages/purpose.html",
            purpose=session.purpose or "",
            errors=[],
            next=safe_next(req.get_param("next")),
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form: dict[str, Any] = req.context.form
        purpose = str(form.get("purpose", "")).strip()
        errors = []
        if len(purpose) < 10:
            errors.append(FieldProblem("purpose", "Say why you need to see personal data, in at least 10 characters"))
        elif len(purpose) > 500 or text_errors(purpose, "purpose"):
            errors.append(FieldProblem("purpose", "Say why on one line, in 500 characters or fewer"))
        if errors:
            render(
                req,
                resp,
                "pages/purpose.html",
                status=422,
                purpose=purpose,
                errors=errors,
                error_summary=errors,
                next=safe_next(form.get("next")),
            )
            return
        self.sessions.write(resp, replace(req.context.session, purpose=purpose))
        raise falcon.HTTPSeeOther(safe_next(form.get("next")))
