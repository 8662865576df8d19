"""JSON Pointers (RFC 6901): naming one value inside a JSON document (FOI redactions name what they withhold)."""

from __future__ import annotations

import re
from typing import Any

_INDEX = re.compile(r"^(0|[1-9][0-9]*)$")


class PointerError(ValueError):
    """The pointer is not RFC 6901 syntax, or names no value in the document."""


def tokens(pointer: str) -> list[str]:
    """The reference tokens of a pointer, unescaped (`~1` is `/`, then `~0` is `~`)."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PointerError("a JSON Pointer is empty or starts with '/'")
    if re.search(r"~(?![01])", pointer):
        raise PointerError("'~' must be followed by 0 or 1")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def join(*parts: str | int) -> str:
    return "".join("/" + escape(str(p)) for p in parts)


def _step(node: Any, token: str, pointer: str) -> tuple[Any, str | int]:
    if isinstance(node, dict):
        if token not in node:
            raise PointerError(f"{pointer}: no member {token!r}")
        return node[token], token
    if isinstance(node, list):
        if not _INDEX.match(token) or int(token) >= len(node):
            raise PointerError(f"{pointer}: no element {token!r} (the array has {len(node)})")
        return node[int(token)], int(token)
    raise PointerError(f"{pointer}: {token!r} goes inside a value that is neither an object nor an array")


def resolve(document: Any, pointer: str) -> Any:
    """The value the pointer names; PointerError when there is none."""
    node = document
    for token in tokens(pointer):
        node, _ = _step(node, token, pointer)
    return node


def replace(document: Any, pointer: str, value: Any) -> None:
    """Replace, in place, the value the pointer names (never the whole document)."""
    path = tokens(pointer)
    if not path:
        raise PointerError("the empty pointer names the whole document")
    parent = document
    for token in path[:-1]:
        parent, _ = _step(parent, token, pointer)
    _, key = _step(parent, path[-1], pointer)
    parent[key] = value


def contains(outer: str, inner: str) -> bool:
    """Whether the value `inner` names lies within (or is) the value `outer` names."""
    a, b = tokens(outer), tokens(inner)
    return b[: len(a)] == a
