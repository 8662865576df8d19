"""Signing in to the pages in development: choose a role, then the organisation you act for (the identities
`ledger token` issues). Refused when LEDGER_ENV=production: OpenID Connect sign-in is a later step (ADR 30)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import falcon

from api.services import Services
from api.web.render import render
from api.web.session import Sessions
from ledger.envelope import Actor
from ledger.framework import geography
from ledger.roles import Role
from ledger.types import text_errors
from projections.catalogue.queries import list_commissioners, list_suppliers

# Roles that act for the framework, each with the organisation its tokens carry.
NATIONAL = {
    Role.AUTHORITY: "hmpps-commercial",
    Role.FINANCE_OFFICER: "hmpps-finance",
    Role.AUDITOR: "hmpps-audit",
    Role.FOI_OFFICER: "moj-foi",
    Role.ADMINISTRATOR: "hmpps-digital",
}
ROLE_NAMES = {
    Role.FINANCE_OFFICER: "Finance officer",
    Role.AUDITOR: "Auditor",
    Role.FOI_OFFICER: "Freedom of Information officer",
    Role.COMMISSIONER: "Commissioner",
    Role.AUTHORITY: "The Authority (HMPPS commercial)",
    Role.SUPPLIER_BID_MANAGER: "Supplier bid manager",
    Role.PROVIDER_CASEWORKER: "Provider caseworker",
    Role.PROBATION_PRACTITIONER: "Probation practitioner",
    Role.ADMINISTRATOR: "Administrator",
}
HOME = {
    Role.FINANCE_OFFICER: "/app/finance",
    Role.COMMISSIONER: "/app/finance",
    Role.AUDITOR: "/app/audit/events",
    Role.FOI_OFFICER: "/app/foi/requests",
}


@dataclass(frozen=True)
class FieldProblem:
    field: str | None
    message: str


def safe_next(raw: str | None) -> str:
    """Only a path on this service's pages: never an open redirect."""
    return raw if raw and raw.startswith("/app") and not raw.startswith("//") else "/app"


def organisations(services: Services, role: str) -> list[tuple[str, str]]:
    """The organisations a person in `role` may act for, as (organisation id, name)."""
    if role in NATIONAL:
        return [(NATIONAL[Role(role)], "HM Prison and Probation Service")]
    with services.read(("catalogue",), None, caller="sign-in") as conn:
        if role == Role.COMMISSIONER:
            return [(c.organisation_id, c.name) for c in list_commissioners(conn).items]
        if role in (Role.SUPPLIER_BID_MANAGER, Role.PROVIDER_CASEWORKER):
            return sorted(((str(s.id), s.name) for s in list_suppliers(conn, limit=500).items), key=lambda o: o[1])
    return [(a.code, a.name) for a in geography.AREAS if a.kind is geography.AreaKind.PROBATION_REGION]


class SignIn:
    """GET/POST /app/sign-in: which role do you work in?"""

    def __init__(self, services: Services) -> None:
        self.services = services

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _refuse_in_production(self.services)
        render(
            req, resp, "pages/sign_in_role.html", roles=list(ROLE_NAMES.items()), errors=[], next=req.get_param("next")
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        _refuse_in_production(self.services)
        form: dict[str, Any] = req.context.form
        role = form.get("role")
        if role not in ROLE_NAMES:
            errors = [FieldProblem("role", "Select the role you work in")]
            render(
                req,
                resp,
                "pages/sign_in_role.html",
                status=422,
                roles=list(ROLE_NAMES.items()),
                errors=errors,
                error_summary=errors,
                next=form.get("next"),
            )
            return
        raise falcon.HTTPSeeOther(f"/app/sign-in/organisation?role={role}&next={quote(safe_next(form.get('next')))}")


class SignInOrganisation:
    """GET/POST /app/sign-in/organisation: who you are and which organisation you act for."""

    def __init__(self, services: Services, sessions: Sessions) -> None:
        self.services = services
        self.sessions = sessions

    def _show(
        self, req: falcon.Request, resp: falcon.Response, role: str, errors: list[FieldProblem], **values: Any
    ) -> None:
        render(
            req,
            resp,
            "pages/sign_in_organisation.html",
            status=422 if errors else 200,
            role=role,
            role_name=ROLE_NAMES[Role(role)],
            organisations=organisations(self.services, role),
            errors=errors,
            error_summary=errors or None,
            auditor=role == Role.AUDITOR,
            **values,
        )

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        _refuse_in_production(self.services)
        role = req.get_param("role")
        if role not in ROLE_NAMES:
            raise falcon.HTTPSeeOther("/app/sign-in")
        self._show(req, resp, role, [], name="", organisation=None, next=safe_next(req.get_param("next")))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        _refuse_in_production(self.services)
        form: dict[str, Any] = req.context.form
        role = form.get("role")
        if role not in ROLE_NAMES:
            raise falcon.HTTPSeeOther("/app/sign-in")
        name = str(form.get("name", "")).strip()
        organisation = form.get("organisation")
        errors: list[FieldProblem] = []
        if not name:
            errors.append(FieldProblem("name", "Enter your name"))
        elif len(name) > 100 or text_errors(name, "name"):
            errors.append(FieldProblem("name", "Enter your name on one line, in 100 characters or fewer"))
        names = dict(organisations(self.services, role))
        if organisation not in names:
            errors.append(FieldProblem("organisation", "Select the organisation you act for"))
        if errors:
            self._show(req, resp, role, errors, name=name, organisation=organisation, next=safe_next(form.get("next")))
            return
        privileges = ("personal_data",) if role == Role.AUDITOR and form.get("personal_data") == "yes" else ()
        actor = Actor(id=name, role=role, organisation_id=organisation, privileges=privileges)
        # A new CSRF token with the new identity.
        self.sessions.write(resp, self.sessions.fresh(actor, names[organisation]))
        target = safe_next(form.get("next"))
        raise falcon.HTTPSeeOther(HOME.get(Role(role), "/app") if target == "/app" else target)


class SignOut:
    """POST /app/sign-out: forget the identity (the form carries the CSRF token)."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.sessions.write(resp, self.sessions.fresh())
        raise falcon.HTTPSeeOther("/app/sign-in")


class Home:
    """GET /app: the sections of the service your role works in."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        render(req, resp, "pages/home.html", role_name=ROLE_NAMES[Role(req.context.actor.role)])


def _refuse_in_production(services: Services) -> None:
    if services.settings.is_production:
        raise falcon.HTTPNotFound(
            title="Sign-in is not available here",
            description="In production the pages are signed in to with OpenID Connect, which is not built yet.",
        )
