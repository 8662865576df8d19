"""What the finance pages share: their filters (GET forms, so a view is bookmarkable), dates typed in three boxes,
the reference lists filters choose from, and how money's periods read."""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import falcon

from api.errors import ProblemError
from api.operations import Operations
from api.web import format as fmt
from api.web.calls import FieldProblem, PageCalls
from ledger.framework import categories, geography
from ledger.payments.money import financial_year
from ledger.roles import Role

FIRST_YEAR = 2021  # the framework launched in June 2021
CLOCKS = (("effective", "When it happened (effective)"), ("recorded", "When the ledger recorded it"))


@dataclass
class Form:
    """A filter form's values as typed (shown again as they were) and the problems found with them."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldProblem] = field(default_factory=list)

    def page(self) -> dict[str, Any]:
        """What a page drawn from this form is rendered with: 422 when a filter was refused, the values as typed,
        and the problems, in the error summary and against their fields."""
        return {
            "status": 422 if self.errors else 200,
            "form": self.values,
            "errors": self.errors,
            "error_summary": self.errors or None,
        }

    def text(self, req: falcon.Request, name: str, choices: Mapping[str, str] | None = None) -> str | None:
        """A field's value (None when empty); one outside `choices`, when given, is a problem."""
        value = (req.get_param(name) or "").strip() or None
        self.values[name] = value or ""
        if value is not None and choices is not None and value not in choices:
            self.errors.append(FieldProblem(name, "Select one of the options"))
            return None
        return value

    def day(self, req: falcon.Request, name: str, label: str) -> date | None:
        """A date typed in three boxes (`name-day`, `-month`, `-year`): None when all are empty."""
        parts = {part: (req.get_param(f"{name}-{part}") or "").strip() for part in ("day", "month", "year")}
        self.values[name] = parts
        if not any(parts.values()):
            return None
        missing = [part for part, value in parts.items() if not value]
        if missing:
            self.errors.append(FieldProblem(name, f"{label} must include a {missing[0]}"))
            return None
        if len(parts["year"]) != 4:
            self.errors.append(FieldProblem(name, "Year must include 4 numbers"))
            return None
        try:
            return date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            self.errors.append(FieldProblem(name, f"{label} must be a real date"))
            return None


def ask(
    calls: PageCalls,
    form: Form,
    name: str,
    *,
    path: Mapping[str, Any] | None = None,
    query: Mapping[str, Any] | None = None,
    fields: Mapping[str, tuple[str, str]] | None = None,
    messages: Mapping[str, str] | None = None,
) -> Any:
    """A query's answer, or None with the problems the operation found (422) added to the form: each against the
    field (`fields`: parameter -> (field id, its label)) that holds the parameter, in the page's words where it has
    some (`messages`: parameter -> message), else the operation's after the field's label."""
    if form.errors:
        return None
    try:
        return calls.query(name, path=path, query=query)
    except ProblemError as exc:
        if exc.status_code != 422:
            raise
        for error in exc.field_errors or []:
            field_id, label = (fields or {}).get(error.path, (None, error.path))
            message = (messages or {}).get(error.path) or f"{label}: {error.message}"
            form.errors.append(FieldProblem(field_id, message))
        if not exc.field_errors:
            form.errors.append(FieldProblem(None, exc.description or "The filters could not be used"))
        return None


def today(operations: Operations) -> date:
    """Today by the ledger's clock (the default period of a page)."""
    return operations.services.ledger.now().date()


def regions() -> list[tuple[str, str]]:
    return [(a.code, a.name) for a in geography.AREAS if a.kind is geography.AreaKind.PROBATION_REGION]


def service_categories() -> list[tuple[str, str]]:
    return [(c.code, c.name) for c in categories.SERVICE_CATEGORIES]


def financial_years(on: date) -> list[tuple[str, str]]:
    """Every financial year of the framework until the one after `on`'s, the latest first."""
    last = int(financial_year(on)[:4]) + 1
    return [
        (f"{y}-{(y + 1) % 100:02d}", year_name(f"{y}-{(y + 1) % 100:02d}")) for y in range(last, FIRST_YEAR - 1, -1)
    ]


def year_name(label: str) -> str:
    """A financial year as GOV.UK writes it: "2026-27" is "2026 to 2027"."""
    start = int(label[:4])
    return f"{start} to {start + 1}"


def month_name(label: str) -> str:
    """A month as words: "2026-04" is "April 2026"."""
    year, month = label.split("-")
    return f"{calendar.month_name[int(month)]} {year}"


def commissioner_options(calls: PageCalls) -> list[tuple[str, str]]:
    """The commissioners a filter chooses from (none for a commissioner, whom the operations narrow to their own)."""
    if calls.actor.role == Role.COMMISSIONER:
        return []
    return [(str(c.id), c.name) for c in calls.query("commissioners.list").items]


def supplier_options(calls: PageCalls) -> list[tuple[str, str]]:
    return sorted(((str(s.id), s.name) for s in calls.query("suppliers.list", query={"limit": 500}).items), key=_name)


def _name(option: tuple[str, str]) -> str:
    return option[1].lower()


def this_year(operations: Operations) -> str:
    """The financial year today is in."""
    return financial_year(today(operations))


def basis(value: Mapping[str, Any]) -> str:
    """What earned a charge, in words: "Period elapsed: June 2026", "Referral accepted"."""
    kind = fmt.humanise(value.get("kind"))
    if value.get("period"):
        return f"{kind}: {month_name(value['period'])}"
    detail = value.get("milestone") or value.get("outcome")
    return f"{kind}: {detail}" if detail else kind
