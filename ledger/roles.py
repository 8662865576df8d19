"""The roles a person can act in: the one list of them (what each may do is the access-control matrix)."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    AUTHORITY = "authority"  # HMPPS commercial: runs the framework
    COMMISSIONER = "commissioner"
    SUPPLIER_BID_MANAGER = "supplier_bid_manager"
    PROVIDER_CASEWORKER = "provider_caseworker"
    PROBATION_PRACTITIONER = "probation_practitioner"
    FINANCE_OFFICER = "finance_officer"
    AUDITOR = "auditor"
    FOI_OFFICER = "foi_officer"
    ADMINISTRATOR = "administrator"
    DATA_PROTECTION_OFFICER = "data_protection_officer"  # decides erasure requests
    SUBSCRIBER = "subscriber"  # another system reading the published events (its own token; public data only)
