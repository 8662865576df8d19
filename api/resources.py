"""Resources that are not domain endpoints: health, the OpenAPI document and the docs page."""

from __future__ import annotations

from typing import Any

import falcon
import msgspec

from api import asyncapi, media
from api.openapi import Document, Operation, render_docs
from api.services import Services
from ledger import migrate
from projections.published import relay
from projections.published.relay import RelayLag
from projections.runner import all_views, lag


class Liveness(msgspec.Struct, kw_only=True):
    status: str


class ViewStatus(msgspec.Struct, kw_only=True):
    """A view's position and which code built it; `needs_rebuild` when this code differs (`ledger rebuild`)."""

    name: str
    position: int
    built_by: str
    applied_by: str | None
    running: str
    needs_rebuild: bool


class Readiness(msgspec.Struct, kw_only=True):
    status: str
    database: bool
    migrations_at_head: bool
    projection_lag: int | None
    head_position: int | None
    views: list[ViewStatus] = []
    # The relay to the broker (ADR 34): how far behind the log it is; null while no relay has run.
    relay_lag: RelayLag | None = None


class Resource:
    documented: dict[str, Operation] = {}

    def __init__(self, services: Services) -> None:
        self.services = services


class HealthLive(Resource):
    documented = {
        "GET": Operation("health.live", "The process is up", response=Liveness, public=True, tags=("health",))
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        media.respond(resp, Liveness(status="live"))


class HealthReady(Resource):
    documented = {
        "GET": Operation(
            "health.ready",
            "Database reachable, migrations at head, projection lag in events, the relay's lag",
            response=Readiness,
            public=True,
            errors=(503,),
            tags=("health",),
        )
    }

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        database, at_head, behind, head, views, relayed = False, False, None, None, [], None
        try:
            with self.services.pool.connection(timeout=2) as conn:
                database = True
                at_head = migrate.at_head(conn)
                if at_head:
                    behind = lag(conn)
                    head = self.services.ledger.head()
                    views = view_status(conn)
                    relayed = relay.lag(conn, self.services.settings.broker_exchange)
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
                views=views,
                relay_lag=relayed,
            ),
            status=200 if ready else 503,
        )


def view_status(conn: Any) -> list[ViewStatus]:
    running = {view.name: view.code_version for view in all_views()}
    rows = conn.execute(
        "SELECT view_name, position, code_version, applied_by FROM projection_positions ORDER BY view_name"
    ).fetchall()
    return [
        ViewStatus(
            name=r["view_name"],
            position=r["position"],
            built_by=r["code_version"],
            applied_by=r["applied_by"],
            running=running.get(r["view_name"], "retired"),
            needs_rebuild=r["code_version"] != running.get(r["view_name"]),
        )
        for r in rows
    ]


class OpenAPIResource(Resource):
    documented = {
        "GET": Operation(
            "docs.openapi", "This OpenAPI 3.1 document", response={"type": "object"}, public=True, tags=("docs",)
        )
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


class AsyncAPIResource(Resource):
    documented = {
        "GET": Operation(
            "docs.asyncapi",
            "The AsyncAPI 3.0 document of the published domain events: every CloudEvents type and its data's schema",
            response={"type": "object"},
            public=True,
            tags=("docs",),
        )
    }

    def __init__(self, services: Services) -> None:
        super().__init__(services)
        self._body: bytes | None = None

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if self._body is None:
            settings = self.services.settings
            published = asyncapi.document(exchange=settings.broker_exchange, source=settings.event_source)
            self._body = media.encode(published)
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body


class DocsResource(Resource):
    documented = {
        "GET": Operation(
            "docs.page",
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
