"""The ledger's pages for the people who work from it (finance, audit, FOI), served by the API's own process under
/app: server-rendered GOV.UK pages over the same operations the API runs (ADR 30)."""

from __future__ import annotations

import logging
from typing import Any

import falcon

from api.errors import serialize_problem
from api.operations import Operations
from api.services import Services
from api.web import audit, finance, foi, identity, market
from api.web.middleware import PageSessions, is_page
from api.web.purpose import Purpose
from api.web.render import render
from api.web.session import Session, Sessions
from api.web.static_files import Asset, StaticFile

__all__ = ["Pages"]
log = logging.getLogger(__name__)


class Pages:
    """Everything the pages add to the app: their middleware, routes and error pages."""

    def __init__(self, services: Services, operations: Operations) -> None:
        self.services = services
        self.operations = operations
        self.sessions = Sessions(services.settings)
        self.middleware = PageSessions(self.sessions)

    def routes(self) -> list[tuple[str, Any]]:
        return [
            ("/app", identity.Home()),
            ("/app/sign-in", identity.SignIn(self.services)),
            ("/app/sign-in/organisation", identity.SignInOrganisation(self.services, self.sessions)),
            ("/app/sign-out", identity.SignOut(self.sessions)),
            ("/app/purpose", Purpose(self.sessions)),
            *(route for family in (finance, audit, foi, market) for route in family.routes(self.operations)),
            ("/app/static/{name}", StaticFile()),
            ("/assets/{kind}/{name}", Asset()),
        ]

    def serialize_error(self, req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
        """An error on a page is a page (the API's stay problem+json)."""
        if not is_page(req):
            serialize_problem(req, resp, exc)
            return
        if not hasattr(req.context, "session"):
            req.context.session = Session(csrf="")
        titles = {403: "You cannot do that", 404: "Page not found", 500: "Sorry, there is a problem with the service"}
        status = exc.status_code
        try:
            self._render_error(req, resp, exc, titles, status)
        except Exception:  # an error page must never fail: a plain one instead
            log.exception("could not render the error page for %s", req.path)
            resp.content_type = falcon.MEDIA_TEXT
            resp.text = f"{status}: {exc.title or 'error'}"

    @staticmethod
    def _render_error(
        req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError, titles: dict[int, str], status: int
    ) -> None:
        render(
            req,
            resp,
            "pages/error.html",
            status=status,
            title=titles.get(status) if status in (404, 500) or not exc.title else exc.title.removeprefix(f"{status} "),
            detail=exc.description if status != 404 else exc.description or "Check the address, or go to your work.",
            request_id=getattr(req.context, "request_id", None) if status >= 500 else None,
        )
