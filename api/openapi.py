"""The OpenAPI 3.1 document, generated from the same msgspec types that validate requests."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import msgspec

from api.errors import Problem

_PROBLEM_STATUSES = {
    400: "Malformed JSON",
    401: "Missing or invalid bearer token",
    403: "The caller's role may not do this, or the body names another organisation's resource",
    404: "Not found",
    409: "Refused by a domain rule (the problem's `rule` names it)",
    412: "If-Match does not match the current version",
    413: "Body too large",
    415: "The body is not application/json",
    422: "Invalid fields (each listed with its JSON path; `min_position` beyond the log's head)",
    429: "Too many of the caller's requests are waiting for min_position already (see Retry-After)",
    503: "The view has not caught up with min_position yet, or the database is briefly unavailable (see Retry-After)",
}


@dataclass(frozen=True)
class Param:
    name: str
    where: str  # "query", "path" or "header"
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """One documented operation of a resource; the app registers routes and the document from these."""

    name: str  # the operationId: "suppliers.register"
    summary: str
    response: Any = None
    request: Any = None
    status: int = 200
    errors: tuple[int, ...] = ()
    params: tuple[Param, ...] = ()
    public: bool = False
    tags: tuple[str, ...] = ()
    description: str = ""
    response_media: str = "application/json"


MIN_POSITION = Param(
    "min_position",
    "query",
    {"type": "integer", "minimum": 0},
    "Wait (bounded) until the view has applied the log up to this position: read your own writes.",
)
IF_MATCH = Param("If-Match", "header", {"type": "string"}, 'The ETag (version) you last read, e.g. "3".')


@dataclass
class Document:
    title: str
    version: str
    operations: list[tuple[str, str, Operation]] = field(default_factory=list)
    _refs: dict[Any, dict[str, Any]] = field(default_factory=dict, repr=False)

    def add(self, path: str, method: str, operation: Operation) -> None:
        self.operations.append((path, method, operation))

    def build(self) -> dict[str, Any]:
        types = {Problem}
        for _, _, op in self.operations:
            types.update(t for t in (op.request, op.response) if t is not None and not isinstance(t, dict))
        # By name, then module: two types of one name (a view's record and the FOI record) come in the same order
        # whatever order their modules were imported in.
        ordered = sorted(types, key=lambda t: (getattr(t, "__name__", str(t)), getattr(t, "__module__", "")))
        (refs, components) = msgspec.json.schema_components(ordered, ref_template="#/components/schemas/{name}")
        # Two types of one name are filed under their module-qualified names: refer to each as msgspec filed it.
        self._refs = dict(zip(ordered, refs, strict=True))
        paths: dict[str, dict[str, Any]] = {}
        for path, method, op in self.operations:
            paths.setdefault(path, {})[method.lower()] = self._operation(path, method, op)
        return {
            "openapi": "3.1.0",
            "info": {
                "title": self.title,
                "version": self.version,
                "description": "Event-sourced case and contract ledger for the Probation Services Dynamic "
                "Framework. Every command is an immutable event; queries read projected views.",
            },
            "paths": paths,
            "components": {
                "schemas": components,
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            },
            "security": [{"bearer": []}],
        }

    def _ref(self, kind: Any) -> dict[str, Any]:
        return self._refs[kind]

    def _operation(self, path: str, method: str, op: Operation) -> dict[str, Any]:
        out: dict[str, Any] = {
            "summary": op.summary,
            "operationId": op.name,
            "responses": {},
        }
        if op.description:
            out["description"] = op.description
        if op.tags:
            out["tags"] = list(op.tags)
        if op.public:
            out["security"] = []
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in path_params(path)
        ]
        params += [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required,
                "schema": p.schema,
                "description": p.description,
            }
            for p in op.params
        ]
        if params:
            out["parameters"] = params
        if op.request is not None:
            out["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": self._ref(op.request)}},
            }
        success: dict[str, Any] = {"description": "OK" if op.status < 300 else "Created"}
        if op.response is not None:
            schema = op.response if isinstance(op.response, dict) else self._ref(op.response)
            success["content"] = {op.response_media: {"schema": schema}}
        out["responses"][str(op.status)] = success
        # Any operation may meet the database unavailable (a restart, a failover): 503 with Retry-After.
        statuses = set(op.errors) | ({401, 403} if not op.public else set()) | {503}
        if op.request is not None:
            statuses |= {400, 413, 415, 422}
        if MIN_POSITION in op.params:
            statuses |= {422, 429}
        for status in sorted(statuses):
            out["responses"][str(status)] = {
                "description": _PROBLEM_STATUSES.get(status, "Error"),
                "content": {"application/problem+json": {"schema": self._ref(Problem)}},
            }
        return out


def path_params(template: str) -> list[str]:
    """The names of a path template's parameters, in order."""
    return [part[1:-1] for part in template.split("/") if part.startswith("{") and part.endswith("}")]


def render_docs(spec: dict[str, Any]) -> str:
    """A plain, self-contained HTML page describing every operation (no scripts, no CDN)."""
    esc = html.escape
    rows = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            params = ", ".join(p["name"] for p in op.get("parameters", []))
            statuses = ", ".join(op["responses"])
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            body_name = body.get("$ref", "").rsplit("/", 1)[-1]
            rows.append(
                f"<tr><td><code>{esc(method.upper())}</code></td><td><code>{esc(path)}</code></td>"
                f"<td>{esc(op['summary'])}</td><td>{esc(params)}</td><td>{esc(body_name)}</td>"
                f"<td>{esc(statuses)}</td></tr>"
            )
    schemas = []
    for name, schema in spec["components"]["schemas"].items():
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        items = "".join(
            f"<li><code>{esc(p)}</code>{' (required)' if p in required else ''}"
            f"{' — ' + esc(v.get('description', '')) if v.get('description') else ''}</li>"
            for p, v in props.items()
        )
        schemas.append(f"<h3 id='{esc(name)}'>{esc(name)}</h3><ul>{items}</ul>")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{esc(spec['info']['title'])} — API</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #b1b4b6;padding:.4rem;"
        "text-align:left;vertical-align:top}code{font-size:.95em}</style></head><body>"
        f"<h1>{esc(spec['info']['title'])}</h1><p>{esc(spec['info']['description'])}</p>"
        "<p>Machine-readable: <a href='/openapi.json'>/openapi.json</a> (OpenAPI 3.1). Authenticate with "
        "<code>Authorization: Bearer &lt;token&gt;</code>; errors are <code>application/problem+json</code> "
        "(RFC 9457). Commands answer with the log <code>position</code> of their last event: pass it as "
        "<code>min_position</code> to a query to read your own write.</p>"
        "<h2>Operations</h2><table><tr><th>Method</th><th>Path</th><th>Summary</th><th>Parameters</th>"
        f"<th>Body</th><th>Responses</th></tr>{''.join(rows)}</table>"
        f"<h2>Schemas</h2>{''.join(schemas)}</body></html>"
    )
