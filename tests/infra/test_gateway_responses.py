"""API Gateway's own answers in our error shape (infra/gateway.py, docs/deploy.md "Gateway
responses"): an unknown route is our 404 NOT_FOUND, not a 403 "Missing Authentication Token"."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chalicelib.api.errors import CHALICE_CODES
from infra.gateway import (
    API_RESOURCE,
    CONTENT_TYPE,
    EXTENSION,
    UNKNOWN_ROUTE_BODY,
    UNKNOWN_ROUTE_STATUS,
    add_gateway_responses,
    gateway_responses,
)

ROOT = Path(__file__).resolve().parents[2]
TYPES = {"MISSING_AUTHENTICATION_TOKEN", "REQUEST_TOO_LARGE", "DEFAULT_4XX", "DEFAULT_5XX"}


def rendered(template: str, response_type: str, message: str) -> Any:
    """The body API Gateway sends: the template with its variables substituted (messageString
    is the message as a quoted JSON string), parsed."""
    text = template.replace("$context.error.messageString", json.dumps(message))
    return json.loads(text.replace("$context.error.responseType", response_type))


def test_an_unknown_route_is_our_404_not_found() -> None:
    missing = gateway_responses()["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == str(UNKNOWN_ROUTE_STATUS) == "404"
    assert list(missing["responseTemplates"]) == [CONTENT_TYPE] == ["application/json"]
    body = rendered(missing["responseTemplates"][CONTENT_TYPE], "MISSING_AUTHENTICATION_TOKEN", "Forbidden")
    assert body == UNKNOWN_ROUTE_BODY
    assert body["error"]["code"] == CHALICE_CODES["NotFoundError"] == "NOT_FOUND"  # what the app says for 404


@pytest.mark.parametrize(("response_type", "status", "code", "message"), [
    ("THROTTLED", None, "THROTTLED", "Too Many Requests"),
    ("ACCESS_DENIED", None, "ACCESS_DENIED", 'User: anonymous is not authorized "quoted"'),
    ("INTEGRATION_TIMEOUT", None, "INTEGRATION_TIMEOUT", "Endpoint request timed out"),
    ("INTEGRATION_FAILURE", None, "INTEGRATION_FAILURE", "Internal server error"),
    ("REQUEST_TOO_LARGE", "413", "BODY_TOO_LARGE", "Request Too Long"),
])
def test_the_gateways_other_errors_are_in_our_shape(response_type: str, status: str | None, code: str,
                                                    message: str) -> None:
    responses = gateway_responses()
    kind = response_type if response_type in responses else \
        ("DEFAULT_5XX" if response_type.startswith("INTEGRATION") else "DEFAULT_4XX")
    response = responses[kind]
    assert response.get("statusCode") == status  # the DEFAULT_* keep each error's own status
    assert rendered(response["responseTemplates"][CONTENT_TYPE], response_type, message) == \
        {"error": {"code": code, "message": message}}


def test_the_responses_merge_into_the_apis_definition_and_nothing_else() -> None:
    merged = add_gateway_responses({"Resources": {"UsersTable": {"Type": "AWS::DynamoDB::Table"}}})
    assert merged["Resources"][API_RESOURCE] == {"Properties": {"DefinitionBody": {EXTENSION: gateway_responses()}}}
    assert merged["Resources"]["UsersTable"] == {"Type": "AWS::DynamoDB::Table"}
    with pytest.raises(ValueError, match=API_RESOURCE):
        add_gateway_responses(merged)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("package")
    done = subprocess.run([sys.executable, "-m", "infra.package", "--stage", "prod", "--out", str(out), "--region",
                           "cn-north-1", "--strict"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors, 0 warnings" in done.stdout
    return json.loads((out / "sam.json").read_text())


def test_the_packaged_api_carries_the_gateway_responses(template: dict[str, Any]) -> None:
    api = template["Resources"][API_RESOURCE]
    assert api["Type"] == "AWS::Serverless::Api"
    definition = api["Properties"]["DefinitionBody"]
    responses = definition[EXTENSION]
    assert set(responses) == TYPES and responses == gateway_responses()
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == "404"
    assert json.loads(missing["responseTemplates"]["application/json"]) == \
        {"error": {"code": "NOT_FOUND", "message": UNKNOWN_ROUTE_BODY["error"]["message"]}}
    # merged into chalice's definition, not instead of it: every route is still there
    import app

    assert set(definition["paths"]) == set(app.app.routes)
    assert definition["swagger"] == "2.0"


def test_no_separate_gateway_response_resource(template: dict[str, Any]) -> None:
    """In the definition, so SAM's deployment (named after its hash) redeploys when they change
    and an overwrite of the definition keeps them (see infra/gateway.py)."""
    kinds = {r["Type"] for r in template["Resources"].values()}
    assert "AWS::ApiGateway::GatewayResponse" not in kinds
