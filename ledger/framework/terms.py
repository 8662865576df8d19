"""The framework agreement itself: its term and the terms suppliers accept (one place for each fact)."""

from __future__ import annotations

from datetime import date

# Launched in June 2021 for seven years, extendable by up to three (to 31 May 2031): the original term, which
# ledger.framework.agreement records with each extension decided.
FRAMEWORK_START = date(2021, 6, 1)
FRAMEWORK_END = date(2028, 5, 31)
FRAMEWORK_TERMS_VERSION = "PSDF-2021-1"

# A supplier must accept these terms before appointment to any lot.
ACCEPTED_TERMS_VERSIONS = frozenset({FRAMEWORK_TERMS_VERSION})
