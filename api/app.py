"""The Falcon WSGI application: `create_app()` for tests and tools, module-level `app` for gunicorn."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import falcon

from api import resources
from api.auth import REALM, AuthenticationFailed
from api.endpoints import endpoint
from api.errors import (
    ProblemError,
    handle_bad_cursor,
    handle_ledger_error,
    handle_unexpected,
    invalid,
)
from api.openapi import Document
from api.operations import Operations
from api.routes import every_route
from api.services import Services
from api.web import Pages
from ledger.config import Settings
from ledger.envelope import utcnow
from ledger.errors import LedgerError
from projections.pages import BadCursor

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


class RequestContext:
    """Gives every request an id (the client's X-Request-ID when sane) and echoes it back."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        given = req.get_header("X-Request-ID")
        req.context.request_id = given if given and _REQUEST_ID.match(given) else str(uuid.uuid4())
        resp.set_header("X-Request-ID", req.context.request_id)
        resp.set_headers(_SECURITY_HEADERS)
        # PostgreSQL cannot store or compare text containing NUL: refuse it at the door, in every value of a
        # repeated parameter too.
        bad = [
            name
            for name, value in req.params.items()
            if "\x00" in name or any("\x00" in v for v in (value if isinstance(value, list) else [value]))
        ]
        if bad:
            raise invalid([(name.replace("\x00", "\\0"), "NUL characters are not allowed") for name in bad])


class Authentication:
    """Requires a valid bearer token on every operation not marked public."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: dict[str, object]
    ) -> None:
        documented = getattr(resource, "documented", {})
        operation = documented.get(req.method)
        if operation is None or operation.public:
            return  # unknown methods fall through to 405; public operations need no token
        header = req.get_header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ProblemError(
                401,
                "Authentication required",
                detail="send Authorization: Bearer <token>",
                slug="unauthenticated",
                headers={"WWW-Authenticate": f'Bearer realm="{REALM}"'},
            )
        try:
            req.context.actor = self.services.verifier.verify(token.strip())
        except AuthenticationFailed as exc:
            raise ProblemError(
                401,
                "Invalid token",
                detail=exc.description,
                slug="unauthenticated",
                headers={
                    "WWW-Authenticate": f'Bearer realm="{REALM}", error="{exc.error}", '
                    f'error_description="{exc.description.replace(chr(34), chr(39))}"'
                },
            ) from None


class LedgerApp(falcon.App):
    """A falcon App that also holds the process's services (so tests and `ledger serve` can close them) and the
    registry of its operations (which pages run directly)."""

    services: Services
    operations: Operations


def create_app(
    settings: Settings | None = None, *, database_url: str | None = None, clock: Callable[[], datetime] = utcnow
) -> LedgerApp:
    """The API. `clock` is the ledger's notion of now (tests move it; production never does)."""
    settings = settings or Settings.from_env()
    services = Services(settings, database_url=database_url, clock=clock)
    operations = Operations(services, every_route())  # fails here if an operation and the policy disagree
    pages = Pages(services, operations)
    app = LedgerApp(middleware=[RequestContext(), pages.middleware, Authentication(services)], cors_enable=False)
    app.req_options.strip_url_path_trailing_slash = True
    app.set_error_serializer(pages.serialize_error)
    app.add_error_handler(Exception, handle_unexpected)
    app.add_error_handler(LedgerError, handle_ledger_error)
    app.add_error_handler(BadCursor, handle_bad_cursor)

    document = Document(title="Probation Dynamic Framework ledger", version="0.1.0")
    openapi = resources.OpenAPIResource(services, document)
    routes: list[tuple[str, Any]] = [
        ("/health/live", resources.HealthLive(services)),
        ("/health/ready", resources.HealthReady(services)),
        ("/openapi.json", openapi),
        ("/asyncapi.json", resources.AsyncAPIResource(services)),
        ("/docs", resources.DocsResource(services, openapi)),
        *((r.path, endpoint(operations, r)) for r in operations.routes),
    ]
    for path, resource in routes:
        app.add_route(path, resource)
        for method, operation in resource.documented.items():
            document.add(path, method, operation)
    for path, resource in pages.routes():
        app.add_route(path, resource)
    app.services = services
    app.operations = operations
    return app


# gunicorn serves this; connections open on first use, in each worker after the fork.
app = create_app()
