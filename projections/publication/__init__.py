"""The publication view: the ledger's public facts of procurement as OCDS releases (ADR 32).

`handlers` (the view: one release per public event), `ocds` (the standard: ocids, parties, notice types, merge
rules, packages and records), `queries` (pages of releases, one process's releases).
"""
