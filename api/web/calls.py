"""How a page runs an operation: by its name in the registry, as the signed-in person, exactly as the API would run
it for them (policy, scope, personal-data purpose and read log). A page never runs a query or SQL of its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import falcon
import msgspec

from api import policy
from api.errors import ProblemError
from api.operations import Call, Operations
from ledger.errors import InvalidCommand, LedgerError, RuleViolation

_encoder = msgspec.json.Encoder(decimal_format="string")


@dataclass(frozen=True)
class FieldProblem:
    """One message for the error summary; `field` is the form field's id it links to (None: the whole form)."""

    field: str | None
    message: str


class Refused(Exception):
    """A command the ledger refused (422 or 409): shown on the form, nothing written. `rule` names the domain rule
    that refused it, if one did (a page may show its message against the field it concerns)."""

    def __init__(self, problems: list[FieldProblem], rule: str | None = None) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems
        self.rule = rule


def _field(path: str, fields: Mapping[str, str]) -> str | None:
    """The form field a problem's JSON path names: `$.reason` -> "reason", `$.lines[0].amount` -> "lines-0-amount"
    (or the id the page maps it to)."""
    key = path.removeprefix("$.").removeprefix("$")
    if key in fields:
        return fields[key]
    flat = key.replace("[", "-").replace("]", "").replace(".", "-")
    return flat or None


class PageCalls:
    """One page request's calls: the signed-in actor, the request id, and the purpose they gave for personal data."""

    def __init__(self, operations: Operations, req: falcon.Request) -> None:
        self.operations = operations
        self.req = req
        self.actor = req.context.actor
        self.purpose: str | None = getattr(req.context.session, "purpose", None)

    def allowed(self, name: str) -> bool:
        """Whether to offer an action at all (the operation still judges every call)."""
        return self.operations.allowed(name, self.actor)

    def _call(self, path: Mapping[str, Any] | None, query: Mapping[str, Any] | None, body: Any = None) -> Call:
        return Call(
            actor=self.actor,
            path={k: str(v) for k, v in (path or {}).items()},
            query={k: v if isinstance(v, list) else str(v) for k, v in (query or {}).items() if v not in (None, "")},
            body=_encoder.encode(body) if body is not None else None,
            purpose=self.purpose,
            request_id=self.req.context.request_id,
        )

    def query(self, name: str, path: Mapping[str, Any] | None = None, query: Mapping[str, Any] | None = None) -> Any:
        """A query's answer; 403/404 become error pages; personal data first asks the person why they need it (if
        their role may read it at all)."""
        rule = policy.RULES.get(name)
        if rule is not None and rule.personal_data and not self.purpose and self.allowed(name):
            raise falcon.HTTPSeeOther(f"/app/purpose?next={quote(self.req.relative_uri, safe='/')}")
        return self.operations.run(name, self._call(path, query))

    def command(
        self,
        name: str,
        body: Any,
        path: Mapping[str, Any] | None = None,
        *,
        fields: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Run a command from a form: its answer, or `Refused` with each problem against its form field (the page
        shows them in the error summary and nothing is written). 403 and 404 stay error pages."""
        call = self._call(path, None, body)
        if idempotency_key is not None:
            call = replace(call, idempotency_key=idempotency_key)
        try:
            return self.operations.run(name, call)
        except ProblemError as exc:
            if exc.status_code not in (409, 412, 422):
                raise
            problems = [FieldProblem(_field(e.path, fields or {}), e.message) for e in exc.field_errors or []]
            raise Refused(problems or [FieldProblem(None, exc.description or exc.title or "Refused")]) from None
        except RuleViolation as exc:
            problem = FieldProblem(None, f"{exc.rule[:1].upper()}{exc.rule[1:]}: {exc.detail}")
            raise Refused([problem], rule=exc.rule) from None
        except InvalidCommand as exc:
            raise Refused([FieldProblem(_field(p, fields or {}), m) for p, m in exc.errors]) from None
        except LedgerError:
            raise
