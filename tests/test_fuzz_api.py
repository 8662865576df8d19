"""Whatever a client sends, the answer is a deliberate status, never a 500, and refusals write nothing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support import count_events

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
field_values = {
    "name": json_values | st.text(max_size=250),
    "legal_identifier": json_values | st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 /\-]{0,45}", fullmatch=True),
    "organisation_type": json_values | st.sampled_from(["voluntary", "private", "public", "mutual", "charity"]),
    "is_small": json_values,
}
bodies = st.fixed_dictionaries({}, optional=field_values) | json_values

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=bodies)
def test_registering_with_any_json_body_never_fails_with_500(client, auth, database_url, body) -> None:
    before = count_events(database_url)
    result = client.simulate_post("/suppliers", body=json.dumps(body), headers=auth())
    assert result.status_code in {201, 400, 409, 422}, result.text
    if result.status_code != 201:
        assert result.headers["content-type"] == "application/problem+json"
        assert count_events(database_url) == before


@FUZZ
@given(raw=st.binary(max_size=200))
@example(raw=b'"\x80"')  # a JSON string that is not UTF-8: once a 500
def test_any_bytes_as_a_body_never_fail_with_500(client, auth, raw) -> None:
    result = client.simulate_post("/suppliers", body=raw, headers=auth())
    assert result.status_code in {201, 400, 409, 422}, result.text


@FUZZ
@given(
    params=st.dictionaries(st.sampled_from(["min_position", "limit", "after", "name"]), st.text(max_size=20)),
    if_match=st.text(max_size=20),
)
def test_any_query_parameters_and_preconditions_never_fail_with_500(client, auth, params, if_match) -> None:
    listing = client.simulate_get("/suppliers", params=params, headers=auth())
    assert listing.status_code in {200, 422, 503}, listing.text
    patch = client.simulate_patch(
        "/suppliers/00000000-0000-4000-8000-000000000000",
        json={"name": "x"},
        headers={**auth(), "If-Match": if_match.replace("\n", " ").replace("\r", " ")},
    )
    assert patch.status_code in {404, 412}, patch.text
