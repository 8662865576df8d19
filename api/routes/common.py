"""What several families declare alike: text, UUID, date and moment parameters, a keyset page, and the POST steps taken
on one resource."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.openapi import Param
from api.specs import Command, Route, route

# (path below the resource, action, summary, handler, request body type or None)
Step = tuple[str, str, str, Callable[..., Any], type | None]


def text(name: str, description: str) -> Param:
    return Param(name, "query", {"type": "string"}, description)


def uuid(name: str, description: str) -> Param:
    return Param(name, "query", {"type": "string", "format": "uuid"}, description)


def day(name: str, description: str, required: bool = False) -> Param:
    return Param(name, "query", {"type": "string", "format": "date"}, description, required)


def moment(name: str, description: str) -> Param:
    return Param(name, "query", {"type": "string", "format": "date-time"}, description)


def page(default: int, before: str = "previous page") -> tuple[Param, ...]:
    """`after` (the cursor of the page before) and `limit` (its size, `default` when absent)."""
    return (
        text("after", f"The next_after of the {before}"),
        Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, f"Page size ({default})"),
    )


def steps(resource: str, family: str, tags: tuple[str, ...], *table: Step) -> list[Route]:
    """A POST route a step, below the resource's path, named `family.action`."""
    return [
        route(f"{resource}/{path}", post=Command(f"{family}.{action}", summary, handler, request, tags=tags))
        for path, action, summary, handler, request in table
    ]
