"""Every route of the API, one module a resource family; each module's `routes()` declares its paths, once.

An operation's name is `family.action` (`suppliers.register`), the family being the module that declares it
(`foi.requests.receive`: a second kind of thing the FOI family holds). See docs/adr/0031-operations-named-once.md.
"""

from __future__ import annotations

from api.routes import (
    accounts,
    audit,
    call_offs,
    caseload,
    catalogue,
    commissioners,
    contracts,
    events,
    finance,
    foi,
    framework,
    innovation_partners,
    ocds,
    personal_data,
    planning,
    programmes,
    questionnaires,
    referrals,
    suppliers,
    tenders,
    unpaid_work,
)
from api.specs import Route

FAMILIES = (
    framework,
    suppliers,
    questionnaires,
    commissioners,
    call_offs,
    tenders,
    contracts,
    innovation_partners,
    catalogue,
    planning,
    referrals,
    unpaid_work,
    programmes,
    caseload,
    accounts,
    finance,
    personal_data,
    audit,
    foi,
    ocds,
    events,
)


def every_route() -> list[Route]:
    return [r for family in FAMILIES for r in family.routes()]
