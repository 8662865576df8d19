"""Errors the ledger raises to its callers; the API maps each to one HTTP status."""

from __future__ import annotations


class LedgerError(Exception):
    """Base class for errors a caller can act on."""


class ProgrammingError(LedgerError):
    """The ledger was used wrongly by its own code (never caused by a client)."""


class RuleViolation(LedgerError):
    """A domain rule refused the command; nothing was written.

    `rule` is a stable, human-readable name of the rule (shown to clients as the problem title).
    """

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"{rule}: {detail}")
        self.rule = rule
        self.detail = detail


class NotFound(LedgerError):
    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class ConcurrencyConflict(LedgerError):
    """Another command changed the same aggregate first; re-read and retry."""


class StaleVersion(LedgerError):
    """The caller's expected version (If-Match) is not the aggregate's current version."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, current version is {actual}")
        self.expected = expected
        self.actual = actual


class InvalidCommand(LedgerError):
    """The command is well-formed JSON but a field is invalid: a list of (JSON path, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))
        self.errors = errors
