"""The OpenAPI document describes every route from the msgspec types; health and docs are open."""

from __future__ import annotations

import json


def test_openapi_document_is_3_1_and_generated_from_the_request_types(client) -> None:
    result = client.simulate_get("/openapi.json")
    assert result.status_code == 200
    spec = json.loads(result.text)
    assert spec["openapi"] == "3.1.0"
    register = spec["paths"]["/suppliers"]["post"]
    assert register["operationId"] == "suppliers.register"  # the operation's one name (ADR 31)
    assert register["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RegisterSupplier"
    }
    schema = spec["components"]["schemas"]["RegisterSupplier"]
    assert set(schema["required"]) == {"name", "legal_identifier", "organisation_type", "is_small"}
    assert schema["properties"]["name"]["maxLength"] == 200
    assert {"voluntary", "private", "public", "mutual"} == set(
        spec["components"]["schemas"]["OrganisationType"]["enum"]
    )
    assert {"400", "401", "409", "413", "422"} <= set(register["responses"])
    assert "412" in spec["paths"]["/suppliers/{supplier_id}"]["patch"]["responses"]
    assert spec["paths"]["/health/ready"]["get"]["security"] == []


def test_every_routed_operation_is_documented(app) -> None:
    """Every API route is in the document; the pages (/app) and their files (/assets) are not the API."""
    spec = json.loads(__import__("falcon").testing.TestClient(app).simulate_get("/openapi.json").text)
    documented = {(path, method.upper()) for path, methods in spec["paths"].items() for method in methods}
    routed = set()
    for node in app._router._roots:  # walk falcon's routing tree
        stack = [node]
        while stack:
            current = stack.pop()
            if current.resource is not None and not current.uri_template.startswith(("/app", "/assets/")):
                for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    if hasattr(current.resource, f"on_{method.lower()}"):
                        routed.add((current.uri_template, method))
            stack.extend(current.children)
    assert routed == documented


def test_docs_page_is_html_listing_the_operations(client) -> None:
    result = client.simulate_get("/docs")
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("text/html")
    assert "/suppliers" in result.text and "RegisterSupplier" in result.text


def test_liveness_and_readiness_need_no_token(client) -> None:
    assert client.simulate_get("/health/live").json == {"status": "live"}
    ready = client.simulate_get("/health/ready")
    assert ready.status_code == 200
    assert ready.json["migrations_at_head"] is True
    assert isinstance(ready.json["projection_lag"], int) and ready.json["head_position"] > 0


def test_every_reference_in_the_document_names_a_schema_it_holds(client) -> None:
    """Two types of one name (a view's CallOffRecord and the FOI record's) are filed under module-qualified names:
    each operation must point at the one it answers with, never at a name the document does not hold."""
    document = client.simulate_get("/openapi.json").json
    held = set(document["components"]["schemas"])
    references: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    references.add(value.rsplit("/", 1)[-1])
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    assert references and not references - held, sorted(references - held)
    call_off = document["paths"]["/call-offs/{call_off_id}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert call_off["schema"]["$ref"].endswith("projections.catalogue.models.CallOffRecord")
