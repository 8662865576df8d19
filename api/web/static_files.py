"""The pages' files: GOV.UK Frontend's and MoJ Frontend's compiled CSS and JavaScript (from node_modules, installed
by `make install`), their fonts and images under /assets (where the compiled CSS looks), and our own few files."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

import falcon

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / "node_modules"
GOVUK = NODE_MODULES / "govuk-frontend" / "dist" / "govuk"
OWN = Path(__file__).with_name("static")

# Only these files are served: a name, never a path from the request.
FILES: dict[str, Path] = {
    "govuk-frontend.min.css": GOVUK / "govuk-frontend.min.css",
    "govuk-frontend.min.js": GOVUK / "govuk-frontend.min.js",
    "moj-frontend.min.css": NODE_MODULES / "@ministryofjustice" / "frontend" / "moj" / "moj-frontend.min.css",
    **{p.name: p for p in OWN.iterdir() if p.is_file()},
}
ASSETS = GOVUK / "assets"


def missing_front_end() -> bool:
    return not GOVUK.is_dir()


class StaticFile:
    """GET /app/static/{name}: one of the known files."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, name: str) -> None:
        path = FILES.get(name)
        if path is None or not path.is_file():
            raise falcon.HTTPNotFound()
        resp.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if name.endswith(".js"):
            resp.content_type = "text/javascript"
        resp.data = path.read_bytes()


class Asset:
    """GET /assets/{kind}/{name}: GOV.UK Frontend's fonts and images."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, kind: str, name: str) -> None:
        if kind not in ("fonts", "images") or "/" in name or name.startswith("."):
            raise falcon.HTTPNotFound()
        path = ASSETS / kind / name
        if not path.is_file():
            raise falcon.HTTPNotFound()
        resp.content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        resp.set_header("Cache-Control", "public, max-age=86400")
        resp.data = path.read_bytes()


if missing_front_end():
    log.warning("GOV.UK Frontend is not installed (%s): run `make install` (npm ci) for the pages' styles", GOVUK)
