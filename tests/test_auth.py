"""Production keys: RS256 from a PEM file and ES256 from a JWKS file, alongside rotation."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from falcon import testing

from api.app import create_app
from api.auth import AuthenticationFailed, Verifier
from ledger.config import Settings


def claims(settings: Settings, **extra: object) -> dict[str, object]:
    now = int(time.time())
    return {
        "sub": "svc-1",
        "role": "finance_officer",
        "org": "hmpps-finance",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 300,
        **extra,
    }


@pytest.fixture
def production(settings: Settings, tmp_path: Path):
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "public.pem"
    pem.write_bytes(
        rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    ec_key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ec_key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "2026-11", "use": "sig", "alg": "ES256"}]}))
    prod = replace(settings, environment="production", jwt_secret=None, jwt_public_key_file=pem, jwks_file=jwks)
    return prod, rsa_key, ec_key


def test_rs256_and_es256_tokens_are_both_accepted_in_production(production) -> None:
    prod, rsa_key, ec_key = production
    verifier = Verifier.from_settings(prod)
    by_rsa = verifier.verify(jwt.encode(claims(prod), rsa_key, algorithm="RS256"))
    by_ec = verifier.verify(jwt.encode(claims(prod, sub="svc-2"), ec_key, algorithm="ES256"))
    assert (by_rsa.id, by_rsa.role, by_rsa.organisation_id) == ("svc-1", "finance_officer", "hmpps-finance")
    assert by_ec.id == "svc-2"


def test_production_refuses_hs256_tokens_signed_with_a_development_secret(production, settings) -> None:
    prod, _, _ = production
    token = jwt.encode(claims(prod), settings.jwt_secret, algorithm="HS256")
    with pytest.raises(AuthenticationFailed):
        Verifier.from_settings(prod).verify(token)


def test_production_without_keys_refuses_to_start(settings) -> None:
    prod = replace(settings, environment="production", jwt_secret=None, jwt_public_key_file=None, jwks_file=None)
    with pytest.raises(RuntimeError, match="JWT_SECRET"):
        Verifier.from_settings(prod)


def test_the_api_accepts_a_production_token(production, database_url) -> None:
    prod, rsa_key, _ = production
    app = create_app(prod, database_url=database_url)
    try:
        client = testing.TestClient(app)
        token = jwt.encode(claims(prod), rsa_key, algorithm="RS256")
        assert client.simulate_get("/suppliers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        forged = jwt.encode(claims(prod), rsa.generate_private_key(65537, 2048), algorithm="RS256")
        assert client.simulate_get("/suppliers", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    finally:
        app.services.close()
