"""Imports run one way: api -> tools -> projections -> ledger (api also straight to projections and ledger)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What each of our packages may import of ours. The CLI (in api/) runs the tools; the tools drive the API only
# as a process (the bench's gunicorn) and are handed what they need of it (tokens), never importing it.
MAY_IMPORT = {
    "ledger": {"ledger"},
    "projections": {"projections", "ledger"},
    "tools": {"tools", "projections", "ledger"},
    "api": {"api", "tools", "projections", "ledger"},
}


def _ours() -> set[str]:
    return {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_package_of_ours_has_its_place_in_the_order() -> None:
    assert _ours() == set(MAY_IMPORT)


def test_imports_run_one_way() -> None:
    ours = _ours()
    wrong = [
        f"{path.relative_to(ROOT)} imports {name}"
        for package, allowed in MAY_IMPORT.items()
        for path in sorted((ROOT / package).rglob("*.py"))
        for name in sorted(_imported(path) & ours - allowed)
    ]
    assert not wrong, wrong
