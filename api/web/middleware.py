"""The pages' door: a session on every page, sign-in where a page needs an identity, CSRF on every form,
and the pages' own Content-Security-Policy (no inline script or style)."""

from __future__ import annotations

from urllib.parse import quote

import falcon

from api.web.render import PAGE_POLICY
from api.web.session import Sessions, same_token

PREFIX = "/app"
OPEN_PAGES = frozenset({"/app/sign-in", "/app/sign-in/organisation"})  # pages anyone may see unsigned
STATIC = ("/app/assets/", "/app/static/")


def is_page(req: falcon.Request) -> bool:
    return req.path == PREFIX or req.path.startswith(PREFIX + "/")


class PageSessions:
    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not is_page(req):
            return
        resp.set_header("Content-Security-Policy", PAGE_POLICY)
        if req.path.startswith(STATIC):
            resp.set_header("Cache-Control", "public, max-age=3600")
            return
        session = self.sessions.read(req)
        if session is None:
            session = self.sessions.fresh()
            self.sessions.write(resp, session)
        req.context.session = session
        if session.actor is not None:
            req.context.actor = session.actor
        if req.method == "POST":
            form = req.get_media(default_when_empty={}) if req.content_length else {}
            req.context.form = form
            if not same_token(form.get("csrf_token") if isinstance(form, dict) else None, session.csrf):
                raise falcon.HTTPForbidden(
                    title="This form has expired",
                    description="Go back, reload the page and try again (the form's security token did not match).",
                )
        if not session.signed_in and req.path not in OPEN_PAGES:
            raise falcon.HTTPSeeOther(f"/app/sign-in?next={quote(req.relative_uri, safe='/')}")
