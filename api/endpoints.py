"""The HTTP adapter of the operation registry: a Falcon resource per route turns a request into a `Call`, runs the
operation its method names, and writes the answer (status, ETag, Location, X-Ledger-Position, content type)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import falcon

from api import media, policy
from api.openapi import Operation
from api.operations import Call, Operations, Outcome, Wire
from api.specs import Query, Route


class Endpoint:
    """A Falcon resource serving one route: each method runs its named operation (any other method is 405)."""

    def __init__(self, operations: Operations, route: Route) -> None:
        self.operations = operations
        # A public operation (by its rule) is served without a token and documented with no security.
        self.documented: dict[str, Operation] = {
            method: replace(spec.operation(), public=policy.is_public(spec.name))
            for method, spec in route.methods.items()
        }

    def serve(self, name: str, req: falcon.Request, resp: falcon.Response, params: dict[str, str]) -> None:
        call = Call(
            actor=getattr(req.context, "actor", None) or policy.ANONYMOUS,
            path=params,
            query=req.params,
            purpose=req.get_header("X-Purpose") or req.get_param("purpose"),
            request_id=req.context.request_id,
            if_match=req.get_header("If-Match"),
            idempotency_key=req.get_header("Idempotency-Key"),
        )
        limit = self.operations.services.settings.max_body_bytes
        wire = Wire(lambda takes_one: _body(req, limit, takes_one), req.query_string)
        respond(resp, self.operations.execute(name, call, wire))


def _body(req: falcon.Request, limit: int, takes_one: bool) -> bytes:
    """The one way a body is read: JSON (415 otherwise), within MAX_BODY_BYTES however it is framed (413); an
    operation that takes none refuses one (422)."""
    if not takes_one:
        media.refuse_body(req, limit)
        return b""
    media.require_json(req)
    return media.read_body(req, limit)


def respond(resp: falcon.Response, outcome: Outcome) -> None:
    replayed = outcome.replayed
    if replayed is not None:  # a retry with the Idempotency-Key: the first answer, byte for byte
        resp.status = replayed.status
        resp.content_type = falcon.MEDIA_JSON
        resp.data = replayed.body
        resp.set_headers({**replayed.headers, "Idempotent-Replayed": "true"})
        return
    for name, value in outcome.headers.items():
        if name == "Location":
            resp.location = value
        else:
            resp.set_header(name, value)
    spec = outcome.spec
    if isinstance(spec, Query) and spec.content_type != "application/json":
        resp.content_type = spec.content_type
        resp.text = outcome.result
        return
    media.respond(resp, outcome.result, status=outcome.status)


def endpoint(operations: Operations, route: Route) -> Endpoint:
    """Build a resource with exactly the responders of the route's methods (anything else is 405)."""
    responders: dict[str, Any] = {}
    for method, spec in route.methods.items():

        def responder(
            self: Endpoint, req: falcon.Request, resp: falcon.Response, _name: str = spec.name, **params: str
        ) -> None:
            self.serve(_name, req, resp, params)

        responders[f"on_{method.lower()}"] = responder
    kind = type("Endpoint_" + "_".join(sorted(route.methods)), (Endpoint,), responders)
    return kind(operations, route)
