"""Bearer-token identity: who is calling, in which role, for which organisation."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ledger.config import Settings
from ledger.envelope import Actor
from ledger.roles import Role
from ledger.types import text_errors

REALM = "probation-ledger"
_LEEWAY = 5  # seconds of clock skew allowed on exp and nbf
_REMEMBERED = 4096  # verified tokens kept
_ROLES = frozenset(r.value for r in Role)


class AuthenticationFailed(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class _Key:
    family: str  # "HS", "RS" or "ES": which algorithms may use this key
    key: Any
    kid: str | None = None


def _family(key: Any) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return "RS"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "ES"
    raise RuntimeError(f"unsupported public key type {type(key).__name__}")


@dataclass
class Verifier:
    """Checks signature, expiry, not-before, issuer and audience, and requires role and subject.

    Several keys may be valid at once (rotation): a token is tried against the keys of its
    algorithm's family, the one named by its `kid` first.
    """

    keys: list[_Key]
    algorithms: list[str]
    issuer: str
    audience: str
    # Tokens already verified, with their validity window: a client sends the same token with every request,
    # and checking its signature again costs more than the rest of a simple read. Keys change only on restart.
    _verified: OrderedDict[str, tuple[Actor, float, float]] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Verifier:
        keys: list[_Key] = []
        if settings.jwt_public_key_file is not None:
            public = serialization.load_pem_public_key(settings.jwt_public_key_file.read_bytes())
            keys.append(_Key(_family(public), public))
        if settings.jwks_file is not None:
            jwks = jwt.PyJWKSet.from_dict(json.loads(settings.jwks_file.read_text()))
            keys.extend(_Key(_family(k.key), k.key, k.key_id) for k in jwks.keys)
        if settings.jwt_secret or not settings.is_production:
            keys.append(_Key("HS", settings.development_secret()))
        if not keys:
            raise RuntimeError("no token keys: set JWT_PUBLIC_KEY_FILE or JWKS_FILE (or JWT_SECRET)")
        families = {k.family for k in keys}
        algorithms = [a for a in settings.jwt_algorithms if a[:2] in families]
        return cls(keys=keys, algorithms=algorithms, issuer=settings.jwt_issuer, audience=settings.jwt_audience)

    def verify(self, token: str) -> Actor:
        now = time.time()
        with self._lock:
            known = self._verified.get(token)
        if known is not None:
            actor, not_before, expires = known
            if not_before - _LEEWAY <= now <= expires + _LEEWAY:
                return actor
            with self._lock:
                self._verified.pop(token, None)
        actor, not_before, expires = self._verify(token)
        with self._lock:
            self._verified[token] = (actor, not_before, expires)
            if len(self._verified) > _REMEMBERED:
                self._verified.popitem(last=False)
        return actor

    def _verify(self, token: str) -> tuple[Actor, float, float]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthenticationFailed("invalid_token", str(exc)) from None
        algorithm = header.get("alg")
        if algorithm not in self.algorithms:
            raise AuthenticationFailed("invalid_token", f"algorithm {algorithm!r} is not accepted")
        kid = header.get("kid")
        candidates = sorted(
            (k for k in self.keys if k.family == algorithm[:2]), key=lambda k: k.kid != kid or kid is None
        )
        claims: dict[str, Any] | None = None
        for candidate in candidates:
            try:
                claims = jwt.decode(
                    token,
                    key=candidate.key,
                    algorithms=[algorithm],
                    issuer=self.issuer,
                    audience=self.audience,
                    options={"require": ["exp", "iss", "aud", "sub"]},
                    leeway=_LEEWAY,
                )
                break
            except jwt.InvalidSignatureError:
                continue  # try the next key of the family
            except jwt.PyJWTError as exc:
                raise AuthenticationFailed("invalid_token", str(exc)) from None
        if claims is None:
            raise AuthenticationFailed("invalid_token", "signature verification failed")
        role = claims.get("role")
        if not isinstance(role, str) or role not in _ROLES:  # a list or an object is no role (nor hashable)
            raise AuthenticationFailed("invalid_token", f"unknown role {str(role)[:100]!r}")
        org = claims.get("org")
        if org is not None and not isinstance(org, str):
            raise AuthenticationFailed("invalid_token", "org must be a string")
        # They are written into every event's envelope: text a column can hold, one line, of a sane length.
        for claim, value in (("sub", claims["sub"]), ("org", org)):
            if value is not None and (
                not isinstance(value, str) or not 0 < len(value) <= 200 or text_errors(value, claim)
            ):
                raise AuthenticationFailed("invalid_token", f"{claim} must be 1 to 200 characters of one line of text")
        privileges = claims.get("privileges", [])
        if not isinstance(privileges, list) or not all(isinstance(p, str) for p in privileges):
            raise AuthenticationFailed("invalid_token", "privileges must be a list of strings")
        actor = Actor(id=str(claims["sub"]), role=str(role), organisation_id=org, privileges=tuple(privileges))
        return actor, float(claims.get("nbf", 0)), float(claims["exp"])


def issue_development_token(
    settings: Settings,
    *,
    role: str,
    org: str | None,
    subject: str | None = None,
    ttl_seconds: int = 3600,
    privileges: tuple[str, ...] = (),
) -> str:
    """An HS256 token signed with the development secret, for local use and tests."""
    if role not in _ROLES:
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
    if privileges:
        claims["privileges"] = list(privileges)
    return jwt.encode(claims, settings.development_secret(), algorithm="HS256")
