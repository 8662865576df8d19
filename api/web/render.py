"""Pages as HTML: one Jinja2 environment (autoescaped), the GOV.UK layout, and each role's navigation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import falcon
import jinja2

from api.web import format as fmt
from ledger.roles import Role

TEMPLATES = Path(__file__).with_name("templates")
SERVICE_NAME = "Probation Dynamic Framework ledger"
# No inline script or style anywhere: GOV.UK Frontend's own script and ours are files served from /app.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self';"
    " form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


@dataclass(frozen=True)
class NavItem:
    text: str
    href: str


# What each role works from (a role sees only the sections its work needs; the policy still decides each page).
NAVIGATION: dict[str, tuple[NavItem, ...]] = {
    Role.FINANCE_OFFICER: (
        NavItem("Finance", "/app/finance"),
        NavItem("Budgets", "/app/finance/budgets"),
        NavItem("Invoices", "/app/invoices"),
        NavItem("Aged payables", "/app/finance/aged-payables"),
        NavItem("Prompt payment", "/app/finance/prompt-payment"),
    ),
    Role.COMMISSIONER: (
        NavItem("Finance", "/app/finance"),
        NavItem("Budgets", "/app/finance/budgets"),
        NavItem("Invoices", "/app/invoices"),
        NavItem("Aged payables", "/app/finance/aged-payables"),
        NavItem("Prompt payment", "/app/finance/prompt-payment"),
        NavItem("Market health", "/app/catalogue/market-health"),
    ),
    Role.AUTHORITY: (NavItem("Market health", "/app/catalogue/market-health"),),
    Role.AUDITOR: (
        NavItem("Event log", "/app/audit/events"),
        NavItem("Integrity", "/app/audit/integrity"),
        NavItem("Personal data reads", "/app/audit/personal-data-reads"),
        NavItem("Finance", "/app/finance"),
        NavItem("Market health", "/app/catalogue/market-health"),
    ),
    Role.FOI_OFFICER: (
        NavItem("Requests", "/app/foi/requests"),
        NavItem("New request", "/app/foi/requests/new"),
    ),
}


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        gov_date=fmt.gov_date,
        gov_time=fmt.gov_time,
        iso=fmt.iso,
        money=fmt.money,
        area=fmt.area_name,
        category=fmt.category_name,
        humanise=fmt.humanise,
    )
    return env


ENVIRONMENT = _environment()


def navigation(req: falcon.Request) -> tuple[NavItem, ...]:
    actor = getattr(req.context, "actor", None)
    return NAVIGATION.get(actor.role, ()) if actor is not None else ()


def current_section(items: tuple[NavItem, ...], path: str) -> str:
    """The one item whose section holds this page: the longest that matches (Budgets, not Finance, on
    /app/finance/budgets)."""
    holding = [i.href for i in items if path == i.href or path.startswith(i.href + "/")]
    return max(holding, key=len, default="")


def render(req: falcon.Request, resp: falcon.Response, template: str, *, status: int = 200, **context: Any) -> None:
    session = req.context.session
    context.setdefault("error_summary", None)
    context.setdefault("organisation_name", session.organisation_name)
    page = ENVIRONMENT.get_template(template).render(
        service_name=SERVICE_NAME,
        session=session,
        actor=session.actor,
        navigation=navigation(req),
        current_section=current_section(navigation(req), req.path),
        current_path=req.path,
        csrf_token=session.csrf,
        **context,
    )
    resp.status = status
    resp.content_type = falcon.MEDIA_HTML
    resp.text = page
