"""Who is signed in to the pages: a signed, HttpOnly, SameSite=Lax session cookie carrying the identity
`ledger token` would issue, and the CSRF token every form repeats (ADR 30)."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass

import falcon
import jwt

from ledger.config import Settings
from ledger.envelope import Actor
from ledger.roles import Role

COOKIE = "ledger_session"
LIFETIME_SECONDS = 8 * 3600  # a working day; signing in again is one form
_PURPOSE = "ledger-pages-session"  # the audience: a session cookie is never accepted as an API token


@dataclass(frozen=True)
class Session:
    csrf: str
    actor: Actor | None = None  # None: not signed in (the session still guards the sign-in form)
    purpose: str | None = None  # why the person reads personal data this session (recorded with each read)
    organisation_name: str | None = None  # the name of the organisation they act for, as chosen at sign-in

    @property
    def signed_in(self) -> bool:
        return self.actor is not None


class Sessions:
    """Reads and writes session cookies with the settings' session key."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._signing_key: str | None = None

    @property
    def _key(self) -> str:
        """Read when a page is first asked for: an API deployed without the pages' SESSION_SECRET still starts."""
        if self._signing_key is None:
            try:
                self._signing_key = self.settings.session_key()
            except RuntimeError as exc:
                raise falcon.HTTPNotFound(title="The pages are not set up here", description=str(exc)) from None
        return self._signing_key

    def read(self, req: falcon.Request) -> Session | None:
        raw = req.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            claims = jwt.decode(raw, self._key, algorithms=["HS256"], audience=_PURPOSE)
        except jwt.PyJWTError:
            return None
        csrf = claims.get("csrf")
        if not isinstance(csrf, str) or not csrf:
            return None
        role, sub, org = claims.get("role"), claims.get("sub"), claims.get("org")
        if not (isinstance(role, str) and role in Role.__members__.values() and isinstance(sub, str)):
            return Session(csrf=csrf)
        privileges = tuple(p for p in claims.get("privileges", ()) if isinstance(p, str))
        purpose = claims.get("purpose") if isinstance(claims.get("purpose"), str) else None
        named = claims.get("org_name") if isinstance(claims.get("org_name"), str) else None
        actor = Actor(id=sub, role=role, organisation_id=org, privileges=privileges)
        return Session(csrf=csrf, actor=actor, purpose=purpose, organisation_name=named)

    def write(self, resp: falcon.Response, session: Session) -> None:
        now = int(time.time())
        claims: dict[str, object] = {"aud": _PURPOSE, "iat": now, "exp": now + LIFETIME_SECONDS, "csrf": session.csrf}
        if session.actor is not None:
            claims |= {
                "sub": session.actor.id,
                "role": session.actor.role,
                "org": session.actor.organisation_id,
                "privileges": list(session.actor.privileges),
            }
        if session.purpose:
            claims["purpose"] = session.purpose
        if session.organisation_name:
            claims["org_name"] = session.organisation_name
        resp.set_cookie(
            COOKIE,
            jwt.encode(claims, self._key, algorithm="HS256"),
            max_age=LIFETIME_SECONDS,
            path="/app",
            secure=self.settings.is_production,
            http_only=True,
            same_site="Lax",
        )

    @staticmethod
    def fresh(actor: Actor | None = None, organisation_name: str | None = None) -> Session:
        return Session(csrf=secrets.token_urlsafe(32), actor=actor, organisation_name=organisation_name)


def same_token(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(str(given), expected)
