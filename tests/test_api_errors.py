"""Every error status is a problem+json document produced by a real request, and changes nothing."""

from __future__ import annotations

import time

import jwt

from tests.support import count_events, unique_legal_id

PROBLEM = "application/problem+json"


def valid_body() -> dict[str, object]:
    return {
        "name": "Error Test Trust",
        "legal_identifier": unique_legal_id(),
        "organisation_type": "mutual",
        "is_small": True,
    }


def test_malformed_json_is_400(client, auth, database_url) -> None:
    before = count_events(database_url)
    result = client.simulate_post(
        "/suppliers", body='{"name": "unterminated', headers={**auth(), "Content-Type": "application/json"}
    )
    assert result.status_code == 400
    assert result.headers["content-type"] == PROBLEM
    assert result.json["title"] == "Malformed JSON"
    assert count_events(database_url) == before


def test_an_empty_body_is_400(client, auth) -> None:
    assert client.simulate_post("/suppliers", body="", headers=auth()).status_code == 400


def test_deeply_nested_json_is_400(client, auth) -> None:
    body = "[" * 100 + "]" * 100
    assert client.simulate_post("/suppliers", body=body, headers=auth()).status_code == 400


def test_every_invalid_field_is_listed_by_json_path_with_422(client, auth, database_url) -> None:
    before = count_events(database_url)
    result = client.simulate_post(
        "/suppliers",
        json={"name": "", "legal_identifier": 12, "organisation_type": "charity", "extra": True},
        headers=auth(),
    )
    assert result.status_code == 422
    assert result.headers["content-type"] == PROBLEM
    errors = {e["path"]: e["message"] for e in result.json["errors"]}
    assert set(errors) == {"$.name", "$.legal_identifier", "$.organisation_type", "$.is_small", "$.extra"}
    assert "missing" in errors["$.is_small"].lower()
    assert count_events(database_url) == before


def test_money_like_numbers_never_become_floats(client, auth) -> None:
    # A number where a string is expected is refused rather than coerced.
    result = client.simulate_post("/suppliers", json={**valid_body(), "name": 1.5}, headers=auth())
    assert result.status_code == 422
    assert result.json["errors"][0]["path"] == "$.name"


def test_an_oversized_body_is_413(client, auth, settings, database_url) -> None:
    before = count_events(database_url)
    body = {**valid_body(), "name": "x" * (settings.max_body_bytes + 1)}
    result = client.simulate_post("/suppliers", json=body, headers=auth())
    assert result.status_code == 413
    assert result.headers["content-type"] == PROBLEM
    assert count_events(database_url) == before


def test_an_unknown_route_is_404_problem(client) -> None:
    result = client.simulate_get("/no-such-collection")
    assert result.status_code == 404
    assert result.headers["content-type"] == PROBLEM
    assert result.json["status"] == 404 and result.json["title"] == "Not Found"


def test_an_unknown_id_is_404(client, auth) -> None:
    assert client.simulate_get("/suppliers/7d0a3a7e-0000-4000-8000-000000000000", headers=auth()).status_code == 404
    assert client.simulate_get("/suppliers/not-a-uuid", headers=auth()).status_code == 404
    result = client.simulate_patch(
        "/suppliers/7d0a3a7e-0000-4000-8000-000000000000", json={"name": "x"}, headers=auth()
    )
    assert result.status_code == 404 and result.headers["content-type"] == PROBLEM


def test_a_wrong_method_is_405(client, auth) -> None:
    result = client.simulate_delete("/suppliers", headers=auth())
    assert result.status_code == 405
    assert result.headers["content-type"] == PROBLEM
    assert "GET" in result.headers["allow"]


def test_a_patch_with_nothing_to_change_is_422(client, auth) -> None:
    created = client.simulate_post("/suppliers", json=valid_body(), headers=auth()).json
    result = client.simulate_patch(f"/suppliers/{created['id']}", json={}, headers=auth())
    assert result.status_code == 422


def test_missing_token_is_401_with_www_authenticate(client, database_url) -> None:
    before = count_events(database_url)
    result = client.simulate_post("/suppliers", json=valid_body())
    assert result.status_code == 401
    assert result.headers["www-authenticate"].startswith("Bearer")
    assert result.headers["content-type"] == PROBLEM
    assert count_events(database_url) == before


def test_bad_tokens_are_401(client, settings) -> None:
    now = int(time.time())
    claims = {
        "sub": "x",
        "role": "authority",
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 60,
    }
    secret = settings.jwt_secret
    cases = {
        "garbage": "not.a.token",
        "wrong secret": jwt.encode(claims, "another-secret-of-sufficient-length-123", algorithm="HS256"),
        "expired": jwt.encode({**claims, "exp": now - 3600}, secret, algorithm="HS256"),
        "not yet valid": jwt.encode({**claims, "nbf": now + 3600}, secret, algorithm="HS256"),
        "wrong audience": jwt.encode({**claims, "aud": "someone-else"}, secret, algorithm="HS256"),
        "wrong issuer": jwt.encode({**claims, "iss": "someone-else"}, secret, algorithm="HS256"),
        "unknown role": jwt.encode({**claims, "role": "overlord"}, secret, algorithm="HS256"),
        "no expiry": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, secret, algorithm="HS256"),
        "alg none": jwt.encode(claims, None, algorithm="none"),
    }
    for name, token in cases.items():
        result = client.simulate_get("/suppliers", headers={"Authorization": f"Bearer {token}"})
        assert result.status_code == 401, name
        assert 'error="invalid_token"' in result.headers["www-authenticate"], name


def test_a_min_position_the_log_has_not_reached_is_422_not_a_wait(client, auth) -> None:
    # Waiting until READ_WAIT_SECONDS and 503 is for written positions (tests/test_hostile_input.py, ADR 23).
    result = client.simulate_get("/suppliers", params={"min_position": 10**12}, headers=auth())
    assert result.status_code == 422
    assert result.headers["content-type"] == PROBLEM
    assert result.json["errors"][0]["path"] == "min_position"


def test_a_bad_min_position_is_422(client, auth) -> None:
    assert client.simulate_get("/suppliers", params={"min_position": "soon"}, headers=auth()).status_code == 422


def test_an_unexpected_failure_is_500_without_a_stack_trace(app, client, auth, monkeypatch) -> None:
    import projections.catalogue.queries

    def explode(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(projections.catalogue.queries, "list_suppliers", explode)
    result = client.simulate_get("/suppliers", headers=auth())
    assert result.status_code == 500
    assert result.headers["content-type"] == PROBLEM
    assert "secret internal detail" not in result.text and "Traceback" not in result.text


def test_strings_postgresql_cannot_store_are_refused_with_422(client, auth, database_url) -> None:
    before = count_events(database_url)
    result = client.simulate_post("/suppliers", json={**valid_body(), "name": "Null\u0000Byte Trust"}, headers=auth())
    assert result.status_code == 422
    assert result.json["errors"][0]["path"] == "$.name"
    assert count_events(database_url) == before


def test_a_query_parameter_the_operation_does_not_take_is_422_naming_it_never_ignored(
    client, auth, database_url
) -> None:
    """A mistyped horizon must not silently answer "now" to someone reconstructing the past."""
    typo = client.simulate_get(
        "/catalogue/eligibility",
        params={"category": "accommodation", "area": "kent", "as_recored": "2026-01-01"},
        headers=auth(),
    )
    assert typo.status_code == 422 and typo.headers["content-type"] == PROBLEM
    (error,) = typo.json["errors"]
    assert error["path"] == "as_recored" and "as_recorded" in error["message"]
    before = count_events(database_url)
    command = client.simulate_post("/suppliers", params={"dry_run": "true"}, json=valid_body(), headers=auth())
    assert command.status_code == 422 and command.json["errors"][0]["path"] == "dry_run"
    assert count_events(database_url) == before
    known = client.simulate_get(
        "/catalogue/eligibility",
        params={"category": "accommodation", "area": "kent", "as_recorded": "2026-01-01"},
        headers=auth(),
    )
    assert known.status_code == 200
