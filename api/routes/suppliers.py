"""Suppliers: registration, the catalogue's list and page, details, terms, lots, areas and the Authority's
sanctions."""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from api import policy
from api.routes.common import page, steps, text
from api.specs import Command, Query, QueryContext, Route, route
from ledger.framework import suppliers
from projections.catalogue import models, queries

TAGS = ("suppliers",)
SUPPLIER = "/suppliers/{supplier_id}"


def _supplier(q: QueryContext, supplier_id: UUID) -> models.SupplierRecord | None:
    """A supplier's page; its questionnaires only for the supplier itself and those who assess or audit them."""
    record = queries.get_supplier(q.conn, supplier_id)
    if record is not None and policy.reads_questionnaires(q.actor, supplier_id):
        record.questionnaires = queries.supplier_questionnaires(q.conn, supplier_id)
    return record


def _suppliers(q: QueryContext) -> models.SupplierPage:
    return queries.list_suppliers(
        q.conn,
        name_contains=q.param("name"),
        category=q.param("category"),
        status=q.param("status"),
        after=q.param("after"),
        limit=q.int_param("limit", default=50, low=1, high=500),
    )


def _sanction(action: str, ledger: Any, envelope: Any, supplier_id: UUID, command: suppliers.AuthorityDecision) -> Any:
    return suppliers.sanction(ledger, envelope, supplier_id, action, command)


def routes() -> list[Route]:
    return [*_registration(), *_standing()]


def _registration() -> list[Route]:
    return [
        route(
            "/suppliers",
            post=Command(
                "suppliers.register",
                "Register a supplier organisation",
                suppliers.register_supplier,
                suppliers.RegisterSupplier,
                status=201,
                errors=(409,),
                location="suppliers.get",
                tags=TAGS,
            ),
            get=Query(
                "suppliers.list",
                "List suppliers in the catalogue",
                _suppliers,
                models.SupplierPage,
                params=(
                    text("name", "Only suppliers whose name contains this text"),
                    text("category", "Only suppliers appointed to this lot"),
                    text("status", "active, suspended or excluded"),
                    *page(50),
                ),
                tags=TAGS,
            ),
        ),
        route(
            SUPPLIER,
            get=Query(
                "suppliers.get",
                "A supplier: lots, declared areas and standing (and, for the supplier itself, the Authority and"
                " auditors, its questionnaires)",
                _supplier,
                models.SupplierRecord,
                etag=True,
                tags=TAGS,
            ),
            patch=Command(
                "suppliers.change_details",
                "Change a supplier's name, type or size",
                suppliers.change_supplier_details,
                suppliers.ChangeSupplierDetails,
                if_match=True,
                tags=TAGS,
            ),
        ),
    ]


def _standing() -> list[Route]:
    """What a supplier does to stand on the framework, and what the Authority decides about it."""
    return [
        *steps(
            SUPPLIER,
            "suppliers",
            TAGS,
            (
                "terms-acceptances",
                "accept_terms",
                "Accept the framework terms (passed lots are then appointed)",
                suppliers.accept_framework_terms,
                suppliers.AcceptFrameworkTerms,
            ),
            (
                "lot-withdrawals",
                "withdraw_from_lot",
                "Withdraw from a lot",
                suppliers.withdraw_from_lot,
                suppliers.WithdrawFromLot,
            ),
        ),
        route(
            f"{SUPPLIER}/declared-areas",
            put=Command(
                "suppliers.change_declared_areas",
                "Change the declared areas by notice",
                suppliers.change_declared_areas,
                suppliers.ChangeDeclaredAreas,
                tags=TAGS,
            ),
        ),
        *steps(
            SUPPLIER,
            "suppliers",
            TAGS,
            *(
                (
                    path,
                    action,
                    f"{action.capitalize()} the supplier, with grounds",
                    partial(_sanction, action),
                    suppliers.AuthorityDecision,
                )
                for path, action in (
                    ("suspensions", "suspend"),
                    ("exclusions", "exclude"),
                    ("reinstatements", "reinstate"),
                )
            ),
        ),
    ]
