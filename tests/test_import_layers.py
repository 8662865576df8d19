"""Imports run one way (api -> tools -> projections -> ledger; api also straight to projections and ledger), and the
ledger's capabilities and plumbing depend on one another without a cycle (ADR 29)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ("ledger", "projections", "api", "tools", "tests")


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _imports(path: Path) -> set[str]:
    """Every module of ours this file imports, wherever in the file (a function-local import dodges nothing)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] in OURS}


def _unit(module: str) -> str:
    """What a ledger module belongs to: its capability (`ledger.cases`), or itself when it is plumbing at the top."""
    return ".".join(module.split(".")[:2])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# What each of our packages may import of ours. The CLI (in api/) runs the tools; the tools drive the API only as a
# process (the bench's gunicorn) and are handed what they need of it (tokens), never importing it.
MAY_IMPORT = {
    "ledger": {"ledger"},
    "projections": {"projections", "ledger"},
    "tools": {"tools", "projections", "ledger"},
    "api": {"api", "tools", "projections", "ledger"},
}


def test_every_package_of_ours_has_its_place_in_the_order() -> None:
    assert {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"} == set(MAY_IMPORT)


def test_imports_run_one_way_api_tools_projections_ledger() -> None:
    wrong = {
        f"{module} imports {name}"
        for package, allowed in MAY_IMPORT.items()
        for module, path in _modules(package)
        for name in _imports(path)
        if name.split(".")[0] not in allowed
    }
    assert not wrong


def test_the_ledgers_capabilities_and_plumbing_import_one_another_without_a_cycle() -> None:
    graph: dict[str, set[str]] = {}
    for module, path in _modules("ledger"):
        unit = _unit(module)
        graph.setdefault(unit, set()).update(
            _unit(name) for name in _imports(path) if name.startswith("ledger.") and _unit(name) != unit
        )
    assert not _cycles(graph)


def test_no_context_depends_on_the_audit_trail() -> None:
    """The audit trail reads every context; none reads it (keys, calendar and pointers are shared plumbing)."""
    into_audit = {
        f"{module} imports {name}"
        for module, path in _modules("ledger")
        if _unit(module) != "ledger.audit"
        for name in _imports(path)
        if _unit(name) == "ledger.audit"
    }
    assert not into_audit
