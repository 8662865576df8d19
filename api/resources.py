"""HTTP resources: parse -> call the ledger or a view -> encode. No domain logic lives here."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import falcon
import msgspec

from api import media
from api.errors import ProblemError, invalid
from api.openapi import IF_MATCH, MIN_POSITION, Document, Operation, Param, render_docs
from api.services import Services
from ledger import migrate
from ledger.envelope import Envelope, make_envelope
from ledger.framework import suppliers
from ledger.store import Recorded
from projections import catalogue
from projections.runner import lag


class CommandAccepted(msgspec.Struct, kw_only=True):
    """What a command wrote. Pass `position` as `min_position` to read your own write."""

    id: UUID
    version: int
    position: int
    events: int
    command_id: str


class Liveness(msgspec.Struct, kw_only=True):
    status: str


class Readiness(msgspec.Struct, kw_only=True):
    status: str
    database: bool
    migrations_at_head: bool
    projection_lag: int | None
    head_position: int | None


class Resource:
    operations: dict[str, Operation] = {}

    def __init__(self, services: Services) -> None:
        self.services = services


def envelope_for(req: falcon.Request, *, reason: str | None = None) -> Envelope:
    """The envelope of a command: identity from the token, correlation from the request id."""
    req.context.command_id = f"cmd-{uuid.uuid4()}"
    return make_envelope(
        req.context.actor,
        correlation_id=req.context.request_id,
        causation_id=req.context.command_id,
        reason=reason,
    )


def accepted(req: falcon.Request, resp: falcon.Response, recorded: Recorded, *, status: int, location: str) -> None:
    resp.set_header("ETag", f'"{recorded.version}"')
    resp.set_header("X-Ledger-Position", str(recorded.position))
    if status == 201:
        resp.location = location
    media.respond(
        resp,
        CommandAccepted(
            id=recorded.aggregate_id,
            version=recorded.version,
            position=recorded.position,
            events=recorded.events,
            command_id=req.context.command_id,
        ),
        status=status,
    )


def int_param(req: falcon.Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = req.get_param(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        raise invalid([(name, f"must be a whole number from {low} to {high}")])
    return int(raw)


def min_position(req: falcon.Request) -> int | None:
    if req.get_param("min_position") is None:
        return None
    return int_param(req, "min_position", default=0, low=0, high=2**63 - 1)


def expected_version(req: falcon.Request) -> int | None:
    """The version named by If-Match (None when absent or `*`)."""
    header = req.get_header("If-Match")
    if header is None or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/").strip('"')
    if not (tag.isascii() and tag.isdigit()):
        raise ProblemError(
            412, "Precondition failed", detail=f"If-Match {header!r} names no version", slug="stale-version"
        )
    return int(tag)


def parse_uuid(value: str, name: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise ProblemError(404, "Not found", detail=f"no {name} {value!r}", slug="not-found") from None


class HealthLive(Resource):
    operations = {"GET": Operation("The process is up", response=Liveness, public=True, tags=("health",))}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        media.respond(resp, Liveness(status="live"))


class HealthReady(Resource):
    operations = {
        "GET": Operation(
            "Database reachable, migrations at head, projection lag in events",
            response=Readiness,
            public=True,
            errors=(503,),
            tags=("health",),
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        database, at_head, behind, head = False, False, None, None
        try:
            with self.services.pool.connection(timeout=2) as conn:
                database = True
                at_head = migrate.at_head(conn)
                if at_head:
                    behind = lag(conn)
                    head = self.services.ledger.head()
        except Exception:  # readiness reports; it never raises
            pass
        ready = database and at_head
        media.respond(
            resp,
            Readiness(
                status="ready" if ready else "not ready",
                database=database,
                migrations_at_head=at_head,
                projection_lag=behind,
                head_position=head,
            ),
            status=200 if ready else 503,
        )


class OpenAPIResource(Resource):
    operations = {
        "GET": Operation("This OpenAPI 3.1 document", response={"type": "object"}, public=True, tags=("docs",))
    }

    def __init__(self, services: Services, document: Document) -> None:
        super().__init__(services)
        self.document = document
        self._body: bytes | None = None

    def spec(self) -> dict[str, Any]:
        return self.document.build()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._body is None:
            self._body = media.encode(self.spec())
        resp.content_type = "application/vnd.oai.openapi+json"
        resp.data = self._body


class DocsResource(Resource):
    operations = {
        "GET": Operation(
            "Human-readable API documentation",
            response={"type": "string"},
            public=True,
            tags=("docs",),
            response_media="text/html",
        )
    }

    def __init__(self, services: Services, openapi: OpenAPIResource) -> None:
        super().__init__(services)
        self.openapi = openapi

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.text = render_docs(self.openapi.spec())


class SupplierCollection(Resource):
    operations = {
        "POST": Operation(
            "Register a supplier organisation",
            request=suppliers.RegisterSupplier,
            response=CommandAccepted,
            status=201,
            errors=(409,),
            tags=("suppliers",),
        ),
        "GET": Operation(
            "List suppliers in the catalogue",
            response=catalogue.SupplierPage,
            errors=(503,),
            params=(
                MIN_POSITION,
                Param("name", "query", {"type": "string"}, "Only suppliers whose name contains this text"),
                Param("after", "query", {"type": "string"}, "The next_after of the previous page"),
                Param("limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Page size (50)"),
            ),
            tags=("suppliers",),
        ),
    }

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        command = media.parse(media.read_body(req, self.services.settings.max_body_bytes), suppliers.RegisterSupplier)
        recorded = suppliers.register_supplier(self.services.ledger, envelope_for(req), command)
        accepted(req, resp, recorded, status=201, location=f"/suppliers/{recorded.aggregate_id}")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        limit = int_param(req, "limit", default=50, low=1, high=500)
        with self.services.read(("catalogue",), min_position(req)) as conn:
            page = catalogue.list_suppliers(
                conn, name_contains=req.get_param("name"), after=req.get_param("after"), limit=limit
            )
        media.respond(resp, page)


class SupplierItem(Resource):
    operations = {
        "GET": Operation(
            "A supplier as the catalogue shows it",
            response=catalogue.SupplierRecord,
            errors=(404, 503),
            params=(MIN_POSITION,),
            tags=("suppliers",),
        ),
        "PATCH": Operation(
            "Change a supplier's name, type or size",
            request=suppliers.ChangeSupplierDetails,
            response=CommandAccepted,
            errors=(404, 409, 412),
            params=(IF_MATCH,),
            tags=("suppliers",),
        ),
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response, supplier_id: str) -> None:
        ident = parse_uuid(supplier_id, "supplier")
        with self.services.read(("catalogue",), min_position(req)) as conn:
            record = catalogue.get_supplier(conn, ident)
        if record is None:
            raise ProblemError(404, "Not found", detail=f"no supplier {supplier_id}", slug="not-found")
        resp.set_header("ETag", f'"{record.version}"')
        media.respond(resp, record)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, supplier_id: str) -> None:
        ident = parse_uuid(supplier_id, "supplier")
        command = media.parse(
            media.read_body(req, self.services.settings.max_body_bytes), suppliers.ChangeSupplierDetails
        )
        recorded = suppliers.change_supplier_details(
            self.services.ledger, envelope_for(req), ident, command, expected_version=expected_version(req)
        )
        accepted(req, resp, recorded, status=200, location=f"/suppliers/{recorded.aggregate_id}")
