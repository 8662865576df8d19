"""Bearer-token identity: who is calling, in which role, for which organisation."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from ledger.config import Settings
from ledger.envelope import Actor
from ledger.roles import Role

REALM = "probation-ledger"


class AuthenticationFailed(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass
class Verifier:
    """Checks signature, expiry, not-before, issuer and audience, and requires role and subject."""

    keys: list[Any]
    algorithms: list[str]
    issuer: str
    audience: str

    @classmethod
    def from_settings(cls, settings: Settings) -> Verifier:
        keys: list[Any] = []
        algorithms = [a for a in settings.jwt_algorithms if not a.startswith("HS")]
        if settings.jwt_public_key_file is not None:
            keys.append(settings.jwt_public_key_file.read_text())
        if settings.jwks_file is not None:
            jwks = jwt.PyJWKSet.from_dict(json.loads(settings.jwks_file.read_text()))
            keys.extend(key.key for key in jwks.keys)
        if settings.jwt_secret or not settings.is_production:
            keys.append(settings.development_secret())
            algorithms += [a for a in settings.jwt_algorithms if a.startswith("HS")]
        if not keys:
            raise RuntimeError("no token keys: set JWT_PUBLIC_KEY_FILE or JWKS_FILE (or JWT_SECRET)")
        return cls(keys=keys, algorithms=algorithms, issuer=settings.jwt_issuer, audience=settings.jwt_audience)

    def verify(self, token: str) -> Actor:
        last: Exception | None = None
        claims: dict[str, Any] | None = None
        for key in self.keys:
            try:
                claims = jwt.decode(
                    token,
                    key=key,
                    algorithms=self._algorithms_for(key),
                    issuer=self.issuer,
                    audience=self.audience,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                    leeway=5,
                )
                break
            except jwt.InvalidSignatureError as exc:
                last = exc  # try the next key (rotation: two keys may be valid at once)
            except jwt.PyJWTError as exc:
                raise AuthenticationFailed("invalid_token", str(exc)) from None
        if claims is None:
            raise AuthenticationFailed("invalid_token", str(last or "signature verification failed"))
        role = claims.get("role")
        if role not in Role.__members__.values():
            raise AuthenticationFailed("invalid_token", f"unknown role {role!r}")
        org = claims.get("org")
        if org is not None and not isinstance(org, str):
            raise AuthenticationFailed("invalid_token", "org must be a string")
        return Actor(id=str(claims["sub"]), role=str(role), organisation_id=org)

    def _algorithms_for(self, key: Any) -> list[str]:
        if isinstance(key, str) and "BEGIN" not in key:
            return [a for a in self.algorithms if a.startswith("HS")]
        return [a for a in self.algorithms if not a.startswith("HS")]


def issue_development_token(
    settings: Settings, *, role: str, org: str | None, subject: str | None = None, ttl_seconds: int = 3600
) -> str:
    """An HS256 token signed with the development secret, for local use and tests."""
    if role not in Role.__members__.values():
        raise ValueError(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject or f"dev-{role}-{uuid.uuid4().hex[:8]}",
        "role": role,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
    }
    if org:
        claims["org"] = org
    return jwt.encode(claims, settings.development_secret(), algorithm="HS256")
