"""WHERE clauses from filters that may be absent: each condition said once, with its parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ledger.errors import ProgrammingError


@dataclass(frozen=True)
class Where:
    """Conditions that must all hold, and the parameters of their placeholders, in order.

    `given` keeps a condition only when its filter was given, so an absent filter leaves nothing in the SQL.
    Placeholders are positional (`%s`); a Where made with `named` parameters (those the rest of the query
    shares) takes `%(name)s` placeholders and named values instead. With `empty_is_absent`, a filter given
    empty (`""` as `?status=` sends it, or False) is absent too. Every method answers a new Where.
    """

    conditions: tuple[str, ...] = ()
    positional: tuple[Any, ...] = ()
    named: Mapping[str, Any] | None = None
    empty_is_absent: bool = False

    def add(self, condition: str, *params: Any, **named: Any) -> Where:
        """`condition` kept, its placeholders taking `params` in order (or the `named` values)."""
        if self.named is None:
            if named:
                raise ProgrammingError("a Where of positional placeholders takes no named values")
            return replace(self, conditions=(*self.conditions, condition), positional=(*self.positional, *params))
        if params:
            raise ProgrammingError("a Where of named placeholders takes named values only")
        return replace(self, conditions=(*self.conditions, condition), named={**self.named, **named})

    def given(self, value: Any, condition: str, *params: Any, **named: Any) -> Where:
        """`condition` if `value` was given. With neither `params` nor `named`, each of its positional
        placeholders takes `value` itself."""
        if value is None or (self.empty_is_absent and not value):
            return self
        if not params and not named and self.named is None:
            params = (value,) * condition.count("%s")
        return self.add(condition, *params, **named)

    def __and__(self, other: Where) -> Where:
        """Both clauses' conditions (this one's first)."""
        if (self.named is None) != (other.named is None):
            raise ProgrammingError("positional and named placeholders do not mix")
        if self.named is None:
            return replace(
                self, conditions=(*self.conditions, *other.conditions), positional=(*self.positional, *other.positional)
            )
        return replace(self, conditions=(*self.conditions, *other.conditions), named={**self.named, **other.named})

    @property
    def sql(self) -> str:
        """The conditions joined by AND (`true` when there are none), to follow WHERE."""
        return " AND ".join(self.conditions) or "true"

    @property
    def params(self) -> list[Any] | dict[str, Any]:
        return list(self.positional) if self.named is None else dict(self.named)
