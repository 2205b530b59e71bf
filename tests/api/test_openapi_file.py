"""The checked-in OpenAPI file is exactly what the live app serves (API inventory, OWASP API9)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from hosts.api.schemas import INPUT_MODELS

OPENAPI_FILE = Path(__file__).parents[2] / "docs" / "openapi.json"


def test_checked_in_openapi_file_equals_the_live_document(client: TestClient[Any]) -> None:
    live = client.get("/schema/openapi.json").json()

    assert json.loads(OPENAPI_FILE.read_text()) == live, (
        "docs/openapi.json is stale: run `tradingcore api --export-openapi docs/openapi.json`"
    )


def test_live_document_keeps_the_models_constraints(client: TestClient[Any]) -> None:
    schemas = client.get("/schema/openapi.json").json()["components"]["schemas"]

    for model in INPUT_MODELS:
        expected = model.model_json_schema()
        documented = schemas[model.__name__]
        assert documented["additionalProperties"] is False
        assert set(documented.get("required", [])) == set(expected.get("required", []))
        for name, field in expected["properties"].items():
            for keyword in ("pattern", "minimum", "maximum", "enum"):
                if keyword in field:
                    assert documented["properties"][name][keyword] == field[keyword], (
                        f"{model.__name__}.{name} lost {keyword}"
                    )


def test_public_operations_declare_no_security_and_others_need_the_key(
    client: TestClient[Any],
) -> None:
    document = client.get("/schema/openapi.json").json()

    assert document["security"] == [{"ApiKey": []}]
    for path, item in document["paths"].items():
        for operation in item.values():
            responses = set(operation["responses"])
            if path in ("/health", "/metrics", "/api/v1/dashboard/stream"):
                assert operation["security"] == []  # the stream takes a token, not the key
            else:
                assert "security" not in operation
                assert {"400", "401", "429"} <= responses
