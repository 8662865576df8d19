"""The FOI pages' forms: what they send to the API, and how its refusals are shown against the fields (plain
words, GOV.UK dates in three boxes, several forms on a page told apart by a prefix)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

import falcon

from api.web.calls import FieldProblem, Refused

DONE = {
    "received": "Request recorded",
    "clarification-sought": "Clarification sought: the clock has stopped",
    "clarified": "Clarification recorded: a new 20-working-day clock has started",
    "extended": "Deadline extended",
    "prepared": "Disclosure prepared: the record is pinned as it stands now",
    "withheld": "Value withheld",
    "withdrawn": "Redaction withdrawn: the value will be disclosed",
    "responded": "Response recorded",
}
# The API's problems with a form's fields, said as GOV.UK says them (the field the API names is kept).
PLAIN = {
    "reference": "Enter the case reference the requester is given, like FOI-2026-0042: 3 to 40 letters, numbers, "
    "hyphens or slashes",
    "requester_name": "Enter the requester's name, on one line",
    "information_requested": "Enter what the requester asked for",
    "received_on": "Enter the date it was received as a real date, for example 27 3 2026",
    "question": "Enter the question for the requester",
    "clarification": "Enter the requester's clarification",
    "new_due_on": "Enter the new due date as a real date, for example 27 4 2026",
    "record": "Select the record to disclose",
    "ground": "Select the exemption that applies",
    "reason": "Say why, in at least 3 characters",
    "public_interest_note": "Record the public interest test, in at least 3 characters",
    "outcome": "Select the outcome",
    "responded_on": "Enter the date of the response as a real date, or leave it blank for today",
    "as_recorded": "Enter a real date, for example 27 3 2026",
    "as_effective": "Enter a real date, for example 27 3 2026",
}
# A domain rule's refusal shown against the field it concerns (else at the top of the form).
RULE_FIELDS = {
    "receipt not in the future": ("received_on", "The date it was received must be today or in the past"),
    "request reference already used": ("reference", "A request with this reference is already recorded"),
    "clarification received before it was sought": (
        "received_on",
        "The clarification must have been received on or after the day it was sought",
    ),
    "an extension needs a reason": ("reason", "Say why more time is needed to consider the public interest"),
    "an extension moves the deadline later": ("new_due_on", "The new due date must be after the current one"),
    "extension of at most 20 further working days": (
        "new_due_on",
        "The new due date can be at most 20 working days after the statutory deadline",
    ),
    "a qualified exemption needs a public interest note": (
        "public_interest_note",
        "s.43(2) is a qualified exemption: record why the public interest in withholding this value outweighs the "
        "public interest in disclosing it",
    ),
    "a refusal names its exemptions and reason": (
        "refusal_grounds",
        "A refusal notice states the exemptions relied on and why they apply: select them and give the reason",
    ),
    "no disclosure prepared": ("outcome", "Prepare the disclosure before disclosing anything"),
    "a full disclosure withholds nothing": ("outcome", "Values are withheld: respond in part, or withdraw them"),
    "a partial disclosure withholds something": ("outcome", "Nothing is withheld: respond in full"),
    "response before receipt": ("responded_on", "The response cannot be dated before the request was received"),
    "response not in the future": ("responded_on", "The response must be dated today or in the past"),
}


def plain(problems: Iterable[FieldProblem], rule: str | None = None, prefix: str = "") -> list[FieldProblem]:
    """The problems as the form shows them: a rule against its field, a field's problem in plain words, once each.
    A page with several forms names each form's fields with its own `prefix` (ids are unique on a page)."""
    if rule in RULE_FIELDS:
        field, message = RULE_FIELDS[rule]
        return [FieldProblem(prefix + field, message)]
    shown: list[FieldProblem] = []
    for problem in problems:
        field = None if problem.field is None else prefix + problem.field
        if field is not None and any(p.field == field for p in shown):
            continue
        shown.append(FieldProblem(field, PLAIN.get(problem.field or "", problem.message)))
    return shown


def date_parts(form: Mapping[str, Any], name: str) -> dict[str, str]:
    return {part: str(form.get(f"{name}-{part}", "")).strip() for part in ("day", "month", "year")}


def date_value(parts: Mapping[str, str]) -> str | None:
    """The three boxes as an ISO date for the API (which judges it), or None when all are blank."""
    day, month, year = parts["day"], parts["month"], parts["year"]
    if not (day or month or year):
        return None
    if day.isdigit() and month.isdigit() and year.isdigit():
        return f"{int(year):04d}-{int(month):02d}-{int(day):02d}"
    return f"{year}-{month}-{day}"


def text(form: Mapping[str, Any], name: str) -> str:
    value = form.get(name, "")
    return str(value[-1] if isinstance(value, list) else value).strip()


def values(form: Mapping[str, Any], name: str) -> list[str]:
    value = form.get(name, [])
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


def body(**fields: Any) -> dict[str, Any]:
    """A command's body from a form: blank fields left out (the API says which it needs)."""
    return {k: v for k, v in fields.items() if v not in (None, "", [])}


def done(path: str, what: str, fragment: str = "") -> falcon.HTTPSeeOther:
    return falcon.HTTPSeeOther(f"{path}?{urlencode({'done': what})}{'#' + fragment if fragment else ''}")


def banner(req: falcon.Request) -> str | None:
    return DONE.get(req.get_param("done") or "")


def attempt(command: Callable[[], Any], prefix: str = "") -> list[FieldProblem]:
    """Run a command from a form: no problems, or the problems to show (nothing was written)."""
    try:
        command()
    except Refused as refused:
        return plain(refused.problems, refused.rule, prefix)
    return []


def date_field(form: Mapping[str, Any], name: str) -> str | None:
    return date_value(date_parts(form, name))


def respond_body(form: Mapping[str, Any], prefix: str = "respond-") -> dict[str, Any]:
    """The response form as the command: exemptions only under "refused" (where the form asks for them)."""
    outcome = text(form, prefix + "outcome")
    return body(
        outcome=outcome,
        responded_on=date_field(form, prefix + "responded_on"),
        refusal_grounds=values(form, prefix + "refusal_grounds") if outcome == "refused" else [],
        reason=text(form, prefix + "reason"),
    )
