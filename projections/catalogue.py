"""The catalogue view: who is on the market, and the queries that read it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from psycopg import Cursor
from psycopg.rows import dict_row

from ledger.framework.suppliers import OrganisationType, Supplier
from projections.base import LoggedEvent, View


class CatalogueView(View):
    name = "catalogue"
    code_version = "1"
    tables = ("catalogue_suppliers",)

    def register(self) -> None:
        self.on(Supplier.SupplierRegistered, self.supplier_registered)
        self.on(Supplier.SupplierDetailsChanged, self.supplier_details_changed)

    @staticmethod
    def supplier_registered(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "INSERT INTO catalogue_suppliers (supplier_id, name, legal_identifier, organisation_type,"
            " is_small, registered_at, version, position) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                logged.originator_id,
                e.name,
                e.legal_identifier,
                str(e.organisation_type),
                e.is_small,
                e.envelope.effective_at,
                logged.originator_version,
                logged.position,
            ),
        )

    @staticmethod
    def supplier_details_changed(cur: Cursor[Any], logged: LoggedEvent) -> None:
        e = logged.event
        cur.execute(
            "UPDATE catalogue_suppliers SET name = coalesce(%s, name),"
            " organisation_type = coalesce(%s, organisation_type), is_small = coalesce(%s, is_small),"
            " version = %s, position = %s WHERE supplier_id = %s",
            (
                e.name,
                str(e.organisation_type) if e.organisation_type is not None else None,
                e.is_small,
                logged.originator_version,
                logged.position,
                logged.originator_id,
            ),
        )


class SupplierRecord(msgspec.Struct, kw_only=True):
    """A supplier as the catalogue shows it."""

    id: UUID
    name: str
    legal_identifier: str
    organisation_type: OrganisationType
    is_small: bool
    registered_at: datetime
    version: int


class SupplierPage(msgspec.Struct, kw_only=True):
    items: list[SupplierRecord]
    next_after: str | None = None


_SUPPLIER_COLUMNS = "supplier_id AS id, name, legal_identifier, organisation_type, is_small, registered_at, version"


def get_supplier(conn: psycopg.Connection[Any], supplier_id: UUID) -> SupplierRecord | None:
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(f"SELECT {_SUPPLIER_COLUMNS} FROM catalogue_suppliers WHERE supplier_id = %s", (supplier_id,))
        .fetchone()
    )
    return msgspec.convert(row, SupplierRecord) if row else None


def list_suppliers(
    conn: psycopg.Connection[Any],
    *,
    name_contains: str | None = None,
    after: str | None = None,
    limit: int = 50,
) -> SupplierPage:
    """Suppliers ordered by legal identifier, a page at a time (keyset paging)."""
    clauses, params = [], []
    if name_contains:
        clauses.append("name ILIKE %s")
        escaped = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    if after:
        clauses.append("legal_identifier > %s")
        params.append(after)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = (
        conn.cursor(row_factory=dict_row)
        .execute(
            f"SELECT {_SUPPLIER_COLUMNS} FROM catalogue_suppliers {where} ORDER BY legal_identifier LIMIT %s",
            [*params, limit + 1],
        )
        .fetchall()
    )
    items = [msgspec.convert(r, SupplierRecord) for r in rows[:limit]]
    return SupplierPage(items=items, next_after=items[-1].legal_identifier if len(rows) > limit else None)
